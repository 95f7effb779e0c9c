// Environment metadata recorded with every result (and as Google Benchmark context).
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

env_info collect_env(const std::string& backend_description);

#if SHARDBENCH_HAVE_CUDA
void fill_gpu_env(env_info& e);  // harness/gpu_env.cpp
#endif

}  // namespace sb
