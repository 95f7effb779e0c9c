// Private to kernels/: 8-element vector loads and stores with conversion to and from fp32.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "harness/core/dtype.h"

namespace sb::kernels::detail {

// A raw move's thread copies one 16-byte vector at a time, so every warp-wide load and store covers
// one contiguous 512-byte span: 8 elements for 2-byte types, 4 for 4-byte ones.
template <int Bytes>
constexpr int raw_vec = 16 / Bytes;

__device__ __forceinline__ float to_float(std::uint16_t bits, dtype t) {
  if (t == dtype::bf16) return __uint_as_float(std::uint32_t(bits) << 16);
  return __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ std::uint16_t from_float(float v, dtype t) {
  if (t == dtype::bf16) return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  return __half_as_ushort(__float2half_rn(v));
}

// Outputs are written once and read by someone else later: stream them past the caches.
__device__ __forceinline__ void store16(void* p, uint4 v) { __stcs(static_cast<uint4*>(p), v); }
__device__ __forceinline__ void store16(void* p, float4 v) { __stcs(static_cast<float4*>(p), v); }

}  // namespace sb::kernels::detail
