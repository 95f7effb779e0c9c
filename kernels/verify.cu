// Device-side verifier: every element against its definition, bitwise; only a count and the first
// mismatching index come back to the host.
#include <algorithm>
#include <climits>

#include "kernels/cuda_check.h"
#include "harness/core/error.h"
#include "kernels/api.cuh"

namespace sb::kernels {

namespace {
constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) verify_kernel(const void* data, const expected_spec e, verify_scratch* s) {
  const std::int64_t n = e.elements();
  unsigned long long local = 0, first = ULLONG_MAX;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    if (matches(expected_value(e, i), load_as_double(data, i, e.type))) continue;
    ++local;
    first = std::min(first, static_cast<unsigned long long>(i));
  }
  if (local) {
    atomicAdd(&s->count, local);
    atomicMin(&s->first_index, first);
  }
}
}  // namespace

void launch_verify(const void* data, const expected_spec& e, verify_scratch* scratch, cudaStream_t stream) {
  if (!scratch) throw_runtime("launch_verify: scratch is null");
  verify_scratch init{0, ULLONG_MAX};
  SB_CUDA(cudaMemcpyAsync(scratch, &init, sizeof init, cudaMemcpyHostToDevice, stream));
  const std::int64_t n = e.elements();
  if (n == 0) return;
  if (!data) throw_runtime("launch_verify: data is null");
  const int blocks = int(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 132 * 16));
  verify_kernel<<<blocks, kThreads, 0, stream>>>(data, e, scratch);
  SB_CUDA_LAUNCH();
}

}  // namespace sb::kernels
