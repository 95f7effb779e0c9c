// Fills a tensor with its definition: the generator's logits, hidden states, ids, masks, or an arange.
#include <algorithm>

#include "kernels/cuda_check.h"
#include "harness/core/error.h"
#include "kernels/api.cuh"

namespace sb::kernels {

namespace {
constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) fill_kernel(void* dst, const expected_spec e) {
  const std::int64_t n = e.elements();
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const double v = expected_value(e, i);
    switch (e.type) {
      case dtype::i32: static_cast<std::int32_t*>(dst)[i] = std::int32_t(v); break;
      case dtype::i64: static_cast<std::int64_t*>(dst)[i] = std::int64_t(v); break;
      default: store_from_float(dst, i, e.type, float(v)); break;
    }
  }
}
}  // namespace

void launch_fill(void* dst, const expected_spec& e, cudaStream_t stream) {
  if (e.cols <= 0 || e.win_len < 0 || e.windows < 0) throw_runtime("launch_fill: bad extent");
  const std::int64_t n = e.elements();
  if (n == 0) return;
  if (!dst) throw_runtime("launch_fill: dst is null");
  const int blocks = int(std::min<std::int64_t>((n + kThreads - 1) / kThreads, 1 << 20));
  fill_kernel<<<blocks, kThreads, 0, stream>>>(dst, e);
  SB_CUDA_LAUNCH();
}

}  // namespace sb::kernels
