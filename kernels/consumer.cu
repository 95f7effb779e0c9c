// The consumer stage (target_p and position_mask, one block of kLanes threads per row, the lanes
// being exactly harness/core/consumer_ops.h's lanes) and its verifier (the same kernel reading the
// row's definition and comparing instead of writing).
#include <algorithm>
#include <climits>
#include <string>

#include "harness/core/error.h"
#include "kernels/api.cuh"
#include "kernels/cuda_check.h"
#include "kernels/device_types.cuh"
#include "kernels/row_scan.cuh"

namespace sb::kernels {

namespace {

struct row_shared {
  float m[kLanes], s[kLanes], v[kLanes];
  long long idx[kLanes];
};

// Combines the lanes in the fixed tree (lane l += lane l+s), leaving the totals in lane 0.
__device__ void reduce_lanes(row_shared& sh) {
  const int l = int(threadIdx.x);
  for (int s = kLanes / 2; s > 0; s >>= 1) {
    if (l < s) {
      softmax_state a{sh.m[l], sh.s[l]}, b{sh.m[l + s], sh.s[l + s]};
      softmax_state c = softmax_combine(a, b);
      sh.m[l] = c.m;
      sh.s[l] = c.s;
      arg_max x = arg_combine({sh.v[l], sh.idx[l]}, {sh.v[l + s], sh.idx[l + s]});
      sh.v[l] = x.v;
      sh.idx[l] = x.i;
    }
    __syncthreads();
  }
}

__device__ __forceinline__ void note_mismatch(unsigned long long& count, unsigned long long& first, std::int64_t i) {
  ++count;
  first = std::min(first, static_cast<unsigned long long>(i));
}

// Row totals from every lane's softmax state and argmax: the fixed tree, read by every lane.
struct row_totals {
  softmax_state total;
  std::int64_t best;
};
__device__ __forceinline__ row_totals block_totals(row_shared& sh, softmax_state st, arg_max a) {
  const int l = int(threadIdx.x);
  sh.m[l] = st.m;
  sh.s[l] = st.s;
  sh.v[l] = a.v;
  sh.idx[l] = a.i;
  __syncthreads();
  reduce_lanes(sh);
  return {{sh.m[0], sh.s[0]}, sh.idx[0]};
}

// This lane's first k >= k0 among its k = l (mod kLanes).
__device__ __forceinline__ std::int64_t first_lane_k(int l, std::int64_t k0) {
  return k0 + ((l - k0) % kLanes + kLanes) % kLanes;
}

// Lane 0 writes row i's position_mask from the row's argmax; the barrier keeps the shared totals
// (read by every lane) from being overwritten by the next row before all lanes have read them.
__device__ __forceinline__ void finish_row(const consumer_desc& d, std::int64_t i, std::int64_t best) {
  if (threadIdx.x == 0) d.position_mask[i] = in_draft(d.d2t, d.vd, best) ? consumer_loss_mask(d, i) : 0;
  __syncthreads();
}

template <dtype T>
struct block_reader {  // one pruned peer block of row i: value(k) at base + k
  const char* base;
  __device__ __forceinline__ float operator()(std::int64_t k) const { return load_as_float(base, k, T); }
};

// each(value, first, end) for every pruned peer block of row i, in block order: this lane's k in
// [k0, k0 + n), first the lowest k = l mod kLanes in it. The blocks tile [0, vd) in order
// (check() says so), so a lane still meets its k in increasing order, with no block test per value.
template <dtype T, typename Each>
__device__ __forceinline__ void for_each_pruned_block(const consumer_desc& d, std::int64_t i, int l, Each&& each) {
  for (int q = 0; q < d.n_peers; ++q) {
    const pruned_block& b = d.peers[q];
    block_reader<T> value{static_cast<const char*>(d.src) + b.values_offset + (i * b.n - b.k0) * std::int64_t(dtype_size(T))};
    each(value, first_lane_k(l, b.k0), b.k0 + b.n);
  }
}

// The consumer after pruned: consumer_kernel's lanes (same pushes in the same order, same tree, so
// the same bits) through harness/core/consumer_ops.h's lane helpers, walking the peer blocks one after
// another (for_each_pruned_block) instead of finding the block of every value. On an H200 1.49x
// over consumer_kernel at 32K, and 1.11-1.12x over a typed reader that looks up each value's block
// (docs/kernels.md, "The consumer stage"). U = 1: 2 and 4 were no faster.
template <dtype T, int U>
__global__ void __launch_bounds__(kLanes) pruned_blocks_kernel(const __grid_constant__ consumer_desc d) {
  __shared__ row_shared sh;
  const int l = int(threadIdx.x);
  const std::int64_t rows = d.rows();
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    arg_max a;
    if (l < d.n_peers) a = pruned_argmax(d, i, l);
    softmax_state st;
    for_each_pruned_block<T>(d, i, l, [&](auto& value, std::int64_t first, std::int64_t end) {
      softmax_lane<U>(st, value, first, end, kLanes);
    });
    const auto [total, best] = block_totals(sh, st, a);
    float* out = d.target_p + i * d.vd;
    for_each_pruned_block<T>(d, i, l, [&](auto& value, std::int64_t first, std::int64_t end) {
      softmax_probs_lane<U>(total, value, first, end, kLanes, [&](std::int64_t k, float p) { __stcs(out + k, p); });
    });
    finish_row(d, i, best);
  }
}

// First index k with d2t[k] >= c (d2t is sorted).
__device__ __forceinline__ int first_draft_at(const std::int32_t* d2t, int vd, int c) {
  int lo = 0, hi = vd;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (d2t[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

struct stash_reader {  // the second pass's values, from where the first pass kept them
  const float* out;
  __device__ __forceinline__ float operator()(std::int64_t k) const { return out[k]; }
};

constexpr int kScanChunkCols = row_scan<dtype::fp32, kLanes>::chunk_vecs * row_scan<dtype::fp32, kLanes>::per;
constexpr int kMaxScanChunks = 64;  // fp32 rows up to 262 144 columns take scan_push_kernel

// The consumer after a full path (fp32 rows): one pass over the row for both the argmax and the
// softmax sums. Each chunk of the row scan is followed by the lanes' pushes of the draft columns
// inside it (k in [chunk_k[j], chunk_k[j + 1]), lane l taking k = l mod kLanes; across the chunks
// each lane still pushes its k in increasing order, so the bits are consumer_kernel's), read while
// the chunk is in L1/L2 instead of from DRAM a second time. With Stash the first pass also keeps
// the draft values in target_p, and the probabilities read them back from there (each lane its
// own k, so no barrier) instead of gathering them from the row a third time. On an H200 this took
// the stage from 0.43-0.47 of a D2D copy to 0.79-0.82 (docs/kernels.md).
template <int U, bool Stash>
__global__ void __launch_bounds__(kLanes) scan_push_kernel(const __grid_constant__ consumer_desc d) {
  using scan = row_scan<dtype::fp32, kLanes>;
  __shared__ row_shared sh;
  __shared__ int chunk_k[kMaxScanChunks + 1];
  const int l = int(threadIdx.x), cols = int(d.vocab), vd = int(d.vd), nvec = cols / scan::per;
  const int nchunks = (nvec + scan::chunk_vecs - 1) / scan::chunk_vecs;
  for (int j = l; j <= nchunks; j += kLanes) chunk_k[j] = j == nchunks ? vd : first_draft_at(d.d2t, vd, j * kScanChunkCols);
  __syncthreads();
  const std::int64_t rows = d.rows();
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const float* row = static_cast<const float*>(d.src) + i * d.src_ld;
    const char* bytes = reinterpret_cast<const char*>(row);
    float* out = d.target_p + i * d.vd;
    full_row_reader<dtype::fp32> value{row, d.d2t};
    scan s;
    softmax_state st;
    auto push = [&](int ka, int kb) {
      const std::int64_t first = first_lane_k(l, ka);
      if constexpr (Stash) softmax_lane<U>(st, value, first, kb, kLanes, [out](std::int64_t k, float x) { out[k] = x; });
      else softmax_lane<U>(st, value, first, kb, kLanes);
    };
    for (int j = 0; j < nchunks; ++j) {
      s.chunk(bytes, j * scan::chunk_vecs, nvec);
      push(chunk_k[j], chunk_k[j + 1]);
    }
    if (nchunks == 0) push(0, vd);
    s.tail(bytes, cols);
    const auto [total, best] = block_totals(sh, st, s.result(0));
    auto store = [&](std::int64_t k, float p) { __stcs(out + k, p); };
    if constexpr (Stash) {
      stash_reader again{out};
      softmax_probs_lane<U>(total, again, l, d.vd, kLanes, store);
    } else {
      softmax_probs_lane<U>(total, value, l, d.vd, kLanes, store);
    }
    finish_row(d, i, best);
  }
}

template <consumer_source Src, bool Compare>
__global__ void __launch_bounds__(kLanes) consumer_kernel(const __grid_constant__ consumer_desc d, verify_scratch* s,
                                                          bool vec) {
  __shared__ row_shared sh;
  const int l = int(threadIdx.x);
  unsigned long long bad_p = 0, first_p = ULLONG_MAX, bad_m = 0, first_m = ULLONG_MAX;
  const std::int64_t rows = d.rows();
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    arg_max a;
    if constexpr (Src == consumer_source::pruned) {
      if (l < d.n_peers) a = pruned_argmax(d, i, l);
    } else if (Src == consumer_source::memory && vec) {  // fp32 rows, 16-byte aligned
      a = scan_row<dtype::fp32, kLanes>(reinterpret_cast<const char*>(static_cast<const float*>(d.src) + i * d.src_ld), int(d.vocab), 0);
    } else {
      for (std::int64_t c = l; c < d.vocab; c += kLanes) {
        const float v = consumer_full_value(d, i, c);
        if (a.i < 0 || v > a.v) a = {v, c};  // increasing c: the first maximum is the lowest column
      }
    }
    softmax_state st;
    int q = 0;
    for (std::int64_t k = l; k < d.vd; k += kLanes) softmax_push(st, draft_value_from<Src>(d, i, k, q));
    const auto [total, best] = block_totals(sh, st, a);
    q = 0;
    for (std::int64_t k = l; k < d.vd; k += kLanes) {
      const float p = softmax_prob(total, draft_value_from<Src>(d, i, k, q));
      const std::int64_t o = i * d.vd + k;
      if constexpr (Compare) {
        if (!same_probability(p, d.target_p[o])) note_mismatch(bad_p, first_p, o);
      } else {
        __stcs(d.target_p + o, p);
      }
    }
    if (l == 0) {
      const std::int32_t pm = in_draft(d.d2t, d.vd, best) ? consumer_loss_mask(d, i) : 0;
      if constexpr (Compare) {
        if (d.position_mask[i] != pm) note_mismatch(bad_m, first_m, i);
      } else {
        d.position_mask[i] = pm;
      }
    }
    __syncthreads();  // lane 0's totals are read before the next row overwrites them
  }
  if constexpr (Compare) {
    if (bad_p) {
      atomicAdd(&s[0].count, bad_p);
      atomicMin(&s[0].first_index, first_p);
    }
    if (bad_m) {
      atomicAdd(&s[1].count, bad_m);
      atomicMin(&s[1].first_index, first_m);
    }
  }
}

int row_blocks(const consumer_desc& d) { return int(row_blocks_for(d.rows())); }

// fp32 rows in memory that the 16-byte row scan can read.
bool vector_rows(const consumer_desc& d) {
  return d.source == consumer_source::memory && d.src_type == dtype::fp32 &&
         (reinterpret_cast<std::uintptr_t>(d.src) & 15u) == 0 && d.src_ld % 4 == 0 && d.vocab < (std::int64_t(1) << 31);
}

template <bool Compare>
void launch_consumer_kernel(const consumer_desc& d, verify_scratch* s, cudaStream_t stream) {
  const int blocks = row_blocks(d);
  const bool vec = vector_rows(d);
  switch (d.source) {
    case consumer_source::memory: consumer_kernel<consumer_source::memory, Compare><<<blocks, kLanes, 0, stream>>>(d, s, vec); break;
    case consumer_source::generated: consumer_kernel<consumer_source::generated, Compare><<<blocks, kLanes, 0, stream>>>(d, s, vec); break;
    case consumer_source::pruned: consumer_kernel<consumer_source::pruned, Compare><<<blocks, kLanes, 0, stream>>>(d, s, vec); break;
  }
  SB_CUDA_LAUNCH();
}

std::string str(std::int64_t v) { return std::to_string(v); }

void check(const consumer_desc& d) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw_runtime("consumer: " + what);
  };
  need(d.def.win_len > 0 && d.def.windows >= 0, "empty row mapping (win_len=" + str(d.def.win_len) + ")");
  need(d.vd > 0 && d.d2t != nullptr, "no draft vocabulary (vd=" + str(d.vd) + ")");
  need(d.target_p != nullptr && d.position_mask != nullptr, "outputs are null");
  need(d.source == consumer_source::generated || d.src != nullptr, "src is null");
  need(d.source != consumer_source::memory || d.src_ld >= d.vocab, "src_ld=" + str(d.src_ld) + " < vocab=" + str(d.vocab));
  need(d.source != consumer_source::pruned || (d.n_peers > 0 && d.n_peers <= kMaxPrunedPeers),
       "n_peers=" + str(d.n_peers) + " out of range");
  if (d.source == consumer_source::pruned) {
    std::int64_t k = 0;
    for (int q = 0; q < d.n_peers; ++q) {
      need(d.peers[q].k0 == k && d.peers[q].n >= 0,
           "pruned block " + str(q) + " holds [" + str(d.peers[q].k0) + ", +" + str(d.peers[q].n) + ") where " + str(k) + " was next");
      k += d.peers[q].n;
    }
    need(k == d.vd, "pruned blocks hold " + str(k) + " draft columns, not vd=" + str(d.vd));
  }
  need(d.source == consumer_source::generated || d.src_type == dtype::bf16 || d.src_type == dtype::fp16 ||
           d.src_type == dtype::fp32,
       "values of type " + std::string(to_string(d.src_type)) + " (bf16, fp16 or fp32)");
}
void launch_pruned_blocks(const consumer_desc& d, cudaStream_t stream) {
  switch (d.src_type) {
    case dtype::bf16: pruned_blocks_kernel<dtype::bf16, 1><<<row_blocks(d), kLanes, 0, stream>>>(d); break;
    case dtype::fp16: pruned_blocks_kernel<dtype::fp16, 1><<<row_blocks(d), kLanes, 0, stream>>>(d); break;
    case dtype::fp32: pruned_blocks_kernel<dtype::fp32, 1><<<row_blocks(d), kLanes, 0, stream>>>(d); break;
    default: throw_runtime("consumer: pruned values must be bf16, fp16 or fp32");  // check() said so
  }
  SB_CUDA_LAUNCH();
}

}  // namespace

void launch_consume(const consumer_desc& d, cudaStream_t stream) {
  check(d);
  if (d.rows() == 0) return;
  if (d.source == consumer_source::pruned) {
    launch_pruned_blocks(d, stream);
  } else if (vector_rows(d) && d.vocab <= std::int64_t(kMaxScanChunks) * kScanChunkCols) {
    scan_push_kernel<4, true><<<row_blocks(d), kLanes, 0, stream>>>(d);
    SB_CUDA_LAUNCH();
  } else {  // generated rows (tests), unaligned or longer rows: the verifier's kernel, writing
    launch_consumer_kernel<false>(d, nullptr, stream);
  }
}

void launch_verify_consumer(const consumer_desc& d, verify_scratch* scratch, cudaStream_t stream) {
  if (!scratch) throw_runtime("launch_verify_consumer: scratch is null");
  check(d);
  verify_scratch init[2] = {{0, ULLONG_MAX}, {0, ULLONG_MAX}};
  SB_CUDA(cudaMemcpyAsync(scratch, init, sizeof init, cudaMemcpyHostToDevice, stream));
  if (d.rows() == 0) return;
  launch_consumer_kernel<true>(d, scratch, stream);
}

}  // namespace sb::kernels
