// Experiment (not part of the build): the pruned sender's pack, production kernel against variants
// that stage the row in shared memory during the argmax scan and gather the draft columns from
// there, timed on one GPU beside a device-to-device copy of the same bytes. Every variant's values
// and pairs are compared byte for byte with the production kernel's. docs/kernel-notes.md has the
// results; the outputs there came from the program as each round ran (later rounds moved shared
// pieces into production's kernels/consumer.cu and call them from here). Build and run on a GPU
// machine from the repository root:
//   nvcc -O3 -std=c++20 -arch=sm_90 --expt-relaxed-constexpr -I. tools/experiments/prune_variants.cu \
//        harness/error.cpp harness/cuda_check.cpp harness/dtype.cpp -o /tmp/prune_variants && /tmp/prune_variants
#include "kernels/consumer.cu"  // the production kernels, internals included
#include "harness/generator.h"
#include "tools/experiments/timing.cuh"

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace sb::kernels {
namespace {

using experiments::d2d_us;
using experiments::median_us;

// The largest of every thread's m in the block (wmax: one word per warp); its barrier also orders
// what the threads wrote to shared memory before it.
template <int NT>
__device__ __forceinline__ float block_max(float m, float* wmax) {
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(~0u, m, o));
  if (lane == 0) wmax[warp] = m;
  __syncthreads();
  float M = wmax[0];
#pragma unroll
  for (int w = 1; w < NT / 32; ++w) M = fmaxf(M, wmax[w]);
  return M;
}

// row_scan::chunk, also storing each loaded vector at sh[v] (Stage), or reading the row from
// shared memory where a bulk copy put it (FromShared).
template <dtype T, int NT, bool Stage, bool FromShared = false>
__device__ __forceinline__ void chunk_staged(row_scan<T, NT>& s, const char* row, int v0, int nvec, uint4* sh) {
  v0 += int(threadIdx.x);
  uint4 u[kPackUnroll];
#pragma unroll
  for (int k = 0; k < kPackUnroll; ++k) {
    const int v = v0 + k * NT;
    if constexpr (FromShared) u[k] = v < nvec ? sh[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
    else u[k] = v < nvec ? __ldg(reinterpret_cast<const uint4*>(row) + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
    if constexpr (Stage) if (v < nvec) sh[v] = u[k];
  }
  float m = -INFINITY;
#pragma unroll
  for (int k = 0; k < kPackUnroll; ++k)
#pragma unroll
    for (int e = 0; e < s.per; ++e) m = fmaxf(m, element_of<T>(u[k], e));
  s.take(u, v0, nvec, m);  // production's ordered pass
}

// The draft columns of a row staged in shared memory (srow; columns past `staged` from global).
template <int NT, int G, bool Offs, typename word>
__device__ __forceinline__ void gather_staged(const word* srow, const word* row, word* out, const prune_desc& d,
                                              const std::uint16_t* offs, int staged) {
  const int n_ids = int(d.n_ids);
  for (int k0 = int(threadIdx.x); k0 < n_ids; k0 += NT * G) {
    int c[G];
#pragma unroll
    for (int u = 0; u < G; ++u) {
      const int k = k0 + u * NT;
      if constexpr (Offs) c[u] = k < n_ids ? int(__ldg(offs + k)) : -1;
      else c[u] = k < n_ids ? __ldg(d.ids + k) - int(d.col_base) : -1;
    }
    word v[G];
#pragma unroll
    for (int u = 0; u < G; ++u)
      if (c[u] >= 0) v[u] = c[u] < staged ? srow[c[u]] : row[c[u]];
#pragma unroll
    for (int u = 0; u < G; ++u)
      if (c[u] >= 0) out[k0 + u * NT] = v[u];
  }
}

__device__ __forceinline__ unsigned smem_addr(const void* p) { return unsigned(__cvta_generic_to_shared(p)); }

__device__ __forceinline__ void mbar_wait(std::uint64_t* bar, unsigned parity) {
  unsigned done = 0;
  do {
    asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                 : "=r"(done) : "r"(smem_addr(bar)), "r"(parity) : "memory");
  } while (!done);
}

// One row's whole bytes into shared memory by the bulk-copy engine, completing on bar.
__device__ __forceinline__ void bulk_row(void* dst, const void* src, unsigned bytes, std::uint64_t* bar) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_addr(dst)),
               "l"(src), "r"(bytes), "r"(smem_addr(bar))
               : "memory");
}

// Persistent grid: each block streams its rows through Stages shared-memory buffers, the copy
// engine fetching row k+Stages while the threads scan and gather row k from shared memory.
template <dtype T, int NT, int G, int Stages, bool Offs>
__global__ void __launch_bounds__(NT, 1) prune_bulk_kernel(const __grid_constant__ prune_batch b, const std::uint16_t* offs,
                                                            int stage_vecs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t bar[Stages];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols);
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int nvec = cols / per, staged = nvec * per;
  const unsigned row_bytes = unsigned(nvec) * 16u;
  auto src_of = [&](std::int64_t r) {
    return static_cast<const char*>(d.rows.src) + r * d.rows.src_ld * std::int64_t(sizeof(word));
  };
  if (l == 0) {
    for (int s = 0; s < Stages; ++s)
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&bar[s])) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  }
  __syncthreads();
  if (l == 0)
    for (int s = 0; s < Stages; ++s) {
      const std::int64_t g = blockIdx.x + std::int64_t(s) * gridDim.x;
      if (g >= b.rows) break;
      const std::int64_t r = locate(b, g).r;
      if (r >= 0 && row_bytes) bulk_row(sh + s * stage_vecs, src_of(r), row_bytes, &bar[s]);
    }
  unsigned parity = 0;  // bit s: the phase stage s waits for next
  int k = 0;
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x, ++k) {
    const int s = k % Stages;
    const auto [row_of, i, r] = locate(b, g);
    const prune_rows* pr = &row_of;
    word* out = static_cast<word*>(pr->values) + i * d.n_ids;
    arg_max a;
    if (r < 0) {
      if (l == 0 && cols > 0) a = {0.0f, d.col_base};
      for (int x = l; x < n_ids; x += NT) out[x] = 0;
    } else {
      const char* bytes = src_of(r);
      uint4* srow = sh + s * stage_vecs;
      if (row_bytes) {
        mbar_wait(&bar[s], (parity >> s) & 1u);
        parity ^= 1u << s;
      }
      row_scan<T, NT> sc;
      for (int v0 = 0; v0 < nvec; v0 += sc.chunk_vecs) chunk_staged<T, NT, false, true>(sc, bytes, v0, nvec, srow);
      sc.tail(bytes, cols);
      gather_staged<NT, G, Offs>(reinterpret_cast<const word*>(srow), reinterpret_cast<const word*>(bytes), out, d, offs, staged);
      a = sc.result(d.col_base);
    }
    write_pair<NT>(pr->pairs + i, d.col_base, a);  // its barriers: every thread is done with stage s
    if (l == 0) {
      const std::int64_t gn = g + std::int64_t(Stages) * gridDim.x;
      if (gn < b.rows) {
        const std::int64_t rn = locate(b, gn).r;
        if (rn >= 0 && row_bytes) bulk_row(sh + s * stage_vecs, src_of(rn), row_bytes, &bar[s]);
      }
    }
  }
}

// Offs: draft columns as 16-bit offsets from the shard's column 0 (else the 32-bit global ids).
template <dtype T, int NT, int G, int MinBlocks, bool Offs>
__global__ void __launch_bounds__(NT, MinBlocks) prune_smem_kernel(const __grid_constant__ prune_batch b,
                                                                   const std::uint16_t* offs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  extern __shared__ uint4 sh[];
  const word* srow = reinterpret_cast<const word*>(sh);
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols);
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    arg_max a;
    if (r < 0) {
      a = zero_row<NT>(out, l, n_ids, cols, d.col_base);
    } else {
      const word* row = shard_row<word>(d, r);
      const char* bytes = reinterpret_cast<const char*>(row);
      row_scan<T, NT> s;
      const int nvec = cols / s.per, staged = nvec * s.per;
      for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) chunk_staged<T, NT, true>(s, bytes, v0, nvec, sh);
      s.tail(bytes, cols);
      __syncthreads();
      gather_staged<NT, G, Offs>(srow, row, out, d, offs, staged);
      a = s.result(d.col_base);
    }
    write_pair<NT>(pr.pairs + i, d.col_base, a);  // its barriers also free sh for the next row
  }
}

// The maximum of a 16-byte vector's elements, as a tree (no serial chain); Packed: bf16 pairs
// through __hmax2 first.
template <dtype T, bool Packed>
__device__ __forceinline__ float vec_max(const uint4& u) {
  if constexpr (Packed && T == dtype::bf16) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
    const __nv_bfloat162 m = __hmax2(__hmax2(h[0], h[1]), __hmax2(h[2], h[3]));
    return fmaxf(__low2float(m), __high2float(m));
  } else if constexpr (T == dtype::fp32) {
    return fmaxf(fmaxf(element_of<T>(u, 0), element_of<T>(u, 1)), fmaxf(element_of<T>(u, 2), element_of<T>(u, 3)));
  } else {
    return fmaxf(fmaxf(fmaxf(element_of<T>(u, 0), element_of<T>(u, 1)), fmaxf(element_of<T>(u, 2), element_of<T>(u, 3))),
                 fmaxf(fmaxf(element_of<T>(u, 4), element_of<T>(u, 5)), fmaxf(element_of<T>(u, 6), element_of<T>(u, 7))));
  }
}

// The argmax's second half for the two-pass kernels: M is the row's maximum and m this thread's
// own; a thread holding M finds its first column equal to it (vectors through load(v), in the
// thread's order, then the tail columns), and the block's lowest such column and its value become
// the row's pair. The caller's barrier before this made M visible; the one inside frees the slots
// (and a staged row) for the next row.
template <dtype T, int NT, typename Load, typename word>
__device__ __forceinline__ void write_first_of_max(Load load, const word* row, int nvec, int cols, float m, float M,
                                                   int* widx, float* wval, pruned_pair* at, std::int64_t col_base) {
  constexpr int per = T == dtype::fp32 ? 4 : 8, warps = NT / 32;
  const int l = int(threadIdx.x), lane = l & 31, warp = l >> 5, staged = nvec * per;
  int idx = INT_MAX;
  float val = 0.0f;
  if (m == M) {
    for (int v = l; v < nvec && idx == INT_MAX; v += NT) {
      const uint4 u = load(v);
#pragma unroll
      for (int e = 0; e < per; ++e) {
        const float x = element_of<T>(u, e);
        if (x == M && idx == INT_MAX) {
          idx = v * per + e;
          val = x;
        }
      }
    }
    for (int c = staged + l; c < cols && idx == INT_MAX; c += NT) {
      const float x = load_as_float(row, c, T);
      if (x == M) {
        idx = c;
        val = x;
      }
    }
  }
  int wi = idx;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) wi = min(wi, __shfl_xor_sync(~0u, wi, o));
  if (idx == wi && idx != INT_MAX) {
    widx[warp] = idx;
    wval[warp] = val;
  } else if (lane == 0 && wi == INT_MAX) {
    widx[warp] = INT_MAX;
  }
  __syncthreads();
  if (l == 0) {
    int best = INT_MAX;
    float v = -INFINITY;
    for (int w = 0; w < warps; ++w)
      if (widx[w] < best) {
        best = widx[w];
        v = wval[w];
      }
    *at = best == INT_MAX ? pruned_pair{-INFINITY, std::int32_t(col_base)} : pruned_pair{v, std::int32_t(col_base + best)};
  }
}

// Two passes over a row staged in shared memory: the row's maximum M (fmax only, a block
// reduction), then the lowest column holding M, searched only by the threads whose own maximum is
// M. The gather of the draft columns runs between the two, from shared memory. The argmax is
// exact: the first column equal to the maximum is the one an ordered ">" scan keeps (the value
// reported is that column's own bits, so -0/+0 come out as the scan's). Rows hold no NaN.
template <dtype T, int NT, int U, int G, int MinBlocks, bool Offs, bool Packed>
__global__ void __launch_bounds__(NT, MinBlocks) prune_2pass_kernel(const __grid_constant__ prune_batch b,
                                                                    const std::uint16_t* offs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, warps = NT / 32;
  extern __shared__ uint4 sh[];
  __shared__ float wmax[warps], wval[warps];
  __shared__ int widx[warps];
  const word* srow = reinterpret_cast<const word*>(sh);
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols);
  const int nvec = cols / per, staged = nvec * per;
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    if (r < 0) {  // a zero row: zeros, and its first column is its argmax
      for (int k = l; k < n_ids; k += NT) out[k] = 0;
      if (l == 0) pr.pairs[i] = cols > 0 ? pruned_pair{0.0f, std::int32_t(d.col_base)} : pruned_pair{-INFINITY, std::int32_t(d.col_base)};
      continue;
    }
    const word* row = shard_row<word>(d, r);
    const uint4* row4 = reinterpret_cast<const uint4*>(row);
    float m = -INFINITY;
    for (int v0 = l; v0 < nvec; v0 += NT * U) {
      uint4 u[U];
#pragma unroll
      for (int k = 0; k < U; ++k)
        if (v0 + k * NT < nvec) u[k] = __ldg(row4 + v0 + k * NT);
#pragma unroll
      for (int k = 0; k < U; ++k)
        if (v0 + k * NT < nvec) {
          sh[v0 + k * NT] = u[k];
          m = fmaxf(m, vec_max<T, Packed>(u[k]));
        }
    }
    for (int c = staged + l; c < cols; c += NT) m = fmaxf(m, load_as_float(row, c, T));
    const float M = block_max<NT>(m, wmax);  // and the row is staged
    gather_staged<NT, G, Offs>(srow, row, out, d, offs, staged);
    write_first_of_max<T, NT>([&](int v) { return sh[v]; }, row, nvec, cols, m, M, widx, wval, pr.pairs + i, d.col_base);
  }
}

template <dtype T, int NT, int U, int G, int MinBlocks, bool Offs, bool Packed>
void launch_2pass(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  auto k = prune_2pass_kernel<T, NT, U, G, MinBlocks, Offs, Packed>;
  const int per = T == dtype::fp32 ? 4 : 8;
  const int smem = int(b.d.valid_cols / per) * 16;
  static bool once = [&] {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    return true;
  }();
  (void)once;
  k<<<unsigned(b.rows), NT, smem, stream>>>(b, offs);
  SB_CUDA_LAUNCH();
}

// The production kernel (2-byte rows, gather after the row) with a stage left out, to see what
// each costs: Scan false skips the argmax scan (the pair is a constant), Gather false the draft
// columns (nothing is written to values).
template <bool Scan, bool Gather>
__global__ void __launch_bounds__(256, 4) prune_decomp_kernel(const __grid_constant__ prune_batch b, const std::uint16_t*) {
  constexpr int NT = 256, G = 16;
  using word = std::uint16_t;
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), cols = int(d.valid_cols);
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const prune_rows& pr = b.dst[0];
    const std::int64_t i = g - pr.first;
    const std::int64_t r = pr.rule.source(i / pr.win_len, i % pr.win_len);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    arg_max a;
    if (r >= 0) {
      const word* row = shard_row<word>(d, r);
      row_scan<dtype::bf16, NT> s;
      if constexpr (Scan) {
        const int nvec = cols / s.per;
        for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) s.chunk(reinterpret_cast<const char*>(row), v0, nvec);
        a = s.result(d.col_base);
      }
      if constexpr (Gather) {
        draft_cursor<NT, G> ids{l};
        ids.load(d);
        ids.gather_below(row, out, d, INT_MAX);
      }
    }
    write_pair<NT>(pr.pairs + i, d.col_base, a);
  }
}

template <bool Scan, bool Gather>
void launch_decomp(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  prune_decomp_kernel<Scan, Gather><<<unsigned(b.rows), 256, 0, stream>>>(b, offs);
  SB_CUDA_LAUNCH();
}

// The production kernel's order (registers, gather from L1/L2 after the row) with the ordered
// scan taken out: the row's maximum M by fmax alone (a tree per vector: no serial chain, and no
// warp that runs the ordered compare because one of its threads needs it), a block reduction, then
// the lowest column equal to M, searched only by the threads whose own maximum is M, re-reading
// their vectors (L1). Exact for rows without NaN, like the two-pass kernel. Offs: 16-bit offsets
// for the draft columns. IdsInRegs: a persistent grid whose threads load their G draft columns
// once (n_ids <= NT·G; beyond that the rest is read per row).
template <dtype T, int NT, int G, int MinBlocks, bool Packed, bool Offs, bool IdsInRegs>
__global__ void __launch_bounds__(NT, MinBlocks) prune_max_kernel(const __grid_constant__ prune_batch b,
                                                                  const std::uint16_t* offs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, warps = NT / 32;
  __shared__ float wmax[warps], wval[warps];
  __shared__ int widx[warps];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols);
  const int nvec = cols / per, staged = nvec * per;
  auto id_at = [&](int k) { return Offs ? int(__ldg(offs + k)) : __ldg(d.ids + k) - int(d.col_base); };
  int mine[IdsInRegs ? G : 1];
  if constexpr (IdsInRegs) {
#pragma unroll
    for (int u = 0; u < G; ++u) mine[u] = l + u * NT < n_ids ? id_at(l + u * NT) : -1;
  }
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    if (r < 0) {  // a zero row: zeros, and its first column is its argmax
      for (int k = l; k < n_ids; k += NT) out[k] = 0;
      if (l == 0) pr.pairs[i] = cols > 0 ? pruned_pair{0.0f, std::int32_t(d.col_base)} : pruned_pair{-INFINITY, std::int32_t(d.col_base)};
      continue;
    }
    const word* row = shard_row<word>(d, r);
    const uint4* row4 = reinterpret_cast<const uint4*>(row);
    float m = -INFINITY;
    for (int v0 = l; v0 < nvec; v0 += NT * kPackUnroll) {
      uint4 u[kPackUnroll];
#pragma unroll
      for (int k = 0; k < kPackUnroll; ++k)
        if (v0 + k * NT < nvec) u[k] = __ldg(row4 + v0 + k * NT);
#pragma unroll
      for (int k = 0; k < kPackUnroll; ++k)
        if (v0 + k * NT < nvec) m = fmaxf(m, vec_max<T, Packed>(u[k]));
    }
    for (int c = staged + l; c < cols; c += NT) m = fmaxf(m, load_as_float(row, c, T));
    // The draft columns, G in flight per thread.
    if constexpr (IdsInRegs) {
      word v[G];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (mine[u] >= 0) v[u] = row[mine[u]];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (mine[u] >= 0) out[l + u * NT] = v[u];
    }
    for (int k0 = l + (IdsInRegs ? NT * G : 0); k0 < n_ids; k0 += NT * G) {
      int c[G];
#pragma unroll
      for (int u = 0; u < G; ++u) c[u] = k0 + u * NT < n_ids ? id_at(k0 + u * NT) : -1;
      word v[G];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (c[u] >= 0) v[u] = row[c[u]];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (c[u] >= 0) out[k0 + u * NT] = v[u];
    }
    const float M = block_max<NT>(m, wmax);
    write_first_of_max<T, NT>([&](int v) { return __ldg(row4 + v); }, row, nvec, cols, m, M, widx, wval, pr.pairs + i, d.col_base);
  }
}

template <dtype T, int NT, int G, int MinBlocks, bool Packed, bool Offs, bool IdsInRegs>
void launch_max(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  auto k = prune_max_kernel<T, NT, G, MinBlocks, Packed, Offs, IdsInRegs>;
  unsigned blocks = unsigned(b.rows);
  if (IdsInRegs) {
    int per_sm = 0, sms = 0;
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, 0));
    SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    blocks = unsigned(std::min<std::int64_t>(b.rows, std::int64_t(std::max(per_sm, 1)) * sms));
  }
  k<<<blocks, NT, 0, stream>>>(b, offs);
  SB_CUDA_LAUNCH();
}

// Round 5: the draft columns written from the scan's own registers, no second read of the row. A
// persistent grid; each block first builds, in shared memory, one word per 16-byte vector of the
// shard: the output index of the vector's first draft column (ids are sorted by column, so the
// output index of a column is its rank among them) << 8 | the mask of its draft columns. During the
// scan, the thread holding vector v writes its selected elements to out[first + rank in mask]
// (Staged: into a shared-memory output row, copied out coalesced after a barrier). Columns past the
// last whole vector (none for DeepSeek-V3's shards) are gathered from the row after the scan.
struct select_table {
  std::uint32_t* sel;  // nvec words
  int tail_first;      // the first id past the whole vectors
};

template <int per>
__device__ __forceinline__ int build_select(std::uint32_t* sel, int* tail_first, const prune_desc& d, int nvec, int NT) {
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), whole = nvec * per;
  for (int v = l; v < nvec; v += NT) sel[v] = 0;
  if (l == 0) *tail_first = n_ids;
  __syncthreads();
  for (int k = l; k < n_ids; k += NT) {
    const int c = __ldg(d.ids + k) - int(d.col_base);
    const int prev = k > 0 ? __ldg(d.ids + k - 1) - int(d.col_base) : -1;
    if (c >= whole) {
      if (prev < whole) *tail_first = k;
      continue;
    }
    const int v = c / per;
    std::uint32_t w = 1u << (c % per);
    if (prev < 0 || prev / per != v) w |= std::uint32_t(k) << 8;
    atomicOr(sel + v, w);
  }
  __syncthreads();
  return *tail_first;
}

template <dtype T, typename word>
__device__ __forceinline__ word word_of(const uint4& u, int e) {
  const std::uint32_t* w = &u.x;
  if constexpr (T == dtype::fp32) return w[e];
  else return word((e & 1) ? w[e / 2] >> 16 : w[e / 2] & 0xffffu);
}

template <dtype T, int NT, bool Staged, typename word>
__device__ __forceinline__ void chunk_select(row_scan<T, NT>& s, const char* row, int v0, int nvec, const std::uint32_t* sel,
                                             word* out) {
  v0 += int(threadIdx.x);
  uint4 u[kPackUnroll];
#pragma unroll
  for (int k = 0; k < kPackUnroll; ++k) {
    const int v = v0 + k * NT;
    u[k] = v < nvec ? __ldg(reinterpret_cast<const uint4*>(row) + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
  }
#pragma unroll
  for (int k = 0; k < kPackUnroll; ++k) {
    const int v = v0 + k * NT;
    const std::uint32_t w = v < nvec ? sel[v] : 0u;
    int p = int(w >> 8);
#pragma unroll
    for (int e = 0; e < s.per; ++e)
      if (w >> e & 1u) out[p++] = word_of<T, word>(u[k], e);
  }
  float m = -INFINITY;
#pragma unroll
  for (int k = 0; k < kPackUnroll; ++k)
#pragma unroll
    for (int e = 0; e < s.per; ++e) m = fmaxf(m, element_of<T>(u[k], e));
  s.take(u, v0, nvec, m);  // production's ordered pass
}

template <dtype T, int NT, int MinBlocks, bool Staged>
__global__ void __launch_bounds__(NT, MinBlocks) prune_select_kernel(const __grid_constant__ prune_batch b) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  extern __shared__ std::uint32_t smem[];
  __shared__ int tail_first_sh;
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols), nvec = cols / per;
  std::uint32_t* sel = smem;
  word* srow = reinterpret_cast<word*>(smem + ((nvec + 3) & ~3));
  const int tail_first = build_select<per>(sel, &tail_first_sh, d, nvec, NT);
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    arg_max a;
    if (r < 0) {
      a = zero_row<NT>(out, l, n_ids, cols, d.col_base);
    } else {
      const word* row = shard_row<word>(d, r);
      const char* bytes = reinterpret_cast<const char*>(row);
      row_scan<T, NT> s;
      word* dst = Staged ? srow : out;
      for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) chunk_select<T, NT, Staged>(s, bytes, v0, nvec, sel, dst);
      for (int k = tail_first + l; k < n_ids; k += NT) dst[k] = row[__ldg(d.ids + k) - int(d.col_base)];
      s.tail(bytes, cols);
      a = s.result(d.col_base);
      if constexpr (Staged) {
        __syncthreads();
        for (int k = l; k < n_ids; k += NT) out[k] = srow[k];
      }
    }
    write_pair<NT>(pr.pairs + i, d.col_base, a);  // its barriers also free srow for the next row
  }
}

template <dtype T, int NT, int MinBlocks, bool Staged>
void launch_select(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  auto k = prune_select_kernel<T, NT, MinBlocks, Staged>;
  const int per = T == dtype::fp32 ? 4 : 8;
  const int nvec = int(b.d.valid_cols / per);
  const int smem = ((nvec + 3) & ~3) * 4 + (Staged ? int(b.d.n_ids) * int(dtype_size(T)) : 0);
  SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  int per_sm = 0, sms = 0;
  SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const unsigned blocks = unsigned(std::min<std::int64_t>(b.rows, std::int64_t(std::max(per_sm, 1)) * sms));
  k<<<blocks, NT, smem, stream>>>(b);
  SB_CUDA_LAUNCH();
}

// row_scan::chunk with the chunk's maximum taken by packed __hmax2 (round 10; max.bf16x2 returns the
// other operand of a NaN, as fmaxf does): the rest of the chunk as production's.
template <int U, int NT, dtype T>
__device__ __forceinline__ void chunk_packed(row_scan<T, NT, U>& s, const char* row, int v0, int nvec) {
  v0 += int(threadIdx.x);
  uint4 u[U];
#pragma unroll
  for (int k = 0; k < U; ++k) {
    const int v = v0 + k * NT;
    u[k] = v < nvec ? __ldg(reinterpret_cast<const uint4*>(row) + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
  }
  float m = -INFINITY;
#pragma unroll
  for (int k = 0; k < U; ++k) m = fmaxf(m, vec_max<T, true>(u[k]));
  s.take(u, v0, nvec, m);  // production's ordered pass
}

// Round 6: production's whole-row order (bf16, G 16) from a persistent grid of Blocks per SM, each
// block asking L2 for the row Dist rows ahead of the one it starts (one prefetch per 128-byte line),
// so that DRAM keeps streaming while the block gathers and reduces; Dist 0: the persistent grid
// alone.
template <int Blocks, int Dist, int U = kPackUnroll>
__global__ void __launch_bounds__(256, Blocks) prune_prefetch_kernel(const __grid_constant__ prune_batch b) {
  constexpr int NT = 256, G = 16;
  using word = std::uint16_t;
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), n_ids = int(d.n_ids), cols = int(d.valid_cols);
  const int lines = int((std::int64_t(cols) * 2 + 127) / 128);
  auto prefetch = [&](std::int64_t g) {
    if (g >= b.rows) return;
    const std::int64_t r = locate(b, g).r;
    if (r < 0) return;
    const char* row = static_cast<const char*>(d.rows.src) + r * d.rows.src_ld * 2;
    for (int x = l; x < lines; x += NT) asm volatile("prefetch.global.L2 [%0];" ::"l"(row + x * 128));
  };
  if constexpr (Dist > 1)
    for (int k = 1; k < Dist; ++k) prefetch(blockIdx.x + std::int64_t(k) * gridDim.x);
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    if constexpr (Dist > 0) prefetch(g + std::int64_t(Dist) * gridDim.x);
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    arg_max a;
    if (r < 0) {
      a = zero_row<NT>(out, l, n_ids, cols, d.col_base);
    } else {
      const word* row = shard_row<word>(d, r);
      const char* bytes = reinterpret_cast<const char*>(row);
      row_scan<dtype::bf16, NT, U> s;
      draft_cursor<NT, G> ids{l};
      const int nvec = cols / s.per;
      for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) s.chunk(bytes, v0, nvec);
      ids.load(d);
      ids.gather_below(row, out, d, INT_MAX);
      s.tail(bytes, cols);
      a = s.result(d.col_base);
    }
    write_pair<NT>(pr.pairs + i, d.col_base, a);
  }
}

// Persistent false: one block per row, as production.
template <int Blocks, int Dist, int U = kPackUnroll, bool Persistent = true>
void launch_prefetch(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  auto k = prune_prefetch_kernel<Blocks, Dist, U>;
  int per_sm = 0, sms = 0;
  SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, 256, 0));
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const unsigned blocks = Persistent ? unsigned(std::min<std::int64_t>(b.rows, std::int64_t(std::max(per_sm, 1)) * sms))
                                     : unsigned(b.rows);
  k<<<blocks, 256, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

// Round 7: warp specialisation. A block of NT threads is two groups: the first NT/2 scan rows for
// the argmax (their own barrier, bar.sync 1; as run, a copy of block_argmax without the "memory"
// clobber, now production's), the second NT/2 gather the draft columns, Lag rows
// behind (0: the same row, at the same time; 1: the row the scanners read in the previous step, in
// L1/L2). Each block takes R consecutive rows, a block barrier per step. The point: half of the
// threads are always streaming the row from DRAM, where 256-thread blocks doing scan-then-gather
// may go through their phases in step.
template <int NT, int Blocks, int Lag, int R, int G, int H = NT / 2, int U = kPackUnroll, dtype T = dtype::bf16,
          bool Packed = false>
__global__ void __launch_bounds__(NT, Blocks) prune_split_kernel(const __grid_constant__ prune_batch b) {
  constexpr int HG = NT - H;  // gatherers
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < H;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - H, n_ids = int(d.n_ids), cols = int(d.valid_cols);
  const std::int64_t g0 = std::int64_t(blockIdx.x) * R, g1 = std::min<std::int64_t>(g0 + R, b.rows);
  for (std::int64_t t = g0; t < g1 + Lag; ++t) {
    const std::int64_t g = scanner ? t : t - Lag;
    if (g >= g0 && g < g1) {
      const auto [pr, i, r] = locate(b, g);
      const word* row = r < 0 ? nullptr : shard_row<word>(d, r);
      if (scanner) {
        arg_max a;
        if (r < 0) {
          if (l == 0 && cols > 0) a = {0.0f, d.col_base};
        } else {
          row_scan<T, H, U> s;
          const int nvec = cols / s.per;
          for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) {
            if constexpr (Packed) chunk_packed(s, reinterpret_cast<const char*>(row), v0, nvec);
            else s.chunk(reinterpret_cast<const char*>(row), v0, nvec);
          }
          s.tail(reinterpret_cast<const char*>(row), cols);
          a = s.result(d.col_base);
        }
        write_pair<H>(pr.pairs + i, d.col_base, a);  // the scanners' own barrier (production's block_argmax)
      } else {
        word* out = static_cast<word*>(pr.values) + i * d.n_ids;
        if (r < 0) {
          for (int k = l; k < n_ids; k += HG) out[k] = 0;
        } else {
          draft_cursor<HG, G> ids{l};
          ids.load(d);
          ids.gather_below(row, out, d, INT_MAX);
        }
      }
    }
    if constexpr (Lag > 0 || R > 1) __syncthreads();
  }
}

