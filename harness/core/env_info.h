// Environment metadata recorded with every result (and as Google Benchmark context); collected by
// harness/backends/env.h.
#pragma once
#include <string>

namespace sb {

struct env_info {
  std::string gpu = "none";
  int gpu_count = 0;
  std::string driver, cuda, nccl;  // empty where there is none
  std::string host, git_sha, build_type, backend, started_at;
  std::string clocks;  // SM / memory clocks at start, where readable
};

}  // namespace sb
