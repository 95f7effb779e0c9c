#include "kernels/cuda_check.h"

#include <cstdio>

namespace sb {

void check_cuda(cudaError_t err, const char* expr, const char* file, int line) {
  if (err == cudaSuccess) return;
  std::string msg = std::string("CUDA error ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) +
                    ") in " + expr + " at " + file + ":" + std::to_string(line);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // clear the sticky-free allocation error so later calls work
    throw oom_error(msg);
  }
  throw cuda_error(msg, err);
}

void warn_cuda(cudaError_t err, const char* expr, const char* file, int line) noexcept {
  if (err == cudaSuccess) return;
  std::fprintf(stderr, "shardbench: warning: %s failed: %s at %s:%d\n", expr, cudaGetErrorString(err), file, line);
}

}  // namespace sb