template <int NT, int Blocks, int Lag, int R, int G, int H = NT / 2, int U = kPackUnroll, dtype T = dtype::bf16,
          bool Packed = false>
void launch_split(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  prune_split_kernel<NT, Blocks, Lag, R, G, H, U, T, Packed><<<unsigned((b.rows + R - 1) / R), NT, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}


// Round 13: a row in P parts, one block each (scanners + gatherers as in prune_split_kernel), so a
// block's unit of work is 1/P of a row and the grid's fill and drain shrink by P. The parts' argmaxes
// meet in the row's pair: the launch first sets every pair to a sentinel (argmax -1, bytes 0xff), and
// each part's thread 0 merges its (max, argmax) with a 64-bit compare-and-swap. The grid is a
// multiple of P, so a block's part (and its draft ids' range, found once) never changes.
__device__ __forceinline__ unsigned long long pair_bits(pruned_pair p) {
  return (static_cast<unsigned long long>(static_cast<std::uint32_t>(p.argmax)) << 32) | __float_as_uint(p.max);
}
__device__ __forceinline__ void merge_pair(pruned_pair* at, arg_max a) {
  auto* word = reinterpret_cast<unsigned long long*>(at);
  unsigned long long old = *reinterpret_cast<volatile unsigned long long*>(word);
  for (;;) {
    const pruned_pair o{__uint_as_float(std::uint32_t(old)), std::int32_t(old >> 32)};
    if (o.argmax >= 0 && !arg_better(a, arg_max{o.max, o.argmax})) return;  // the pair already holds a better one
    const unsigned long long seen = atomicCAS(word, old, pair_bits(pruned_pair{a.v, std::int32_t(a.i)}));
    if (seen == old) return;
    old = seen;
  }
}

// The parts' ranges of draft ids: part p gathers ids k[p] .. k[p+1). The same for every row, so the
// launcher finds them once (here from a host copy of the ids, cached per ids pointer: the first call
// is the untimed correctness run). A first version searched the ids in every block (two binary
// searches, ~24 dependent loads before the first gather): 0.65 of the copy with P = 1.
struct id_split {
  int k[5];
};
template <int P>
id_split split_ids(const prune_batch& b) {
  static std::vector<std::pair<const std::int32_t*, id_split>> cache;
  for (const auto& [ids, sp] : cache)
    if (ids == b.d.ids) return sp;
  std::vector<std::int32_t> h(std::size_t(b.d.n_ids));
  SB_CUDA(cudaMemcpy(h.data(), b.d.ids, h.size() * 4, cudaMemcpyDeviceToHost));
  const int per = b.d.rows.src_type == dtype::fp32 ? 4 : 8, cols = int(b.d.valid_cols), nvec = cols / per;
  id_split sp{};
  for (int p = 0; p <= P; ++p) {
    const int c = p == P ? cols : nvec * p / P * per;
    sp.k[p] = int(std::lower_bound(h.begin(), h.end(), std::int32_t(b.d.col_base + c)) - h.begin());
  }
  cache.push_back({b.d.ids, sp});
  return sp;
}

template <dtype T, int NT, int S, int U, int G, int MinBlocks, int P>
__global__ void __launch_bounds__(NT, MinBlocks) prune_parts_kernel(const __grid_constant__ prune_batch b, id_split sp) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int NG = NT - S, per = T == dtype::fp32 ? 4 : 8;
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < S;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - S, cols = int(d.valid_cols);
  const int p = int(blockIdx.x % P), nvec = cols / per;
  const int v_lo = nvec * p / P, v_hi = nvec * (p + 1) / P;  // this part's whole vectors
  const int c_lo = v_lo * per, c_hi = p + 1 == P ? cols : v_hi * per;  // the last part takes the tail
  const int k_lo = sp.k[p], k_hi = sp.k[p + 1];
  const std::int64_t units = b.rows * P;
  for (std::int64_t u = blockIdx.x; u < units; u += gridDim.x) {
    const auto [pr, i, r] = locate(b, u / P);
    if (scanner) {
      arg_max a;
      if (r >= 0) a = scan_row<T, S, U>(reinterpret_cast<const char*>(shard_row<word>(d, r) + c_lo), c_hi - c_lo, d.col_base + c_lo);
      else if (l == 0 && p == 0 && cols > 0) a = {0.0f, d.col_base};  // a zero row: its first column is its argmax
      a = block_argmax<S>(a);
      if (l == 0 && a.i >= 0) merge_pair(pr.pairs + i, a);
    } else {
      word* out = static_cast<word*>(pr.values) + i * d.n_ids;
      if (r >= 0) {  // this part's draft columns, G in flight per thread
        const word* row = shard_row<word>(d, r);
        for (int k0 = k_lo + l; k0 < k_hi; k0 += NG * G) {
          int c[G];
#pragma unroll
          for (int g = 0; g < G; ++g) c[g] = k0 + g * NG < k_hi ? __ldg(d.ids + k0 + g * NG) - int(d.col_base) : -1;
          word v[G];
#pragma unroll
          for (int g = 0; g < G; ++g)
            if (c[g] >= 0) v[g] = row[c[g]];
#pragma unroll
          for (int g = 0; g < G; ++g)
            if (c[g] >= 0) out[k0 + g * NG] = v[g];
        }
      } else {
        for (int k = k_lo + l; k < k_hi; k += NG) out[k] = 0;
      }
    }
  }
}

template <dtype T, int NT, int S, int U, int G, int MinBlocks, int P, bool Memset = true>
void launch_parts(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  if (Memset) SB_CUDA(cudaMemsetAsync(b.dst[0].pairs, 0xff, std::size_t(b.rows) * sizeof(pruned_pair), stream));
  const std::int64_t units = b.rows * P;
  const unsigned blocks = unsigned(std::min<std::int64_t>(units, kMaxPackBlocks / P * P));
  prune_parts_kernel<T, NT, S, U, G, MinBlocks, P><<<blocks, NT, 0, stream>>>(b, split_ids<P>(b));
  SB_CUDA_LAUNCH();
}

void launch_pairs_memset(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  SB_CUDA(cudaMemsetAsync(b.dst[0].pairs, 0xff, std::size_t(b.rows) * sizeof(pruned_pair), stream));
}


// The production kernels by name, whatever launch_batch would pick (round "thresholds": where the
// choice between them should change with the draft columns per 16-byte vector of the row).
template <dtype T, int NT, int S, int U, int G, int MinBlocks>
void launch_prod_split(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  prune_split_kernel<T, NT, S, U, G, MinBlocks><<<unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks)), NT, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}
template <dtype T, int NT, int G, int MinBlocks>
void launch_prod_vec(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  prune_vec_kernel<T, NT, G, MinBlocks><<<unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks)), NT, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

// Round 16 (2026-12-05, prepared for an H100): a persistent grid of the split kernel whose scanners
// load the first chunk of their next row before they reduce the current one. Hypothesis: at 4K rows
// (3.9 waves of 1056 resident blocks) the blocks start together and stay in step, so at the end of
// every row all of an SM's blocks reduce, write their pairs, exit and start a new row at once, and
// DRAM idles for a first-load latency per wave; at 32K (31 waves) the blocks have drifted apart and
// fill each other's gaps (the kernel reads 0.96 of the copy there, 0.82-0.88 at 4K). Prefetch: the
// first chunk's U loads of row g + grid are issued before row g's tail and block reduction; Sync: a
// block barrier after every row, so that gatherers cannot run ahead of the scanners (a row that the
// gatherers fetch long before the scanners might leave L2 before they read it).
template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Prefetch, bool Sync>
__global__ void __launch_bounds__(NT, MinBlocks) prune_flow_kernel(const __grid_constant__ prune_batch b) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int NG = NT - S;
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < S;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - S, n_ids = int(d.n_ids), cols = int(d.valid_cols);
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int nvec = cols / per;
  if (scanner) {  // the roles in separate loops, so the prefetched chunk is not live in the gatherers'
    uint4 next[U];  // the first chunk of this scanner's next row (Prefetch)
    auto load_first = [&](std::int64_t g) {
      const std::int64_t r = locate(b, g).r;
      const uint4* row = r < 0 ? nullptr : reinterpret_cast<const uint4*>(shard_row<word>(d, r));
#pragma unroll
      for (int k = 0; k < U; ++k) {
        const int v = l + k * S;
        next[k] = row && v < nvec ? __ldg(row + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
      }
    };
    if (Prefetch && blockIdx.x < b.rows) load_first(blockIdx.x);
    for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
      const auto [pr, i, r] = locate(b, g);
      arg_max a;
      const std::int64_t gn = g + gridDim.x;
      if (r >= 0) {
        const char* row = reinterpret_cast<const char*>(shard_row<word>(d, r));
        row_scan<T, S, U> s;
        int v0 = 0;
        if constexpr (Prefetch) {
          if (nvec > 0) {
            float m = -INFINITY;
#pragma unroll
            for (int k = 0; k < U; ++k)
#pragma unroll
              for (int e = 0; e < per; ++e) m = fmaxf(m, element_of<T>(next[k], e));
            s.take(next, l, nvec, m);
            v0 = s.chunk_vecs;
          }
        }
        for (; v0 < nvec; v0 += s.chunk_vecs) s.chunk(row, v0, nvec);
        if (Prefetch && gn < b.rows) load_first(gn);
        s.tail(row, cols);
        a = s.result(d.col_base);
      } else {
        if (Prefetch && gn < b.rows) load_first(gn);
        if (l == 0 && cols > 0) a = {0.0f, d.col_base};
      }
      write_pair<S>(pr.pairs + i, d.col_base, a);
      if constexpr (Sync) __syncthreads();  // whole warps per role: each warp meets the barrier as one
    }
  } else {
    for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
      const auto [pr, i, r] = locate(b, g);
      gather_row<word, NG, G>(d, r, static_cast<word*>(pr.values) + i * d.n_ids, l, n_ids);
      if constexpr (Sync) __syncthreads();
    }
  }
}

// Round 16b: the gatherers trail the scanners a chunk at a time. The rows sweep of round 16 (below)
// put production at the copy's rate for one wave of rows (1056) and in the steady state (13.4 ns
// per row from 8K rows on, the copy's too), the loss in the waves between; and the H200's
// decomposition had the gather alone slower than the scan alone. Here one block per row, as in
// production, but each scanner warp counts its finished chunks in shared memory and the gatherers
// take a chunk's draft columns (the cursor of prune_vec_kernel's per-chunk order) only once every
// scanner warp is past it, so they read lines the scanners have just brought into L1 instead of
// racing them to L2, and a row's end is one chunk's gather, not the row's. The counters are a
// hint: no value passes through them, so a stale read only delays a gatherer. Sleep: the
// gatherers' wait backs off with __nanosleep.
template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Sleep, bool Wait = true>
__global__ void __launch_bounds__(NT, MinBlocks) prune_trail_kernel(const __grid_constant__ prune_batch b) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int NG = NT - S, W = S / 32;
  __shared__ volatile int done[W];
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < S;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - S, n_ids = int(d.n_ids), cols = int(d.valid_cols);
  constexpr int per = T == dtype::fp32 ? 4 : 8, chunk_vecs = S * U;
  const int nvec = cols / per;
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    const auto [pr, i, r] = locate(b, g);
    if (int(threadIdx.x) < W) done[threadIdx.x] = 0;
    __syncthreads();
    if (scanner) {
      arg_max a;
      if (r >= 0) {
        const char* row = reinterpret_cast<const char*>(shard_row<word>(d, r));
        row_scan<T, S, U> s;
        for (int v0 = 0, c = 1; v0 < nvec; v0 += chunk_vecs, ++c) {
          s.chunk(row, v0, nvec);
          __syncwarp();
          if ((threadIdx.x & 31) == 0) done[threadIdx.x / 32] = c;
        }
        s.tail(row, cols);
        a = s.result(d.col_base);
      } else if (l == 0 && cols > 0) {
        a = {0.0f, d.col_base};
      }
      write_pair<S>(pr.pairs + i, d.col_base, a);
    } else {
      word* out = static_cast<word*>(pr.values) + i * d.n_ids;
      if (r >= 0) {
        const word* row = shard_row<word>(d, r);
        draft_cursor<NG, G> ids{l};
        ids.load(d);
        for (int v0 = 0, c = 1; v0 < nvec; v0 += chunk_vecs, ++c) {
          if constexpr (Wait) {
            for (;;) {
              int m = done[0];
#pragma unroll
              for (int w = 1; w < W; ++w) m = min(m, done[w]);
              if (m >= c) break;
              if constexpr (Sleep) __nanosleep(64);
            }
          }
          const bool last = v0 + chunk_vecs >= nvec;
          ids.gather_below(row, out, d, last ? INT_MAX : (v0 + chunk_vecs) * per);
        }
        if (nvec == 0) ids.gather_below(row, out, d, INT_MAX);
      } else {
        for (int k = l; k < n_ids; k += NG) out[k] = 0;
      }
    }
    if (gridDim.x < b.rows) __syncthreads();  // the counters are reset for the block's next row
  }
}

template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Sleep, bool Wait = true>
void launch_trail(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  prune_trail_kernel<T, NT, S, U, G, MinBlocks, Sleep, Wait><<<unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks)), NT, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

// Round 16c: production's split kernel, but the blocks of the first wave start at staggered times
// (block b sleeps Ns · (b mod 16) / 16 first), so that their rows, and the transitions between
// rows where an SM's blocks all reduce, gather from L2 and start anew at once, no longer line up.
// As run, its own kernel; since 99e41c3 production's split kernel takes the stagger (the H100's
// 128 + 128 between two and eight waves, 4 µs), and this launches that.
template <dtype T, int NT, int S, int U, int G, int MinBlocks, int Ns>
void launch_stagger(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  int sms = 0;
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  prune_split_kernel<T, NT, S, U, G, MinBlocks>
      <<<unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks)), NT, 0, stream>>>(b, sms * MinBlocks, unsigned(Ns));
  SB_CUDA_LAUNCH();
}

// Round 19: production's split kernel, and at the start of each row g thread 0 asks L2 for the row
// g + ahead (one cp.async.bulk.prefetch.L2 of the row's whole vectors, issued and forgotten: no
// registers, no shared memory, no barrier). With one block per row the block scheduler starts block
// g + ahead about ahead / resident waves later, so its row is in L2 or on its way when it starts, and
// DRAM has work queued while an SM's blocks reduce, finish their gathers and start anew (rounds 16 and
// 18 put the 4K pack's loss there). Round 6's prefetch (H200) was a line at a time on a persistent grid
// of scan-then-gather blocks; this one keeps production's block per row. Ns > 0: round 16c's staggered
// first wave as well. Run once on an H100 (2026-12-06) with this prefetch in production's split
// kernel too (branch ahead-pack), where the output's "production" line is "ahead 128+128 4blk 1
// wave": slower on every shape, 0.62-0.78 of the copy against 0.88-0.97 without
// (docs/kernel-notes.md, round 19).
__device__ __forceinline__ void prefetch_row_l2(const prune_batch& b, std::int64_t g, unsigned bytes) {
  if (g >= b.rows || bytes == 0) return;
  const std::int64_t r = locate(b, g).r;
  if (r < 0) return;
  const char* row = static_cast<const char*>(b.d.rows.src) + r * b.d.rows.src_ld * std::int64_t(dtype_size(b.d.rows.src_type));
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(row), "r"(bytes) : "memory");
}

template <dtype T, int NT, int S, int U, int G, int MinBlocks, int Ns>
__global__ void __launch_bounds__(NT, MinBlocks) prune_ahead_kernel(const __grid_constant__ prune_batch b, int first_wave,
                                                                     std::int64_t ahead) {
  if (Ns > 0 && int(blockIdx.x) < first_wave) __nanosleep(unsigned(Ns) * (blockIdx.x % 16) / 16);
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < S;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - S, n_ids = int(d.n_ids), cols = int(d.valid_cols);
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const unsigned bytes = unsigned(cols / per) * 16u;
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) {
    if (threadIdx.x == 0) prefetch_row_l2(b, g + ahead, bytes);
    split_row<T, NT, S, U, G>(b, g, scanner, l, n_ids, cols);
  }
}

// ahead = Q/4 of a wave of resident blocks (MinBlocks per SM).
template <dtype T, int NT, int S, int U, int G, int MinBlocks, int Ns, int Q>
void launch_ahead(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  int sms = 0;
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const std::int64_t ahead = std::int64_t(sms) * MinBlocks * Q / 4;
  prune_ahead_kernel<T, NT, S, U, G, MinBlocks, Ns>
      <<<unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks)), NT, 0, stream>>>(b, sms * MinBlocks, ahead);
  SB_CUDA_LAUNCH();
}

// Round 20 (prepared 2026-12-06 for an H100): a ring of row buffers in shared memory, filled by a
// producer warp and drained by consumer groups, so that DRAM always has the next rows queued while
// the groups reduce, gather and change rows (rounds 16-19 put the 4K pack's loss at those changes,
// when an SM's one-row blocks all stop loading at once). One block per SM on a persistent grid:
// - the producer warp walks the block's rows (g = block + k · grid) and, once stage k mod S is free
//   (its `empty` barrier), fills it with row k: one cp.async.bulk of the row's whole vectors by
//   lane 0 (Tma), or 16-byte cp.async by all 32 lanes (LDGSTS), completing on the stage's `full`
//   barrier. Zero rows only arrive;
// - group j of NGR (GT threads each) takes the block's rows k = j, j + NGR, ...: it waits for
//   `full`, scans the staged row for the argmax (row_scan's ordered take), gathers the draft
//   columns from shared memory (the tail columns past the last whole vector from global), reduces
//   over its warps behind a named barrier of its own, frees the stage and writes the pair.
// Round 2 (H200) streamed rows by the bulk-copy engine too, but the whole block took a row at a
// time behind block barriers, with one or two stages per block: 0.46-0.54 of the copy there.
namespace ring {

constexpr int kMaxStages = 8;

__device__ __forceinline__ void arrive(std::uint64_t* bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" ::"r"(smem_addr(bar)) : "memory");
}

template <int GT>
__device__ __forceinline__ void group_sync(int grp) {
  asm volatile("bar.sync %0, %1;" ::"r"(1 + grp), "n"(GT) : "memory");
}

// Each stage's two barriers, by one thread: full completes once its row has landed (FullCount
// arrivals, and a bulk copy's bytes), empty once its consumers are done with it (EmptyCount).
template <int FullCount, int EmptyCount>
__device__ __forceinline__ void init_stages(std::uint64_t* full, std::uint64_t* empty, int stages) {
  for (int s = 0; s < stages; ++s) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(&full[s])), "n"(FullCount) : "memory");
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_addr(&empty[s])), "n"(EmptyCount) : "memory");
  }
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

// The draft columns as 16-bit columns of the shard in shared memory, zeros from n_ids to n_fill.
__device__ __forceinline__ void ids_to_shared(std::uint16_t* sid, const prune_desc& d, int n_ids, int n_fill) {
  for (int k = int(threadIdx.x); k < n_fill; k += blockDim.x) sid[k] = k < n_ids ? std::uint16_t(__ldg(d.ids + k) - int(d.col_base)) : 0;
}

template <dtype T, int GT, int NGR, bool Tma, int G = 8>
__global__ void __launch_bounds__(GT * NGR + 32, 1) prune_ring_kernel(const __grid_constant__ prune_batch b, int stages,
                                                                      int stage_vecs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, U = kPackUnroll;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[kMaxStages], empty[kMaxStages];
  __shared__ float wv[2][NGR][GT / 32];
  __shared__ long long wi[2][NGR][GT / 32];
  const prune_desc& d = b.d;
  const int tid = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const unsigned row_bytes = unsigned(nvec) * 16u;
  const std::int64_t K = b.rows > blockIdx.x ? (b.rows - 1 - blockIdx.x) / gridDim.x + 1 : 0;
  if (tid == 0) init_stages<Tma ? 1 : 32, 1>(full, empty, stages);
  __syncthreads();
  if (tid >= GT * NGR) {  // the producer warp
    const int lane = tid - GT * NGR;
    for (std::int64_t k = 0; k < K; ++k) {
      const int s = int(k % stages);
      const std::int64_t n = k / stages;
      if (n > 0) mbar_wait(&empty[s], unsigned((n - 1) & 1));
      const std::int64_t r = locate(b, blockIdx.x + k * gridDim.x).r;
      uint4* dst = sh + std::int64_t(s) * stage_vecs;
      if constexpr (Tma) {
        if (lane == 0) {
          if (r >= 0 && row_bytes) bulk_row(dst, shard_row<word>(d, r), row_bytes, &full[s]);
          else arrive(&full[s]);
        }
      } else {
        if (r >= 0) {
          const uint4* src = reinterpret_cast<const uint4*>(shard_row<word>(d, r));
          for (int v = lane; v < nvec; v += 32)
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(smem_addr(dst + v)), "l"(src + v) : "memory");
          asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];" ::"r"(smem_addr(&full[s])) : "memory");
        } else {
          arrive(&full[s]);
        }
      }
    }
    return;
  }
  const int grp = tid / GT, l = tid % GT, lane = tid & 31, warp = l / 32;
  int par = 0;
  for (std::int64_t k = grp; k < K; k += NGR, par ^= 1) {
    const int s = int(k % stages);
    const std::int64_t g = blockIdx.x + k * gridDim.x;
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    mbar_wait(&full[s], unsigned((k / stages) & 1));
    arg_max a;
    if (r < 0) {
      a = zero_row<GT>(out, l, n_ids, cols, d.col_base);
    } else {
      const uint4* srow = sh + std::int64_t(s) * stage_vecs;
      const word* row = shard_row<word>(d, r);
      row_scan<T, GT, U> sc;
      for (int v0 = l; v0 - l < nvec; v0 += GT * U) {
        uint4 u[U];
#pragma unroll
        for (int q = 0; q < U; ++q) {
          const int v = v0 + q * GT;  // past the row: NaN, which fmaxf ignores
          u[q] = v < nvec ? srow[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
        }
        float m = -INFINITY;
#pragma unroll
        for (int q = 0; q < U; ++q)
#pragma unroll
          for (int e = 0; e < per; ++e) m = fmaxf(m, element_of<T>(u[q], e));
        sc.take(u, v0, nvec, m);
      }
      sc.tail(reinterpret_cast<const char*>(row), cols, l);
      a = sc.result(d.col_base);
      const word* srw = reinterpret_cast<const word*>(srow);
      for (int k0 = l; k0 < n_ids; k0 += GT * G) {
        int c[G];
#pragma unroll
        for (int q = 0; q < G; ++q) c[q] = k0 + q * GT < n_ids ? __ldg(d.ids + k0 + q * GT) - int(d.col_base) : -1;
        word v[G];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) v[q] = c[q] < staged ? srw[c[q]] : row[c[q]];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) out[k0 + q * GT] = v[q];
      }
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0) {
      wv[par][grp][warp] = a.v;
      wi[par][grp][warp] = a.i;
    }
    group_sync<GT>(grp);  // every thread of the group is done with stage s
    if (l == 0) {
      arrive(&empty[s]);
      for (int w = 1; w < GT / 32; ++w) a = arg_combine(a, {wv[par][grp][w], wi[par][grp][w]});
      // production's pair_of, spelled out: this is the code round 20 timed, and pair_of changes
      // this kernel's machine code
      pr.pairs[i] = a.i < 0 ? pruned_pair{-INFINITY, std::int32_t(d.col_base)} : pruned_pair{a.v, std::int32_t(a.i)};
    }
  }
}

}  // namespace ring

// BPS blocks per SM (1 or 2), the stages as many as fit.
template <dtype T, int GT, int NGR, bool Tma, int BPS = 1, int MaxStages = ring::kMaxStages>
void launch_ring(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  auto k = ring::prune_ring_kernel<T, GT, NGR, Tma>;
  const int per = T == dtype::fp32 ? 4 : 8;
  const int stage_vecs = int((b.d.valid_cols / per + 7) / 8 * 8);  // 128-byte aligned stages
  int sms = 0, optin = 0;
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  SB_CUDA(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
  const int budget = BPS == 1 ? optin - 1024 : (228 * 1024) / BPS - 4096;
  const int stages = std::min(MaxStages, budget / (stage_vecs * 16));
  // Fewer stages than groups + 1 let a group wait on a stage two uses ahead, whose parity then reads
  // as done (the tp 4 rows with 4 groups of 64 failed so on the H100).
  if (stages < NGR + 1) throw std::runtime_error("ring: fewer stages than groups + 1");
  const int smem = stages * stage_vecs * 16;
  static bool once = [&] {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, optin - 1024));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    return true;
  }();
  (void)once;
  const unsigned blocks = unsigned(std::min<std::int64_t>(b.rows, std::int64_t(sms) * BPS));
  k<<<blocks, GT * NGR + 32, smem, stream>>>(b, stages, stage_vecs);
  SB_CUDA_LAUNCH();
}

// Round 23 (prepared 2026-12-06 for an H100): why round 20's ring ran at half the copy's rate. Its
// table had the rate unchanged by the stages (4 or 7) and by the loader (bulk copy or cp.async), and
// rising only weakly with the threads working on rows (2 groups of 128: 0.43, 2 of 256: 0.54), a
// row taking a group of 128 about 8 µs, several times what its instructions need. So this round
// takes the ring apart: the loads alone (consumers that only wait and free the stage), the rows'
// work alone (no loads: stages scanned as they are), and the whole again, with three changes: the
// draft ids sit in shared memory as 16-bit columns (read once per block, not 16 KB of L1 loads per
// row), a stage belongs to one group (stages a multiple of the groups: a group waits only on phases
// it has itself freed, so no parity can alias), and a row may go as several bulk copies.
namespace ring2 {

enum class mode { loads_only, work_only, full };

template <dtype T, int GT, int NGR, mode M, int Splits, int G = 8>
__global__ void __launch_bounds__(GT * NGR + 32, 1) ring2_kernel(const __grid_constant__ prune_batch b, int stages,
                                                                  int stage_vecs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, U = kPackUnroll;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[ring::kMaxStages], empty[ring::kMaxStages];
  __shared__ float wv[2][NGR][GT / 32];
  __shared__ long long wi[2][NGR][GT / 32];
  const prune_desc& d = b.d;
  const int tid = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const std::int64_t K = b.rows > blockIdx.x ? (b.rows - 1 - blockIdx.x) / gridDim.x + 1 : 0;
  std::uint16_t* sid = reinterpret_cast<std::uint16_t*>(sh + std::int64_t(stages) * stage_vecs);
  ring::ids_to_shared(sid, d, n_ids, n_ids);
  if (tid == 0) ring::init_stages<1, 1>(full, empty, stages);
  __syncthreads();
  if (tid >= GT * NGR) {  // the producer warp: lane 0 issues a row's Splits bulk copies
    if (M == mode::work_only || (tid & 31) != 0) return;
    for (std::int64_t k = 0; k < K; ++k) {
      const int s = int(k % stages);
      const std::int64_t n = k / stages;
      if (n > 0) mbar_wait(&empty[s], unsigned((n - 1) & 1));
      const std::int64_t r = locate(b, blockIdx.x + k * gridDim.x).r;
      uint4* dst = sh + std::int64_t(s) * stage_vecs;
      if (r < 0 || nvec == 0) {
        ring::arrive(&full[s]);
        continue;
      }
      const uint4* src = reinterpret_cast<const uint4*>(shard_row<word>(d, r));
      asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(&full[s])), "r"(unsigned(nvec) * 16u)
                   : "memory");
#pragma unroll
      for (int p = 0; p < Splits; ++p) {
        const int v0 = nvec * p / Splits, v1 = nvec * (p + 1) / Splits;
        if (v1 > v0)
          asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                           smem_addr(dst + v0)),
                       "l"(src + v0), "r"(unsigned(v1 - v0) * 16u), "r"(smem_addr(&full[s]))
                       : "memory");
      }
    }
    return;
  }
  const int grp = tid / GT, l = tid % GT, lane = tid & 31, warp = l / 32;
  int par = 0;
  for (std::int64_t k = grp; k < K; k += NGR, par ^= 1) {
    const int s = int(k % stages);  // stages % NGR == 0: stage s is only ever this group's
    const std::int64_t g = blockIdx.x + k * gridDim.x;
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    if constexpr (M == mode::loads_only) {
      if (l == 0) {
        mbar_wait(&full[s], unsigned((k / stages) & 1));
        const word first = reinterpret_cast<const word*>(sh + std::int64_t(s) * stage_vecs)[0];
        ring::arrive(&empty[s]);
        pr.pairs[i] = pruned_pair{float(first), std::int32_t(r)};
      }
      continue;
    }
    if constexpr (M == mode::full) mbar_wait(&full[s], unsigned((k / stages) & 1));
    arg_max a;
    if (r < 0) {
      a = zero_row<GT>(out, l, n_ids, cols, d.col_base);
    } else {
      const uint4* srow = sh + std::int64_t(s) * stage_vecs;
      const word* row = shard_row<word>(d, r);
      row_scan<T, GT, U> sc;
      for (int v0 = l; v0 - l < nvec; v0 += GT * U) {
        uint4 u[U];
#pragma unroll
        for (int q = 0; q < U; ++q) {
          const int v = v0 + q * GT;  // past the row: NaN, which fmaxf ignores
          u[q] = v < nvec ? srow[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
        }
        float m = -INFINITY;
#pragma unroll
        for (int q = 0; q < U; ++q)
#pragma unroll
          for (int e = 0; e < per; ++e) m = fmaxf(m, element_of<T>(u[q], e));
        sc.take(u, v0, nvec, m);
      }
      sc.tail(reinterpret_cast<const char*>(row), cols, l);
      a = sc.result(d.col_base);
      const word* srw = reinterpret_cast<const word*>(srow);
      for (int k0 = l; k0 < n_ids; k0 += GT * G) {
        int c[G];
#pragma unroll
        for (int q = 0; q < G; ++q) c[q] = k0 + q * GT < n_ids ? int(sid[k0 + q * GT]) : -1;
        word v[G];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) v[q] = c[q] < staged ? srw[c[q]] : row[c[q]];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) out[k0 + q * GT] = v[q];
      }
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0) {
      wv[par][grp][warp] = a.v;
      wi[par][grp][warp] = a.i;
    }
    ring::group_sync<GT>(grp);  // every thread of the group is done with stage s
    if (l == 0) {
      if constexpr (M == mode::full) ring::arrive(&empty[s]);
      for (int w = 1; w < GT / 32; ++w) a = arg_combine(a, {wv[par][grp][w], wi[par][grp][w]});
      pr.pairs[i] = pair_of(a, d.col_base);
    }
  }
}

}  // namespace ring2

