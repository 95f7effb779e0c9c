#include "harness/backends/env.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>

namespace sb {

namespace {
std::string git_sha() {
  // A copy of the tree without .git (a lent GPU machine) is told its commit through the environment.
  if (const char* env = std::getenv("SHARDBENCH_GIT_SHA"); env && *env) return env;
  std::string cmd = std::string("git -C '") + SHARDBENCH_SOURCE_DIR + "' rev-parse --short=12 HEAD 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  if (!p) return "unknown";
  std::array<char, 64> buf{};
  if (!fgets(buf.data(), int(buf.size()), p.get())) return "unknown";
  std::string s(buf.data());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s.empty() ? "unknown" : s;
}
}  // namespace

env_info collect_env(const std::string& backend_description) {
  env_info e;
  std::array<char, 256> host{};
  gethostname(host.data(), host.size() - 1);
  e.host = host.data();
  e.git_sha = git_sha();
  e.build_type = SHARDBENCH_BUILD_TYPE;
  e.backend = backend_description;
  std::time_t now = std::time(nullptr);
  e.started_at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
#if SHARDBENCH_HAVE_CUDA
  fill_gpu_env(e);
#endif
  return e;
}

}  // namespace sb
