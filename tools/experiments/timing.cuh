// The experiments' timing (tools/experiments/*.cu): CUDA events around batches of back-to-back
// launches (>= 1 ms each, after 50 ms of warm-up), the median per launch; and a D2D copy of a
// size, rotating over buffer pairs so that no copy's source is in L2.
#pragma once
#include <algorithm>
#include <cstdio>
#include <vector>

#include "harness/cuda_check.h"

namespace sb::experiments {

template <typename F>
double median_us(F&& f, int samples) {
  cudaEvent_t a, e;
  SB_CUDA(cudaEventCreate(&a));
  SB_CUDA(cudaEventCreate(&e));
  auto once = [&](int n) {
    SB_CUDA(cudaEventRecord(a));
    for (int k = 0; k < n; ++k) f(k);
    SB_CUDA(cudaEventRecord(e));
    SB_CUDA(cudaEventSynchronize(e));
    float ms = 0;
    SB_CUDA(cudaEventElapsedTime(&ms, a, e));
    return double(ms) * 1000.0 / n;
  };
  double one = 0, warm = 0;
  for (int i = 0; i < 3 || warm < 50000.0; ++i) warm += (one = once(1));
  const int n = std::max(1, int(1000.0 / one));
  std::vector<double> v;
  for (int i = 0; i < samples; ++i) v.push_back(once(n));
  std::sort(v.begin(), v.end());
  SB_CUDA(cudaEventDestroy(a));
  SB_CUDA(cudaEventDestroy(e));
  return v[v.size() / 2];
}

inline double d2d_us(std::size_t bytes) {
  const int pairs = int(std::clamp<std::size_t>((200u << 20) / bytes + 1, 2, 64));
  std::vector<void*> src(pairs), dst(pairs);
  for (int p = 0; p < pairs; ++p) {
    SB_CUDA(cudaMalloc(&src[p], bytes));
    SB_CUDA(cudaMalloc(&dst[p], bytes));
    SB_CUDA(cudaMemset(src[p], 1, bytes));
  }
  const double us = median_us([&](int k) { SB_CUDA(cudaMemcpyAsync(dst[k % pairs], src[k % pairs], bytes, cudaMemcpyDeviceToDevice)); }, 15);
  for (int p = 0; p < pairs; ++p) {
    SB_CUDA(cudaFree(src[p]));
    SB_CUDA(cudaFree(dst[p]));
  }
  return us;
}

// The first line of every experiment's output: which card ran it.
inline void print_device() {
  cudaDeviceProp p{};
  SB_CUDA(cudaGetDeviceProperties(&p, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", p.name, p.multiProcessorCount, p.l2CacheSize >> 20);
}

}  // namespace sb::experiments