// The launch of rounds 23-27's rings: one block per SM of Kern, stages of stage_vecs vectors beside
// ids_bytes of draft columns, as many as fit in the opt-in shared memory less `reserve` (for the
// static arrays), at most max_stages and a multiple of `multiple`; refused below min_stages (fewer
// leave a group no row in flight while it works). Kern's attributes are set at its first launch.
struct ring_launch {
  int stages, smem;
  unsigned blocks;
};
template <auto Kern>
ring_launch ring_launch_for(const prune_batch& b, const char* name, int stage_vecs, int ids_bytes, int reserve,
                            int max_stages, int multiple, int min_stages) {
  if (b.d.valid_cols > 65535) throw std::runtime_error(std::string(name) + ": shard columns past 16 bits");
  int sms = 0, optin = 0;
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  SB_CUDA(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
  const int stages = std::min(max_stages, (optin - reserve - ids_bytes) / (stage_vecs * 16)) / multiple * multiple;
  if (stages < min_stages) throw std::runtime_error(std::string(name) + ": fewer stages than " + std::to_string(min_stages));
  static bool once = [&] {
    SB_CUDA(cudaFuncSetAttribute(Kern, cudaFuncAttributeMaxDynamicSharedMemorySize, optin - reserve));
    SB_CUDA(cudaFuncSetAttribute(Kern, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    return true;
  }();
  (void)once;
  return {stages, stages * stage_vecs * 16 + ids_bytes, unsigned(std::min<std::int64_t>(b.rows, sms))};
}

// Stages as many as fit beside the ids, a multiple of the groups; refused below two per group
// (a group with one stage has no row in flight while it works).
template <dtype T, int GT, int NGR, ring2::mode M, int Splits = 1>
void launch_ring2(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int stage_vecs = int((b.d.valid_cols / per + 7) / 8 * 8);  // 128-byte aligned stages
  const int ids_bytes = int((b.d.n_ids * 2 + 15) / 16 * 16);
  constexpr auto k = ring2::ring2_kernel<T, GT, NGR, M, Splits>;
  const ring_launch l = ring_launch_for<k>(b, "ring2", stage_vecs, ids_bytes, 2048, ring::kMaxStages, NGR, 2 * NGR);
  k<<<l.blocks, GT * NGR + 32, l.smem, stream>>>(b, l.stages, stage_vecs);
  SB_CUDA_LAUNCH();
}

// Round 24 (prepared 2026-12-06 for an H100): round 23 found the ring's loads alone at 1.12 of the
// copy (4K rows) and its rows' work alone at 0.63 (2 groups of 128): ncu put the work at 0.32
// instructions per cycle per scheduler, 6 cycles between a warp's instructions, 44 % of them waiting
// on a fixed-latency dependency — the scan's serial chain of fmaxf over a chunk's 32 elements, with
// two warps per scheduler to hide it (shared memory allows one block per SM). A lean scan for rows
// in shared memory: each vector's maximum as a tree (bf16 and fp16 pairs through the packed max),
// the chunk's as a tree of those, and a chunk that beats the running maximum is not scanned element
// by element: its first vector holding the chunk maximum, then that vector's first element equal
// to it, is the lowest column with it (exact: elements equal to the maximum, -0 and +0 included,
// are the ones an ordered ">" scan could keep, and it keeps the first).
template <dtype T>
__device__ __forceinline__ float lean_vec_max(const uint4& u) {
  if constexpr (T == dtype::fp32) {
    return fmaxf(fmaxf(element_of<T>(u, 0), element_of<T>(u, 1)), fmaxf(element_of<T>(u, 2), element_of<T>(u, 3)));
  } else {
    using pair = std::conditional_t<T == dtype::bf16, __nv_bfloat162, __half2>;
    auto as_pair = [](unsigned x) {  // by value: the vector's address is never taken
      pair p;
      memcpy(&p, &x, 4);
      return p;
    };
    const pair m = __hmax2(__hmax2(as_pair(u.x), as_pair(u.y)), __hmax2(as_pair(u.z), as_pair(u.w)));
    return fmaxf(__low2float(m), __high2float(m));
  }
}

template <dtype T, int NT, int U>
struct lean_scan {
  static constexpr int per = T == dtype::fp32 ? 4 : 8;
  float bv = -INFINITY;
  int bi = -1;

  // u[q] = vector v + q·NT (NaN past the row).
  __device__ __forceinline__ void chunk(const uint4 (&u)[U], int v) {
    float vm[U];
#pragma unroll
    for (int q = 0; q < U; ++q) vm[q] = lean_vec_max<T>(u[q]);
    float m = vm[0];
#pragma unroll
    for (int w = 1; w < U; w *= 2)
#pragma unroll
      for (int q = 0; q + w < U; q += 2 * w) vm[q] = fmaxf(vm[q], vm[q + w]);  // tree, vm[0] last
    m = vm[0];
    if (!(bi < 0 ? m == m : m > bv)) return;  // all NaN: no real element in the chunk
    // The tree overwrote vm: recompute the first vector holding m (rare: about twice a row per thread).
    int qi = 0;
#pragma unroll
    for (int q = U - 1; q >= 0; --q)
      if (lean_vec_max<T>(u[q]) == m) qi = q;
    uint4 w = u[0];
#pragma unroll
    for (int q = 1; q < U; ++q)
      if (q == qi) w = u[q];
    int ei = 0;
    float x = m;
#pragma unroll
    for (int e = per - 1; e >= 0; --e) {
      const float y = element_of<T>(w, e);
      if (y == m) {
        ei = e;
        x = y;  // its own bits (-0 stays -0)
      }
    }
    bv = x;
    bi = (v + qi * NT) * per + ei;
  }
};

namespace ring3 {

// ring2's kernel with the lean scan and U vectors per thread per chunk.
template <dtype T, int GT, int NGR, int U, ring2::mode M = ring2::mode::full, int G = 8>
__global__ void __launch_bounds__(GT * NGR + 32, 1) ring3_kernel(const __grid_constant__ prune_batch b, int stages,
                                                                  int stage_vecs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[ring::kMaxStages], empty[ring::kMaxStages];
  __shared__ float wv[2][NGR][GT / 32];
  __shared__ long long wi[2][NGR][GT / 32];
  const prune_desc& d = b.d;
  const int tid = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const std::int64_t K = b.rows > blockIdx.x ? (b.rows - 1 - blockIdx.x) / gridDim.x + 1 : 0;
  std::uint16_t* sid = reinterpret_cast<std::uint16_t*>(sh + std::int64_t(stages) * stage_vecs);
  ring::ids_to_shared(sid, d, n_ids, n_ids);
  if (tid == 0) ring::init_stages<1, 1>(full, empty, stages);
  __syncthreads();
  if (tid >= GT * NGR) {  // the producer warp: lane 0 issues each row as one bulk copy
    if (M == ring2::mode::work_only || (tid & 31) != 0) return;
    for (std::int64_t k = 0; k < K; ++k) {
      const int s = int(k % stages);
      const std::int64_t n = k / stages;
      if (n > 0) mbar_wait(&empty[s], unsigned((n - 1) & 1));
      const std::int64_t r = locate(b, blockIdx.x + k * gridDim.x).r;
      if (r < 0 || nvec == 0) ring::arrive(&full[s]);
      else bulk_row(sh + std::int64_t(s) * stage_vecs, shard_row<word>(d, r), unsigned(nvec) * 16u, &full[s]);
    }
    return;
  }
  const int grp = tid / GT, l = tid % GT, lane = tid & 31, warp = l / 32;
  int par = 0;
  for (std::int64_t k = grp; k < K; k += NGR, par ^= 1) {
    const int s = int(k % stages);  // stages % NGR == 0: stage s is only ever this group's
    const auto [pr, i, r] = locate(b, blockIdx.x + k * gridDim.x);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    if constexpr (M == ring2::mode::full) mbar_wait(&full[s], unsigned((k / stages) & 1));
    arg_max a;
    if (r < 0) {
      a = zero_row<GT>(out, l, n_ids, cols, d.col_base);
    } else {
      const uint4* srow = sh + std::int64_t(s) * stage_vecs;
      const word* row = shard_row<word>(d, r);
      lean_scan<T, GT, U> sc;
      for (int v0 = l; v0 - l < nvec; v0 += GT * U) {
        uint4 u[U];
#pragma unroll
        for (int q = 0; q < U; ++q) {
          const int v = v0 + q * GT;  // past the row: NaN, which the maxima ignore
          u[q] = v < nvec ? srow[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
        }
        sc.chunk(u, v0);
      }
      for (int c = staged + l; c < cols; c += GT) {  // the tail columns, from global memory
        const float x = load_as_float(row, c, T);
        if (sc.bi < 0 || x > sc.bv) {
          sc.bv = x;
          sc.bi = c;
        }
      }
      a = sc.bi < 0 ? arg_max{} : arg_max{sc.bv, d.col_base + sc.bi};
      const word* srw = reinterpret_cast<const word*>(srow);
      for (int k0 = l; k0 < n_ids; k0 += GT * G) {
        int c[G];
#pragma unroll
        for (int q = 0; q < G; ++q) c[q] = k0 + q * GT < n_ids ? int(sid[k0 + q * GT]) : -1;
        word v[G];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) v[q] = c[q] < staged ? srw[c[q]] : row[c[q]];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (c[q] >= 0) out[k0 + q * GT] = v[q];
      }
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0) {
      wv[par][grp][warp] = a.v;
      wi[par][grp][warp] = a.i;
    }
    ring::group_sync<GT>(grp);  // every thread of the group is done with stage s
    if (l == 0) {
      if constexpr (M == ring2::mode::full) ring::arrive(&empty[s]);
      for (int w = 1; w < GT / 32; ++w) a = arg_combine(a, {wv[par][grp][w], wi[par][grp][w]});
      pr.pairs[i] = pair_of(a, d.col_base);
    }
  }
}

}  // namespace ring3

template <dtype T, int GT, int NGR, int U, ring2::mode M = ring2::mode::full>
void launch_ring3(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int stage_vecs = int((b.d.valid_cols / per + 7) / 8 * 8);  // 128-byte aligned stages
  const int ids_bytes = int((b.d.n_ids * 2 + 15) / 16 * 16);
  constexpr auto k = ring3::ring3_kernel<T, GT, NGR, U, M>;
  const ring_launch l = ring_launch_for<k>(b, "ring3", stage_vecs, ids_bytes, 2048, ring::kMaxStages, NGR, 2 * NGR);
  k<<<l.blocks, GT * NGR + 32, l.smem, stream>>>(b, l.stages, stage_vecs);
  SB_CUDA_LAUNCH();
}

// Round 25 (prepared 2026-12-06 for an H100): round 24's lean scan lifted the rows' work alone only
// from 0.63 to 0.73 of the copy (2 groups of 128): ncu still counted about 6 000 warp instructions
// per row at 0.31 per cycle per scheduler, so what was left is the branches around every load
// (bounds checks in the scan and gather) and the launch row's location (two 64-bit divisions per
// thread per row). Here the stages are padded with NaN vectors to whole chunks and the draft
// columns with zeros to whole rounds (so no load is guarded; padding is never a maximum and its
// gathers are never stored), ids past the whole vectors (tail columns; sorted, so at the end) go
// through a separate loop, and the producer, which locates each row anyway, leaves its
// (destination, index, source row) beside the stage for the consumers.
namespace ring4 {

struct row_info {
  int t;
  std::int64_t i, r;
};

// IDR > 0 (round 26): each consumer thread keeps its first IDR draft columns (k = l + j·GT) in
// registers, two to a word, and stores through one row pointer at immediate offsets; the rest, if
// any, go through the loop over the ids in shared memory.
template <dtype T, int GT, int NGR, int U, int G = 8, int IDR = 0>
__global__ void __launch_bounds__(GT * NGR + 32, 1) ring4_kernel(const __grid_constant__ prune_batch b, int stages,
                                                                  int stage_vecs, int n_sid) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[ring::kMaxStages], empty[ring::kMaxStages];
  __shared__ row_info info[ring::kMaxStages];
  __shared__ float wv[2][NGR][GT / 32];
  __shared__ long long wi[2][NGR][GT / 32];
  __shared__ int n_main;  // ids below the whole vectors' columns
  const prune_desc& d = b.d;
  const int tid = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const std::int64_t K = b.rows > blockIdx.x ? (b.rows - 1 - blockIdx.x) / gridDim.x + 1 : 0;
  std::uint16_t* sid = reinterpret_cast<std::uint16_t*>(sh + std::int64_t(stages) * stage_vecs);
  if (tid == 0) n_main = 0;
  for (int s = 0; s < stages; ++s)
    for (int v = nvec + tid; v < stage_vecs; v += blockDim.x) sh[std::int64_t(s) * stage_vecs + v] = make_uint4(~0u, ~0u, ~0u, ~0u);
  ring::ids_to_shared(sid, d, n_ids, n_sid);
  if (tid == 0) ring::init_stages<1, 1>(full, empty, stages);
  __syncthreads();
  for (int k = tid; k < n_ids; k += blockDim.x)
    if (int(sid[k]) < staged) atomicMax(&n_main, k + 1);
  __syncthreads();
  if (tid >= GT * NGR) {  // the producer warp: lane 0 locates each row and issues it as one bulk copy
    if ((tid & 31) != 0) return;
    for (std::int64_t k = 0; k < K; ++k) {
      const int s = int(k % stages);
      const std::int64_t n = k / stages;
      if (n > 0) mbar_wait(&empty[s], unsigned((n - 1) & 1));
      const std::int64_t g = blockIdx.x + k * gridDim.x;
      int t = 0;
      while (t + 1 < b.n && g >= b.dst[t + 1].first) ++t;
      const prune_rows& pr = b.dst[t];
      const std::int64_t i = g - pr.first, r = pr.rule.source(i / pr.win_len, i % pr.win_len);
      info[s] = {t, i, r};  // published by the arrive below (release), read after the wait (acquire)
      if (r < 0 || nvec == 0) ring::arrive(&full[s]);
      else bulk_row(sh + std::int64_t(s) * stage_vecs, shard_row<word>(d, r), unsigned(nvec) * 16u, &full[s]);
    }
    return;
  }
  const int grp = tid / GT, l = tid % GT, lane = tid & 31, warp = l / 32, main_ids = n_main;
  constexpr int IDW = IDR > 0 ? IDR / 2 : 1;
  unsigned cp[IDW];  // this thread's first IDR draft columns, two 16-bit columns a word
  int n_reg = 0;     // how many of them are real: j < n_reg
  if constexpr (IDR > 0) {
#pragma unroll
    for (int j = 0; j < IDW; ++j) {
      const int k0 = l + 2 * j * GT, k1 = k0 + GT;
      cp[j] = unsigned(k0 < main_ids ? sid[k0] : 0) | unsigned(k1 < main_ids ? sid[k1] : 0) << 16;
    }
    n_reg = l < main_ids ? std::min(IDR, (main_ids - 1 - l) / GT + 1) : 0;
  }
  int par = 0;
  for (std::int64_t k = grp; k < K; k += NGR, par ^= 1) {
    const int s = int(k % stages);  // stages % NGR == 0: stage s is only ever this group's
    mbar_wait(&full[s], unsigned((k / stages) & 1));
    const row_info ri = info[s];
    const prune_rows& pr = b.dst[ri.t];
    word* out = static_cast<word*>(pr.values) + ri.i * d.n_ids;
    arg_max a;
    if (ri.r < 0) {
      a = zero_row<GT>(out, l, n_ids, cols, d.col_base);
    } else {
      const uint4* srow = sh + std::int64_t(s) * stage_vecs;
      const word* row = shard_row<word>(d, ri.r);
      lean_scan<T, GT, U> sc;
      for (int v0 = l; v0 < stage_vecs; v0 += GT * U) {  // padding: NaN vectors, never a maximum
        uint4 u[U];
#pragma unroll
        for (int q = 0; q < U; ++q) u[q] = srow[v0 + q * GT];
        sc.chunk(u, v0);
      }
      for (int c = staged + l; c < cols; c += GT) {  // the tail columns, from global memory
        const float x = load_as_float(row, c, T);
        if (sc.bi < 0 || x > sc.bv) {
          sc.bv = x;
          sc.bi = c;
        }
      }
      a = sc.bi < 0 ? arg_max{} : arg_max{sc.bv, d.col_base + sc.bi};
      const word* srw = reinterpret_cast<const word*>(srow);
      int k_from = l;
      if constexpr (IDR > 0) {
        word* o = out + l;
#pragma unroll
        for (int h = 0; h < IDR; h += 8) {
          word v[8];
#pragma unroll
          for (int q = 0; q < 8; ++q) v[q] = srw[(cp[(h + q) / 2] >> (16 * ((h + q) & 1))) & 0xffffu];
#pragma unroll
          for (int q = 0; q < 8; ++q)
            if (h + q < n_reg) o[(h + q) * GT] = v[q];
        }
        k_from = l + IDR * GT;
      }
      for (int k0 = k_from; k0 < main_ids; k0 += GT * G) {  // sid is padded with column 0 to whole rounds
        word v[G];
#pragma unroll
        for (int q = 0; q < G; ++q) v[q] = srw[sid[k0 + q * GT]];
#pragma unroll
        for (int q = 0; q < G; ++q)
          if (k0 + q * GT < main_ids) out[k0 + q * GT] = v[q];
      }
      for (int k = main_ids + l; k < n_ids; k += GT) out[k] = row[sid[k]];  // tail columns' ids
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0) {
      wv[par][grp][warp] = a.v;
      wi[par][grp][warp] = a.i;
    }
    ring::group_sync<GT>(grp);  // every thread of the group is done with stage s and its info
    if (l == 0) {
      ring::arrive(&empty[s]);
      for (int w = 1; w < GT / 32; ++w) a = arg_combine(a, {wv[par][grp][w], wi[par][grp][w]});
      pr.pairs[ri.i] = pair_of(a, d.col_base);
    }
  }
}

}  // namespace ring4

template <dtype T, int GT, int NGR, int U, int IDR = 0>
void launch_ring4(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  constexpr int G = 8, per = T == dtype::fp32 ? 4 : 8;
  const std::int64_t chunk = GT * U, round = GT * G;
  const int stage_vecs = int(std::max<std::int64_t>(1, (b.d.valid_cols / per + chunk - 1) / chunk) * chunk);
  const int n_sid = int(std::max<std::int64_t>(1, (b.d.n_ids + round - 1) / round) * round);
  constexpr auto k = ring4::ring4_kernel<T, GT, NGR, U, G, IDR>;
  const ring_launch l = ring_launch_for<k>(b, "ring4", stage_vecs, (n_sid * 2 + 15) / 16 * 16, 2048, ring::kMaxStages, NGR, 2 * NGR);
  k<<<l.blocks, GT * NGR + 32, l.smem, stream>>>(b, l.stages, stage_vecs, n_sid);
  SB_CUDA_LAUNCH();
}

// Round 27 (prepared 2026-12-06 for an H100): ncu on round 26's ring (3 groups of 256) put 26 % of
// the warps' stall samples on the wait for a stage's data and 14 % on the group's barrier, while its
// producer mostly waited for a free stage. A group holds one stage while it works and has one row
// loading behind it, so its next row had been in flight for only one row's work when it was needed.
// Here a stage is a segment of a row (SEGS to a row): a group frees each segment's stage as soon
// as its warps are done with it (each warp arrives; no group barrier), so with the same shared
// memory each group has more of its rows in flight. Stage counters are 32-bit and incremental.
namespace ring5 {

constexpr int kMaxStages = 32;

template <dtype T, int GT, int NGR, int U, int SEGS, int G = 8>
__global__ void __launch_bounds__(GT * NGR + 32, 1) ring5_kernel(const __grid_constant__ prune_batch b, int stages,
                                                                  int stage_vecs, int n_sid) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, WARPS = GT / 32;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[kMaxStages], empty[kMaxStages];
  __shared__ ring4::row_info info[kMaxStages];
  __shared__ float wv[2][NGR][WARPS];
  __shared__ long long wi[2][NGR][WARPS];
  __shared__ int kseg[SEGS + 1];  // ids of segment j: [kseg[j], kseg[j + 1]); kseg[SEGS]: ids below the whole vectors
  const prune_desc& d = b.d;
  const int tid = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const int K = b.rows > blockIdx.x ? int((b.rows - 1 - blockIdx.x) / gridDim.x + 1) : 0;
  std::uint16_t* sid = reinterpret_cast<std::uint16_t*>(sh + std::int64_t(stages) * stage_vecs);
  if (tid <= SEGS) kseg[tid] = 0;
  ring::ids_to_shared(sid, d, n_ids, n_sid);
  if (tid == 0) ring::init_stages<1, WARPS>(full, empty, stages);
  __syncthreads();
  for (int k = tid; k < n_ids; k += blockDim.x) {  // kseg[j + 1]: the ids below segment j's end (sorted ids)
    const int c = sid[k];
#pragma unroll
    for (int j = 0; j < SEGS; ++j)
      if (c < nvec * (j + 1) / SEGS * per) atomicMax(&kseg[j + 1], k + 1);
  }
  __syncthreads();
  if (tid == 0)
    for (int j = 1; j <= SEGS; ++j) kseg[j] = max(kseg[j], kseg[j - 1]);
  __syncthreads();
  if (tid >= GT * NGR) {  // the producer warp: lane 0 locates each row and issues its segments
    if ((tid & 31) != 0) return;
    int s = 0;
    unsigned ph = 0;  // bit s: the phase of stage s's empty barrier to wait for
    for (int k = 0; k < K; ++k) {
      const std::int64_t g = blockIdx.x + std::int64_t(k) * gridDim.x;
      int t = 0;
      while (t + 1 < b.n && g >= b.dst[t + 1].first) ++t;
      const prune_rows& pr = b.dst[t];
      const std::int64_t i = g - pr.first, r = pr.rule.source(i / pr.win_len, i % pr.win_len);
      const uint4* src = r < 0 ? nullptr : reinterpret_cast<const uint4*>(shard_row<word>(d, r));
#pragma unroll
      for (int j = 0; j < SEGS; ++j) {
        if (k * SEGS + j >= stages) {  // the stage's previous use must be freed
          mbar_wait(&empty[s], (ph >> s) & 1u);
          ph ^= 1u << s;
        }
        info[s] = {t, i, r};  // published by the arrive below (release), read after the wait (acquire)
        const int v0 = nvec * j / SEGS, v1 = nvec * (j + 1) / SEGS;
        if (r < 0 || v1 == v0) ring::arrive(&full[s]);
        else bulk_row(sh + std::int64_t(s) * stage_vecs, src + v0, unsigned(v1 - v0) * 16u, &full[s]);
        s = s + 1 == stages ? 0 : s + 1;
      }
    }
    return;
  }
  const int grp = tid / GT, l = tid % GT, lane = tid & 31, warp = l / 32;
  // This group's rows k = grp + NGR·m use stages (k·SEGS + j) mod stages; stages % (NGR·SEGS) == 0,
  // so a stage is only ever this group's.
  int s = grp * SEGS;
  unsigned ph = 0;
  int par = 0;
  for (int k = grp; k < K; k += NGR, par ^= 1) {
    lean_scan<T, GT, U> sc;
    word* out = nullptr;
    ring4::row_info ri{};
#pragma unroll 1
    for (int j = 0; j < SEGS; ++j) {
      mbar_wait(&full[s], (ph >> s) & 1u);
      ph ^= 1u << s;
      ri = info[s];
      out = static_cast<word*>(b.dst[ri.t].values) + ri.i * d.n_ids;
      const int v0 = nvec * j / SEGS, cnt = nvec * (j + 1) / SEGS - v0;
      if (ri.r >= 0) {
        const uint4* srow = sh + std::int64_t(s) * stage_vecs;
        for (int c0 = l; c0 < cnt; c0 += GT * U) {
          uint4 u[U];
#pragma unroll
          for (int q = 0; q < U; ++q) {
            const int v = c0 + q * GT;
            u[q] = v < cnt ? srow[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
          }
          sc.chunk(u, v0 + c0);
        }
        const word* srw = reinterpret_cast<const word*>(srow) - v0 * per;  // indexed by the row's column
        const int k1 = kseg[j + 1];
        for (int k0 = kseg[j] + l; k0 < k1; k0 += GT * G) {  // sid is padded with column 0 to whole rounds
          word v[G];
#pragma unroll
          for (int q = 0; q < G; ++q) {
            const int kk = k0 + q * GT;
            v[q] = kk < k1 ? srw[sid[kk]] : word(0);
          }
#pragma unroll
          for (int q = 0; q < G; ++q)
            if (k0 + q * GT < k1) out[k0 + q * GT] = v[q];
        }
      }
      __syncwarp();
      if (lane == 0) ring::arrive(&empty[s]);  // this warp is done with the stage
      s = s + 1 == stages ? 0 : s + 1;
    }
    s += (NGR - 1) * SEGS;  // past the other groups' rows
    if (s >= stages) s -= stages;
    arg_max a;
    if (ri.r < 0) {
      a = zero_row<GT>(out, l, n_ids, cols, d.col_base);
    } else {
      const word* row = shard_row<word>(d, ri.r);
      for (int c = staged + l; c < cols; c += GT) {  // the tail columns, from global memory
        const float x = load_as_float(row, c, T);
        if (sc.bi < 0 || x > sc.bv) {
          sc.bv = x;
          sc.bi = c;
        }
      }
      for (int kk = kseg[SEGS] + l; kk < n_ids; kk += GT) out[kk] = row[sid[kk]];  // tail columns' ids
      a = sc.bi < 0 ? arg_max{} : arg_max{sc.bv, d.col_base + sc.bi};
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0) {
      wv[par][grp][warp] = a.v;
      wi[par][grp][warp] = a.i;
    }
    ring::group_sync<GT>(grp);
    if (l == 0) {
      for (int w = 1; w < WARPS; ++w) a = arg_combine(a, {wv[par][grp][w], wi[par][grp][w]});
      b.dst[ri.t].pairs[ri.i] = pair_of(a, d.col_base);
    }
  }
}

}  // namespace ring5

template <dtype T, int GT, int NGR, int U, int SEGS>
void launch_ring5(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  constexpr int G = 8, per = T == dtype::fp32 ? 4 : 8;
  const std::int64_t nvec = b.d.valid_cols / per, round = GT * G;
  const int stage_vecs = int(std::max<std::int64_t>(8, ((nvec + SEGS - 1) / SEGS + 7) / 8 * 8));  // 128-byte aligned
  const int n_sid = int(std::max<std::int64_t>(1, (b.d.n_ids + round - 1) / round) * round);
  constexpr auto k = ring5::ring5_kernel<T, GT, NGR, U, SEGS, G>;
  const ring_launch l = ring_launch_for<k>(b, "ring5", stage_vecs, (n_sid * 2 + 15) / 16 * 16, 3072, ring5::kMaxStages,
                                           NGR * SEGS, 2 * NGR * SEGS);
  k<<<l.blocks, GT * NGR + 32, l.smem, stream>>>(b, l.stages, stage_vecs, n_sid);
  SB_CUDA_LAUNCH();
}

// Round 28 (prepared 2026-12-06 for an H100): the block per row kept, its row by one bulk copy.
// Rounds 20 and 23-27 found a ring's loads alone at 1.09-1.18 of the copy (the bulk-copy engine
// keeps rows queued at DRAM whatever the threads do) but its rows' work from shared memory too slow
// with the one block per SM its stages leave room for (8-25 warps, 44 % of the cycles waiting on a
// fixed-latency dependency). Here each block is production's one row, with no ring: thread 0 asks
// the bulk-copy engine for the whole row the moment the block starts, and the block scans it from
// shared memory with round 24's lean scan and gathers its draft columns from there. A tp 8 bf16 row
// is 32 KB, so six blocks fit per SM: six rows in flight, each either landing or being worked on,
// and 48 warps (256 threads) to do the work. A new block's first act is a 32 KB request, so when an
// SM's blocks end their rows together (round 16's reading of the 4K loss) DRAM still has their
// successors' rows queued. Chunked: one barrier per chunk of NT·U vectors, each its own bulk copy,
// so the scan starts on the row's first chunk while the rest lands.
namespace rowbulk {

constexpr int kMaxChunks = 8;

template <dtype T, int NT, int U, int MinBlocks, bool Offs, bool Chunked, int G = 8>
__global__ void __launch_bounds__(NT, MinBlocks) rowbulk_kernel(const __grid_constant__ prune_batch b, const std::uint16_t* offs) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8, CV = NT * U;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[kMaxChunks];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const int chunks = Chunked ? (nvec + CV - 1) / CV : 1;
  const auto [pr, i, r] = locate(b, blockIdx.x);
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  if (r < 0) {
    write_pair<NT>(pr.pairs + i, d.col_base, zero_row<NT>(out, l, n_ids, cols, d.col_base));
    return;
  }
  const word* row = shard_row<word>(d, r);
  if (l == 0 && nvec > 0) {
    for (int c = 0; c < chunks; ++c)
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&full[c])) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    const uint4* src = reinterpret_cast<const uint4*>(row);
    for (int c = 0; c < chunks; ++c) {
      const int v0 = Chunked ? c * CV : 0, v1 = Chunked ? min(nvec, v0 + CV) : nvec;
      bulk_row(sh + v0, src + v0, unsigned(v1 - v0) * 16u, &full[c]);
    }
  }
  __syncthreads();  // the barriers' initialisation, before anyone waits on them
  lean_scan<T, NT, U> sc;
  for (int v0 = l, c = 0; v0 - l < nvec; v0 += CV, ++c) {
    if (Chunked || c == 0) mbar_wait(&full[c], 0);
    uint4 u[U];
#pragma unroll
    for (int q = 0; q < U; ++q) {
      const int v = v0 + q * NT;  // past the row: NaN, which the maxima ignore
      u[q] = v < nvec ? sh[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
    }
    sc.chunk(u, v0);
  }
  for (int c = staged + l; c < cols; c += NT) {  // the tail columns, from global memory
    const float x = load_as_float(row, c, T);
    if (sc.bi < 0 || x > sc.bv) {
      sc.bv = x;
      sc.bi = c;
    }
  }
  gather_staged<NT, G, Offs>(reinterpret_cast<const word*>(sh), row, out, d, offs, staged);
  write_pair<NT>(pr.pairs + i, d.col_base, sc.bi < 0 ? arg_max{} : arg_max{sc.bv, d.col_base + sc.bi});
}

}  // namespace rowbulk

