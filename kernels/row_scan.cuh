// What the consumer stage and the pruned sender share (kernels/consumer.cu, kernels/prune_pack.cu):
// the argmax scan of a row by 16-byte vectors, and the launch geometry of their row loops. Private
// to the kernels; host code reaches them through kernels/api.cuh.
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "harness/core/consumer_ops.h"
#include "kernels/cuda_check.h"
#include "kernels/device_types.cuh"

namespace sb::kernels {

// Blocks for a kernel whose blocks stride over rows: sixteen resident on each of the current
// device's multiprocessors (enough to cover DRAM latency; more only queue), or one a row when fewer.
inline std::int64_t row_blocks_for(std::int64_t rows) {
  int device = 0, sms = 0;
  SB_CUDA(cudaGetDevice(&device));
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return std::min<std::int64_t>(rows, std::int64_t(sms) * 16);
}

namespace {

constexpr int kPackUnroll = 4;  // 16-byte loads in flight per thread in a row scan

// Element e of a 16-byte vector of T.
template <dtype T>
__device__ __forceinline__ float element_of(const uint4& u, int e) {
  const std::uint32_t* w = &u.x;
  if constexpr (T == dtype::fp32) return __uint_as_float(w[e]);
  else if constexpr (T == dtype::bf16) return __uint_as_float((e & 1) ? (w[e / 2] & 0xffff0000u) : (w[e / 2] << 16));
  else return __half2float(__ushort_as_half(std::uint16_t((e & 1) ? w[e / 2] >> 16 : w[e / 2] & 0xffffu)));
}

// This thread's share of the argmax over a row's real columns, in increasing column order (so ">"
// keeps the lowest column of a tie), a chunk of NT·U 16-byte vectors at a time (each thread U of
// them in flight). Per chunk the maximum comes first (fmaxf, no index bookkeeping); only
// a chunk whose maximum beats the running one is scanned in order. That is exact: a chunk whose
// maximum does not beat it has no element that would. (A row scan doing the ordered compare on every
// element was instruction-bound: 0.5-0.7 of a D2D copy's rate on an H100, against 0.75-0.96 with
// the maximum first.) Rows are 16-byte aligned and shorter than 2^31 columns.
template <dtype T, int NT, int U = kPackUnroll>
struct row_scan {
  static constexpr int per = T == dtype::fp32 ? 4 : 8;  // elements per vector
  static constexpr int chunk_vecs = NT * U;
  float bv = -INFINITY;
  int bi = -1;

  // The chunk of vectors starting at v0 (a multiple of chunk_vecs); nvec: the row's whole vectors.
  __device__ __forceinline__ void chunk(const char* row, int v0, int nvec) {
    v0 += int(threadIdx.x);
    uint4 u[U];
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const int v = v0 + k * NT;  // past the row: NaN, which fmaxf ignores
      u[k] = v < nvec ? __ldg(reinterpret_cast<const uint4*>(row) + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
    }
    float m = -INFINITY;
#pragma unroll
    for (int k = 0; k < U; ++k)
#pragma unroll
      for (int e = 0; e < per; ++e) m = fmaxf(m, element_of<T>(u[k], e));
    take(u, v0, nvec, m);
  }

  // This thread's vectors u[k] = vector v + k·NT of the row, whose maximum is m: scanned in order
  // only if m beats the running maximum.
  __device__ __forceinline__ void take(const uint4 (&u)[U], int v, int nvec, float m) {
    if (bi >= 0 && !(m > bv)) return;
#pragma unroll
    for (int k = 0; k < U; ++k, v += NT) {
      if (v >= nvec) break;
#pragma unroll
      for (int e = 0; e < per; ++e) {
        const float x = element_of<T>(u[k], e);
        if (bi < 0 || x > bv) {
          bv = x;
          bi = v * per + e;
        }
      }
    }
  }

  // The columns past the last whole vector, by lane `lane` of NT (the block's first NT threads, or
  // a group or warp of NT that works on a row of its own).
  __device__ __forceinline__ void tail(const char* row, int cols, int lane = int(threadIdx.x)) {
    for (int c = cols / per * per + lane; c < cols; c += NT) {
      const float x = load_as_float(row, c, T);
      if (bi < 0 || x > bv) {
        bv = x;
        bi = c;
      }
    }
  }

  __device__ __forceinline__ arg_max result(std::int64_t col_base) const {
    return bi < 0 ? arg_max{} : arg_max{bv, col_base + bi};
  }
};

// The whole row by the block's first NT threads; the returned index is col_base + the column.
template <dtype T, int NT, int U = kPackUnroll>
__device__ __forceinline__ arg_max scan_row(const char* row, int cols, std::int64_t col_base) {
  row_scan<T, NT, U> s;
  const int nvec = cols / s.per;
  for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) s.chunk(row, v0, nvec);
  s.tail(row, cols);
  return s.result(col_base);
}

}  // namespace

}  // namespace sb::kernels
