// Shared by the GPU tests: skip with a reason where no GPU is visible (CI), never silently pass.
#pragma once
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

namespace sb::testing_gpu {

inline bool have_gpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return n > 0;
}

inline int gpu_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

}  // namespace sb::testing_gpu

#define SB_REQUIRE_GPU()                                                              \
  do {                                                                                \
    if (!::sb::testing_gpu::have_gpu()) GTEST_SKIP() << "no CUDA device visible: GPU test skipped"; \
  } while (0)