// A block per row; shared memory for the row's whole vectors. Prints the blocks per SM and
// registers once per kernel.
template <dtype T, int NT, int U, int MinBlocks, bool Offs, bool Chunked>
void launch_rowbulk(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  constexpr auto k = rowbulk::rowbulk_kernel<T, NT, U, MinBlocks, Offs, Chunked>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int nvec = int(b.d.valid_cols / per);
  if (Chunked && (nvec + NT * U - 1) / (NT * U) > rowbulk::kMaxChunks) throw std::runtime_error("rowbulk: too many chunks");
  const int smem = std::max(16, (nvec + 7) / 8 * 128);  // 128-byte multiple
  static int set_for = -1;
  if (set_for != smem) {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    int per_sm = 0;
    cudaFuncAttributes fa{};
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
    SB_CUDA(cudaFuncGetAttributes(&fa, k));
    std::printf("    [rowbulk %d thr U%d%s%s: %d blocks/SM, %d registers, %zu bytes spilled, %d B shared]\n", NT, U,
                Offs ? " u16" : "", Chunked ? " chunked" : "", per_sm, fa.numRegs, std::size_t(fa.localSizeBytes), smem);
    set_for = smem;
  }
  k<<<unsigned(b.rows), NT, smem, stream>>>(b, offs);
  SB_CUDA_LAUNCH();
}

// Round 29 (prepared 2026-12-06 for an H100): round 28's block per row by bulk copy with 16-bit
// draft columns streamed at the copy's rate from 8K rows up (0.994 of it at 32K, production 0.989)
// but carried about 10 µs more than a copy at every size (production: 6-14). With six rows in flight
// per SM and the rows' work barely faster than DRAM delivers them, the rows whose data have landed
// queue for issue slots, and the last ones' work is what the launch ends with. So this round cuts
// the instructions per row: the row's location found by thread 0 alone (two 64-bit divisions per
// thread before) and handed over with the barrier's initialisation; a chunk's maximum as one tree of
// packed maxima over all its vectors (one conversion per chunk, not two per vector); and the gather
// by eight consecutive draft columns per thread, packed into one 16-byte store (the output row's
// first columns up to a 16-byte boundary, and its last, one by one). Ablations: the bulk copies
// alone (threads wait and leave), the work alone (no copy: shared memory scanned as it is).
namespace rowbulk2 {

enum class mode { full, loads_only, work_only };

template <dtype T, int NT, int U>
struct packed_scan {
  using pair = std::conditional_t<T == dtype::bf16, __nv_bfloat162, __half2>;
  static constexpr int per = 8;
  float bv = -INFINITY;
  int bi = -1;

  static __device__ __forceinline__ pair as_pair(unsigned x) {
    pair p;
    memcpy(&p, &x, 4);
    return p;
  }

  // u[q] = vector v + q·NT (NaN past the row).
  __device__ __forceinline__ void chunk(const uint4 (&u)[U], int v) {
    pair acc[U];
#pragma unroll
    for (int q = 0; q < U; ++q)
      acc[q] = __hmax2(__hmax2(as_pair(u[q].x), as_pair(u[q].y)), __hmax2(as_pair(u[q].z), as_pair(u[q].w)));
#pragma unroll
    for (int w = 1; w < U; w *= 2)
#pragma unroll
      for (int q = 0; q + w < U; q += 2 * w) acc[q] = __hmax2(acc[q], acc[q + w]);
    const float m = fmaxf(__low2float(acc[0]), __high2float(acc[0]));
    if (!(bi < 0 ? m == m : m > bv)) return;  // all NaN: no real element in the chunk
    int qi = 0;  // the first vector holding m, then its first element equal to m (rare)
#pragma unroll
    for (int q = U - 1; q >= 0; --q)
      if (lean_vec_max<T>(u[q]) == m) qi = q;
    uint4 x = u[0];
#pragma unroll
    for (int q = 1; q < U; ++q)
      if (q == qi) x = u[q];
    int ei = 0;
    float y = m;
#pragma unroll
    for (int e = per - 1; e >= 0; --e) {
      const float z = element_of<T>(x, e);
      if (z == m) {
        ei = e;
        y = z;  // its own bits (-0 stays -0)
      }
    }
    bv = y;
    bi = (v + qi * NT) * per + ei;
  }
};

// StepNs (round 30): the first wave's blocks ask for their rows in turns, block b after
// StepNs · (b / sms) (so one block per SM per turn, given a full grid's placement), else every
// first-wave row is asked for at once and lands at about the same time.
// probe (round 31): when given, thread 0 leaves the block's SM and its %globaltimer at the start,
// when the row has landed and at the end, four words per block.
__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__device__ __forceinline__ unsigned sm_id() {
  unsigned x;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(x));
  return x;
}

// LG (round 32): 0 gathers eight consecutive draft columns per thread into one 16-byte store (round
// 29); LG > 0 gathers as production does, consecutive lanes on consecutive columns, LG per thread
// in flight, in unguarded rounds of NT·LG and one guarded round after them. Round 31's trace had a
// row's work take 5.9 µs after it landed: the eight columns a lane reads lie about 32 columns
// (16 banks) from its neighbour's, so each of its shared-memory loads conflicts several ways, and its
// eight 2-byte id loads a lane 16 bytes apart take four L1 wavefronts each where consecutive lanes
// take one.
template <dtype T, int NT, int U, int MinBlocks, mode M = mode::full, int StepNs = 0, int LG = 0>
__global__ void __launch_bounds__(NT, MinBlocks) rowbulk2_kernel(const __grid_constant__ prune_batch b, const std::uint16_t* offs,
                                                                 int sms, unsigned long long* probe) {
  if (probe && threadIdx.x == 0) {
    probe[4 * blockIdx.x] = global_ns();
    probe[4 * blockIdx.x + 3] = sm_id();
  }
  static_assert(T != dtype::fp32, "2-byte rows: the scan's packed maxima");
  using word = std::uint16_t;
  constexpr int per = 8, CV = NT * U;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full;
  __shared__ long long s_i, s_r;
  __shared__ int s_t;
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  if (l == 0) {
    const auto [pr0, i0, r0] = locate(b, blockIdx.x);
    s_t = int(&pr0 - b.dst);
    s_i = i0;
    s_r = r0;
    if (r0 >= 0 && nvec > 0 && M != mode::work_only) {
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&full)) : "memory");
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
      if (StepNs > 0 && int(blockIdx.x) < MinBlocks * sms) __nanosleep(unsigned(StepNs) * (blockIdx.x / unsigned(sms)));
      bulk_row(sh, shard_row<word>(d, r0), unsigned(nvec) * 16u, &full);
    }
  }
  __syncthreads();  // the row's location and the barrier's initialisation
  const prune_rows& pr = b.dst[s_t];
  const std::int64_t i = s_i, r = s_r;
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  if (r < 0) {
    write_pair<NT>(pr.pairs + i, d.col_base, zero_row<NT>(out, l, n_ids, cols, d.col_base));
    return;
  }
  const word* row = shard_row<word>(d, r);
  if (M != mode::work_only && nvec > 0) mbar_wait(&full, 0);
  if (probe && l == 0) probe[4 * blockIdx.x + 1] = global_ns();
  if constexpr (M == mode::loads_only) {
    if (l == 0) pr.pairs[i] = pruned_pair{float(reinterpret_cast<const word*>(sh)[0]), std::int32_t(r)};
    return;
  }
  packed_scan<T, NT, U> sc;
  for (int v0 = l; v0 - l < nvec; v0 += CV) {
    uint4 u[U];
#pragma unroll
    for (int q = 0; q < U; ++q) {
      const int v = v0 + q * NT;  // past the row: NaN, which the maxima ignore
      u[q] = v < nvec ? sh[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
    }
    sc.chunk(u, v0);
  }
  for (int c = staged + l; c < cols; c += NT) {  // the tail columns, from global memory
    const float x = load_as_float(row, c, T);
    if (sc.bi < 0 || x > sc.bv) {
      sc.bv = x;
      sc.bi = c;
    }
  }
  if constexpr (LG > 0) {
    const word* srw = reinterpret_cast<const word*>(sh);
    constexpr int R = NT * LG;
    const int whole = n_ids / R * R;
    int k0 = l;
    for (; k0 < whole; k0 += R) {
      int c[LG];
#pragma unroll
      for (int q = 0; q < LG; ++q) c[q] = int(__ldg(offs + k0 + q * NT));
      word v[LG];
      if (c[LG - 1] < staged) {  // sorted: the thread's last is its largest
#pragma unroll
        for (int q = 0; q < LG; ++q) v[q] = srw[c[q]];
      } else {
#pragma unroll
        for (int q = 0; q < LG; ++q) v[q] = c[q] < staged ? srw[c[q]] : row[c[q]];
      }
#pragma unroll
      for (int q = 0; q < LG; ++q) out[k0 + q * NT] = v[q];
    }
    int c[LG];
#pragma unroll
    for (int q = 0; q < LG; ++q) c[q] = k0 + q * NT < n_ids ? int(__ldg(offs + k0 + q * NT)) : -1;
    word v[LG];
#pragma unroll
    for (int q = 0; q < LG; ++q)
      if (c[q] >= 0) v[q] = c[q] < staged ? srw[c[q]] : row[c[q]];
#pragma unroll
    for (int q = 0; q < LG; ++q)
      if (c[q] >= 0) out[k0 + q * NT] = v[q];
  } else {
    // The gather: the output row's columns before its first 16-byte boundary (h), then groups of
    // eight (one 16-byte store each), then what is left, one by one.
    const word* srw = reinterpret_cast<const word*>(sh);
    auto one = [&](int k) {
      const int c = int(__ldg(offs + k));
      return c < staged ? srw[c] : row[c];
    };
    const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
    const int groups = (n_ids - h) / 8;
    if (l < h) out[l] = one(l);
    for (int g = l; g < groups; g += NT) {
      const int k = h + 8 * g;
      int c[8];
  #pragma unroll
      for (int e = 0; e < 8; ++e) c[e] = int(__ldg(offs + k + e));
      unsigned v[8];
      if (c[7] < staged) {  // sorted: every one of the eight is staged
  #pragma unroll
        for (int e = 0; e < 8; ++e) v[e] = srw[c[e]];
      } else {
  #pragma unroll
        for (int e = 0; e < 8; ++e) v[e] = c[e] < staged ? srw[c[e]] : row[c[e]];
      }
      *reinterpret_cast<uint4*>(out + k) = make_uint4(v[0] | v[1] << 16, v[2] | v[3] << 16, v[4] | v[5] << 16, v[6] | v[7] << 16);
    }
    for (int k = h + 8 * groups + l; k < n_ids; k += NT) out[k] = one(k);
  }
  write_pair<NT>(pr.pairs + i, d.col_base, sc.bi < 0 ? arg_max{} : arg_max{sc.bv, d.col_base + sc.bi});
  if (probe && l == 0) probe[4 * blockIdx.x + 2] = global_ns();
}

}  // namespace rowbulk2

// Round 31: the probe's timeline of one launch, in bins of bin_ns from the first block's start:
// blocks started, rows landed and blocks ended per bin, and the resident blocks at the bin's end.
void print_timeline(const std::vector<unsigned long long>& p, std::int64_t rows, double bin_ns) {
  unsigned long long t0 = ~0ull, tend = 0, first_land = ~0ull, last_land = 0;
  std::int64_t n = 0;
  for (std::int64_t g = 0; g < rows; ++g) {
    if (p[4 * g] == 0 || p[4 * g + 2] == 0) continue;  // zero rows leave before the probe's second word
    ++n;
    t0 = std::min(t0, p[4 * g]);
    tend = std::max(tend, p[4 * g + 2]);
    if (p[4 * g + 1]) {
      first_land = std::min(first_land, p[4 * g + 1]);
      last_land = std::max(last_land, p[4 * g + 1]);
    }
  }
  const int bins = int((tend - t0) / bin_ns) + 1;
  std::vector<int> st(bins), la(bins), en(bins);
  double wait = 0, work = 0;
  for (std::int64_t g = 0; g < rows; ++g) {
    if (p[4 * g] == 0 || p[4 * g + 1] == 0 || p[4 * g + 2] == 0) continue;
    ++st[int((p[4 * g] - t0) / bin_ns)];
    ++la[int((p[4 * g + 1] - t0) / bin_ns)];
    ++en[int((p[4 * g + 2] - t0) / bin_ns)];
    wait += double(p[4 * g + 1] - p[4 * g]);
    work += double(p[4 * g + 2] - p[4 * g + 1]);
  }
  std::printf("    timeline: %lld blocks, span %.1f us, first row landed at %.1f us, last at %.1f us; mean wait for the row %.2f us, "
              "mean work after it %.2f us\n",
              (long long)n, (tend - t0) / 1e3, (first_land - t0) / 1e3, (last_land - t0) / 1e3, wait / n / 1e3, work / n / 1e3);
  int live = 0;
  for (int k = 0; k < bins; ++k) {
    live += st[k] - en[k];
    std::printf("    %6.1f us  started %4d  landed %4d  ended %4d  resident %4d\n", k * bin_ns / 1e3, st[k], la[k], en[k], live);
  }
}

// A traced launcher's probe: on the 8th launch of a shape (warm, among the timed ones) a zeroed
// buffer of `words` 8-byte words per row, else null. One per launcher (its own count).
struct probe_state {
  unsigned long long* buf = nullptr;
  std::int64_t bytes = 0, shape_rows = -1;
  int calls = 0;
};
unsigned long long* probe_on_8th(probe_state& s, std::int64_t rows, int words) {
  if (rows != s.shape_rows) {
    s.shape_rows = rows;
    s.calls = 0;
  }
  const std::int64_t bytes = rows * words * 8;
  if (s.bytes < bytes) {
    if (s.buf) SB_CUDA(cudaFree(s.buf));
    SB_CUDA(cudaMalloc(&s.buf, std::size_t(bytes)));
    s.bytes = bytes;
  }
  if (++s.calls != 8) return nullptr;
  SB_CUDA(cudaMemset(s.buf, 0, std::size_t(bytes)));
  return s.buf;
}

template <dtype T, int NT, int U, int MinBlocks, rowbulk2::mode M = rowbulk2::mode::full, int StepNs = 0, bool Probe = false,
          int LG = 0>
void launch_rowbulk2(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  constexpr auto k = rowbulk2::rowbulk2_kernel<T, NT, U, MinBlocks, M, StepNs, LG>;
  static const int sms = [] {
    int n = 0;
    SB_CUDA(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
    return n;
  }();
  const int nvec = int(b.d.valid_cols / 8);
  const int smem = std::max(16, (nvec + 7) / 8 * 128);  // 128-byte multiple
  static int set_for = -1;
  if (set_for != smem) {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    int per_sm = 0;
    cudaFuncAttributes fa{};
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
    SB_CUDA(cudaFuncGetAttributes(&fa, k));
    std::printf("    [rowbulk2 %d thr U%d mode %d step %d LG %d: %d blocks/SM, %d registers, %zu bytes spilled, %d B shared]\n", NT, U,
                int(M), StepNs, LG, per_sm, fa.numRegs, std::size_t(fa.localSizeBytes), smem);
    set_for = smem;
  }
  if constexpr (Probe) {  // the 8th launch of a shape (warm, among the timed ones) is traced
    static probe_state ps;
    if (unsigned long long* probe = probe_on_8th(ps, b.rows, 4)) {
      k<<<unsigned(b.rows), NT, smem, stream>>>(b, offs, sms, probe);
      SB_CUDA_LAUNCH();
      std::vector<unsigned long long> host(std::size_t(b.rows) * 4);
      SB_CUDA(cudaMemcpy(host.data(), probe, host.size() * 8, cudaMemcpyDeviceToHost));
      print_timeline(host, b.rows, 2000.0);
      return;
    }
  }
  k<<<unsigned(b.rows), NT, smem, stream>>>(b, offs, sms, nullptr);
  SB_CUDA_LAUNCH();
}

// Round 33 (prepared 2026-12-06 for an H100): ncu on round 29's kernel (4K rows) counted 6 200 warp
// instructions per row: 2 775 in the scan, whose "chunk beats the running maximum" search runs for
// every chunk of every warp (some lane's chunk nearly always beats its own running maximum), 1 324
// in the block's argmax (five rounds of shuffles and branchy combines per warp), 1 224 in the
// gather. Here the argmax takes two passes over the row in shared memory: the thread's maximum as
// packed maxima alone (no index), the block's by one REDUX per warp on order-preserving keys, and
// then only the threads whose maximum equals the row's search their own vectors, in column order,
// for its first column (exact: the first column holding the maximum, the one an ordered ">" scan
// keeps, -0 and +0 alike; its value read back with its own bits); the lowest such column by one
// REDUX per warp. The gather is round 29's.
namespace rowbulk3 {

__device__ __forceinline__ unsigned ordered_key(float f) {  // 0 is below every real value's key
  const unsigned u = __float_as_uint(f);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}
__device__ __forceinline__ float key_value(unsigned k) { return __uint_as_float(k & 0x80000000u ? k & 0x7fffffffu : ~k); }

// Ids32 (round 34): the draft columns read as production holds them, 32-bit global ids less the
// shard's first column, instead of 16-bit columns of the shard (production has no such buffer).
template <dtype T, int NT, int U, int MinBlocks, int StepNs = 0, bool Ids32 = false>
__global__ void __launch_bounds__(NT, MinBlocks) rowbulk3_kernel(const __grid_constant__ prune_batch b, const std::uint16_t* offs,
                                                                 int sms) {
  static_assert(T != dtype::fp32, "2-byte rows: the scan's packed maxima");
  using word = std::uint16_t;
  using pair = std::conditional_t<T == dtype::bf16, __nv_bfloat162, __half2>;
  constexpr int per = 8, CV = NT * U, W = NT / 32;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full;
  __shared__ long long s_i, s_r;
  __shared__ int s_t;
  __shared__ unsigned s_key[W];
  __shared__ int s_col[W];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), lane = l & 31, warp = l / 32, cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  if (l == 0) {
    const auto [pr0, i0, r0] = locate(b, blockIdx.x);
    s_t = int(&pr0 - b.dst);
    s_i = i0;
    s_r = r0;
    if (r0 >= 0 && nvec > 0) {
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&full)) : "memory");
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
      if (StepNs > 0 && int(blockIdx.x) < MinBlocks * sms) __nanosleep(unsigned(StepNs) * (blockIdx.x / unsigned(sms)));
      bulk_row(sh, shard_row<word>(d, r0), unsigned(nvec) * 16u, &full);
    }
  }
  __syncthreads();  // the row's location and the barrier's initialisation
  const prune_rows& pr = b.dst[s_t];
  const std::int64_t i = s_i, r = s_r;
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  if (r < 0) {
    write_pair<NT>(pr.pairs + i, d.col_base, zero_row<NT>(out, l, n_ids, cols, d.col_base));
    return;
  }
  const word* row = shard_row<word>(d, r);
  if (nvec > 0) mbar_wait(&full, 0);
  auto as_pair = [](unsigned x) {
    pair p;
    memcpy(&p, &x, 4);
    return p;
  };
  // Pass 1: the thread's maximum (NaN padding and NaN elements never win a packed max).
  pair acc = as_pair(~0u);
  for (int v0 = l; v0 - l < nvec; v0 += CV) {
    uint4 u[U];
#pragma unroll
    for (int q = 0; q < U; ++q) {
      const int v = v0 + q * NT;
      u[q] = v < nvec ? sh[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
    }
#pragma unroll
    for (int q = 0; q < U; ++q)
      acc = __hmax2(acc, __hmax2(__hmax2(as_pair(u[q].x), as_pair(u[q].y)), __hmax2(as_pair(u[q].z), as_pair(u[q].w))));
  }
  float m = fmaxf(__low2float(acc), __high2float(acc));
  for (int c = staged + l; c < cols; c += NT) m = fmaxf(m, load_as_float(row, c, T));  // the tail columns
  unsigned key = __reduce_max_sync(~0u, m == m ? ordered_key(m) : 0u);
  if (lane == 0) s_key[warp] = key;
  // The gather (round 29's) while the maxima meet.
  const word* srw = reinterpret_cast<const word*>(sh);
  auto one = [&](int k) {
    const int c = (Ids32 ? __ldg(d.ids + k) - int(d.col_base) : int(__ldg(offs + k)));
    return c < staged ? srw[c] : row[c];
  };
  const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
  const int groups = (n_ids - h) / 8;
  if (l < h) out[l] = one(l);
  for (int g = l; g < groups; g += NT) {
    const int k = h + 8 * g;
    int c[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) c[e] = Ids32 ? __ldg(d.ids + k + e) - int(d.col_base) : int(__ldg(offs + k + e));
    unsigned v[8];
    if (c[7] < staged) {  // sorted: every one of the eight is staged
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = srw[c[e]];
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = c[e] < staged ? srw[c[e]] : row[c[e]];
    }
    *reinterpret_cast<uint4*>(out + k) = make_uint4(v[0] | v[1] << 16, v[2] | v[3] << 16, v[4] | v[5] << 16, v[6] | v[7] << 16);
  }
  for (int k = h + 8 * groups + l; k < n_ids; k += NT) out[k] = one(k);
  __syncthreads();  // s_key
  key = s_key[0];
#pragma unroll
  for (int w = 1; w < W; ++w) key = max(key, s_key[w]);
  // Pass 2: the row's first column holding its maximum, searched by the threads that hold it.
  int col = INT_MAX;
  if (key != 0u && m == key_value(key)) {
    const float M = key_value(key);
    for (int v = l; v < nvec && col == INT_MAX; v += NT) {
      const uint4 u = sh[v];
#pragma unroll
      for (int e = per - 1; e >= 0; --e)
        if (element_of<T>(u, e) == M) col = v * per + e;
    }
    for (int c = staged + l; c < cols && col == INT_MAX; c += NT)
      if (load_as_float(row, c, T) == M) col = c;
  }
  col = __reduce_min_sync(~0u, col);
  if (lane == 0) s_col[warp] = col;
  __syncthreads();  // s_col
  if (l == 0) {
    for (int w = 1; w < W; ++w) col = min(col, s_col[w]);
    pr.pairs[i] = col == INT_MAX ? pruned_pair{-INFINITY, std::int32_t(d.col_base)}
                                 : pruned_pair{load_as_float(col < staged ? static_cast<const void*>(srw) : static_cast<const void*>(row), col, T),
                                               std::int32_t(d.col_base + col)};
  }
}

}  // namespace rowbulk3

template <dtype T, int NT, int U, int MinBlocks, int StepNs = 0, bool Ids32 = false>
void launch_rowbulk3(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  constexpr auto k = rowbulk3::rowbulk3_kernel<T, NT, U, MinBlocks, StepNs, Ids32>;
  static const int sms = [] {
    int n = 0;
    SB_CUDA(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
    return n;
  }();
  const int nvec = int(b.d.valid_cols / 8);
  const int smem = std::max(16, (nvec + 7) / 8 * 128);  // 128-byte multiple
  static int set_for = -1;
  if (set_for != smem) {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    int per_sm = 0;
    cudaFuncAttributes fa{};
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
    SB_CUDA(cudaFuncGetAttributes(&fa, k));
    std::printf("    [rowbulk3 %d thr U%d step %d: %d blocks/SM, %d registers, %zu bytes spilled, %d B shared]\n", NT, U, StepNs,
                per_sm, fa.numRegs, std::size_t(fa.localSizeBytes), smem);
    set_for = smem;
  }
  k<<<unsigned(b.rows), NT, smem, stream>>>(b, offs, sms);
  SB_CUDA_LAUNCH();
}

// Round 35 (prepared 2026-12-06 for an H100): production's bulk row (round 33's kernel, 1b9af59)
// with its row asked for in C chunks, each completing its own barrier, so that the row's work
// starts when its first chunk lands instead of its last. Round 31's trace put a 4K pack's loss in
// its ends: the first rows land at 2 µs, and after the last lands (57 µs) its blocks work 5 µs more
// (a row's work took 5.9 µs after it landed, its wait 4.9 µs). With chunks, the packed maxima of
// the chunks that have landed run while the rest lands. Interleave: the thread's gather groups
// whose eight columns lie in the chunks landed so far are gathered then too (a group's last
// column decides, the columns being sorted); the rest, and the columns before the output's
// 16-byte boundary and after its last, after the last chunk. Loc32: the row located with 32-bit
// division (launch rows and window lengths below 2^31, as the pick asks) instead of 64-bit.
// Probe: round 31's timeline, "landed" being the last chunk's landing.
// Rounds 35-38's gather of one group: draft columns k..k+7 by 2-byte loads (cols16 sorted: a group
// whose last column is staged is staged throughout), packed for one 16-byte store.
__device__ __forceinline__ uint4 group8(const std::uint16_t* srw, const std::uint16_t* row, const std::uint16_t* cols16, int k, int staged) {
  int c[8];
#pragma unroll
  for (int e = 0; e < 8; ++e) c[e] = int(__ldg(cols16 + k + e));
  unsigned v[8];
  if (c[7] < staged) {
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = srw[c[e]];
  } else {
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = c[e] < staged ? srw[c[e]] : row[c[e]];
  }
  return make_uint4(v[0] | v[1] << 16, v[2] | v[3] << 16, v[4] | v[5] << 16, v[6] | v[7] << 16);
}

namespace rowchunk {

constexpr int NT = 256, per = 8, W = NT / 32;

// Loc32 uses production's locate32 (kernels/consumer.cu), which this round's was, moved there.

template <dtype T, int C, bool Interleave, bool Loc32>
__global__ void __launch_bounds__(NT, 6) rowchunk_kernel(const __grid_constant__ prune_batch b, const std::uint16_t* offs,
                                                         int sms, unsigned step_ns, unsigned long long* probe) {
  static_assert(T == dtype::bf16 || T == dtype::fp16, "2-byte rows: packed maxima");
  using word = std::uint16_t;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full[C];
  __shared__ long long s_i, s_r;
  __shared__ int s_t;
  __shared__ unsigned s_key[W];
  __shared__ int s_col[W];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), lane = l & 31, warp = l / 32, cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  const int cv = ((nvec + C - 1) / C + NT - 1) / NT * NT;  // a chunk's vectors: a multiple of NT
  const int nc = nvec > 0 ? (nvec + cv - 1) / cv : 0;
  if (probe && l == 0) {
    probe[4 * blockIdx.x] = rowbulk2::global_ns();
    probe[4 * blockIdx.x + 3] = rowbulk2::sm_id();
  }
  if (l == 0) {
    const auto [pr0, i0, r0] = Loc32 ? locate32(b, int(blockIdx.x)) : locate(b, blockIdx.x);
    s_t = int(&pr0 - b.dst);
    s_i = i0;
    s_r = r0;
    if (r0 >= 0 && nc > 0) {
      for (int k = 0; k < nc; ++k) asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&full[k])) : "memory");
      asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
      if (int(blockIdx.x) < 6 * sms) __nanosleep(step_ns * (blockIdx.x / unsigned(sms)));
      const uint4* src = reinterpret_cast<const uint4*>(shard_row<word>(d, r0));
      for (int k = 0; k < nc; ++k) bulk_row(sh + k * cv, src + k * cv, unsigned(min(nvec - k * cv, cv)) * 16u, &full[k]);
    }
  }
  __syncthreads();  // the row's location, the barriers' initialisation
  const prune_rows& pr = b.dst[s_t];
  const std::int64_t i = s_i, r = s_r;
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  if (r < 0) {
    write_pair<NT>(pr.pairs + i, d.col_base, zero_row<NT>(out, l, n_ids, cols, d.col_base));
    return;
  }
  const word* row = shard_row<word>(d, r);
  const word* srw = reinterpret_cast<const word*>(sh);
  const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
  const int groups = (n_ids - h) / 8;
  auto group = [&](int g) {
    const int k = h + 8 * g;
    const uint4 u = group8(srw, row, offs, k, staged);
    *reinterpret_cast<uint4*>(out + k) = u;
  };
  bulk::pair2<T> acc = bulk::as_pair<T>(~0u);
  int g = l;  // the thread's next gather group
  for (int k = 0; k < nc; ++k) {
    mbar_wait(&full[k], 0);
    if (probe && l == 0 && k == nc - 1) probe[4 * blockIdx.x + 1] = rowbulk2::global_ns();
    const int v1 = min(nvec, (k + 1) * cv);
    for (int v0 = k * cv + l; v0 < v1; v0 += 2 * NT) {
      const uint4 u0 = sh[v0], u1 = v0 + NT < v1 ? sh[v0 + NT] : make_uint4(~0u, ~0u, ~0u, ~0u);
      using bulk::as_pair;
      acc = __hmax2(acc, __hmax2(__hmax2(__hmax2(as_pair<T>(u0.x), as_pair<T>(u0.y)), __hmax2(as_pair<T>(u0.z), as_pair<T>(u0.w))),
                                 __hmax2(__hmax2(as_pair<T>(u1.x), as_pair<T>(u1.y)), __hmax2(as_pair<T>(u1.z), as_pair<T>(u1.w)))));
    }
    if constexpr (Interleave) {
      if (k + 1 < nc)
        for (const int limit = v1 * per; g < groups && int(__ldg(offs + h + 8 * g + 7)) < limit; g += NT) group(g);
    }
  }
  float m = fmaxf(__low2float(acc), __high2float(acc));
  for (int c = staged + l; c < cols; c += NT) m = fmaxf(m, load_as_float(row, c, T));  // the tail columns
  unsigned key = __reduce_max_sync(~0u, m == m ? bulk::ordered_key(m) : 0u);
  if (lane == 0) s_key[warp] = key;
  auto one = [&](int k) {
    const int c = int(__ldg(offs + k));
    return c < staged ? srw[c] : row[c];
  };
  if (l < h) out[l] = one(l);
  for (; g < groups; g += NT) group(g);
  for (int k = h + 8 * groups + l; k < n_ids; k += NT) out[k] = one(k);
  __syncthreads();  // s_key
  key = s_key[0];
#pragma unroll
  for (int w = 1; w < W; ++w) key = max(key, s_key[w]);
  int col = key != 0u && m == bulk::key_value(key) ? bulk::first_of<T>(sh, row, bulk::key_value(key), nvec, staged, cols, l) : INT_MAX;
  col = __reduce_min_sync(~0u, col);
  if (lane == 0) s_col[warp] = col;
  __syncthreads();  // s_col
  if (l == 0) {
    for (int w = 1; w < W; ++w) col = min(col, s_col[w]);
    pr.pairs[i] = col == INT_MAX ? pruned_pair{-INFINITY, std::int32_t(d.col_base)}
                                 : pruned_pair{load_as_float(col < staged ? static_cast<const void*>(srw) : static_cast<const void*>(row), col, T),
                                               std::int32_t(d.col_base + col)};
    if (probe) probe[4 * blockIdx.x + 2] = rowbulk2::global_ns();
  }
}

}  // namespace rowchunk

