// Private to kernels/: 8-element vector loads and stores with conversion to and from fp32.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "harness/dtype.h"

namespace sb::kernels::detail {

constexpr int kVec = 8;  // elements per thread step: 16 bytes of a 2-byte type, 32 of a 4-byte one

__device__ __forceinline__ float to_float(std::uint16_t bits, dtype t) {
  if (t == dtype::bf16) return __uint_as_float(std::uint32_t(bits) << 16);
  return __half2float(__ushort_as_half(bits));
}

__device__ __forceinline__ std::uint16_t from_float(float v, dtype t) {
  if (t == dtype::bf16) return __bfloat16_as_ushort(__float2bfloat16_rn(v));
  return __half_as_ushort(__float2half_rn(v));
}

template <dtype T>
__device__ __forceinline__ void load8(const void* p, float (&v)[kVec]) {
  if constexpr (T == dtype::fp32) {
    const float4* q = static_cast<const float4*>(p);
    float4 a = q[0], b = q[1];
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
  } else {
    uint4 u = *static_cast<const uint4*>(p);
    const std::uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      v[2 * k] = to_float(std::uint16_t(w[k] & 0xffffu), T);
      v[2 * k + 1] = to_float(std::uint16_t(w[k] >> 16), T);
    }
  }
}

template <dtype T>
__device__ __forceinline__ void store8(void* p, const float (&v)[kVec]) {
  if constexpr (T == dtype::fp32) {
    float4* q = static_cast<float4*>(p);
    q[0] = make_float4(v[0], v[1], v[2], v[3]);
    q[1] = make_float4(v[4], v[5], v[6], v[7]);
  } else {
    std::uint32_t w[4];
#pragma unroll
    for (int k = 0; k < 4; ++k)
      w[k] = std::uint32_t(from_float(v[2 * k], T)) | (std::uint32_t(from_float(v[2 * k + 1], T)) << 16);
    *static_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
  }
}

// Raw copy of 8 elements of `bytes` (2, 4 or 8) each: same-type moves need no conversion.
template <int Bytes>
__device__ __forceinline__ void copy8(const void* src, void* dst) {
  const uint4* s = static_cast<const uint4*>(src);
  uint4* d = static_cast<uint4*>(dst);
#pragma unroll
  for (int k = 0; k < Bytes / 2; ++k) d[k] = s[k];
}

template <int Bytes>
__device__ __forceinline__ void zero8(void* dst) {
  uint4* d = static_cast<uint4*>(dst);
#pragma unroll
  for (int k = 0; k < Bytes / 2; ++k) d[k] = make_uint4(0, 0, 0, 0);
}

}  // namespace sb::kernels::detail
