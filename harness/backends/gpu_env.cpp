#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <nccl.h>

#include "harness/backends/env.h"

namespace sb {

void fill_gpu_env(env_info& e) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    (void)cudaGetLastError();
    e.gpu_count = 0;
  } else {
    e.gpu_count = n;
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, 0) == cudaSuccess) e.gpu = p.name;
    int sm = 0, mem = 0;
    cudaDeviceGetAttribute(&sm, cudaDevAttrClockRate, 0);
    cudaDeviceGetAttribute(&mem, cudaDevAttrMemoryClockRate, 0);
    e.clocks = fmt::format("sm max {} MHz, memory {} MHz", sm / 1000, mem / 1000);
  }
  int drv = 0, rt = 0;
  if (cudaDriverGetVersion(&drv) == cudaSuccess && drv) e.driver = fmt::format("{}.{}", drv / 1000, (drv % 1000) / 10);
  if (cudaRuntimeGetVersion(&rt) == cudaSuccess) e.cuda = fmt::format("{}.{}", rt / 1000, (rt % 1000) / 10);
  int nv = 0;
  if (ncclGetVersion(&nv) == ncclSuccess) e.nccl = fmt::format("{}.{}.{}", nv / 10000, (nv % 10000) / 100, nv % 100);
}

}  // namespace sb