template <dtype T, int C, bool Interleave, bool Loc32, int StepNs, bool Probe = false>
void launch_rowchunk(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  constexpr auto k = rowchunk::rowchunk_kernel<T, C, Interleave, Loc32>;
  static const int sms = [] {
    int n = 0;
    SB_CUDA(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
    return n;
  }();
  const int smem = bulk::row_smem(b.d);
  static int set_for = -1;
  if (set_for != smem) {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    int per_sm = 0;
    cudaFuncAttributes fa{};
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, rowchunk::NT, smem));
    SB_CUDA(cudaFuncGetAttributes(&fa, k));
    std::printf("    [rowchunk C%d%s%s step %d: %d blocks/SM, %d registers, %zu bytes spilled, %d B shared]\n", C,
                Interleave ? " interleaved" : "", Loc32 ? " loc32" : "", StepNs, per_sm, fa.numRegs, std::size_t(fa.localSizeBytes), smem);
    set_for = smem;
  }
  unsigned long long* probe = nullptr;
  if constexpr (Probe) {  // the 8th launch of a shape (warm, among the timed ones) is traced
    static probe_state ps;
    probe = probe_on_8th(ps, b.rows, 4);
  }
  k<<<unsigned(b.rows), rowchunk::NT, smem, stream>>>(b, offs, sms, unsigned(StepNs), probe);
  SB_CUDA_LAUNCH();
  if (probe) {
    std::vector<unsigned long long> host(std::size_t(b.rows) * 4);
    SB_CUDA(cudaMemcpy(host.data(), probe, host.size() * 8, cudaMemcpyDeviceToHost));
    print_timeline(host, b.rows, 2000.0);
  }
}

// Production's pick with the draft columns as 16-bit columns (the bulk row where it applies).
void launch_production_cols16(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  prune_batch c = b;
  c.d.cols16 = offs;
  launch_batch(c, current_pack_card(), stream);
}

// Round 36 (prepared 2026-12-06 for an H100): production's bulk row kernel (1b9af59) as it is, with
// two changes to try. Round 35's trace of the same kernel at 4K: the first wave's rows land from 2 to
// 12 µs, yet almost none of its blocks ends before 12 µs (536 end between 12 and 14 µs, 224 by
// 16), wherever in those 10 µs its row landed, and DRAM all but idles from 12 to 14 µs (one row
// lands). A common wait, then: the draft columns (cols16, 8 KB), which every block's gather reads
// from global memory, are not in L2 when the kernel starts (the previous launch's 160 MB evicted
// them), and their first misses queue behind the first wave's 25 MB of row requests. Pf 1: thread
// 0 of each block asks for them into L2 (cp.async.bulk.prefetch, the 16-byte multiple, and the last
// line by prefetch.global.L2) before it asks for its row, so the first blocks' requests reach DRAM
// ahead of the rows; Pf 2: then also threads 32-95 touch one line each of them into L1 (a load whose
// value is unused) while thread 0 locates the row. Loc32: the row located with 32-bit division
// (round 35: 0.3-0.9 µs on every shape).
namespace rowpf {

using namespace bulk;

// Round 37's ablations (Mode): 1 the gather computes its values but stores none (the pairs are
// still written); 2 thread 0 alone waits for the row, the others at a barrier after it; 3 the
// gather before the thread's maximum (its stores leave first). Probe also leaves, after the
// rows' four words, two per block: when the thread's maximum and when the gather were done
// (thread 0's).
template <bool Store>
__device__ __forceinline__ unsigned gather_m(const std::uint16_t* srw, const std::uint16_t* row, std::uint16_t* out,
                                             const std::uint16_t* cols16, int n_ids, int staged, int l) {
  unsigned sink = 0;
  auto one = [&](int k) {
    const int c = int(__ldg(cols16 + k));
    return c < staged ? srw[c] : row[c];
  };
  const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
  const int groups = (n_ids - h) / 8;
  if (l < h) {
    if (Store) out[l] = one(l);
    else sink ^= one(l);
  }
  for (int g = l; g < groups; g += kThreads) {
    const int k = h + 8 * g;
    const uint4 u = group8(srw, row, cols16, k, staged);
    if (Store) *reinterpret_cast<uint4*>(out + k) = u;
    else sink ^= u.x ^ u.y ^ u.z ^ u.w;
  }
  for (int k = h + 8 * groups + l; k < n_ids; k += kThreads) {
    if (Store) out[k] = one(k);
    else sink ^= one(k);
  }
  return sink;
}

// Round 38 (Mode 4: pieces of 2 048 columns, 5: of 1 024): round 37 found a row's gather taking
// 3.5 µs of its 5.5 µs of work, and 1.4 µs when it stores nothing, so the values' 16-byte stores
// are what holds the warps. Here the gathered values go to a staging buffer in shared memory, a
// piece at a time, and thread 0 hands each piece to the bulk-copy engine (one cp.async.bulk store
// of the piece's 16-byte-aligned run of the output row); the columns before out's first 16-byte
// boundary and after its last are stored singly, as before. The staging is reused once the engine
// has read it (wait_group.read), and thread 0 waits for the last read before the block ends.
template <int PieceElems>
__device__ __forceinline__ void gather_staged(const std::uint16_t* srw, const std::uint16_t* row, std::uint16_t* out,
                                              const std::uint16_t* cols16, int n_ids, int staged, int l, std::uint16_t* stg) {
  auto one = [&](int k) {
    const int c = int(__ldg(cols16 + k));
    return c < staged ? srw[c] : row[c];
  };
  const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
  const int groups = (n_ids - h) / 8;
  if (l < h) out[l] = one(l);
  for (int k = h + 8 * groups + l; k < n_ids; k += kThreads) out[k] = one(k);
  constexpr int gpp = PieceElems / 8;
  for (int p0 = 0; p0 < groups; p0 += gpp) {
    const int np = min(gpp, groups - p0);
    if (p0 > 0) {
      if (l == 0) asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");
      __syncthreads();  // the staging is free again
    }
    for (int g = l; g < np; g += kThreads) {
      *reinterpret_cast<uint4*>(stg + 8 * g) = group8(srw, row, cols16, h + 8 * (p0 + g), staged);
    }
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // the staging's writes, to the bulk-copy engine
    __syncthreads();
    if (l == 0) {
      asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(out + h + 8 * p0), "r"(bulk::smem_addr(stg)),
                   "r"(unsigned(np) * 16u)
                   : "memory");
      asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    }
  }
}

// Round 39 (Mode 6): round 38's staged stores left the gather at 3.5 µs, so the stores were not
// what held it. Its loads: each group's eight 2-byte column loads, lanes 16 bytes apart, take four
// L1 wavefronts each (32 per warp and group), more than the row's eight shared-memory reads (about
// 28 with their bank conflicts) and its store (4-5). Mode 6 reads a group's columns from the two
// 16-byte vectors of cols16 that hold them (one when the output row starts 16-byte aligned): 4-8
// wavefronts. Production took it (8ca54a3) as bulk::gather, which Mode 6 now calls; round 39 timed
// this file's own copy, the same but for assuming cols16 16-byte aligned (production aligns down
// the address of each row's first group instead), which the launcher's buffer is.

template <dtype T, bool Loc32, int Pf, int Mode = 0>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm) rowpf_kernel(const __grid_constant__ prune_batch b, int first_wave, int sms,
                                                                      unsigned step_ns, unsigned long long* probe) {
  using word = std::uint16_t;
  constexpr int per = 8, W = kThreads / 32;
  extern __shared__ uint4 sh[];
  __shared__ std::uint64_t full;
  __shared__ long long s_i, s_r;
  __shared__ int s_t;
  __shared__ unsigned s_key[W];
  __shared__ int s_col[W];
  const prune_desc& d = b.d;
  const int l = int(threadIdx.x), lane = l & 31, warp = l / 32, cols = int(d.valid_cols), n_ids = int(d.n_ids);
  const int nvec = cols / per, staged = nvec * per;
  if (probe && l == 0) {
    probe[4 * blockIdx.x] = rowbulk2::global_ns();
    probe[4 * blockIdx.x + 3] = rowbulk2::sm_id();
  }
  if (l == 0) {
    if constexpr (Pf > 0) {
      const unsigned bytes = unsigned(n_ids) * 2u, whole = bytes & ~15u;
      if (whole > 0) asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(d.cols16), "r"(whole) : "memory");
      if (whole < bytes) asm volatile("prefetch.global.L2 [%0];" ::"l"(d.cols16 + n_ids - 1) : "memory");
    }
    const auto [pr0, i0, r0] = Loc32 ? locate32(b, int(blockIdx.x)) : locate(b, blockIdx.x);
    s_t = int(&pr0 - b.dst);
    s_i = i0;
    s_r = r0;
    if (r0 >= 0 && nvec > 0) {
      if (int(blockIdx.x) < first_wave) __nanosleep(step_ns * (blockIdx.x / unsigned(sms)));
      start_copy(sh, shard_row<word>(d, r0), unsigned(nvec) * 16u, &full);
    }
  }
  if constexpr (Pf == 2) {
    const int line = l - 32;  // 64 threads, a 128-byte line each
    if (line >= 0 && line < 64 && line * 64 < n_ids) {
      unsigned short dummy;
      asm volatile("ld.global.nc.u16 %0, [%1];" : "=h"(dummy) : "l"(d.cols16 + line * 64) : "memory");
    }
  }
  __syncthreads();  // the row's location, the barrier's initialisation
  const prune_rows& pr = b.dst[s_t];
  const std::int64_t i = s_i, r = s_r;
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  if (r < 0) {
    write_pair<kThreads>(pr.pairs + i, d.col_base, zero_row<kThreads>(out, l, n_ids, cols, d.col_base));
    return;
  }
  const word* row = shard_row<word>(d, r);
  if (Mode == 2) {
    if (nvec > 0 && l == 0) wait_copy(&full);
    __syncthreads();
  } else if (nvec > 0) {
    wait_copy(&full);
  }
  unsigned long long* ph = probe ? probe + 4 * b.rows + 2 * blockIdx.x : nullptr;
  if (probe && l == 0) probe[4 * blockIdx.x + 1] = rowbulk2::global_ns();
  const word* srw = reinterpret_cast<const word*>(sh);
  unsigned sink = 0;
  if (Mode == 3) {
    gather(srw, row, out, d.cols16, n_ids, staged, l);
    if (ph && l == 0) ph[1] = rowbulk2::global_ns();
  }
  const float m = thread_max<T>(sh, row, nvec, staged, cols, l);
  if (ph && l == 0) ph[0] = rowbulk2::global_ns();
  unsigned key = __reduce_max_sync(~0u, m == m ? ordered_key(m) : 0u);
  if (lane == 0) s_key[warp] = key;
  if (Mode == 6) {
    gather(srw, row, out, d.cols16, n_ids, staged, l);
    if (ph && l == 0) ph[1] = rowbulk2::global_ns();
  } else if (Mode == 4 || Mode == 5) {
    gather_staged<Mode == 4 ? 2048 : 1024>(srw, row, out, d.cols16, n_ids, staged, l,
                                          reinterpret_cast<word*>(reinterpret_cast<char*>(sh) + max(1, (nvec + 7) / 8) * 128));
    if (ph && l == 0) ph[1] = rowbulk2::global_ns();
  } else if (Mode != 3) {
    sink = gather_m<Mode != 1>(srw, row, out, d.cols16, n_ids, staged, l);
    if (ph && l == 0) ph[1] = rowbulk2::global_ns();
  }
  if (Mode == 1 && sink == 0x9e3779b9u && n_ids < 0) out[0] = 1;  // keeps the unstored values computed
  __syncthreads();  // s_key
  key = s_key[0];
#pragma unroll
  for (int w = 1; w < W; ++w) key = max(key, s_key[w]);
  int col = key != 0u && m == key_value(key) ? first_of<T>(sh, row, key_value(key), nvec, staged, cols, l) : INT_MAX;
  col = __reduce_min_sync(~0u, col);
  if (lane == 0) s_col[warp] = col;
  __syncthreads();  // s_col
  if (l == 0) {
    for (int w = 1; w < W; ++w) col = min(col, s_col[w]);
    pr.pairs[i] = col == INT_MAX ? pruned_pair{-INFINITY, std::int32_t(d.col_base)}
                                 : pruned_pair{load_as_float(col < staged ? static_cast<const void*>(srw) : static_cast<const void*>(row), col, T),
                                               std::int32_t(d.col_base + col)};
    if (probe) probe[4 * blockIdx.x + 2] = rowbulk2::global_ns();
    if (Mode == 4 || Mode == 5) asm volatile("cp.async.bulk.wait_group.read 0;" ::: "memory");  // the staging stays till read
  }
}

}  // namespace rowpf

// Round 37: each of the first wave's blocks, the last wave's and those between, the mean time from
// its start to its row's landing, then to its thread 0's maximum, its gather and its end.
void print_phases(const std::vector<unsigned long long>& p, std::int64_t rows, std::int64_t wave) {
  const unsigned long long* ph = p.data() + 4 * rows;
  double s[3][4] = {}, n[3] = {};
  for (std::int64_t g = 0; g < rows; ++g) {
    if (p[4 * g] == 0 || p[4 * g + 1] == 0 || p[4 * g + 2] == 0 || ph[2 * g] == 0 || ph[2 * g + 1] == 0) continue;
    const int c = g < wave ? 0 : g >= rows - wave ? 2 : 1;
    const double t0 = double(p[4 * g]), land = double(p[4 * g + 1]), mx = double(ph[2 * g]), ga = double(ph[2 * g + 1]),
                 end = double(p[4 * g + 2]);
    const double first = std::min(mx, ga), second = std::max(mx, ga);
    s[c][0] += land - t0;
    s[c][1] += first - land;
    s[c][2] += second - first;
    s[c][3] += end - second;
    n[c] += 1;
  }
  const char* names[3] = {"first wave", "between", "last wave"};
  for (int c = 0; c < 3; ++c)
    if (n[c] > 0)
      std::printf("    phases, %-10s (%5.0f blocks): wait %.2f us, then %.2f, %.2f, %.2f us (first step, second step, to the end)\n",
                  names[c], n[c], s[c][0] / n[c] / 1e3, s[c][1] / n[c] / 1e3, s[c][2] / n[c] / 1e3, s[c][3] / n[c] / 1e3);
}

template <bool Loc32, int Pf, int StepNs = int(bulk::kStepNs), bool Probe = false, int Mode = 0>
void launch_rowpf(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  constexpr auto k = rowpf::rowpf_kernel<dtype::bf16, Loc32, Pf, Mode>;
  static const int sms = [] {
    int n = 0;
    SB_CUDA(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, 0));
    return n;
  }();
  prune_batch c = b;
  c.d.cols16 = offs;
  const int smem = bulk::row_smem(c.d) + (Mode == 4 ? 4096 : Mode == 5 ? 2048 : 0);
  static int set_for = -1;
  if (set_for != smem) {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    int per_sm = 0;
    cudaFuncAttributes fa{};
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, bulk::kThreads, smem));
    SB_CUDA(cudaFuncGetAttributes(&fa, k));
    std::printf("    [rowpf%s pf %d step %d mode %d: %d blocks/SM, %d registers, %zu bytes spilled, %d B shared]\n", Loc32 ? " loc32" : "", Pf,
                StepNs, Mode, per_sm, fa.numRegs, std::size_t(fa.localSizeBytes), smem);
    set_for = smem;
  }
  unsigned long long* probe = nullptr;
  if constexpr (Probe) {  // the 8th launch of a shape (warm, among the timed ones) is traced
    static probe_state ps;
    probe = probe_on_8th(ps, b.rows, 6);
  }
  k<<<unsigned(b.rows), bulk::kThreads, smem, stream>>>(c, bulk::kBlocksPerSm * sms, sms, unsigned(StepNs), probe);
  SB_CUDA_LAUNCH();
  if (probe) {
    std::vector<unsigned long long> host(std::size_t(b.rows) * 6);
    SB_CUDA(cudaMemcpy(host.data(), probe, host.size() * 8, cudaMemcpyDeviceToHost));
    print_timeline(host, b.rows, 2000.0);
    print_phases(host, b.rows, std::int64_t(bulk::kBlocksPerSm) * sms);
  }
}

// Round 21 (prepared 2026-12-06 for an H100): a warp per row, and a 4K pack in one wave. Round 16's
// rows sweep put the split kernel at the copy's rate over one wave of rows (1 056 rows, 0.97) and
// its loss in the waves that follow, when an SM's one-row blocks end their rows together and DRAM
// idles while they reduce and start anew. With a warp per row and 32 warps per SM (64 registers),
// 132 SMs hold 4 224 rows: a 4K pack (or usp's 4 152 rows) is one wave, every warp streams its row
// for the whole launch and they all end together, as a copy's blocks do. A warp's row goes a chunk
// (32·U vectors) at a time: the chunk's loads are issued first, and while they are in flight the
// warp reads the chunk's draft ids (sorted: a cursor over them, G per lane per round, a ballot counts
// those below the chunk's end) and gathers their values, which the chunk's own loads bring into
// L1; then the chunk's argmax (row_scan's ordered take, lanes over vectors v, v + 32, ...). No
// barrier; lane 0 writes the pair after a warp reduction. Round 2 on an H100 (9e9ed26) had a warp
// per row too (0.57-0.75 at 4K), with the gather after each chunk's scan and not in one wave.
namespace wave {

// The draft columns below hi from the ids at kb on (lane's ids kb + lane + 32·q), G per lane per
// round; returns the new cursor.
template <int G, typename word>
__device__ __forceinline__ int gather_below(const word* row, word* out, const prune_desc& d, int kb, int hi, int lane) {
  const int n_ids = int(d.n_ids), base = int(d.col_base);
  for (;;) {
    int c[G];
#pragma unroll
    for (int q = 0; q < G; ++q) {
      const int k = kb + lane + 32 * q;
      c[q] = k < n_ids ? __ldg(d.ids + k) - base : INT_MAX;
    }
    word v[G];
#pragma unroll
    for (int q = 0; q < G; ++q)
      if (c[q] < hi) v[q] = __ldg(row + c[q]);
    int taken = 0;
#pragma unroll
    for (int q = 0; q < G; ++q) {
      if (c[q] < hi) out[kb + lane + 32 * q] = v[q];
      taken += __popc(__ballot_sync(~0u, c[q] < hi));
    }
    kb += taken;
    if (taken < 32 * G) return kb;
  }
}

template <dtype T, int W, int U, int G, int MinBlocks, bool Overlap>
__global__ void __launch_bounds__(32 * W, MinBlocks) prune_warp_kernel(const __grid_constant__ prune_batch b) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const prune_desc& d = b.d;
  const int lane = int(threadIdx.x) & 31, n_ids = int(d.n_ids), cols = int(d.valid_cols), nvec = cols / per;
  for (std::int64_t g = std::int64_t(blockIdx.x) * W + threadIdx.x / 32; g < b.rows; g += std::int64_t(gridDim.x) * W) {
    const auto [pr, i, r] = locate(b, g);
    word* out = static_cast<word*>(pr.values) + i * d.n_ids;
    arg_max a;
    if (r < 0) {
      a = zero_row<32>(out, lane, n_ids, cols, d.col_base);
    } else {
      const word* row = shard_row<word>(d, r);
      const uint4* rv = reinterpret_cast<const uint4*>(row);
      row_scan<T, 32, U> sc;
      int kb = 0;
      for (int v0 = 0; v0 < nvec; v0 += 32 * U) {
        uint4 u[U];
#pragma unroll
        for (int q = 0; q < U; ++q) {
          const int v = v0 + lane + 32 * q;  // past the row: NaN, which fmaxf ignores
          u[q] = v < nvec ? __ldg(rv + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
        }
        const int hi = v0 + 32 * U >= nvec ? INT_MAX : (v0 + 32 * U) * per;  // the last chunk takes the tail's ids
        if (Overlap) kb = gather_below<G>(row, out, d, kb, hi, lane);
        float m = -INFINITY;
#pragma unroll
        for (int q = 0; q < U; ++q)
#pragma unroll
          for (int e = 0; e < per; ++e) m = fmaxf(m, element_of<T>(u[q], e));
        sc.take(u, v0 + lane, nvec, m);
        if (!Overlap) kb = gather_below<G>(row, out, d, kb, hi, lane);
      }
      if (nvec == 0) gather_below<G>(row, out, d, kb, INT_MAX, lane);
      sc.tail(reinterpret_cast<const char*>(row), cols, lane);
      a = sc.result(d.col_base);
    }
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
    if (lane == 0)
      pr.pairs[i] = pair_of(a, d.col_base);
  }
}

}  // namespace wave

// A block of W warps per W rows (one wave while rows <= W · MinBlocks · SMs).
template <dtype T, int W, int U, int G, int MinBlocks, bool Overlap = true>
void launch_warp(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  const unsigned blocks = unsigned(std::min<std::int64_t>((b.rows + W - 1) / W, kMaxPackBlocks));
  wave::prune_warp_kernel<T, W, U, G, MinBlocks, Overlap><<<blocks, 32 * W, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

// Round 17 (tried in production's place at ccbc8ed, then moved here): the pruned sender without a
// block per row. A warp's unit of work is a
// segment of a row, 32·U 16-byte vectors (bf16 with U 4: 1 024 columns, so a tp 8 row of 16 160
// is 16 segments). The warp loads its segment, finds the segment's draft ids (a 32-way search of
// the sorted ids while the loads are in flight), takes the segment's argmax (its maximum first,
// then the lowest column holding it), gathers its draft columns from L1, and folds (maximum,
// column) into the row's slot by a 64-bit atomicMax. The last of the row's segments to count
// itself in writes the row's pair, reading the element at the column again for its exact bits,
// and zeroes the slot for the next pack. There is no barrier: the blocks of one row per block
// (prune_split_kernel) start together, stay in step, and all end their rows at once, leaving
// DRAM idle at every change of row; the 4K-row pack lost 12 µs to that on an H100 (round 16).
// It ran at about half the copy's rate (docs/kernel-notes.md, round 17).
namespace seg {

// A row's scratch: the warps that each take a part of the row fold their (maximum, column) into
// key and count themselves in; the last one writes the row's pair and sets both back to zero.
// Zeroed once before the first pack, left zeroed.
struct pack_slot {
  unsigned long long key;
  unsigned count, unused;
};

// Order-preserving bits of a non-NaN float, -0 as +0 (a tie, as the scan's ">" sees it).
__device__ __forceinline__ unsigned ordered_bits(float v) {
  const unsigned u = __float_as_uint(v == 0.0f ? 0.0f : v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// The first k with ids[k] >= x over the sorted ids[0, n), by the whole warp: a 32-way search.
__device__ __forceinline__ int warp_lower_bound(const std::int32_t* ids, int n, int x) {
  const int lane = int(threadIdx.x & 31);
  int lo = 0, hi = n;
  while (hi - lo > 32) {
    const int step = (hi - lo + 31) / 32, k = lo + lane * step;
    const int c = __popc(__ballot_sync(~0u, k < hi && __ldg(ids + k) < x));
    const int nlo = c == 0 ? lo : lo + (c - 1) * step + 1;
    hi = min(hi, lo + c * step);
    lo = nlo;
  }
  return lo + __popc(__ballot_sync(~0u, lo + lane < hi && __ldg(ids + lo + lane) < x));
}

// Segment s of launch row g (item it = g·nseg + s).
struct item {
  std::int64_t g;
  int v0, c0, c1;  // its first vector, first column, end column
  bool last;
};
template <int SEGV, int per>
__device__ __forceinline__ item item_of(std::int64_t it, int nseg, int cols) {
  const int s = int(it % nseg);
  const bool last = s == nseg - 1;
  return {it / nseg, s * SEGV, s * SEGV * per, last ? cols : (s + 1) * SEGV * per, last};
}

// This lane's U vectors of the segment (past the row: NaN, which fmaxf ignores); none for a zero row.
template <dtype T, int U>
__device__ __forceinline__ void load(const prune_batch& b, const item& a, int nvec, uint4 (&u)[U]) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  const std::int64_t r = locate(b, a.g).r;
  if (r < 0) return;
  const uint4* row = reinterpret_cast<const uint4*>(shard_row<word>(b.d, r));
  const int lane = int(threadIdx.x & 31);
#pragma unroll
  for (int k = 0; k < U; ++k) {
    const int v = a.v0 + lane + 32 * k;
    u[k] = v < nvec ? __ldg(row + v) : make_uint4(~0u, ~0u, ~0u, ~0u);
  }
}

// The largest element of a vector; bf16 pairs by max.bf16x2, which returns the other operand of a
// NaN as fmaxf does.
template <dtype T>
__device__ __forceinline__ float vec_max(const uint4& u) {
  if constexpr (T == dtype::bf16) {
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
    const __nv_bfloat162 m = __hmax2(__hmax2(h[0], h[1]), __hmax2(h[2], h[3]));
    return fmaxf(__low2float(m), __high2float(m));
  } else {
    constexpr int per = T == dtype::fp32 ? 4 : 8;
    float m = element_of<T>(u, 0);
#pragma unroll
    for (int e = 1; e < per; ++e) m = fmaxf(m, element_of<T>(u, e));
    return m;
  }
}

// Bit k·per + e set where element e of u[k] equals m (a value of the row's type, not NaN).
template <dtype T, int U>
__device__ __forceinline__ unsigned long long hits(const uint4 (&u)[U], float m) {
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  static_assert(U * per <= 64, "one bit per element of the lane's vectors");
  unsigned long long hit = 0;
  if constexpr (T == dtype::bf16) {  // compared as bits, two at a time (-0 equals +0)
    const unsigned mb = __float_as_uint(m) >> 16, mm = mb | (mb << 16);
    const bool zero = m == 0.0f;
#pragma unroll
    for (int k = 0; k < U; ++k) {
      const unsigned* w = &u[k].x;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        unsigned eq = __vcmpeq2(w[j], mm);
        if (zero) eq |= __vcmpeq2(w[j], mm ^ 0x80008000u);
        hit |= static_cast<unsigned long long>((eq & 1u) | ((eq >> 15) & 2u)) << (k * per + 2 * j);
      }
    }
  } else {
#pragma unroll
    for (int k = 0; k < U; ++k)
#pragma unroll
      for (int e = 0; e < per; ++e) hit |= static_cast<unsigned long long>(element_of<T>(u[k], e) == m) << (k * per + e);
  }
  return hit;
}

// The segment's argmax: its maximum m (the same in every lane) and lowest column holding it
// (INT_MAX where every element is NaN).
template <dtype T, int U>
__device__ __forceinline__ int argmax(const uint4 (&u)[U], const item& a, const void* row, int nvec, int cols, float& m) {
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const int lane = int(threadIdx.x & 31);
  m = -INFINITY;
#pragma unroll
  for (int k = 0; k < U; ++k) m = fmaxf(m, vec_max<T>(u[k]));
  const int tc = nvec * per + lane;  // the columns past the last whole vector
  const bool tail = a.last && tc < cols;
  const float t = tail ? load_as_float(row, tc, T) : -INFINITY;
  m = fmaxf(m, t);
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(~0u, m, o));
  if (m != m) return INT_MAX;
  const unsigned long long hit = hits<T, U>(u, m);
  int mine = INT_MAX;
  if (hit != 0) {
    const int f = __ffsll(static_cast<long long>(hit)) - 1;
    mine = (a.v0 + lane + 32 * (f / per)) * per + f % per;
  }
  if (tail && t == m) mine = min(mine, tc);
  return int(__reduce_min_sync(~0u, unsigned(mine)));
}

// Lane 0: the segment's (m, col) into the row's slot; the row's last segment writes the pair.
template <dtype T>
__device__ __forceinline__ void fold(pack_slot* slot, pruned_pair* pair, float m, int col, int nseg, const void* row,
                                     int col_base) {
  if (col != INT_MAX)
    atomicMax(&slot->key, (static_cast<unsigned long long>(ordered_bits(m)) << 32) | (0xffffffffu - unsigned(col)));
  __threadfence();  // the key before the count: the last segment reads every key
  if (atomicAdd(&slot->count, 1u) != unsigned(nseg - 1)) return;
  __threadfence();
  const unsigned long long key = atomicExch(&slot->key, 0ull);
  slot->count = 0;
  const int c = key == 0 ? 0 : int(0xffffffffu - unsigned(key & 0xffffffffu));  // all NaN: column 0
  *pair = {row ? load_as_float(row, c, T) : 0.0f, std::int32_t(col_base + c)};
}

// The segment after its loads: its ids, argmax, gather (G ids in flight per lane), and fold.
template <dtype T, int U, int G>
__device__ __forceinline__ void finish(const prune_batch& b, pack_slot* slots, int nseg, const item& a, const uint4 (&u)[U]) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const prune_desc& d = b.d;
  const int lane = int(threadIdx.x & 31), cols = int(d.valid_cols), nvec = cols / per, n_ids = int(d.n_ids);
  const int col_base = int(d.col_base);
  const auto [pr, i, r] = locate(b, a.g);
  word* out = static_cast<word*>(pr.values) + i * d.n_ids;
  const word* row = r >= 0 ? shard_row<word>(d, r) : nullptr;
  const int k0 = warp_lower_bound(d.ids, n_ids, col_base + a.c0);
  const int k1 = a.last ? n_ids : warp_lower_bound(d.ids, n_ids, col_base + a.c1);
  float m = 0.0f;
  const int col = r >= 0 ? argmax<T, U>(u, a, row, nvec, cols, m) : a.c0;  // a zero row: 0 at its first column
  for (int k = k0 + lane; k < k1; k += 32 * G) {
    word v[G];
#pragma unroll
    for (int q = 0; q < G; ++q)
      if (k + 32 * q < k1) v[q] = row ? row[__ldg(d.ids + k + 32 * q) - col_base] : word(0);
#pragma unroll
    for (int q = 0; q < G; ++q)
      if (k + 32 * q < k1) out[k + 32 * q] = v[q];
  }
  if (lane == 0) fold<T>(slots + a.g, pr.pairs + i, m, col, nseg, row, col_base);  // slots per launch row
}

}  // namespace seg

template <dtype T, int U, int NT, int MinBlocks, int G>
__global__ void __launch_bounds__(NT, MinBlocks) prune_seg_kernel(const __grid_constant__ prune_batch b, seg::pack_slot* slots, int nseg) {
  constexpr int per = T == dtype::fp32 ? 4 : 8, SEGV = 32 * U;
  const int cols = int(b.d.valid_cols), nvec = cols / per;
  const std::int64_t items = b.rows * nseg, warps = std::int64_t(gridDim.x) * (NT / 32);
  for (std::int64_t it = std::int64_t(blockIdx.x) * (NT / 32) + threadIdx.x / 32; it < items; it += warps) {
    const seg::item a = seg::item_of<SEGV, per>(it, nseg, cols);
    uint4 u[U];
    seg::load<T, U>(b, a, nvec, u);
    seg::finish<T, U, G>(b, slots, nseg, a, u);
  }
}

// Segments of 32·U vectors per row (at least one), and the blocks of NT threads that give each a warp.
template <dtype T, int U>
int segments_per_row(const prune_batch& b) {
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  return int(std::max<std::int64_t>(1, (b.d.valid_cols / per + 32 * U - 1) / (32 * U)));
}
template <int NT>
std::int64_t warp_per_segment_blocks(const prune_batch& b, int nseg) { return (b.rows * nseg + NT / 32 - 1) / (NT / 32); }

// The segment kernel's launch: a warp per segment.
template <dtype T, int U, int NT, int MinBlocks, int G>
void launch_segments(const prune_batch& b, seg::pack_slot* slots, cudaStream_t stream) {
  const int nseg = segments_per_row<T, U>(b);
  const std::int64_t blocks = std::min<std::int64_t>(warp_per_segment_blocks<NT>(b, nseg), INT_MAX);
  prune_seg_kernel<T, U, NT, MinBlocks, G><<<unsigned(blocks), NT, 0, stream>>>(b, slots, nseg);
}


// Round 17's other launch shapes: a persistent grid, and with Pipe the warp's next segment's
// loads issued before it finishes the current one.
template <dtype T, int U, int NT, int MinBlocks, int G, bool Pipe>
__global__ void __launch_bounds__(NT, MinBlocks) prune_seg_pipe_kernel(const __grid_constant__ prune_batch b, seg::pack_slot* slots, int nseg) {
  constexpr int per = T == dtype::fp32 ? 4 : 8, SEGV = 32 * U;
  const int cols = int(b.d.valid_cols), nvec = cols / per;
  const std::int64_t items = b.rows * nseg, warps = std::int64_t(gridDim.x) * (NT / 32);
  std::int64_t it = std::int64_t(blockIdx.x) * (NT / 32) + threadIdx.x / 32;
  if (it >= items) return;
  uint4 u[U];
  seg::item a = seg::item_of<SEGV, per>(it, nseg, cols);
  seg::load<T, U>(b, a, nvec, u);
  for (;;) {
    const std::int64_t next = it + warps;
    if constexpr (Pipe) {
      uint4 un[U];
      const seg::item an = seg::item_of<SEGV, per>(next < items ? next : it, nseg, cols);
      if (next < items) seg::load<T, U>(b, an, nvec, un);
      seg::finish<T, U, G>(b, slots, nseg, a, u);
      if (next >= items) return;
#pragma unroll
      for (int k = 0; k < U; ++k) u[k] = un[k];
      a = an;
    } else {
      seg::finish<T, U, G>(b, slots, nseg, a, u);
      if (next >= items) return;
      a = seg::item_of<SEGV, per>(next, nseg, cols);
      seg::load<T, U>(b, a, nvec, u);
    }
    it = next;
  }
}

// How many blocks of NT threads of kernel k fit on the GPU at once (printed once per kernel).
template <typename Kernel>
int resident_blocks(Kernel k, int nt) {
  int per_sm = 0, sms = 0;
  SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, nt, 0));
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const int resident = std::max(per_sm, 1) * sms;
  std::printf("    (%d resident blocks of %d threads)\n", resident, nt);
  return resident;
}

// Zeroed slots for the batch's rows (grown as needed; every pack leaves them zeroed).
seg::pack_slot* slots_for(const prune_batch& b) {
  static seg::pack_slot* slots = nullptr;
  static std::int64_t n = 0;
  if (n < b.rows) {
    SB_CUDA(cudaDeviceSynchronize());
    if (slots) SB_CUDA(cudaFree(slots));
    SB_CUDA(cudaMalloc(&slots, std::size_t(b.rows) * sizeof(seg::pack_slot)));
    SB_CUDA(cudaMemset(slots, 0, std::size_t(b.rows) * sizeof(seg::pack_slot)));
    n = b.rows;
  }
  return slots;
}

// The segment kernel: a warp per segment (Persistent false), or a persistent grid (Pipe: loads
// one segment ahead).
template <dtype T, int U, int NT, int MinBlocks, bool Persistent, int G = 8, bool Pipe = false>
void launch_seg(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  seg::pack_slot* slots = slots_for(b);
  if (!Persistent) {
    launch_segments<T, U, NT, MinBlocks, G>(b, slots, stream);
    SB_CUDA_LAUNCH();
    return;
  }
  auto k = prune_seg_pipe_kernel<T, U, NT, MinBlocks, G, Pipe>;
  static const int resident = resident_blocks(k, NT);
  const int nseg = segments_per_row<T, U>(b);
  const std::int64_t blocks = std::min<std::int64_t>(warp_per_segment_blocks<NT>(b, nseg), resident);
  k<<<unsigned(blocks), NT, 0, stream>>>(b, slots, nseg);
  SB_CUDA_LAUNCH();
}

// Round 18 (2026-12-06, run on an H100 from branch phase-pack at 75308c8, where this kernel was
// production's; docs/kernel-notes.md): slower everywhere (bf16 4K 0.81 of the copy against the
// split kernel's 0.89, 32K 0.91 against 0.99), spread or not, and the placement it assumes was not
// the card's (248 of 1 056 blocks on SM b mod sms). Rows cut at arbitrary places, so that the blocks of
// one SM change rows at different times. Rounds 16 and 16c put the 4K pack's loss at the changes
// of row: blocks of one row each start together, stay in step, and an SM's blocks end their rows
// at once (16c's staggered sleep gained 0.02-0.04 and cost over one or two waves). Round 17 gave
// each warp a piece of a row, with no block per row, and ran at half the rate (a dependent chain per
// warp). Here the split kernel's block stays (S scanners, NT - S gatherers, a block barrier after
// each piece, which round 16 needed on a persistent grid to keep the gatherers with the scanners),
// but on a persistent grid of the resident blocks, each taking one contiguous range of the launch's
// rows x vectors. Every block has the same work, so none idles at the end, and a range starts part
// way into a row: with 3.88 rows per block at 4K, the eight ranges of one SM (Spread: ranges
// sm·8 .. sm·8 + 7, where block b is taken to sit on SM b mod sms) start at phases k·0.88 of a row,
// spread over the whole row. A row cut between two blocks folds each piece's (maximum, column) into
// its zeroed slot (round 17's fold); the last piece writes the pair. The gatherers of a piece that
// starts mid-row find its first draft id by a 32-way warp search.
namespace phase {

// Range p of n over the launch's total vectors (a rows x nvec stream): [start(p), start(p + 1)).
__device__ __forceinline__ std::int64_t start(std::int64_t p, std::int64_t total, int n) { return p * total / n; }
// The range holding vector x of the stream: the largest p with start(p) <= x (ranges not empty).
__device__ __forceinline__ std::int64_t range_of(std::int64_t x, std::int64_t total, int n) { return ((x + 1) * n - 1) / total; }

}  // namespace phase

// Each piece of the stream's range [x, end): launch row g, its vectors [vb, ve); a block barrier
// after each (whole warps per role: the gatherers stay with the scanners). The roles run their own
// loops, so their registers do not add up.
template <typename Each>
__device__ __forceinline__ void for_each_piece(std::int64_t x, std::int64_t end, int nvec, Each&& each) {
  while (x < end) {
    const std::int64_t g = x / nvec;
    const int vb = int(x - g * nvec), ve = end - x < nvec - vb ? vb + int(end - x) : nvec;
    each(g, vb, ve);
    x += ve - vb;
    __syncthreads();
  }
}

template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Spread>
__global__ void __launch_bounds__(NT, MinBlocks) prune_phase_kernel(const __grid_constant__ prune_batch b, seg::pack_slot* slots, int sms,
                                                                    int* where) {
  if (where && threadIdx.x == 0) {  // the block's SM, for the placement check
    unsigned id;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(id));
    where[blockIdx.x] = int(id);
  }
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int NG = NT - S, per = T == dtype::fp32 ? 4 : 8;
  const prune_desc& d = b.d;
  const int cols = int(d.valid_cols), nvec = cols / per, n = int(gridDim.x);
  const std::int64_t total = b.rows * nvec;
  const int per_sm = n / sms;  // the launch is sms x per_sm blocks
  const std::int64_t p = Spread ? std::int64_t(blockIdx.x % unsigned(sms)) * per_sm + blockIdx.x / unsigned(sms) : blockIdx.x;
  const std::int64_t x0 = phase::start(p, total, n), end = phase::start(p + 1, total, n);
  if (int(threadIdx.x) < S) {
    const int l = int(threadIdx.x);
    for_each_piece(x0, end, nvec, [&](std::int64_t g, int vb, int ve) {
      const auto [pr, i, r] = locate(b, g);
      arg_max a;
      if (r >= 0) {
        const char* row = reinterpret_cast<const char*>(shard_row<word>(d, r));
        row_scan<T, S, U> s;
        for (int v0 = vb; v0 < ve; v0 += s.chunk_vecs) s.chunk(row, v0, ve);
        if (ve == nvec) s.tail(row, cols);
        a = s.result(0);  // the column in the row
      } else if (l == 0 && vb == 0 && cols > 0) {
        a = {0.0f, 0};  // a zero row: its first column is its argmax
      }
      if (vb == 0 && ve == nvec) {
        if (a.i >= 0) a.i += d.col_base;
        write_pair<S>(pr.pairs + i, d.col_base, a);
        return;
      }
      a = block_argmax<S>(a);
      if (l == 0) {
        const std::int64_t pieces = phase::range_of((g + 1) * nvec - 1, total, n) - phase::range_of(g * nvec, total, n) + 1;
        seg::fold<T>(slots + g, pr.pairs + i, a.v, a.i < 0 ? INT_MAX : int(a.i), int(pieces), r >= 0 ? shard_row<word>(d, r) : nullptr,
                     int(d.col_base));
      }
    });
  } else {
    const int l = int(threadIdx.x) - S, n_ids = int(d.n_ids), col_base = int(d.col_base);
    for_each_piece(x0, end, nvec, [&](std::int64_t g, int vb, int ve) {
      const auto [pr, i, r] = locate(b, g);
      word* out = static_cast<word*>(pr.values) + i * d.n_ids;
      const int hi = ve == nvec ? INT_MAX : ve * per;
      const int k0 = vb == 0 ? 0 : seg::warp_lower_bound(d.ids, n_ids, col_base + vb * per);
      if (r >= 0) {
        draft_cursor<NG, G> ids{k0 + l};
        ids.lo = vb * per;
        ids.load(d);
        ids.gather_below(shard_row<word>(d, r), out, d, hi);
      } else {
        for (int k = k0 + l; k < n_ids && __ldg(d.ids + k) - col_base < hi; k += NG) out[k] = 0;
      }
    });
  }
}

// The phase kernel on the resident blocks (falls back to production where a range would be empty
// or the rows have no whole vector).
template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Spread>
void launch_phase(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  auto k = prune_phase_kernel<T, NT, S, U, G, MinBlocks, Spread>;
  static const int resident = resident_blocks(k, NT);
  int sms = 0;
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  constexpr int per = T == dtype::fp32 ? 4 : 8;
  const std::int64_t total = b.rows * (b.d.valid_cols / per);
  if (total < resident || resident % sms != 0) return launch_batch(b, current_pack_card(), stream);
  static bool placed = false;  // the first launch records where its blocks sit
  int* where = nullptr;
  if (!placed) SB_CUDA(cudaMalloc(&where, std::size_t(resident) * sizeof(int)));
  k<<<unsigned(resident), NT, 0, stream>>>(b, slots_for(b), sms, where);
  SB_CUDA_LAUNCH();
  if (!placed) {
    placed = true;
    std::vector<int> h(std::size_t(resident), 0);
    SB_CUDA(cudaMemcpy(h.data(), where, h.size() * sizeof(int), cudaMemcpyDeviceToHost));
    SB_CUDA(cudaFree(where));
    int same = 0;  // blocks on the SM of block b mod sms, as Spread takes them to be
    for (int x = 0; x < resident; ++x) same += h[std::size_t(x)] == h[std::size_t(x % sms)];
    std::printf("    (placement: %d of %d blocks on the SM of block b mod %d; blocks 0-3: SMs %d %d %d %d, %d-%d: %d %d)\n", same,
                resident, sms, h[0], h[1], h[2], h[3], sms, sms + 1, h[std::size_t(sms)], h[std::size_t(sms + 1)]);
  }
}

// Persistent: as many blocks as fit at once (occupancy), else one per row.
template <dtype T, int NT, int S, int U, int G, int MinBlocks, bool Prefetch, bool Sync, bool Persistent = true>
void launch_flow(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) {
  auto k = prune_flow_kernel<T, NT, S, U, G, MinBlocks, Prefetch, Sync>;
  static const int resident = resident_blocks(k, NT);
  const std::int64_t blocks = Persistent ? std::min<std::int64_t>(b.rows, resident) : b.rows;
  k<<<unsigned(blocks), NT, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

bool g_profile_only = false;  // ncu: launch each variant once, time nothing
bool g_read_roofline = false;  // run_shape also times read_roofline_kernel over the same rows
// Round 35: run_shape also times every variant as bench --kernels sees a pack, a launch alone right
// after 256 MB written (L2 full of dirty lines, as the consumer leaves it), by events around it.
bool g_isolated_all = false;

// The median of 30 launches (after one not counted), each alone right after before(r) and timed by
// events around it (the host queues far ahead of the GPU, so none waits on the host).
template <typename B, typename F>
double isolated_median_us(B&& before, F&& launch) {
  constexpr int kRuns = 31;
  std::vector<cudaEvent_t> a(kRuns), e(kRuns);
  for (int r = 0; r < kRuns; ++r) {
    SB_CUDA(cudaEventCreate(&a[r]));
    SB_CUDA(cudaEventCreate(&e[r]));
  }
  for (int r = 0; r < kRuns; ++r) {
    before(r);
    SB_CUDA(cudaEventRecord(a[r]));
    launch(r & 1);
    SB_CUDA(cudaEventRecord(e[r]));
  }
  SB_CUDA(cudaDeviceSynchronize());
  std::vector<double> v;
  for (int r = 1; r < kRuns; ++r) {  // the first is a warm-up
    float ms = 0;
    SB_CUDA(cudaEventElapsedTime(&ms, a[r], e[r]));
    v.push_back(double(ms) * 1000.0);
  }
  for (int r = 0; r < kRuns; ++r) {
    SB_CUDA(cudaEventDestroy(a[r]));
    SB_CUDA(cudaEventDestroy(e[r]));
  }
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The same, each launch right after a memset of dirty_bytes (L2 left full of dirty lines).
template <typename F>
double after_writes_us(void* dirty, std::size_t dirty_bytes, F&& launch) {
  return isolated_median_us([&](int r) { SB_CUDA(cudaMemsetAsync(dirty, r & 0xff, dirty_bytes)); }, launch);
}

// Round 16c's read roofline: the shard's rows streamed once by a flat grid (four 16-byte loads in
// flight per thread, no per-row blocks, no transitions between rows, a word per warp written), the
// fastest a flat stream reads them. A pack must read these bytes too, so copy time / this time
// estimates the largest fraction of the copy a pack can reach, however cheap its writes: below 0.9
// at a shape, the issue's bound is out of reach there for a kernel that reads the rows once.
__global__ void __launch_bounds__(256) read_roofline_kernel(const uint4* p, std::size_t n, unsigned* out) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  std::size_t v = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  unsigned m = 0;
  for (; v + 3 * stride < n; v += 4 * stride) {
    uint4 u[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) u[k] = __ldg(p + v + k * stride);
#pragma unroll
    for (int k = 0; k < 4; ++k) m = max(m, max(max(u[k].x, u[k].y), max(u[k].z, u[k].w)));
  }
  for (; v < n; v += stride) {
    const uint4 u = __ldg(p + v);
    m = max(m, max(max(u.x, u.y), max(u.z, u.w)));
  }
  m = __reduce_max_sync(~0u, m);
  if ((threadIdx.x & 31) == 0) out[(std::size_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32] = m;  // keeps the loads
}

struct variant {
  const char* name;
  void (*launch)(const prune_batch&, const std::uint16_t*, cudaStream_t);
};

template <dtype T, int NT, int G, int MinBlocks, bool Offs, bool Persistent>
void launch_smem(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  auto k = prune_smem_kernel<T, NT, G, MinBlocks, Offs>;
  const int per = T == dtype::fp32 ? 4 : 8;
  const int smem = int(b.d.valid_cols / per) * 16;
  static bool once = [&] {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    return true;
  }();
  (void)once;
  unsigned blocks = unsigned(b.rows);
  if (Persistent) {
    int per_sm = 0, sms = 0;
    SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
    SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    blocks = unsigned(std::min<std::int64_t>(b.rows, std::int64_t(per_sm) * sms));
  }
  k<<<blocks, NT, smem, stream>>>(b, offs);
  SB_CUDA_LAUNCH();
}

template <dtype T, int NT, int G, int Stages, bool Offs>
void launch_bulk(const prune_batch& b, const std::uint16_t* offs, cudaStream_t stream) {
  auto k = prune_bulk_kernel<T, NT, G, Stages, Offs>;
  const int per = T == dtype::fp32 ? 4 : 8;
  const int stage_vecs = int((b.d.valid_cols / per + 7) / 8 * 8);  // 128-byte aligned stages
  const int smem = Stages * stage_vecs * 16;
  static bool once = [&] {
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
    SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
    return true;
  }();
  (void)once;
  int per_sm = 0, sms = 0;
  SB_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, k, NT, smem));
  SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const unsigned blocks = unsigned(std::min<std::int64_t>(b.rows, std::int64_t(std::max(per_sm, 1)) * sms));
  k<<<blocks, NT, smem, stream>>>(b, offs, stage_vecs);
  SB_CUDA_LAUNCH();
}

void launch_production(const prune_batch& b, const std::uint16_t*, cudaStream_t stream) { launch_batch(b, current_pack_card(), stream); }

// Finite values with ties: 8 significant bits, exact in bf16, fp16 and fp32.
float sample_value(std::mt19937_64& g) { return float(int(g() % 1024) - 600) / 64.0f; }

template <dtype T>
void run_shape(std::int64_t rows, std::int64_t cols, double density, const char* label, const std::vector<variant>& vs,
               std::int64_t ld = 0, bool harness_values = false) {
  if (ld == 0) ld = cols;  // the row pitch: 16-byte aligned rows, as the vectorised kernels need
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  std::mt19937_64 g(42 + rows + std::int64_t(density * 1000));
  const std::int64_t col_base = 0;
  std::vector<std::int32_t> ids;
  for (std::int64_t c = 0; c < cols; ++c)
    if (double(g() % 1000000) < density * 1e6) ids.push_back(std::int32_t(col_base + c));
  std::vector<std::uint16_t> offs(ids.begin(), ids.end());
  const std::int64_t n_ids = std::int64_t(ids.size());
  // Two input buffers used in turn, each larger than L2 at these sizes.
  std::vector<word> host(std::size_t(rows * ld));
  // harness_values: the harness generator's logits (gen::logit, what bench and the sweeps pack:
  // 8 significant bits, most of them small, the row maximum 127 or near it), rank 0's columns.
  const gen::params gp{1, 129280, rows};
  for (std::size_t x = 0; x < host.size(); ++x) {
    word& w = host[x];
    const std::int64_t t = std::int64_t(x) / ld, c = std::int64_t(x) % ld;
    const float f = harness_values ? (c < cols ? gen::logit(gp, t, c) : 0.0f) : sample_value(g);
    std::uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if constexpr (T == dtype::fp32) w = bits;
    else w = std::uint16_t(bits >> 16);  // bf16
  }
  void *in[2], *vals[2], *out_ref_v;
  pruned_pair *pairs[2], *out_ref_p;
  std::int32_t* d_ids;
  std::uint16_t* d_offs;
  const std::size_t in_bytes = host.size() * sizeof(word), v_bytes = std::size_t(rows * n_ids) * sizeof(word),
                    p_bytes = std::size_t(rows) * sizeof(pruned_pair);
  for (int k = 0; k < 2; ++k) {
    SB_CUDA(cudaMalloc(&in[k], in_bytes));
    SB_CUDA(cudaMemcpy(in[k], host.data(), in_bytes, cudaMemcpyHostToDevice));
    SB_CUDA(cudaMalloc(&vals[k], v_bytes));
    SB_CUDA(cudaMalloc(&pairs[k], p_bytes));
  }
  SB_CUDA(cudaMalloc(&out_ref_v, v_bytes));
  SB_CUDA(cudaMalloc(&out_ref_p, p_bytes));
  SB_CUDA(cudaMalloc(&d_ids, ids.size() * 4));
  SB_CUDA(cudaMemcpy(d_ids, ids.data(), ids.size() * 4, cudaMemcpyHostToDevice));
  SB_CUDA(cudaMalloc(&d_offs, (offs.size() + 7) / 8 * 16));  // whole 16-byte vectors (round 39's gather reads them so)
  SB_CUDA(cudaMemcpy(d_offs, offs.data(), offs.size() * 2, cudaMemcpyHostToDevice));
  auto batch_for = [&](int k, void* v, pruned_pair* p) {
    prune_desc d{};
    d.rows.src = in[k];
    d.rows.src_type = T;
    d.rows.src_ld = ld;
    d.rows.windows = 1;
    d.rows.win_len = rows;
    d.rows.valid_len = rows;
    d.rows.shift = 1;  // the last row is a zero row, as in the batch path
    d.ids = d_ids;
    d.n_ids = n_ids;
    d.col_base = col_base;
    d.valid_cols = cols;
    d.values = v;
    d.pairs = p;
    prune_batch b{};
    b.d = d;
    b.dst[0] = {0, d.rows.win_len, row_rule_of(d.rows), v, p};
    b.n = 1;
    b.rows = rows;
    return b;
  };
  // The bytes bench/traffic.cpp counts for the pack: rows read, values and pairs written.
  const double bytes = double(rows * cols * std::int64_t(sizeof(word))) + double(v_bytes) + double(p_bytes);
  const double ref0 = d2d_us(std::size_t(bytes / 2));
  std::printf("%-22s rows %6lld cols %6lld ids %5lld  %.1f MB  d2d %.1f us (%.0f GB/s)\n", label, (long long)rows,
              (long long)cols, (long long)n_ids, bytes / 1e6, ref0, bytes / ref0 / 1e3);
  std::vector<char> ref_v(v_bytes), ref_p(p_bytes), got_v(v_bytes), got_p(p_bytes);
  const std::size_t dirty_bytes = std::size_t(256) << 20;
  void *dirty = nullptr, *csrc = nullptr, *cdst = nullptr;
  double iso_copy_us = 0;
  if (g_isolated_all && !g_profile_only) {
    SB_CUDA(cudaMalloc(&dirty, dirty_bytes));
    SB_CUDA(cudaMalloc(&csrc, std::size_t(bytes / 2)));
    SB_CUDA(cudaMalloc(&cdst, std::size_t(bytes / 2)));
    SB_CUDA(cudaMemset(csrc, 1, std::size_t(bytes / 2)));
    iso_copy_us = after_writes_us(dirty, dirty_bytes, [&](int) {
      SB_CUDA(cudaMemcpyAsync(cdst, csrc, std::size_t(bytes / 2), cudaMemcpyDeviceToDevice));
    });
    std::printf("  %-34s %8.1f us  (a copy of the same bytes, alone after 256 MB written)\n", "isolated copy", iso_copy_us);
  }
  for (std::size_t x = 0; x < vs.size(); ++x) {
    const variant& var = vs[x];
    SB_CUDA(cudaMemset(vals[0], 0xab, v_bytes));
    SB_CUDA(cudaMemset(pairs[0], 0xab, p_bytes));
    var.launch(batch_for(0, vals[0], pairs[0]), d_offs, nullptr);
    SB_CUDA(cudaDeviceSynchronize());
    SB_CUDA(cudaMemcpy(got_v.data(), vals[0], v_bytes, cudaMemcpyDeviceToHost));
    SB_CUDA(cudaMemcpy(got_p.data(), pairs[0], p_bytes, cudaMemcpyDeviceToHost));
    if (x == 0) {
      ref_v = got_v;
      ref_p = got_p;
    }
    const bool same = got_v == ref_v && got_p == ref_p;
    const prune_batch b0 = batch_for(0, vals[0], pairs[0]), b1 = batch_for(1, vals[1], pairs[1]);
    if (g_profile_only) {
      std::printf("  %-34s %s\n", var.name, same ? "identical" : "different");
      continue;
    }
    const double us = median_us([&](int k) { var.launch(k & 1 ? b1 : b0, d_offs, nullptr); }, 15);
    std::printf("  %-34s %8.1f us  %6.0f GB/s  %.3f of d2d  %s\n", var.name, us, bytes / us / 1e3, ref0 / us,
                same ? "identical" : "DIFFERENT");
    if (dirty) {
      const double iso = after_writes_us(dirty, dirty_bytes, [&](int k) { var.launch(k ? b1 : b0, d_offs, nullptr); });
      std::printf("  %-34s %8.1f us  alone after 256 MB written: %.3f of the copy so\n", "", iso, iso_copy_us / iso);
    }
  }
  if (dirty) {
    SB_CUDA(cudaFree(dirty));
    SB_CUDA(cudaFree(csrc));
    SB_CUDA(cudaFree(cdst));
  }
  if (g_read_roofline && !g_profile_only) {
    int sms = 0;
    SB_CUDA(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
    const unsigned blocks = unsigned(sms * 8);
    unsigned* sink = nullptr;
    SB_CUDA(cudaMalloc(&sink, std::size_t(blocks) * 8 * sizeof(unsigned)));
    const std::size_t n = in_bytes / sizeof(uint4);
    const double us = median_us([&](int k) {
      read_roofline_kernel<<<blocks, 256>>>(static_cast<const uint4*>(in[k & 1]), n, sink);
      SB_CUDA_LAUNCH();
    }, 15);
    std::printf("  %-34s %8.1f us  %6.0f GB/s of rows read  copy/this %.3f (a pack's ceiling)\n",
                "read roofline (flat grid, rows only)", us, double(in_bytes) / us / 1e3, ref0 / us);
    // Isolated launches, as bench --kernels sees the pack (one launch per iteration among other
    // phases' kernels): the first variant, and a copy of the reference's size, each right after
    // the roofline over the other input (other code run, other data in L2), timed alone by events
    // around it. The host queues the runs far faster than the GPU runs them (a roofline and a pack
    // take 20 us or more), so after the first, which is not counted, none waits on the host; the
    // median of 30.
    const std::size_t half = std::size_t(bytes / 2);
    void *csrc = nullptr, *cdst = nullptr;
    SB_CUDA(cudaMalloc(&csrc, half));
    SB_CUDA(cudaMalloc(&cdst, half));
    SB_CUDA(cudaMemset(csrc, 1, half));
    // Before each: the roofline over the other input (clean L2), or a 256 MB memset, which leaves
    // L2 full of dirty lines the next kernel's traffic must write back first, as a consumer
    // writing target_p leaves it for the next iteration's pack in bench --kernels.
    const std::size_t dirty_bytes = std::size_t(256) << 20;
    void* dirty = nullptr;
    SB_CUDA(cudaMalloc(&dirty, dirty_bytes));
    bool after_writes = false;
    auto isolated_us = [&](auto&& launch) {
      return isolated_median_us(
          [&](int r) {
            if (after_writes) {
              SB_CUDA(cudaMemsetAsync(dirty, r & 0xff, dirty_bytes));
            } else {
              read_roofline_kernel<<<blocks, 256>>>(static_cast<const uint4*>(in[(r + 1) & 1]), n, sink);
              SB_CUDA_LAUNCH();
            }
          },
          launch);
    };
    const prune_batch ib0 = batch_for(0, vals[0], pairs[0]), ib1 = batch_for(1, vals[1], pairs[1]);
    for (const bool w : {false, true}) {
      after_writes = w;
      const double pack_us = isolated_us([&](int k) { vs[0].launch(k ? ib1 : ib0, d_offs, nullptr); });
      const double copy_us = isolated_us([&](int) { SB_CUDA(cudaMemcpyAsync(cdst, csrc, half, cudaMemcpyDeviceToDevice)); });
      std::printf("  isolated, after %-17s %s %.1f us, copy %.1f us: %.3f of the isolated copy, %.3f of d2d\n",
                  w ? "256 MB written:" : "a read-only run:", vs[0].name, pack_us, copy_us, copy_us / pack_us, ref0 / pack_us);
    }
    SB_CUDA(cudaFree(dirty));
    SB_CUDA(cudaFree(csrc));
    SB_CUDA(cudaFree(cdst));
    SB_CUDA(cudaFree(sink));
  }
  const double ref1 = d2d_us(std::size_t(bytes / 2));
  std::printf("  d2d again %.1f us (%.0f GB/s)\n", ref1, bytes / ref1 / 1e3);
  for (int k = 0; k < 2; ++k) {
    SB_CUDA(cudaFree(in[k]));
    SB_CUDA(cudaFree(vals[k]));
    SB_CUDA(cudaFree(pairs[k]));
  }
  SB_CUDA(cudaFree(out_ref_v));
  SB_CUDA(cudaFree(out_ref_p));
  SB_CUDA(cudaFree(d_ids));
  SB_CUDA(cudaFree(d_offs));
}

}  // namespace
}  // namespace sb::kernels

int main(int argc, char** argv) {
  using namespace sb;
  using namespace sb::kernels;
  experiments::print_device();
  // Each round of docs/kernel-notes.md's H200 section: `prune_variants ROUND` (default: all).
  const std::string round = argc > 1 ? argv[1] : "all";
  const std::vector<variant> round1 = {
      {"production", launch_production},
      {"smem row, 256 thr, G8, 4 blk", launch_smem<dtype::bf16, 256, 8, 4, false, false>},
      {"smem row, 256 thr, G4, 6 blk", launch_smem<dtype::bf16, 256, 4, 6, false, false>},
      {"smem row, 256 thr, G4, 6 blk, u16", launch_smem<dtype::bf16, 256, 4, 6, true, false>},
      {"smem row, 512 thr, G4, 3 blk", launch_smem<dtype::bf16, 512, 4, 3, false, false>},
      {"smem row, 512 thr, G4, 3 blk, u16", launch_smem<dtype::bf16, 512, 4, 3, true, false>},
      {"smem row, 256 thr, G4, 6 blk, pers", launch_smem<dtype::bf16, 256, 4, 6, true, true>},
  };
  const std::vector<variant> round2 = {
      {"production", launch_production},
      {"bulk, 256 thr, 2 stages (3 blk)", launch_bulk<dtype::bf16, 256, 4, 2, false>},
      {"bulk, 256 thr, 2 stages, u16", launch_bulk<dtype::bf16, 256, 4, 2, true>},
      {"bulk, 256 thr, 3 stages, u16 (2 blk)", launch_bulk<dtype::bf16, 256, 4, 3, true>},
      {"bulk, 512 thr, 2 stages, u16", launch_bulk<dtype::bf16, 512, 4, 2, true>},
      {"bulk, 128 thr, 2 stages, u16", launch_bulk<dtype::bf16, 128, 4, 2, true>},
      {"bulk, 256 thr, 1 stage, u16 (6 blk)", launch_bulk<dtype::bf16, 256, 4, 1, true>},
  };
  const std::vector<variant> round3 = {
      {"production", launch_production},
      {"2pass 256 thr U4 G4 4blk u16", launch_2pass<dtype::bf16, 256, 4, 4, 4, true, false>},
      {"2pass 256 thr U4 G4 4blk u16 hmax2", launch_2pass<dtype::bf16, 256, 4, 4, 4, true, true>},
      {"2pass 256 thr U4 G4 6blk u16 hmax2", launch_2pass<dtype::bf16, 256, 4, 4, 6, true, true>},
      {"2pass 256 thr U2 G4 6blk u16 hmax2", launch_2pass<dtype::bf16, 256, 2, 4, 6, true, true>},
      {"2pass 256 thr U4 G8 4blk ids hmax2", launch_2pass<dtype::bf16, 256, 4, 8, 4, false, true>},
      {"2pass 512 thr U4 G4 3blk u16 hmax2", launch_2pass<dtype::bf16, 512, 4, 4, 3, true, true>},
      {"2pass 128 thr U4 G4 8blk u16 hmax2", launch_2pass<dtype::bf16, 128, 4, 4, 8, true, true>},
  };
  const std::vector<variant> decomp = {
      {"production", launch_production},
      {"scan only (no gather)", launch_decomp<true, false>},
      {"gather only (no scan)", launch_decomp<false, true>},
      {"neither (pairs only)", launch_decomp<false, false>},
  };
  const std::vector<variant> round4 = {
      {"production", launch_production},
      {"max-first 256 G8 4blk ids", launch_max<dtype::bf16, 256, 8, 4, false, false, false>},
      {"max-first 256 G8 4blk u16", launch_max<dtype::bf16, 256, 8, 4, false, true, false>},
      {"max-first 256 G8 4blk u16 hmax2", launch_max<dtype::bf16, 256, 8, 4, true, true, false>},
      {"max-first 256 G8 6blk u16 hmax2", launch_max<dtype::bf16, 256, 8, 6, true, true, false>},
      {"max-first 512 G8 3blk u16 hmax2", launch_max<dtype::bf16, 512, 8, 3, true, true, false>},
      {"max-first 512 G8 2blk ids-in-regs hmax2", launch_max<dtype::bf16, 512, 8, 2, true, true, true>},
  };
  const std::vector<variant> round4_f32 = {
      {"production", launch_production},
      {"max-first 256 G8 4blk u16", launch_max<dtype::fp32, 256, 8, 4, false, true, false>},
      {"max-first 512 G8 3blk u16", launch_max<dtype::fp32, 512, 8, 3, false, true, false>},
      {"max-first 512 G8 2blk ids-in-regs", launch_max<dtype::fp32, 512, 8, 2, false, true, true>},
  };
  const std::vector<variant> f32 = {
      {"production", launch_production},
      {"smem row, 1024 thr, G2, 2 blk", launch_smem<dtype::fp32, 1024, 2, 2, false, false>},
      {"smem row, 512 thr, G4, 3 blk, u16", launch_smem<dtype::fp32, 512, 4, 3, true, false>},
      {"bulk, 512 thr, 2 stages, u16 (1 blk)", launch_bulk<dtype::fp32, 512, 4, 2, true>},
      {"bulk, 256 thr, 1 stage, u16 (3 blk)", launch_bulk<dtype::fp32, 256, 4, 1, true>},
      {"2pass 512 thr U4 G4 3blk u16", launch_2pass<dtype::fp32, 512, 4, 4, 3, true, false>},
      {"2pass 256 thr U8 G4 3blk u16", launch_2pass<dtype::fp32, 256, 8, 4, 3, true, false>},
  };
  const std::vector<variant> round5 = {
      {"production", launch_production},
      {"select 256 thr 4blk", launch_select<dtype::bf16, 256, 4, false>},
      {"select 256 thr 4blk staged", launch_select<dtype::bf16, 256, 4, true>},
      {"select 256 thr 6blk", launch_select<dtype::bf16, 256, 6, false>},
      {"select 512 thr 2blk", launch_select<dtype::bf16, 512, 2, false>},
      {"select 512 thr 3blk staged", launch_select<dtype::bf16, 512, 3, true>},
      {"select 1024 thr 1blk", launch_select<dtype::bf16, 1024, 1, false>},
  };
  const std::vector<variant> round5_f32 = {
      {"production", launch_production},
      {"select 256 thr 4blk", launch_select<dtype::fp32, 256, 4, false>},
      {"select 512 thr 2blk", launch_select<dtype::fp32, 512, 2, false>},
      {"select 512 thr 3blk staged", launch_select<dtype::fp32, 512, 3, true>},
      {"select 1024 thr 1blk", launch_select<dtype::fp32, 1024, 1, false>},
      {"select 1024 thr 2blk", launch_select<dtype::fp32, 1024, 2, false>},
  };
  const std::vector<variant> round6 = {
      {"production", launch_production},
      {"persistent 4blk, no prefetch", launch_prefetch<4, 0>},
      {"persistent 4blk, L2 prefetch +1", launch_prefetch<4, 1>},
      {"persistent 4blk, L2 prefetch +2", launch_prefetch<4, 2>},
      {"persistent 3blk, L2 prefetch +1", launch_prefetch<3, 1>},
      {"persistent 3blk, L2 prefetch +2", launch_prefetch<3, 2>},
      {"persistent 2blk, L2 prefetch +2", launch_prefetch<2, 2>},
      {"row blocks 4blk, U8", launch_prefetch<4, 0, 8, false>},
      {"row blocks 3blk, U8", launch_prefetch<3, 0, 8, false>},
      {"persistent 4blk, U8, prefetch +1", launch_prefetch<4, 1, 8>},
      {"row blocks 4blk, U2", launch_prefetch<4, 0, 2, false>},
  };
  const std::vector<variant> round7 = {
      {"production", launch_production},
      {"split 512 2blk lag0 R1", launch_split<512, 2, 0, 1, 16>},
      {"split 512 2blk lag0 R4", launch_split<512, 2, 0, 4, 16>},
      {"split 512 2blk lag1 R4", launch_split<512, 2, 1, 4, 16>},
      {"split 512 2blk lag1 R16", launch_split<512, 2, 1, 16, 16>},
      {"split 256 4blk lag0 R1", launch_split<256, 4, 0, 1, 16>},
      {"split 256 4blk lag1 R8", launch_split<256, 4, 1, 8, 16>},
      {"split 1024 1blk lag1 R16", launch_split<1024, 1, 1, 16, 8>},
  };
  const std::vector<variant> round8 = {  // S+G: scanners + gatherers
      {"production", launch_production},
      {"split 128+128 4blk", launch_split<256, 4, 0, 1, 16>},
      {"split 128+128 5blk", launch_split<256, 5, 0, 1, 16>},
      {"split 128+128 6blk", launch_split<256, 6, 0, 1, 8>},
      {"split 64+64 8blk", launch_split<128, 8, 0, 1, 16>},
      {"split 64+64 10blk", launch_split<128, 10, 0, 1, 8>},
      {"split 192+64 4blk", launch_split<256, 4, 0, 1, 16, 192>},
      {"split 64+192 4blk", launch_split<256, 4, 0, 1, 16, 64>},
      {"split 128+64 5blk", launch_split<192, 5, 0, 1, 16, 128>},
      {"split 96+32 8blk", launch_split<128, 8, 0, 1, 16, 96>},
      {"split 32+96 8blk", launch_split<128, 8, 0, 1, 16, 32>},
      {"split 256+128 2blk", launch_split<384, 2, 0, 1, 16, 256>},
  };
  const std::vector<variant> round9 = {  // S+G: scanners + gatherers; U: loads in flight per scanner
      {"production", launch_production},
      {"split 64+64 8blk", launch_split<128, 8, 0, 1, 16>},
      {"split 64+64 8blk U8", launch_split<128, 8, 0, 1, 16, 64, 8>},
      {"split 64+64 8blk U2", launch_split<128, 8, 0, 1, 16, 64, 2>},
      {"split 64+64 8blk G8", launch_split<128, 8, 0, 1, 8>},
      {"split 32+32 16blk", launch_split<64, 16, 0, 1, 16>},
      {"split 32+32 16blk U8", launch_split<64, 16, 0, 1, 16, 32, 8>},
      {"split 32+96 8blk U8", launch_split<128, 8, 0, 1, 16, 32, 8>},
      {"split 64+192 4blk U8", launch_split<256, 4, 0, 1, 16, 64, 8>},
      {"split 32+64 10blk U8", launch_split<96, 10, 0, 1, 16, 32, 8>},
  };
  const std::vector<variant> round9_f32 = {
      {"production", launch_production},
      {"split 64+64 8blk", launch_split<128, 8, 0, 1, 16, 64, 4, dtype::fp32>},
      {"split 64+64 8blk U8", launch_split<128, 8, 0, 1, 16, 64, 8, dtype::fp32>},
      {"split 128+128 4blk", launch_split<256, 4, 0, 1, 16, 128, 4, dtype::fp32>},
      {"split 32+32 16blk U8", launch_split<64, 16, 0, 1, 16, 32, 8, dtype::fp32>},
      {"split 64+192 4blk U8", launch_split<256, 4, 0, 1, 16, 64, 8, dtype::fp32>},
  };
  const std::vector<variant> round10 = {  // after cfe501ce: production is the split kernel (64+64, 8 blocks, U 4)
      {"production", launch_production},
      {"split 64+64 6blk U8", launch_split<128, 6, 0, 1, 16, 64, 8>},
      {"split 64+64 7blk U6", launch_split<128, 7, 0, 1, 16, 64, 6>},
      {"split 64+64 8blk U6", launch_split<128, 8, 0, 1, 16, 64, 6>},
      {"split 64+64 8blk U4 hmax2", launch_split<128, 8, 0, 1, 16, 64, 4, dtype::bf16, true>},
      {"split 64+64 8blk U8 hmax2", launch_split<128, 8, 0, 1, 16, 64, 8, dtype::bf16, true>},
      {"split 64+64 6blk U8 hmax2", launch_split<128, 6, 0, 1, 16, 64, 8, dtype::bf16, true>},
      {"split 64+32 10blk U4", launch_split<96, 10, 0, 1, 16, 64, 4>},
      {"split 64+64 8blk U4 G12", launch_split<128, 8, 0, 1, 12, 64, 4>},
      {"split 128+128 4blk (skewed)", launch_split<256, 4, 0, 1, 16, 128, 4>},
      {"split 96+160 4blk (skewed)", launch_split<256, 4, 0, 1, 16, 96, 4>},
  };
  const std::vector<variant> round13 = {  // a row in P blocks; pairs merged by CAS after a memset
      {"production", launch_production},
      {"parts P2 64+64 8blk", launch_parts<dtype::bf16, 128, 64, 4, 16, 8, 2>},
      {"parts P2 64+64 8blk G8", launch_parts<dtype::bf16, 128, 64, 4, 8, 8, 2>},
      {"parts P2 64+64 8blk G12", launch_parts<dtype::bf16, 128, 64, 4, 12, 8, 2>},
      {"parts P4 64+64 8blk", launch_parts<dtype::bf16, 128, 64, 4, 16, 8, 4>},
      {"parts P4 64+64 8blk G8", launch_parts<dtype::bf16, 128, 64, 4, 8, 8, 4>},
      {"parts P2 32+32 16blk", launch_parts<dtype::bf16, 64, 32, 4, 16, 16, 2>},
      {"parts P2 32+32 16blk G8", launch_parts<dtype::bf16, 64, 32, 4, 8, 16, 2>},
      {"parts P2 128+128 4blk", launch_parts<dtype::bf16, 256, 128, 4, 16, 4, 2>},
      {"parts P4 128+128 4blk", launch_parts<dtype::bf16, 256, 128, 4, 16, 4, 4>},
      {"parts P2 64+64 8blk, no memset (timing only)", launch_parts<dtype::bf16, 128, 64, 4, 16, 8, 2, false>},
      {"parts P1 64+64 8blk (CAS, memset)", launch_parts<dtype::bf16, 128, 64, 4, 16, 8, 1>},
      {"parts P1 64+64 8blk G8", launch_parts<dtype::bf16, 128, 64, 4, 8, 8, 1>},
      {"parts P1 64+64 8blk, no memset (timing only)", launch_parts<dtype::bf16, 128, 64, 4, 16, 8, 1, false>},
      {"pairs memset alone (timing only)", launch_pairs_memset},
  };
  const std::vector<variant> round13_f32 = {
      {"production", launch_production},
      {"parts P2 64+64 8blk U8", launch_parts<dtype::fp32, 128, 64, 8, 16, 8, 2>},
      {"parts P4 64+64 8blk U8", launch_parts<dtype::fp32, 128, 64, 8, 16, 8, 4>},
      {"parts P2 32+32 16blk U8", launch_parts<dtype::fp32, 64, 32, 8, 16, 16, 2>},
  };
  const std::vector<variant> thresholds_2b = {
      {"production", launch_production},
      {"split 64+64 8blk", launch_prod_split<dtype::bf16, 128, 64, kPackUnroll, 16, 8>},
      {"split 128+128 4blk", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"scan-then-gather 256 G8 4blk", launch_prod_vec<dtype::bf16, kPackThreads, 8, 4>},
  };
  const std::vector<variant> thresholds_f32 = {
      {"production", launch_production},
      {"split 64+64 8blk U8", launch_prod_split<dtype::fp32, 128, 64, 8, 16, 8>},
      {"split 128+128 4blk U8", launch_prod_split<dtype::fp32, 256, 128, 8, 16, 4>},
      {"scan-then-gather 1024 2blk", launch_prod_vec<dtype::fp32, 1024, kPackUnroll, 2>},
  };
  const std::vector<variant> round16 = {  // persistent split kernel, next row's first chunk prefetched
      {"production", launch_production},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"flow 64+64 8blk one per row (=prod)", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, false, false, false>},
      {"flow 64+64 8blk persistent", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, false, false>},
      {"flow 64+64 8blk persistent prefetch", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, true, false>},
      {"flow 64+64 8blk persistent prefetch sync", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, true, true>},
      {"flow 64+64 8blk persistent sync", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, false, true>},
      {"flow 128+128 4blk persistent prefetch", launch_flow<dtype::bf16, 256, 128, 4, 16, 4, true, false>},
      {"flow 128+128 4blk persistent prefetch sync", launch_flow<dtype::bf16, 256, 128, 4, 16, 4, true, true>},
      {"flow 64+64 8blk persistent prefetch U2", launch_flow<dtype::bf16, 128, 64, 2, 16, 8, true, false>},
  };
  const std::vector<variant> round16_f32 = {
      {"production", launch_production},
      {"flow 128+128 4blk U8 persistent", launch_flow<dtype::fp32, 256, 128, 8, 16, 4, false, false>},
      {"flow 128+128 4blk U8 persistent prefetch", launch_flow<dtype::fp32, 256, 128, 8, 16, 4, true, false>},
      {"flow 128+128 4blk U8 persistent prefetch sync", launch_flow<dtype::fp32, 256, 128, 8, 16, 4, true, true>},
  };
  const std::vector<variant> round16_sweep = {
      {"production", launch_production},
      {"flow 64+64 8blk persistent prefetch", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, true, false>},
      {"flow 64+64 8blk persistent prefetch sync", launch_flow<dtype::bf16, 128, 64, 4, 16, 8, true, true>},
  };
  const std::vector<variant> round16b = {  // gatherers trail the scanners chunk by chunk
      {"production", launch_production},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"trail 64+64 8blk", launch_trail<dtype::bf16, 128, 64, 4, 16, 8, false>},
      {"trail 64+64 8blk sleep", launch_trail<dtype::bf16, 128, 64, 4, 16, 8, true>},
      {"trail 64+64 8blk G8", launch_trail<dtype::bf16, 128, 64, 4, 8, 8, false>},
      {"chunked, no wait 64+64 8blk", launch_trail<dtype::bf16, 128, 64, 4, 16, 8, false, false>},
      {"trail 128+128 4blk", launch_trail<dtype::bf16, 256, 128, 4, 16, 4, false>},
      {"trail 128+128 4blk sleep", launch_trail<dtype::bf16, 256, 128, 4, 16, 4, true>},
      {"trail 64+128 5blk", launch_trail<dtype::bf16, 192, 64, 4, 16, 5, false>},
      {"trail 128+64 5blk", launch_trail<dtype::bf16, 192, 128, 4, 16, 5, false>},
      {"trail 32+32 16blk", launch_trail<dtype::bf16, 64, 32, 4, 16, 16, false>},
  };
  const std::vector<variant> round16b_f32 = {
      {"production", launch_production},
      {"trail 128+128 4blk U8", launch_trail<dtype::fp32, 256, 128, 8, 16, 4, false>},
      {"trail 128+128 4blk U8 sleep", launch_trail<dtype::fp32, 256, 128, 8, 16, 4, true>},
      {"trail 64+64 8blk U8", launch_trail<dtype::fp32, 128, 64, 8, 16, 8, false>},
  };
  const std::vector<variant> round16c = {  // the first wave's blocks start staggered
      {"production", launch_production},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"stagger 64+64 0 ns (=prod)", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 0>},
      {"stagger 64+64 1000 ns", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 1000>},
      {"stagger 64+64 2000 ns", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 2000>},
      {"stagger 64+64 4000 ns", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 4000>},
      {"stagger 64+64 8000 ns", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 8000>},
      {"stagger 128+128 2000 ns", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 2000>},
      {"stagger 128+128 4000 ns", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"stagger 64+64 12000 ns", launch_stagger<dtype::bf16, 128, 64, 4, 16, 8, 12000>},
      {"stagger 128+128 6000 ns", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 6000>},
      {"stagger 128+128 8000 ns", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 8000>},
  };
  const std::vector<variant> round17 = {  // a warp per row segment, rows combined in zeroed slots
      {"production", launch_production},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"seg U4 256thr 4blk (as in ccbc8ed)", launch_seg<dtype::bf16, 4, 256, 4, false>},
      {"seg U4 128thr 8blk", launch_seg<dtype::bf16, 4, 128, 8, false>},
      {"seg U8 256thr 3blk", launch_seg<dtype::bf16, 8, 256, 3, false>},
      {"seg U4 256thr 4blk persistent", launch_seg<dtype::bf16, 4, 256, 4, true>},
      {"seg U4 256thr 3blk persistent pipe", launch_seg<dtype::bf16, 4, 256, 3, true, 8, true>},
  };
  const std::vector<variant> round17_f32 = {
      {"production", launch_production},
      {"seg U4 256thr 4blk", launch_seg<dtype::fp32, 4, 256, 4, false>},
      {"seg U8 256thr 2blk", launch_seg<dtype::fp32, 8, 256, 2, false>},
  };
  const std::vector<variant> round18 = {  // rows cut anywhere: a persistent grid of equal ranges, out of phase on each SM
      {"production", launch_production},
      {"split 64+64 8blk (by name)", launch_prod_split<dtype::bf16, 128, 64, kPackUnroll, 16, 8>},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"phase 64+64 8blk spread", launch_phase<dtype::bf16, 128, 64, 4, 16, 8, true>},
      {"phase 64+64 8blk in block order", launch_phase<dtype::bf16, 128, 64, 4, 16, 8, false>},
      {"phase 128+128 4blk spread", launch_phase<dtype::bf16, 256, 128, 4, 16, 4, true>},
      {"phase 128+128 4blk in block order", launch_phase<dtype::bf16, 256, 128, 4, 16, 4, false>},
      {"phase 64+64 8blk spread G8", launch_phase<dtype::bf16, 128, 64, 4, 8, 8, true>},
      {"phase 32+32 16blk spread", launch_phase<dtype::bf16, 64, 32, 4, 16, 16, true>},
  };
  const std::vector<variant> round18_f32 = {
      {"production", launch_production},
      {"phase 128+128 4blk U8 spread", launch_phase<dtype::fp32, 256, 128, 8, 16, 4, true>},
      {"phase 64+64 8blk U8 spread", launch_phase<dtype::fp32, 128, 64, 8, 16, 8, true>},
  };
  const std::vector<variant> round19 = {  // production's split kernel with an L2 bulk prefetch of the row a wave ahead
      {"production", launch_production},
      {"split 64+64 8blk (by name)", launch_prod_split<dtype::bf16, 128, 64, kPackUnroll, 16, 8>},
      {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
      {"ahead 128+128 4blk 1/2 wave", launch_ahead<dtype::bf16, 256, 128, 4, 16, 4, 0, 2>},
      {"ahead 128+128 4blk 1 wave", launch_ahead<dtype::bf16, 256, 128, 4, 16, 4, 0, 4>},
      {"ahead 128+128 4blk 2 waves", launch_ahead<dtype::bf16, 256, 128, 4, 16, 4, 0, 8>},
      {"ahead 64+64 8blk 1/2 wave", launch_ahead<dtype::bf16, 128, 64, 4, 16, 8, 0, 2>},
      {"ahead 64+64 8blk 1 wave", launch_ahead<dtype::bf16, 128, 64, 4, 16, 8, 0, 4>},
      {"ahead 64+64 8blk 2 waves", launch_ahead<dtype::bf16, 128, 64, 4, 16, 8, 0, 8>},
      {"ahead 128+128 1 wave + stagger 4000 ns", launch_ahead<dtype::bf16, 256, 128, 4, 16, 4, 4000, 4>},
      {"stagger 128+128 4000 ns (16c)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
  };
  const std::vector<variant> round19_f32 = {
      {"production", launch_production},
      {"ahead 128+128 4blk U8 1/2 wave", launch_ahead<dtype::fp32, 256, 128, 8, 16, 4, 0, 2>},
      {"ahead 128+128 4blk U8 1 wave", launch_ahead<dtype::fp32, 256, 128, 8, 16, 4, 0, 4>},
  };
  const std::vector<variant> round20 = {  // a ring of row buffers: a producer warp, consumer groups
      {"production", launch_production},
      {"split 128+128 staggered (by name)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"ring tma 2x128", launch_ring<dtype::bf16, 128, 2, true>},
      {"ring tma 4x64", launch_ring<dtype::bf16, 64, 4, true>},
      {"ring tma 3x128", launch_ring<dtype::bf16, 128, 3, true>},
      {"ring tma 4x128", launch_ring<dtype::bf16, 128, 4, true>},
      {"ring tma 2x256", launch_ring<dtype::bf16, 256, 2, true>},
      {"ring tma 2x128, 2 blk/SM", launch_ring<dtype::bf16, 128, 2, true, 2>},
      {"ring tma 2x128, 4 stages", launch_ring<dtype::bf16, 128, 2, true, 1, 4>},
      {"ring ldgsts 2x128", launch_ring<dtype::bf16, 128, 2, false>},
      {"ring ldgsts 4x64", launch_ring<dtype::bf16, 64, 4, false>},
  };
  const std::vector<variant> round20_f32 = {
      {"production", launch_production},
      {"ring tma 2x128", launch_ring<dtype::fp32, 128, 2, true>},
      {"ring tma 2x256", launch_ring<dtype::fp32, 256, 2, true>},
      {"ring ldgsts 2x128", launch_ring<dtype::fp32, 128, 2, false>},
  };
  const std::vector<variant> round21 = {  // a warp per row, a 4K pack in one wave
      {"production", launch_production},
      {"split 128+128 staggered (by name)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"warp W4 U4 G8 8blk", launch_warp<dtype::bf16, 4, 4, 8, 8>},
      {"warp W4 U4 G8 8blk, gather after", launch_warp<dtype::bf16, 4, 4, 8, 8, false>},
      {"warp W4 U2 G8 8blk", launch_warp<dtype::bf16, 4, 2, 8, 8>},
      {"warp W4 U4 G4 8blk", launch_warp<dtype::bf16, 4, 4, 4, 8>},
      {"warp W4 U8 G8 8blk", launch_warp<dtype::bf16, 4, 8, 8, 8>},
      {"warp W8 U4 G8 4blk", launch_warp<dtype::bf16, 8, 4, 8, 4>},
      {"warp W4 U2 G4 16blk (32 regs)", launch_warp<dtype::bf16, 4, 2, 4, 16>},
      {"warp W4 U4 G8 6blk", launch_warp<dtype::bf16, 4, 4, 8, 6>},
  };
  const std::vector<variant> round21_f32 = {
      {"production", launch_production},
      {"warp W4 U4 G8 8blk", launch_warp<dtype::fp32, 4, 4, 8, 8>},
      {"warp W4 U2 G8 8blk", launch_warp<dtype::fp32, 4, 2, 8, 8>},
  };
  const std::vector<variant> round22 = {  // production's split kernel with more loads in flight per scanner (U)
      {"production", launch_production},
      {"split 128+128 4blk U4 staggered (by name)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"split 128+128 4blk U8", launch_prod_split<dtype::bf16, 256, 128, 8, 16, 4>},
      {"split 128+128 4blk U8 staggered", launch_stagger<dtype::bf16, 256, 128, 8, 16, 4, 4000>},
      {"split 128+128 4blk U6 staggered", launch_stagger<dtype::bf16, 256, 128, 6, 16, 4, 4000>},
      {"split 128+128 3blk U8 staggered", launch_stagger<dtype::bf16, 256, 128, 8, 16, 3, 4000>},
      {"split 64+64 8blk U8", launch_prod_split<dtype::bf16, 128, 64, 8, 16, 8>},
      {"split 64+64 8blk U8 staggered", launch_stagger<dtype::bf16, 128, 64, 8, 16, 8, 4000>},
      {"split 128+128 4blk U8 G8 staggered", launch_stagger<dtype::bf16, 256, 128, 8, 8, 4, 4000>},
      {"round 10's 64+64 6blk U8 hmax2", launch_split<128, 6, 0, 1, 16, 64, 8, dtype::bf16, true>},
      {"round 10's 128+128 4blk U8 hmax2", launch_split<256, 4, 0, 1, 16, 128, 8, dtype::bf16, true>},
      {"round 10's 128+128 3blk U8 hmax2", launch_split<256, 3, 0, 1, 16, 128, 8, dtype::bf16, true>},
  };
  using ring2::mode;
  const std::vector<variant> round23 = {  // round 20's ring taken apart, and rebuilt
      {"production", launch_production},
      {"ring tma 2x128 (round 20, by name)", launch_ring<dtype::bf16, 128, 2, true>},
      {"ring2 loads only 2x128, 1 copy/row", launch_ring2<dtype::bf16, 128, 2, mode::loads_only, 1>},
      {"ring2 loads only 2x128, 4 copies/row", launch_ring2<dtype::bf16, 128, 2, mode::loads_only, 4>},
      {"ring2 loads only 2x128, 16 copies/row", launch_ring2<dtype::bf16, 128, 2, mode::loads_only, 16>},
      {"ring2 loads only 3x128, 1 copy/row", launch_ring2<dtype::bf16, 128, 3, mode::loads_only, 1>},
      {"ring2 work only 2x128", launch_ring2<dtype::bf16, 128, 2, mode::work_only>},
      {"ring2 work only 3x128", launch_ring2<dtype::bf16, 128, 3, mode::work_only>},
      {"ring2 work only 2x256", launch_ring2<dtype::bf16, 256, 2, mode::work_only>},
      {"ring2 2x128, 1 copy/row", launch_ring2<dtype::bf16, 128, 2, mode::full, 1>},
      {"ring2 2x128, 4 copies/row", launch_ring2<dtype::bf16, 128, 2, mode::full, 4>},
      {"ring2 3x128, 1 copy/row", launch_ring2<dtype::bf16, 128, 3, mode::full, 1>},
      {"ring2 2x256, 1 copy/row", launch_ring2<dtype::bf16, 256, 2, mode::full, 1>},
      {"ring2 3x256, 1 copy/row", launch_ring2<dtype::bf16, 256, 3, mode::full, 1>},
  };
  const std::vector<variant> round24 = {  // the ring with a lean scan
      {"production", launch_production},
      {"split 128+128 staggered (by name)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"ring2 3x256 (round 23)", launch_ring2<dtype::bf16, 256, 3, mode::full, 1>},
      {"ring3 work only 2x128 U4", launch_ring3<dtype::bf16, 128, 2, 4, mode::work_only>},
      {"ring3 work only 2x128 U8", launch_ring3<dtype::bf16, 128, 2, 8, mode::work_only>},
      {"ring3 work only 2x256 U4", launch_ring3<dtype::bf16, 256, 2, 4, mode::work_only>},
      {"ring3 2x128 U4", launch_ring3<dtype::bf16, 128, 2, 4>},
      {"ring3 2x128 U8", launch_ring3<dtype::bf16, 128, 2, 8>},
      {"ring3 3x128 U4", launch_ring3<dtype::bf16, 128, 3, 4>},
      {"ring3 3x128 U8", launch_ring3<dtype::bf16, 128, 3, 8>},
      {"ring3 2x256 U4", launch_ring3<dtype::bf16, 256, 2, 4>},
      {"ring3 3x256 U4", launch_ring3<dtype::bf16, 256, 3, 4>},
      {"ring3 2x256 U8", launch_ring3<dtype::bf16, 256, 2, 8>},
  };
  const std::vector<variant> round25 = {  // the lean ring without guarded loads
      {"production", launch_production},
      {"ring3 3x256 U4 (round 24)", launch_ring3<dtype::bf16, 256, 3, 4>},
      {"ring4 2x128 U4", launch_ring4<dtype::bf16, 128, 2, 4>},
      {"ring4 2x128 U8", launch_ring4<dtype::bf16, 128, 2, 8>},
      {"ring4 3x128 U4", launch_ring4<dtype::bf16, 128, 3, 4>},
      {"ring4 3x128 U8", launch_ring4<dtype::bf16, 128, 3, 8>},
      {"ring4 2x256 U4", launch_ring4<dtype::bf16, 256, 2, 4>},
      {"ring4 3x256 U4", launch_ring4<dtype::bf16, 256, 3, 4>},
      {"ring4 2x256 U8", launch_ring4<dtype::bf16, 256, 2, 8>},
      {"ring4 3x256 U2", launch_ring4<dtype::bf16, 256, 3, 2>},
  };
  const std::vector<variant> round26 = {  // the lean ring with its draft columns in registers
      {"production", launch_production},
      {"ring3 3x256 U4 (round 24)", launch_ring3<dtype::bf16, 256, 3, 4>},
      {"ring4 3x256 U4 (round 25)", launch_ring4<dtype::bf16, 256, 3, 4>},
      {"ring4 2x128 U4 ids in regs 32", launch_ring4<dtype::bf16, 128, 2, 4, 32>},
      {"ring4 3x128 U4 ids in regs 32", launch_ring4<dtype::bf16, 128, 3, 4, 32>},
      {"ring4 2x256 U4 ids in regs 16", launch_ring4<dtype::bf16, 256, 2, 4, 16>},
      {"ring4 3x256 U4 ids in regs 16", launch_ring4<dtype::bf16, 256, 3, 4, 16>},
      {"ring4 3x256 U2 ids in regs 16", launch_ring4<dtype::bf16, 256, 3, 2, 16>},
      {"ring4 3x256 U4 ids in regs 8", launch_ring4<dtype::bf16, 256, 3, 4, 8>},
  };
  const std::vector<variant> round27 = {  // the lean ring in row segments, freed per warp
      {"production", launch_production},
      {"ring4 3x128 U4 ids in regs 32 (round 26)", launch_ring4<dtype::bf16, 128, 3, 4, 32>},
      {"ring5 3x256 U4, 2 segments", launch_ring5<dtype::bf16, 256, 3, 4, 2>},
      {"ring5 2x256 U4, 2 segments", launch_ring5<dtype::bf16, 256, 2, 4, 2>},
      {"ring5 3x128 U4, 2 segments", launch_ring5<dtype::bf16, 128, 3, 4, 2>},
      {"ring5 3x256 U2, 4 segments", launch_ring5<dtype::bf16, 256, 3, 2, 4>},
      {"ring5 3x128 U4, 4 segments", launch_ring5<dtype::bf16, 128, 3, 4, 4>},
      {"ring5 2x256 U2, 4 segments", launch_ring5<dtype::bf16, 256, 2, 2, 4>},
  };
  const std::vector<variant> round28 = {  // a block per row, the row by one bulk copy, many blocks per SM
      {"production", launch_production},
      {"split 128+128 staggered (by name)", launch_stagger<dtype::bf16, 256, 128, 4, 16, 4, 4000>},
      {"rowbulk 256 U4 6blk", launch_rowbulk<dtype::bf16, 256, 4, 6, false, false>},
      {"rowbulk 256 U4 6blk u16", launch_rowbulk<dtype::bf16, 256, 4, 6, true, false>},
      {"rowbulk 256 U4 6blk chunked", launch_rowbulk<dtype::bf16, 256, 4, 6, false, true>},
      {"rowbulk 256 U2 6blk chunked", launch_rowbulk<dtype::bf16, 256, 2, 6, false, true>},
      {"rowbulk 256 U2 6blk", launch_rowbulk<dtype::bf16, 256, 2, 6, false, false>},
      {"rowbulk 256 U4 6blk chunked u16", launch_rowbulk<dtype::bf16, 256, 4, 6, true, true>},
      {"rowbulk 128 U4 6blk", launch_rowbulk<dtype::bf16, 128, 4, 6, false, false>},
      {"rowbulk 128 U4 6blk chunked u16", launch_rowbulk<dtype::bf16, 128, 4, 6, true, true>},
      {"rowbulk 320 U2 6blk chunked", launch_rowbulk<dtype::bf16, 320, 2, 6, false, true>},
      {"rowbulk 512 U2 4blk chunked", launch_rowbulk<dtype::bf16, 512, 2, 4, false, true>},
  };
  const std::vector<variant> round29 = {  // round 28's kernel with fewer instructions per row
      {"production", launch_production},
      {"rowbulk 256 U4 6blk u16 (round 28)", launch_rowbulk<dtype::bf16, 256, 4, 6, true, false>},
      {"rowbulk2 256 U4", launch_rowbulk2<dtype::bf16, 256, 4, 6>},
      {"rowbulk2 256 U2", launch_rowbulk2<dtype::bf16, 256, 2, 6>},
      {"rowbulk2 128 U4", launch_rowbulk2<dtype::bf16, 128, 4, 6>},
      {"rowbulk2 128 U8", launch_rowbulk2<dtype::bf16, 128, 8, 6>},
      {"rowbulk2 192 U4", launch_rowbulk2<dtype::bf16, 192, 4, 6>},
      {"rowbulk2 loads only 256", launch_rowbulk2<dtype::bf16, 256, 4, 6, rowbulk2::mode::loads_only>},
      {"rowbulk2 work only 256 U4", launch_rowbulk2<dtype::bf16, 256, 4, 6, rowbulk2::mode::work_only>},
      {"rowbulk2 work only 128 U4", launch_rowbulk2<dtype::bf16, 128, 4, 6, rowbulk2::mode::work_only>},
  };
  const std::vector<variant> round30 = {  // round 29's kernel, its first wave's rows asked for in turns
      {"production", launch_production},
      {"rowbulk2 256 U2 (round 29)", launch_rowbulk2<dtype::bf16, 256, 2, 6>},
      {"rowbulk2 256 U2 step 500", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 500>},
      {"rowbulk2 256 U2 step 1000", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 1000>},
      {"rowbulk2 256 U2 step 1500", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 1500>},
      {"rowbulk2 256 U2 step 2000", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 2000>},
      {"rowbulk2 256 U2 step 3000", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 3000>},
      {"rowbulk2 256 U1", launch_rowbulk2<dtype::bf16, 256, 1, 6>},
      {"rowbulk2 256 U1 step 1500", launch_rowbulk2<dtype::bf16, 256, 1, 6, rowbulk2::mode::full, 1500>},
      {"rowbulk2 loads only 256 step 1500", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::loads_only, 1500>},
  };
  const std::vector<variant> round31 = {  // round 29's kernel traced: when its rows land and end
      {"production", launch_production},
      {"rowbulk2 256 U2 traced", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::full, 0, true>},
      {"rowbulk2 loads only 256 traced", launch_rowbulk2<dtype::bf16, 256, 2, 6, rowbulk2::mode::loads_only, 0, true>},
  };
  using rb2 = rowbulk2::mode;
  const std::vector<variant> round32 = {  // round 29's kernel, gathering as production does
      {"production", launch_production},
      {"rowbulk2 256 U2 (round 29)", launch_rowbulk2<dtype::bf16, 256, 2, 6>},
      {"rowbulk2 256 U2 lanes G8", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::full, 0, false, 8>},
      {"rowbulk2 256 U2 lanes G4", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::full, 0, false, 4>},
      {"rowbulk2 256 U4 lanes G4", launch_rowbulk2<dtype::bf16, 256, 4, 6, rb2::full, 0, false, 4>},
      {"rowbulk2 128 U4 lanes G8", launch_rowbulk2<dtype::bf16, 128, 4, 6, rb2::full, 0, false, 8>},
      {"rowbulk2 256 U2 lanes G8 step 1000", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::full, 1000, false, 8>},
      {"rowbulk2 work only 256 U2 lanes G8", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::work_only, 0, false, 8>},
      {"rowbulk2 work only 256 U2", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::work_only>},
      {"rowbulk2 256 U2 lanes G8 traced", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::full, 0, true, 8>},
  };
  const std::vector<variant> ncu33 = {  // round 29's kernel, whole and its work alone, for the profiler
      {"production", launch_production},
      {"rowbulk2 256 U2 (round 29)", launch_rowbulk2<dtype::bf16, 256, 2, 6>},
      {"rowbulk2 work only 256 U2", launch_rowbulk2<dtype::bf16, 256, 2, 6, rb2::work_only>},
  };
  const std::vector<variant> round33 = {  // the row's argmax in two passes over shared memory
      {"production", launch_production},
      {"rowbulk2 256 U2 (round 29)", launch_rowbulk2<dtype::bf16, 256, 2, 6>},
      {"rowbulk3 256 U2", launch_rowbulk3<dtype::bf16, 256, 2, 6>},
      {"rowbulk3 256 U4", launch_rowbulk3<dtype::bf16, 256, 4, 6>},
      {"rowbulk3 256 U8", launch_rowbulk3<dtype::bf16, 256, 8, 6>},
      {"rowbulk3 128 U4", launch_rowbulk3<dtype::bf16, 128, 4, 6>},
      {"rowbulk3 128 U8", launch_rowbulk3<dtype::bf16, 128, 8, 6>},
      {"rowbulk3 192 U4", launch_rowbulk3<dtype::bf16, 192, 4, 6>},
      {"rowbulk3 256 U4 step 1000", launch_rowbulk3<dtype::bf16, 256, 4, 6, 1000>},
  };
  const std::vector<variant> round34 = {  // round 33's kernel with production's 32-bit ids, and its first wave's step
      {"production", launch_production},
      {"rowbulk3 256 U4 step 1000 (round 33)", launch_rowbulk3<dtype::bf16, 256, 4, 6, 1000>},
      {"rowbulk3 256 U4 step 1000 ids32", launch_rowbulk3<dtype::bf16, 256, 4, 6, 1000, true>},
      {"rowbulk3 256 U4 ids32", launch_rowbulk3<dtype::bf16, 256, 4, 6, 0, true>},
      {"rowbulk3 256 U4 step 500 ids32", launch_rowbulk3<dtype::bf16, 256, 4, 6, 500, true>},
      {"rowbulk3 256 U4 step 1500 ids32", launch_rowbulk3<dtype::bf16, 256, 4, 6, 1500, true>},
      {"rowbulk3 256 U4 step 2000 ids32", launch_rowbulk3<dtype::bf16, 256, 4, 6, 2000, true>},
      {"rowbulk3 256 U2 step 1000 ids32", launch_rowbulk3<dtype::bf16, 256, 2, 6, 1000, true>},
  };
  const std::vector<variant> round35 = {  // production's bulk row with its row in chunks
      {"production", launch_production},
      {"production with cols16 (bulk row)", launch_production_cols16},
      {"rowchunk C1 step 1000", launch_rowchunk<dtype::bf16, 1, false, false, 1000>},
      {"rowchunk C2 step 1000", launch_rowchunk<dtype::bf16, 2, false, false, 1000>},
      {"rowchunk C4 step 1000", launch_rowchunk<dtype::bf16, 4, false, false, 1000>},
      {"rowchunk C8 step 1000", launch_rowchunk<dtype::bf16, 8, false, false, 1000>},
      {"rowchunk C2 interleaved step 1000", launch_rowchunk<dtype::bf16, 2, true, false, 1000>},
      {"rowchunk C4 interleaved step 1000", launch_rowchunk<dtype::bf16, 4, true, false, 1000>},
      {"rowchunk C4 interleaved loc32 1000", launch_rowchunk<dtype::bf16, 4, true, true, 1000>},
      {"rowchunk C4 interleaved step 500", launch_rowchunk<dtype::bf16, 4, true, false, 500>},
      {"rowchunk C1 loc32 step 1000", launch_rowchunk<dtype::bf16, 1, false, true, 1000>},
  };
  const std::vector<variant> round35t = {  // traced: when the rows' last chunks land and the blocks end
      {"production", launch_production},
      {"rowchunk C1 step 1000 traced", launch_rowchunk<dtype::bf16, 1, false, false, 1000, true>},
      {"rowchunk C4 interleaved traced", launch_rowchunk<dtype::bf16, 4, true, false, 1000, true>},
  };
  const std::vector<variant> round36 = {  // production's bulk row, its draft columns asked for first
      {"production", launch_production},
      {"production with cols16 (bulk row)", launch_production_cols16},
      {"rowpf (production's kernel)", launch_rowpf<false, 0>},
      {"rowpf loc32", launch_rowpf<true, 0>},
      {"rowpf pf L2", launch_rowpf<false, 1>},
      {"rowpf loc32 pf L2", launch_rowpf<true, 1>},
      {"rowpf loc32 pf L2+L1", launch_rowpf<true, 2>},
      {"rowpf loc32 pf L2 step 0", launch_rowpf<true, 1, 0>},
      {"rowpf loc32 pf L2 step 500", launch_rowpf<true, 1, 500>},
      {"rowpf loc32 pf L2 step 2000", launch_rowpf<true, 1, 2000>},
  };
  const std::vector<variant> round37 = {  // where a row's work goes: phases traced, and ablations
      {"production", launch_production},
      {"rowpf (production's kernel)", launch_rowpf<false, 0>},
      {"rowpf loc32", launch_rowpf<true, 0>},
      {"rowpf loc32 traced", launch_rowpf<true, 0, int(bulk::kStepNs), true>},
      {"rowpf loc32 no value stores", launch_rowpf<true, 0, int(bulk::kStepNs), false, 1>},
      {"rowpf loc32 no value stores traced", launch_rowpf<true, 0, int(bulk::kStepNs), true, 1>},
      {"rowpf loc32 one waiter", launch_rowpf<true, 0, int(bulk::kStepNs), false, 2>},
      {"rowpf loc32 one waiter traced", launch_rowpf<true, 0, int(bulk::kStepNs), true, 2>},
      {"rowpf loc32 gather first", launch_rowpf<true, 0, int(bulk::kStepNs), false, 3>},
      {"rowpf loc32 gather first traced", launch_rowpf<true, 0, int(bulk::kStepNs), true, 3>},
  };
  const std::vector<variant> round38 = {  // the values stored by the bulk-copy engine from shared memory
      {"production", launch_production},
      {"production with cols16 (bulk row)", launch_production_cols16},
      {"rowpf loc32", launch_rowpf<true, 0>},
      {"rowpf loc32 staged 2048", launch_rowpf<true, 0, int(bulk::kStepNs), false, 4>},
      {"rowpf loc32 staged 1024", launch_rowpf<true, 0, int(bulk::kStepNs), false, 5>},
      {"rowpf loc32 staged 2048 step 0", launch_rowpf<true, 0, 0, false, 4>},
      {"rowpf loc32 staged 2048 step 2000", launch_rowpf<true, 0, 2000, false, 4>},
      {"rowpf loc32 staged 2048 traced", launch_rowpf<true, 0, int(bulk::kStepNs), true, 4>},
  };
  const std::vector<variant> round39 = {  // a group's draft columns by 16-byte loads
      {"production", launch_production},
      {"production with cols16 (bulk row)", launch_production_cols16},
      {"rowpf loc32", launch_rowpf<true, 0>},
      {"rowpf vec cols", launch_rowpf<false, 0, int(bulk::kStepNs), false, 6>},
      {"rowpf loc32 vec cols", launch_rowpf<true, 0, int(bulk::kStepNs), false, 6>},
      {"rowpf loc32 vec cols step 2000", launch_rowpf<true, 0, 2000, false, 6>},
      {"rowpf loc32 vec cols step 500", launch_rowpf<true, 0, 500, false, 6>},
      {"rowpf loc32 vec cols traced", launch_rowpf<true, 0, int(bulk::kStepNs), true, 6>},
  };
  const std::vector<variant> round36t = {  // traced
      {"production", launch_production},
      {"rowpf traced", launch_rowpf<false, 0, int(bulk::kStepNs), true>},
      {"rowpf loc32 pf L2 traced", launch_rowpf<true, 1, int(bulk::kStepNs), true>},
      {"rowpf loc32 pf L2+L1 traced", launch_rowpf<true, 2, int(bulk::kStepNs), true>},
  };
  const double uniform = 32000.0 / 129280.0, skewed = 0.42 * 32000.0 / 16160.0;
  try {
    for (const auto& [name, vs] : std::vector<std::pair<std::string, std::vector<variant>>>{
             {"round1", round1}, {"round2", round2}, {"round3", round3}, {"decomp", decomp}, {"round4", round4},
             {"round5", round5}, {"round6", round6}, {"round7", round7},
             {"round8", round8}, {"round9", round9},
             {"round10", round10}, {"round13", round13}}) {
      if (round != "all" && round != name) continue;
      std::printf("== %s\n", name.c_str());
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", vs);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", vs);
      if (name != "decomp") run_shape<dtype::bf16>(4096, 16160, skewed, "bf16 tp8 4K skewed", vs);
    }
    if (round == "all" || round == "fp32") {
      std::printf("== fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", f32);
    }
    if (round == "all" || round == "round4") {
      std::printf("== round4 fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", round4_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", round4_f32);
      run_shape<dtype::fp32>(4096, 16160, 0.42 * 32000.0 / 16160.0, "fp32 tp8 4K skewed", round4_f32);
    }
    if (round == "all" || round == "round5") {
      std::printf("== round5 fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", round5_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", round5_f32);
      run_shape<dtype::fp32>(4096, 16160, skewed, "fp32 tp8 4K skewed", round5_f32);
      std::printf("== round5 bf16 tp4 (long rows)\n");
      run_shape<dtype::bf16>(8192, 32320, uniform, "bf16 tp4 8K uniform", round5);
      std::printf("== round5 bf16 tp8, cols not a multiple of 8 (tail)\n");
      run_shape<dtype::bf16>(4096, 16163, uniform, "bf16 16163 cols 4K", round5, 16168);
    }
    if (round == "all" || round == "round9") {
      std::printf("== round9 bf16 tp4 (long rows)\n");
      run_shape<dtype::bf16>(8192, 32320, uniform, "bf16 tp4 8K uniform", round9);
      std::printf("== round9 fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", round9_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", round9_f32);
      run_shape<dtype::fp32>(4096, 16160, skewed, "fp32 tp8 4K skewed", round9_f32);
    }
    if (round == "all" || round == "round13") {
      std::printf("== round13 fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", round13_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", round13_f32);
      std::printf("== round13 bf16 tp4 (long rows), usp 4K (8 x 519 rows)\n");
      run_shape<dtype::bf16>(8192, 32320, uniform, "bf16 tp4 8K uniform", round13);
      run_shape<dtype::bf16>(4152, 16160, uniform, "bf16 tp8 4152 rows", round13);
      run_shape<dtype::bf16>(4096, 16163, uniform, "bf16 16163 cols 4K", round13, 16168);
    }
    // Round 16's bf16 shapes: 4K, usp's 4152 rows, 32K, and 4K at 2.94 draft columns per vector.
    auto round16_bf16 = [&](const std::vector<variant>& vs) {
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", vs);
      run_shape<dtype::bf16>(4152, 16160, uniform, "bf16 tp8 4152 rows", vs);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", vs);
      run_shape<dtype::bf16>(4096, 16160, 2.94 / 8, "bf16 tp8 4K cpv 2.94", vs);
    };
    if (round == "round16") {
      std::printf("== round16 bf16\n");
      round16_bf16(round16);
      std::printf("== round16 fp32\n");
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", round16_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", round16_f32);
      std::printf("== round16 rows sweep (bf16 tp 8, uniform): the fixed part\n");
      for (const std::int64_t rows : {1056, 2112, 8192, 16384})
        run_shape<dtype::bf16>(rows, 16160, uniform, "bf16 tp8 rows", round16_sweep);
    }
    // Round 16b's and 17's shapes: round16_bf16's, the skewed rank 0, tail columns, fp32 4K and 32K.
    auto bf16_and_fp32 = [&](const char* name, const std::vector<variant>& vs, const std::vector<variant>& vs_f32) {
      std::printf("== %s bf16\n", name);
      round16_bf16(vs);
      run_shape<dtype::bf16>(4096, 16160, skewed, "bf16 tp8 4K skewed", vs);
      run_shape<dtype::bf16>(4096, 16163, uniform, "bf16 16163 cols 4K", vs, 16168);
      std::printf("== %s fp32\n", name);
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 tp8 4K uniform", vs_f32);
      run_shape<dtype::fp32>(32768, 16160, uniform, "fp32 tp8 32K uniform", vs_f32);
    };
    if (round == "round16b") bf16_and_fp32("round16b", round16b, round16b_f32);
    if (round == "round16c") {
      g_read_roofline = true;
      std::printf("== round16c bf16\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", round16c);
      run_shape<dtype::bf16>(4152, 16160, uniform, "bf16 tp8 4152 rows", round16c);
      run_shape<dtype::bf16>(1056, 16160, uniform, "bf16 tp8 1056 rows", round16c);
      run_shape<dtype::bf16>(2112, 16160, uniform, "bf16 tp8 2112 rows", round16c);
      run_shape<dtype::bf16>(8192, 16160, uniform, "bf16 tp8 8K uniform", round16c);
      run_shape<dtype::bf16>(16384, 16160, uniform, "bf16 tp8 16K uniform", round16c);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", round16c);
      std::printf("== the harness generator's values (what bench --kernels packs)\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 4K generator", round16c, 0, true);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 32K generator", round16c, 0, true);
      run_shape<dtype::fp32>(4096, 16160, uniform, "fp32 4K generator", round16b_f32, 0, true);
    }
    if (round == "round17") {
      bf16_and_fp32("round17", round17, round17_f32);
      run_shape<dtype::bf16>(1056, 16160, uniform, "bf16 tp8 1056 rows", round17);
    }
    // Rounds 18's and 19's shapes: round 16b's, the rows sweep, the generator's values, tp 4 rows.
    auto rows_and_more = [&](const char* name, const std::vector<variant>& vs, const std::vector<variant>& vs_f32) {
      bf16_and_fp32(name, vs, vs_f32);
      for (const std::int64_t rows : {1056, 2112, 8192, 16384})
        run_shape<dtype::bf16>(rows, 16160, uniform, "bf16 tp8 rows", vs);
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 4K generator", vs, 0, true);
      run_shape<dtype::bf16>(8192, 32320, uniform, "bf16 tp4 8K uniform", vs);
    };
    if (round == "round18") rows_and_more("round18", round18, round18_f32);
    if (round == "round19") rows_and_more("round19", round19, round19_f32);
    if (round == "round20") rows_and_more("round20", round20, round20_f32);
    if (round == "round21") rows_and_more("round21", round21, round21_f32);
    if (round == "round22") {
      std::printf("== round22 bf16\n");
      round16_bf16(round22);
      run_shape<dtype::bf16>(4096, 16160, skewed, "bf16 tp8 4K skewed", round22);
      run_shape<dtype::bf16>(4096, 16163, uniform, "bf16 16163 cols 4K", round22, 16168);
      for (const std::int64_t rows : {1056, 2112, 8192, 16384})
        run_shape<dtype::bf16>(rows, 16160, uniform, "bf16 tp8 rows", round22);
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 4K generator", round22, 0, true);
    }
    if (round == "thresholds") {  // draft columns per 16-byte vector (cpv) of DeepSeek-V3's shards, and between
      char label[64];
      for (const std::int64_t rows : {4096, 32768})
        for (const double cpv : {0.62, 1.0, 1.5, 2.0, 2.5, 2.94, 3.5, 4.0, 5.0, 6.72}) {
          std::snprintf(label, sizeof label, "bf16 tp8 %lldK cpv %.2f", (long long)(rows / 1024), cpv);
          run_shape<dtype::bf16>(rows, 16160, cpv / 8, label, thresholds_2b);
        }
      for (const double cpv : {0.66, 0.93, 1.51, 2.0, 3.0, 4.83}) {
        std::snprintf(label, sizeof label, "bf16 tp4 8K cpv %.2f", cpv);
        run_shape<dtype::bf16>(8192, 32320, cpv / 8, label, thresholds_2b);
      }
      for (const std::int64_t rows : {4096, 32768})
        for (const double cpv : {0.31, 0.62, 1.0, 1.47, 2.0, 2.5, 3.36}) {
          std::snprintf(label, sizeof label, "fp32 tp8 %lldK cpv %.2f", (long long)(rows / 1024), cpv);
          run_shape<dtype::fp32>(rows, 16160, cpv / 4, label, thresholds_f32);
        }
    }
    if (round == "thresholds_check") {  // round 14's choice, rerun: production should read as its best kernel
      char label[64];
      for (const std::int64_t rows : {4096, 32768})
        for (const double cpv : {2.0, 2.94, 3.5}) {
          std::snprintf(label, sizeof label, "bf16 tp8 %lldK cpv %.2f", (long long)(rows / 1024), cpv);
          run_shape<dtype::bf16>(rows, 16160, cpv / 8, label, thresholds_2b);
        }
      for (const double cpv : {0.93, 1.51, 2.0}) {
        std::snprintf(label, sizeof label, "bf16 tp4 8K cpv %.2f", cpv);
        run_shape<dtype::bf16>(8192, 32320, cpv / 8, label, thresholds_2b);
      }
      for (const std::int64_t rows : {4096, 32768})
        for (const double cpv : {0.62, 1.0, 1.47, 2.0, 2.5}) {
          std::snprintf(label, sizeof label, "fp32 tp8 %lldK cpv %.2f", (long long)(rows / 1024), cpv);
          run_shape<dtype::fp32>(rows, 16160, cpv / 4, label, thresholds_f32);
        }
    }
    // bf16 tp 2 rows (64 640 columns), 4K and 8K of them, at each of these draft columns per vector.
    auto bf16_tp2 = [&](std::initializer_list<double> cpvs) {
      char label[64];
      for (const std::int64_t rows : {4096, 8192})
        for (const double cpv : cpvs) {
          std::snprintf(label, sizeof label, "bf16 tp2 %lldK cpv %.2f", (long long)(rows / 1024), cpv);
          run_shape<dtype::bf16>(rows, 64640, cpv / 8, label, thresholds_2b);
        }
    };
    if (round == "thresholds_long") {  // rows over 64 KiB (fp32 at tp 4, 2-byte types at tp 2), not in round 14's sweep
      char label[64];
      for (const double cpv : {0.47, 0.98, 1.5, 2.0}) {  // fp32 tp 4: skewed 2.4 / 0.76 / 0.47 / 0.33, uniform 0.98
        std::snprintf(label, sizeof label, "fp32 tp4 8K cpv %.2f", cpv);
        run_shape<dtype::fp32>(8192, 32320, cpv / 4, label, thresholds_f32);
      }
      bf16_tp2({0.79, 1.5, 1.98, 3.17});  // skewed 3.17 / 0.79, uniform 1.98
    }
    // Between the measured 0.79 and 1.98: where 128 + 128 overtakes scan-then-gather.
    if (round == "tp2_mid") bf16_tp2({1.0, 1.25, 1.5, 1.75});
    // Rounds 23-27's shapes: 4K, usp's 4 152 rows and 32K uniform, [2.94 draft columns per vector,]
    // the skewed rank 0, tail columns, [a rows sweep,] the generator's values.
    auto ring_round = [&](const char* name, const std::vector<variant>& vs, bool cpv, std::initializer_list<std::int64_t> sweep) {
      std::printf("== %s bf16\n", name);
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", vs);
      run_shape<dtype::bf16>(4152, 16160, uniform, "bf16 tp8 4152 rows", vs);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", vs);
      if (cpv) run_shape<dtype::bf16>(4096, 16160, 2.94 / 8, "bf16 tp8 4K cpv 2.94", vs);
      run_shape<dtype::bf16>(4096, 16160, skewed, "bf16 tp8 4K skewed", vs);
      run_shape<dtype::bf16>(4096, 16163, uniform, "bf16 16163 cols 4K", vs, 16168);
      for (const std::int64_t rows : sweep) run_shape<dtype::bf16>(rows, 16160, uniform, "bf16 tp8 rows", vs);
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 4K generator", vs, 0, true);
    };
    if (round == "round23") ring_round("round23", round23, false, {});
    if (round == "round24") ring_round("round24", round24, true, {1056, 2112, 8192, 16384});
    if (round == "round25") ring_round("round25", round25, true, {1056, 2112, 8192, 16384});
    if (round == "round26") ring_round("round26", round26, true, {1056, 8192});
    if (round == "round27") ring_round("round27", round27, true, {1056, 8192});
    if (round == "round28") ring_round("round28", round28, true, {1056, 2112, 8192, 16384});
    if (round == "round29") ring_round("round29", round29, true, {1056, 2112, 8192, 16384});
    if (round == "round30") ring_round("round30", round30, true, {1056, 2112, 8192, 16384});
    if (round == "round32") ring_round("round32", round32, true, {1056, 2112, 8192});
    if (round == "round33") ring_round("round33", round33, true, {1056, 2112, 8192, 16384});
    if (round == "round34") ring_round("round34", round34, true, {1056, 2112, 8192, 16384});
    // Rounds 35, 36, 38 and 39: ring_round's shapes, each variant also timed alone after 256 MB written.
    for (const auto& [name, vs] : std::vector<std::pair<std::string, const std::vector<variant>*>>{
             {"round35", &round35}, {"round36", &round36}, {"round38", &round38}, {"round39", &round39}}) {
      if (round != name) continue;
      g_isolated_all = true;
      ring_round(name.c_str(), *vs, true, {1056, 8192});
      g_isolated_all = false;
    }
    if (round == "round37") {
      std::printf("== round37 bf16\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", round37);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", round37);
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 4K generator", round37, 0, true);
    }
    if (round == "round36t") {
      std::printf("== round36t bf16\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", round36t);
    }
    if (round == "round35t") {
      std::printf("== round35t bf16\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", round35t);
    }
    if (round == "round31") {
      std::printf("== round31 bf16\n");
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", round31);
      run_shape<dtype::bf16>(1056, 16160, uniform, "bf16 tp8 rows", round31);
    }
    for (const auto& [name, vs] : std::vector<std::pair<std::string, const std::vector<variant>*>>{
             {"ncu23", &round23}, {"ncu24", &round24}, {"ncu25", &round25}, {"ncu26", &round26}, {"ncu28", &round28}, {"ncu29", &round29}, {"ncu30", &round30}, {"ncu33", &ncu33}, {"ncu34", &round33}, {"ncu35", &round35}, {"ncu36", &round36}, {"ncu38", &round38}, {"ncu39", &round39}}) {
      if (round != name) continue;  // one launch of each of the round's kernels at 4K, for the profiler
      g_profile_only = true;
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", *vs);
    }
    if (round == "ncu4") {
      g_profile_only = true;
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", round4);
    }
    if (round == "ncu19") {  // production's split kernels at 4K and 32K, one launch each, for the profiler
      g_profile_only = true;
      const std::vector<variant> vs = {
          {"production", launch_production},
          {"split 128+128 4blk (by name)", launch_prod_split<dtype::bf16, 256, 128, kPackUnroll, 16, 4>},
          {"split 64+64 8blk (by name)", launch_prod_split<dtype::bf16, 128, 64, kPackUnroll, 16, 8>},
      };
      run_shape<dtype::bf16>(4096, 16160, uniform, "bf16 tp8 4K uniform", vs);
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", vs);
    }
    if (round == "ncu") {  // one launch of each for the profiler, no timing loops
      g_profile_only = true;
      run_shape<dtype::bf16>(32768, 16160, uniform, "bf16 tp8 32K uniform", decomp);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prune_variants: %s\n", e.what());
    return 3;
  }
  return 0;
}
