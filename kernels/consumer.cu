// The consumer stage (target_p and position_mask, one block of kLanes threads per row, the lanes
// being exactly harness/consumer_ops.h's lanes), its verifier (the same kernel reading the row's
// definition and comparing instead of writing), and the pruned variant's sender.
#include <algorithm>
#include <climits>
#include <optional>
#include <string>

#include "harness/cuda_check.h"
#include "harness/error.h"
#include "kernels/api.cuh"
#include "kernels/device_types.cuh"

namespace sb::kernels {

namespace {

constexpr std::int64_t kMaxRowBlocks = 132 * 16;
constexpr std::int64_t kMaxPackBlocks = std::int64_t(1) << 20;  // one block per row up to here

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

constexpr int kPackUnroll = 4;  // 16-byte loads in flight per thread in a row scan
constexpr unsigned kPackStaggerNs = 4000;  // the H100's staggered first wave (pick_pack_kernel)

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
  // only if m beats the running maximum (tools/experiments build their chunks around this too).
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
// the same bits) through harness/consumer_ops.h's lane helpers, walking the peer blocks one after
// another (for_each_pruned_block) instead of finding the block of every value. On the H200 1.49x
// over consumer_kernel at 32K, and 1.11-1.12x over the typed per-value reader of round 11
// (docs/kernel-notes.md, rounds 11-12; that kernel is tools/experiments' lanes_kernel). Production
// takes U = 1; U = 2 and 4 were no faster. Select: the branch-free exp (the same bits), a candidate
// that tools/experiments/consumer_variants.cu times; production launches Select = false.
template <dtype T, int U, bool Select = false>
__global__ void __launch_bounds__(kLanes) pruned_blocks_kernel(const __grid_constant__ consumer_desc d) {
  __shared__ row_shared sh;
  const int l = int(threadIdx.x);
  const std::int64_t rows = d.rows();
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    arg_max a;
    if (l < d.n_peers) a = pruned_argmax(d, i, l);
    softmax_state st;
    for_each_pruned_block<T>(d, i, l, [&](auto& value, std::int64_t first, std::int64_t end) {
      softmax_lane<U, Select>(st, value, first, end, kLanes);
    });
    const auto [total, best] = block_totals(sh, st, a);
    float* out = d.target_p + i * d.vd;
    for_each_pruned_block<T>(d, i, l, [&](auto& value, std::int64_t first, std::int64_t end) {
      softmax_probs_lane<U, Select>(total, value, first, end, kLanes, [&](std::int64_t k, float p) { __stcs(out + k, p); });
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
// own k, so no barrier) instead of gathering them from the row a third time. On the H200 the
// stash at U = 4 went from 0.43-0.47 of a D2D copy to 0.79-0.82 (round 11). Select as in
// pruned_blocks_kernel (production: false).
template <int U, bool Stash, bool Select = false>
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
      if constexpr (Stash) softmax_lane<U, Select>(st, value, first, kb, kLanes, [out](std::int64_t k, float x) { out[k] = x; });
      else softmax_lane<U, Select>(st, value, first, kb, kLanes);
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
      softmax_probs_lane<U, Select>(total, again, l, d.vd, kLanes, store);
    } else {
      softmax_probs_lane<U, Select>(total, value, l, d.vd, kLanes, store);
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

int row_blocks(const consumer_desc& d) { return int(std::min<std::int64_t>(d.rows(), kMaxRowBlocks)); }

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

constexpr int kPackThreads = 256;  // the generic sender's block, and the 2-byte types' vectorised one

// Barrier 1 for the block's first N threads (barrier 0 is __syncthreads): the whole block, or the
// scanners of prune_split_kernel while its gatherers go on.
template <int N>
__device__ __forceinline__ void sync_first() {
  asm volatile("bar.sync 1, %0;" ::"n"(N) : "memory");
}

// The argmax of the block's first NT threads, left in thread 0. The argmax is exact, so the
// combining order cannot change it.
template <int NT>
__device__ __forceinline__ arg_max block_argmax(arg_max a) {
  __shared__ float wv[NT / 32];
  __shared__ long long wi[NT / 32];
  for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
  const int l = int(threadIdx.x);
  if ((l & 31) == 0) {
    wv[l / 32] = a.v;
    wi[l / 32] = a.i;
  }
  sync_first<NT>();
  if (l < 32) {
    a = l < NT / 32 ? arg_max{wv[l], wi[l]} : arg_max{};
    for (int o = 16; o > 0; o >>= 1) a = arg_combine(a, {__shfl_down_sync(~0u, a.v, o), __shfl_down_sync(~0u, a.i, o)});
  }
  sync_first<NT>();  // the slots are free for the next row
  return a;
}

// A row's pair from its argmax: none (no columns) is -inf at the shard's first column.
__device__ __forceinline__ pruned_pair pair_of(const arg_max& a, std::int64_t col_base) {
  return a.i < 0 ? pruned_pair{-INFINITY, std::int32_t(col_base)} : pruned_pair{a.v, std::int32_t(a.i)};
}

template <int NT>
__device__ __forceinline__ void write_pair(pruned_pair* at, std::int64_t col_base, arg_max a) {
  a = block_argmax<NT>(a);
  if (threadIdx.x == 0) *at = pair_of(a, col_base);
}

// One destination's rows in a batched pack: its row mapping, and where its values and pairs go.
struct prune_rows {
  std::int64_t first = 0;    // its first row in the launch's numbering
  std::int64_t win_len = 1;  // rows per window of its mapping
  row_rule rule{};
  void* values = nullptr;
  pruned_pair* pairs = nullptr;
};

constexpr int kMaxPruneBatch = 16;  // destinations per launch: the parameters stay within 4 KiB

struct prune_batch {
  prune_desc d;  // the shard and its draft columns; d's rows mapping, values and pairs are unused
  prune_rows dst[kMaxPruneBatch];
  int n = 0;
  std::int64_t rows = 0;  // over all destinations
};
static_assert(sizeof(prune_batch) <= 4096, "kernel parameters beyond 4 KiB need CUDA 12.1 and a recent driver");

// Launch row g of a batched pack: its destination's rows, its index there, and its source row
// (-1: a zero row).
struct located {
  const prune_rows& pr;
  std::int64_t i, r;
};
// The destination holding launch row g.
template <typename Row>
__device__ __forceinline__ const prune_rows& destination_of(const prune_batch& b, Row g) {
  int t = 0;
  while (t + 1 < b.n && g >= b.dst[t + 1].first) ++t;
  return b.dst[t];
}

__device__ __forceinline__ located locate(const prune_batch& b, std::int64_t g) {
  const prune_rows& pr = destination_of(b, g);
  const std::int64_t i = g - pr.first;
  return {pr, i, pr.rule.source(i / pr.win_len, i % pr.win_len)};
}

// The same for launches of at most INT_MAX rows (a destination's window no longer than its rows), by
// 32-bit division.
__device__ __forceinline__ located locate32(const prune_batch& b, int g) {
  const prune_rows& pr = destination_of(b, g);
  const unsigned i = unsigned(g) - unsigned(pr.first), wl = unsigned(pr.win_len), w = i / wl;
  return {pr, std::int64_t(i), pr.rule.source(w, i - w * wl)};
}

// Source row r of the shard, as words of the logits' size.
template <typename word>
__device__ __forceinline__ const word* shard_row(const prune_desc& d, std::int64_t r) {
  return reinterpret_cast<const word*>(static_cast<const char*>(d.rows.src) + r * d.rows.src_ld * std::int64_t(sizeof(word)));
}

// A zero row (r < 0) by lane l of NT: zeros for its draft columns, and its argmax, its first column.
template <int NT, typename word>
__device__ __forceinline__ arg_max zero_row(word* out, int l, int n_ids, int cols, std::int64_t col_base) {
  arg_max a;
  if (l == 0 && cols > 0) a = {0.0f, col_base};
  for (int k = l; k < n_ids; k += NT) out[k] = 0;
  return a;
}

// This thread's draft columns (ids sorted by column), G at a time: ids k = k0 + u·NT, u < G, and how
// far they are gathered.
template <int NT, int G>
struct draft_cursor {
  int k0;     // the current round's first id of this thread
  int c[G];   // its columns relative to the shard, INT_MAX past the last id
  int lo = 0; // columns below lo are gathered

  __device__ __forceinline__ void load(const prune_desc& d) {
#pragma unroll
    for (int u = 0; u < G; ++u) c[u] = k0 + u * NT < d.n_ids ? __ldg(d.ids + k0 + u * NT) - int(d.col_base) : INT_MAX;
  }

  // Copies the draft columns in [lo, hi) from row to out (a round's ids in flight together); moves
  // to the next round while this one is used up below hi.
  template <typename word>
  __device__ __forceinline__ void gather_below(const word* row, word* out, const prune_desc& d, int hi) {
    for (;;) {
      word v[G];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (c[u] >= lo && c[u] < hi) v[u] = row[c[u]];
#pragma unroll
      for (int u = 0; u < G; ++u)
        if (c[u] >= lo && c[u] < hi) out[k0 + u * NT] = v[u];
      if (c[G - 1] >= hi || k0 + NT * G >= d.n_ids) break;  // ids left at or past hi, or none left
      k0 += NT * G;
      load(d);
    }
    lo = hi;
  }
};

// The pruned sender for the aligned rows prune_split_kernel does not take (pick_pack_kernel: long
// 2-byte rows outside their split ranges of draft columns per vector, fp32 rows over 64 KiB or with
// many draft columns per vector), every destination's rows in one launch (eight launches of a 4K
// usp window's 519 rows ran at 0.70 of a D2D copy, one launch of all of them at about the rate of
// one long one): one block per row, the argmax scan a chunk at a time, and after each chunk the
// gather of its draft columns (G in flight per thread, ids read before the scan), while the chunk is in L1/L2. Gathering
// after the whole row instead relied on the row staying in L2 from scan to gather: true for tp 8's
// 32 KB bf16 rows, not for tp 2's 129 KB (528 resident rows, 68 MB, exceed the 50 MB L2; the gather
// then read the row from DRAM again: 0.53-0.54 of a D2D copy against 0.77-0.80 interleaved). NT: 256
// threads for 2-byte types, 1024 for fp32. MinBlocks holds the registers to what 4 (2-byte types, 64
// registers) or 2 (fp32, 32) resident blocks per SM allow: a 1024-thread block above 32 registers
// fits only once per SM (fp32 0.77 of a D2D copy instead of 0.93). docs/kernel-notes.md has the
// numbers and what else was tried: an L2 prefetch of the next row from a persistent grid, a warp
// per row, a shared-memory row, all slower.
template <dtype T, int NT, int G, int MinBlocks>
__global__ void __launch_bounds__(NT, MinBlocks) prune_vec_kernel(const __grid_constant__ prune_batch b) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
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
      draft_cursor<NT, G> ids{l};
      ids.load(d);
      const int nvec = cols / s.per;
      for (int v0 = 0; v0 < nvec; v0 += s.chunk_vecs) {
        s.chunk(bytes, v0, nvec);
        const bool last = v0 + s.chunk_vecs >= nvec;  // the last chunk takes the tail's ids too
        ids.gather_below(row, out, d, last ? INT_MAX : (v0 + s.chunk_vecs) * s.per);
      }
      if (nvec == 0) ids.gather_below(row, out, d, INT_MAX);
      s.tail(bytes, cols);
      a = s.result(d.col_base);
    }
    write_pair<NT>(pr.pairs + i, d.col_base, a);
  }
}

// The pruned sender for aligned rows up to 128 KiB with few enough draft columns
// (pick_pack_kernel), its block in two groups: the first S threads scan the row for the argmax (U
// loads in flight each) while the other NT - S gather the row's draft columns at the same time, their loads hitting what the scan brings
// into L2 or merging with its misses, so the row still comes from DRAM once. Each SM then always has
// threads streaming rows, where blocks that scan and then gather (prune_vec_kernel, which had these
// rows before) pause their rows' traffic while they gather. On an H200 at tp 8
// (32K rows, a uniform draft vocabulary): bf16 0.86-0.88 of a D2D copy against 0.73 scan-then-
// gather, fp32 (U 8) 0.95 against 0.81 with 64 + 64, 0.98 with 128 + 128. pick_pack_kernel picks
// the block shape by the row's bytes and draft columns per vector; docs/kernel-notes.md has the
// rounds of variants.
// Row r's draft columns into out, lane l of NG gatherers (a zero row, r < 0, gives zeros).
template <class word, int NG, int G>
__device__ __forceinline__ void gather_row(const prune_desc& d, std::int64_t r, word* out, int l, int n_ids) {
  if (r >= 0) {
    draft_cursor<NG, G> ids{l};
    ids.load(d);
    ids.gather_below(shard_row<word>(d, r), out, d, INT_MAX);
  } else {
    for (int k = l; k < n_ids; k += NG) out[k] = 0;
  }
}

// Row g of a split block: its scanners' (lane l of S) argmax pair, or its gatherers' (lane l of
// NT - S) draft columns. The kernel's loop body, shared with the experiments' variants of it.
template <dtype T, int NT, int S, int U, int G>
__device__ __forceinline__ void split_row(const prune_batch& b, std::int64_t g, bool scanner, int l, int n_ids, int cols) {
  using word = std::conditional_t<T == dtype::fp32, std::uint32_t, std::uint16_t>;
  constexpr int NG = NT - S;
  static_assert(S % 32 == 0 && NG % 32 == 0, "whole warps in each group");
  const prune_desc& d = b.d;
  const auto [pr, i, r] = locate(b, g);
  if (scanner) {
    arg_max a;
    if (r >= 0) a = scan_row<T, S, U>(reinterpret_cast<const char*>(shard_row<word>(d, r)), cols, d.col_base);
    else if (l == 0 && cols > 0) a = {0.0f, d.col_base};  // a zero row: its first column is its argmax
    write_pair<S>(pr.pairs + i, d.col_base, a);
  } else {
    gather_row<word, NG, G>(d, r, static_cast<word*>(pr.values) + i * d.n_ids, l, n_ids);
  }
}

// first_wave, stagger_ns: the launch's first wave of blocks (those below first_wave) start at
// staggered times, block b after stagger_ns · (b mod 16) / 16, so that their rows, and the changes
// of row where an SM's blocks all reduce, gather from L2 and start anew at once, no longer line up
// (docs/kernel-notes.md, round 16c: on an H100 at 4K rows 0.908 of the copy against 0.889;
// round 19: 0.905 against 0.881).
template <dtype T, int NT, int S, int U, int G, int MinBlocks>
__global__ void __launch_bounds__(NT, MinBlocks) prune_split_kernel(const __grid_constant__ prune_batch b, int first_wave = 0,
                                                                    unsigned stagger_ns = 0) {
  if (int(blockIdx.x) < first_wave) __nanosleep(stagger_ns * (blockIdx.x % 16) / 16);
  const prune_desc& d = b.d;
  const bool scanner = int(threadIdx.x) < S;
  const int l = scanner ? int(threadIdx.x) : int(threadIdx.x) - S, n_ids = int(d.n_ids), cols = int(d.valid_cols);
  for (std::int64_t g = blockIdx.x; g < b.rows; g += gridDim.x) split_row<T, NT, S, U, G>(b, g, scanner, l, n_ids, cols);
}

// The H100's pack of short 2-byte rows (tp 8 of DeepSeek-V3: 32 KB): a block per row, the whole row
// brought into shared memory by one bulk copy (cp.async.bulk) the moment the block starts, six rows
// in flight per SM, each either landing or being worked on. The split kernel's blocks hold their
// rows' loads in registers and an SM's blocks end their rows together, so DRAM idles while they
// reduce and start anew (docs/kernel-notes.md, rounds 16-19); here a new block's first act is a
// 32 KB request. Its work is cut to what DRAM's rate leaves room for (rounds 29 and 33: ncu counted
// 6 200 warp instructions per row before): the row's location by thread 0 alone; the argmax in two
// passes over shared memory (the thread's maximum by packed maxima, the row's by a REDUX per warp
// over order-preserving keys, then only the threads holding it search their own columns in order
// for its first one: exact, the first column holding the maximum, -0 and +0 alike, and its own
// bits read back); the draft columns as 16-bit shard columns (cols16: 32-bit ids read 0.04 slower,
// round 34), read as 16-byte vectors (round 39: 0.015-0.055 on every 4K shape), eight to a thread
// and one 16-byte store. The first wave's blocks ask for their rows in
// turns, one block per SM per `step_ns`, so that the rows of the first wave do not all land, and
// their blocks end, together. NaN rows are outside the argmax's contract here as for the other
// kernels (its combine is not associative over NaN).
namespace bulk {

constexpr int kThreads = 256, kUnroll = 4, kBlocksPerSm = 6;
constexpr unsigned kStepNs = 1000;
constexpr std::int64_t kMaxRowBytes = 36 * 1024;  // six such rows and their blocks' reserve in 228 KiB

__device__ __forceinline__ unsigned smem_addr(const void* p) { return unsigned(__cvta_generic_to_shared(p)); }

// bytes from src into dst by the bulk-copy engine, completing bar's phase 0 (one arrival).
__device__ __forceinline__ void start_copy(void* dst, const void* src, unsigned bytes, std::uint64_t* bar) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(bar)) : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_addr(bar)), "r"(bytes) : "memory");
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(smem_addr(dst)),
               "l"(src), "r"(bytes), "r"(smem_addr(bar))
               : "memory");
}

__device__ __forceinline__ void wait_copy(std::uint64_t* bar) {
  unsigned done = 0;
  do {
    asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0; selp.u32 %0, 1, 0, p; }"
                 : "=r"(done) : "r"(smem_addr(bar)) : "memory");
  } while (!done);
}

// Keys whose unsigned order is the floats' order (-0 below +0); 0 is below every real value's key.
__device__ __forceinline__ unsigned ordered_key(float f) {
  const unsigned u = __float_as_uint(f);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}
__device__ __forceinline__ float key_value(unsigned k) { return __uint_as_float(k & 0x80000000u ? k & 0x7fffffffu : ~k); }

template <dtype T>
using pair2 = std::conditional_t<T == dtype::bf16, __nv_bfloat162, __half2>;

template <dtype T>
__device__ __forceinline__ pair2<T> as_pair(unsigned x) {
  pair2<T> p;
  memcpy(&p, &x, 4);
  return p;
}

// The thread's maximum over its vectors l, l + kThreads, ... of the staged row (NaN padding and NaN
// elements never win a packed maximum), then over its tail columns.
template <dtype T>
__device__ __forceinline__ float thread_max(const uint4* sh, const std::uint16_t* row, int nvec, int staged, int cols, int l) {
  pair2<T> acc = as_pair<T>(~0u);
  for (int v0 = l; v0 - l < nvec; v0 += kThreads * kUnroll) {
    uint4 u[kUnroll];
#pragma unroll
    for (int q = 0; q < kUnroll; ++q) {
      const int v = v0 + q * kThreads;
      u[q] = v < nvec ? sh[v] : make_uint4(~0u, ~0u, ~0u, ~0u);
    }
#pragma unroll
    for (int q = 0; q < kUnroll; ++q)
      acc = __hmax2(acc, __hmax2(__hmax2(as_pair<T>(u[q].x), as_pair<T>(u[q].y)), __hmax2(as_pair<T>(u[q].z), as_pair<T>(u[q].w))));
  }
  float m = fmaxf(__low2float(acc), __high2float(acc));
  for (int c = staged + l; c < cols; c += kThreads) m = fmaxf(m, load_as_float(row, c, T));
  return m;
}

// The groups of eight draft columns of a row (column k = h + 8g in group g), each gathered from the
// staged row (or the row in global memory past `staged`) into one 16-byte store at out + k. Their
// columns come from the two 16-byte vectors of cols16 holding them, cv[g] and cv[g + 1] (one when
// o is 0): they start o 2-byte words into cv[g], the same o for every group of the row, so the
// words are picked by Q = o / 2 (one case per value, unrolled) and shifted 16 bits when o is odd.
// Round 39: eight 2-byte loads a group, lanes 16 bytes apart, took four L1 wavefronts each, more
// than the row's shared-memory reads; these take four to eight a warp.
template <int Q>
__device__ __forceinline__ void gather_groups(const std::uint16_t* srw, const std::uint16_t* row, std::uint16_t* out, const uint4* cv,
                                              int o, int h, int groups, int staged, int l) {
  const unsigned shift = unsigned(o & 1) * 16u;
  for (int g = l; g < groups; g += kThreads) {
    const uint4 a = __ldg(cv + g), b = o > 0 ? __ldg(cv + g + 1) : make_uint4(0u, 0u, 0u, 0u);
    const unsigned w[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
    int c[8];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const unsigned x = __funnelshift_r(w[Q + j], w[Q + j + 1], shift);
      c[2 * j] = int(x & 0xffffu);
      c[2 * j + 1] = int(x >> 16);
    }
    unsigned v[8];
    if (c[7] < staged) {  // sorted: every one of the eight is staged
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = srw[c[e]];
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = c[e] < staged ? srw[c[e]] : row[c[e]];
    }
    *reinterpret_cast<uint4*>(out + h + 8 * g) = make_uint4(v[0] | v[1] << 16, v[2] | v[3] << 16, v[4] | v[5] << 16, v[6] | v[7] << 16);
  }
}

// The row's draft columns into out: the columns before out's first 16-byte boundary and after its
// last one singly, the rest eight to a thread and one 16-byte store (cols16 sorted: a group whose
// last column is staged is staged throughout; read in the whole 16-byte vectors holding them).
__device__ __forceinline__ void gather(const std::uint16_t* srw, const std::uint16_t* row, std::uint16_t* out,
                                       const std::uint16_t* cols16, int n_ids, int staged, int l) {
  auto one = [&](int k) {
    const int c = int(__ldg(cols16 + k));
    return c < staged ? srw[c] : row[c];
  };
  const int h = min(n_ids, int((8 - (reinterpret_cast<std::uintptr_t>(out) / 2) % 8) % 8));
  const int groups = (n_ids - h) / 8;
  if (l < h) out[l] = one(l);
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(cols16 + h);  // group 0's first column
  const uint4* cv = reinterpret_cast<const uint4*>(first & ~std::uintptr_t(15));
  const int o = int(first & 15u) / 2;
  switch (o / 2) {
    case 0: gather_groups<0>(srw, row, out, cv, o, h, groups, staged, l); break;
    case 1: gather_groups<1>(srw, row, out, cv, o, h, groups, staged, l); break;
    case 2: gather_groups<2>(srw, row, out, cv, o, h, groups, staged, l); break;
    default: gather_groups<3>(srw, row, out, cv, o, h, groups, staged, l); break;
  }
  for (int k = h + 8 * groups + l; k < n_ids; k += kThreads) out[k] = one(k);
}

// The lowest column of the staged row (then its tail) equal to M among this thread's, or INT_MAX.
template <dtype T>
__device__ __forceinline__ int first_of(const uint4* sh, const std::uint16_t* row, float M, int nvec, int staged, int cols, int l) {
  constexpr int per = 8;
  int col = INT_MAX;
  for (int v = l; v < nvec && col == INT_MAX; v += kThreads) {
    const uint4 u = sh[v];
#pragma unroll
    for (int e = per - 1; e >= 0; --e)
      if (element_of<T>(u, e) == M) col = v * per + e;
  }
  for (int c = staged + l; c < cols && col == INT_MAX; c += kThreads)
    if (load_as_float(row, c, T) == M) col = c;
  return col;
}

// Launch row blockIdx.x of b (2-byte rows, cols16 given). first_wave, step_ns: blocks below
// first_wave wait step_ns · (blockIdx.x / sms) before asking for their rows.
template <dtype T>
__global__ void __launch_bounds__(kThreads, kBlocksPerSm) prune_bulk_kernel(const __grid_constant__ prune_batch b, int first_wave,
                                                                            int sms, unsigned step_ns) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
  static_assert(T == dtype::bf16 || T == dtype::fp16, "2-byte rows: packed maxima");
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
  if (l == 0) {  // one thread locates the row (32-bit: round 35 measured 0.3-0.9 µs against 64-bit) and asks for it
    const auto [pr0, i0, r0] = locate32(b, int(blockIdx.x));
    s_t = int(&pr0 - b.dst);
    s_i = i0;
    s_r = r0;
    if (r0 >= 0 && nvec > 0) {
      if (int(blockIdx.x) < first_wave) __nanosleep(step_ns * (blockIdx.x / unsigned(sms)));
      start_copy(sh, shard_row<word>(d, r0), unsigned(nvec) * 16u, &full);
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
  if (nvec > 0) wait_copy(&full);
  const float m = thread_max<T>(sh, row, nvec, staged, cols, l);
  unsigned key = __reduce_max_sync(~0u, m == m ? ordered_key(m) : 0u);
  if (lane == 0) s_key[warp] = key;
  const word* srw = reinterpret_cast<const word*>(sh);
  gather(srw, row, out, d.cols16, n_ids, staged, l);  // while the warps' maxima meet
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
  }
#else
  __trap();  // the bulk-copy engine: sm_90 on (pick_pack_kernel asks for it)
#endif
}

// Shared memory for a row's whole 16-byte vectors, in 128-byte lines.
int row_smem(const prune_desc& d) { return int(std::max<std::int64_t>(1, (d.valid_cols / 8 + 7) / 8) * 128); }

}  // namespace bulk

// The pruned sender for generated rows (emulated peers) and unaligned ones, element by element.
__global__ void __launch_bounds__(kPackThreads) prune_kernel(const __grid_constant__ prune_desc d) {
  const int l = int(threadIdx.x);
  const std::int64_t rows = d.rows.windows * d.rows.win_len;
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    const std::int64_t r = remap_src_row(d.rows, i / d.rows.win_len, i % d.rows.win_len);
    arg_max a;
    if (r < 0) {
      if (l == 0 && d.valid_cols > 0) a = {0.0f, d.col_base};
    } else {
      for (std::int64_t c = l; c < d.valid_cols; c += kPackThreads) {
        const float v = prune_source_value(d, r, c);
        if (a.i < 0 || v > a.v) a = {v, d.col_base + c};
      }
    }
    for (std::int64_t k = l; k < d.n_ids; k += kPackThreads)
      store_from_float(d.values, i * d.n_ids + k, d.rows.src_type, r < 0 ? 0.0f : prune_source_value(d, r, d.ids[k] - d.col_base));
    write_pair<kPackThreads>(d.pairs + i, d.col_base, a);
  }
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

namespace {

std::int64_t pack_rows(const prune_desc& d) { return d.rows.windows * d.rows.win_len; }

void check(const prune_desc& d) {
  if (d.pairs == nullptr || (d.n_ids > 0 && (d.values == nullptr || d.ids == nullptr)))
    throw_runtime("launch_prune_pack: values, pairs or ids is null");
  if (!d.rows.src_generated && d.rows.src == nullptr) throw_runtime("launch_prune_pack: src is null");
  if ((reinterpret_cast<std::uintptr_t>(d.pairs) & 7u) != 0) throw_runtime("launch_prune_pack: pairs are not 8-byte aligned");
  const dtype t = d.rows.src_type;
  if (t != dtype::bf16 && t != dtype::fp16 && t != dtype::fp32)
    throw_runtime("launch_prune_pack: logits must be bf16, fp16 or fp32 (got " + std::string(to_string(t)) + ")");
}

// 16-byte row loads need every row start aligned: the shard base and its row pitch.
bool vectorizable(const prune_desc& d) {
  const std::size_t es = dtype_size(d.rows.src_type);
  return !d.rows.src_generated && (reinterpret_cast<std::uintptr_t>(d.rows.src) & 15u) == 0 &&
         (std::size_t(d.rows.src_ld) * es) % 16 == 0 && d.valid_cols < (std::int64_t(1) << 31) &&
         d.n_ids < (std::int64_t(1) << 31);
}

// Whether b's destinations can join a's launch: the same shard and the same draft columns.
bool same_source(const prune_desc& a, const prune_desc& b) {
  return a.rows.src == b.rows.src && a.rows.src_type == b.rows.src_type && a.rows.src_ld == b.rows.src_ld &&
         a.ids == b.ids && a.cols16 == b.cols16 && a.n_ids == b.n_ids && a.col_base == b.col_base && a.valid_cols == b.valid_cols;
}

// The sender's kernel for a batch's rows, by the row's bytes and its draft columns per 16-byte vector
// (cpv: 2.0 for 2-byte types and 1.0 for fp32 with a uniform draft vocabulary at any tp; rank 0 of
// the skewed one at tp 8 6.7 / 3.4, rank 1 2.9 / 1.5). Measured on the H200 (docs/kernel-notes.md,
// round 14: every kernel at 10 cpv from 0.6 to 6.7, 4K and 32K rows, identical bytes), what each
// range reads of a D2D copy with the kernel picked, against the next best:
// - 2-byte rows up to 48 KiB (tp 8): 64 scanners + 64 gatherers, 8 blocks per SM, up to 3.5 cpv
//   (0.61-0.78 with 4K rows, 0.77-0.90 with 32K; at 2.5-3.5 0.72-0.85 against 0.69-0.76 for
//   128 + 128); above, 128 + 128, 4 blocks
//   (0.69-0.73), where 64 gatherers fall behind (0.46-0.64 at 4-6.7).
// - 2-byte rows up to 64 KiB (tp 4): 128 + 128 from 1.25 to 2.5 cpv (0.82 against 0.78 at 1.5 and
//   2.0); outside, scan-then-gather (0.77-0.80 at 0.66-0.93, 0.57-0.74 at 3-4.8).
// - 2-byte rows up to 128 KiB (tp 2): 64 + 64 from 1.75 to 2.5 cpv (0.82 against 0.71 at the
//   uniform 2.0), 128 + 128 above (0.66 against 0.63 at 3.2) and from 1.25 to 1.75 (at 1.5 0.79 /
//   0.84 against 0.78 / 0.80 with 4K / 8K rows); up to 1.25, scan-then-gather (0.79-0.84 at
//   0.8-1.25 against at most 0.77 / 0.82), whose per-chunk gather keeps the row in L1/L2
//   (kernel-notes' third round). Longer rows (tp 1, not measured) take it too.
// - fp32 rows up to 64 KiB: 128 + 128 with 8 loads in flight per scanner up to 2.25 cpv (0.80-0.98
//   against 0.66-0.96 for 64 + 64); above, and on longer rows (tp 4: 0.84-0.95 at 0.5-2.0 against
//   0.61-0.93), the 1024-thread scan-then-gather (0.72-0.78).
// - On an H100 (5 120-bit bus; every range above is the H200's), 128 + 128 beats 64 + 64 on rows
//   up to 48 KiB and 3.5 cpv between two and eight waves of 64 + 64 blocks (8 per SM): at 4K-8K
//   rows and 2.0 cpv 0.879-0.927 against 0.857-0.915 in each of five runs on lent H100s (rounds
//   14, 16, 16b, 16c, 17), at 2.94 cpv 0.869-0.874 against 0.849-0.852. Outside, 64 + 64 stays:
//   ahead over one or two waves (1 056 rows: 0.973 against 0.912; 2 112: 0.934 against 0.908), and
//   at 16K-32K rows within 0.01 either way (16K 0.960 against 0.955). On the H200 (6 144-bit bus)
//   64 + 64 led at 4K (0.779 against 0.734). Other cards were not measured; narrower buses take
//   the H100's choice. In bench --kernels the gain is smaller: 4K pruned packs (batch / usp)
//   0.836 / 0.901 against 0.833 / 0.896 in one call on one H100 (docs/results.md).
// - On the H100 the first wave of 128 + 128 blocks starts staggered over 4 µs in the same range
//   (round 16c: 4K 0.908 against 0.889, 4 152 rows 0.942 against 0.925, 8K 0.937 against 0.927;
//   round 19: 0.905 / 0.938 / 0.933 against 0.881 / 0.917 / 0.921). In bench --kernels, 4K pruned
//   packs (batch / usp) 0.845 / 0.894 against 0.829 / 0.886 in consecutive calls on one H100.
// - On an H100 with the draft columns as 16-bit shard columns (cols16), 2-byte rows of up to 36 KiB
//   and 7 cpv over more than one wave of 64 + 64 blocks take the bulk-copy kernel (rounds 33 and
//   34, against the choice above in the same runs: 4K rows 0.909-0.919 against 0.896-0.906, the
//   generator's values 0.927-0.931 against 0.897-0.905, usp's 4 152 rows 0.940-0.956 against
//   0.927-0.938, 2.94 cpv 0.906-0.912 against 0.875-0.881, the skewed rank 0 (6.6 cpv) 0.842
//   against 0.817, 2K-32K rows 0.927-1.025 against 0.912-0.991). Over one wave (1 056 rows) 64 + 64
//   stays (0.965-0.968 against 0.90-0.91). Densities below 2.0 cpv and the H200 were not measured.
enum class pack_kernel { split_64, split_128, split_128_staggered, bulk_row, scan_then_gather };

pack_kernel pick_pack_kernel(const prune_desc& d, std::int64_t rows, const pack_card& card) {
  const std::int64_t bytes = d.valid_cols * std::int64_t(dtype_size(d.rows.src_type)), vecs = bytes / 16;
  auto cpv_at_most = [&](int quarters) { return d.n_ids * 4 <= vecs * quarters; };  // cpv <= quarters / 4
  if (d.rows.src_type == dtype::fp32)
    return bytes <= 64 * 1024 && cpv_at_most(9) ? pack_kernel::split_128 : pack_kernel::scan_then_gather;
  const std::int64_t wave = std::int64_t(8) * card.sms;  // of 64 + 64 blocks
  if (d.cols16 != nullptr && card.cc >= 90 && card.bus_bits < 6144 && bytes <= bulk::kMaxRowBytes && cpv_at_most(28) &&
      rows > wave && rows <= INT_MAX)  // a block per row
    return pack_kernel::bulk_row;
  if (bytes <= 48 * 1024) {
    if (!cpv_at_most(14)) return pack_kernel::split_128;
    const bool two_to_eight_waves = rows > 2 * wave && rows <= 8 * wave;
    return card.bus_bits < 6144 && two_to_eight_waves ? pack_kernel::split_128_staggered : pack_kernel::split_64;
  }
  if (bytes <= 64 * 1024 && !cpv_at_most(5) && cpv_at_most(10)) return pack_kernel::split_128;
  if (bytes > 64 * 1024 && bytes <= 128 * 1024 && !cpv_at_most(5))
    return !cpv_at_most(7) && cpv_at_most(10) ? pack_kernel::split_64 : pack_kernel::split_128;
  return pack_kernel::scan_then_gather;
}

template <dtype T>
void launch_two_byte(const prune_batch& b, unsigned blocks, const pack_card& card, cudaStream_t stream) {
  switch (pick_pack_kernel(b.d, b.rows, card)) {
    case pack_kernel::split_64: prune_split_kernel<T, 128, 64, kPackUnroll, 16, 8><<<blocks, 128, 0, stream>>>(b); break;
    case pack_kernel::split_128: prune_split_kernel<T, 256, 128, kPackUnroll, 16, 4><<<blocks, 256, 0, stream>>>(b); break;
    case pack_kernel::split_128_staggered:  // the first wave: 4 blocks per SM
      prune_split_kernel<T, 256, 128, kPackUnroll, 16, 4><<<blocks, 256, 0, stream>>>(b, 4 * card.sms, kPackStaggerNs);
      break;
    case pack_kernel::bulk_row: {  // a block per row, whatever `blocks` says
      const int smem = bulk::row_smem(b.d);
      const auto k = bulk::prune_bulk_kernel<T>;
      SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
      SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, 100));
      k<<<unsigned(b.rows), bulk::kThreads, smem, stream>>>(b, bulk::kBlocksPerSm * card.sms, card.sms, bulk::kStepNs);
      break;
    }
    case pack_kernel::scan_then_gather: prune_vec_kernel<T, kPackThreads, 8, 4><<<blocks, kPackThreads, 0, stream>>>(b); break;
  }
}

void launch_fp32(const prune_batch& b, unsigned blocks, cudaStream_t stream) {
  // The card decides only 2-byte rows (pick_pack_kernel): no device queries for fp32's launch.
  if (pick_pack_kernel(b.d, b.rows, pack_card{}) == pack_kernel::split_128)
    prune_split_kernel<dtype::fp32, 256, 128, 8, 16, 4><<<blocks, 256, 0, stream>>>(b);
  else
    prune_vec_kernel<dtype::fp32, 1024, kPackUnroll, 2><<<blocks, 1024, 0, stream>>>(b);
}

void launch_batch(const prune_batch& b, const pack_card& card, cudaStream_t stream) {
  const unsigned blocks = unsigned(std::min<std::int64_t>(b.rows, kMaxPackBlocks));
  switch (b.d.rows.src_type) {
    case dtype::bf16: launch_two_byte<dtype::bf16>(b, blocks, card, stream); break;
    case dtype::fp16: launch_two_byte<dtype::fp16>(b, blocks, card, stream); break;
    default: launch_fp32(b, blocks, stream); break;
  }
  SB_CUDA_LAUNCH();
}

}  // namespace

void launch_prune_pack(const prune_desc& d, cudaStream_t stream) { launch_prune_pack_many(&d, 1, stream); }

namespace {

// card: the card to pick kernels for, or null for the current device's, read only when a vectorised
// batch launches, so that every descriptor is checked first (on a machine without a GPU a bad one
// fails with its own message, not the driver's).
void prune_pack_many(const prune_desc* ds, int n, cudaStream_t stream, const pack_card* card) {
  std::optional<pack_card> current;
  auto card_for_launch = [&]() -> const pack_card& {
    if (card != nullptr) return *card;
    if (!current) current = current_pack_card();
    return *current;
  };
  prune_batch b{};
  auto flush = [&] {
    if (b.n > 0 && b.rows > 0) launch_batch(b, card_for_launch(), stream);
    b.n = 0;
    b.rows = 0;
  };
  for (int k = 0; k < n; ++k) {
    const prune_desc& d = ds[k];
    const std::int64_t rows = pack_rows(d);
    if (rows == 0) continue;
    check(d);
    if (!vectorizable(d)) {  // generated or unaligned rows: element by element, on their own
      prune_kernel<<<unsigned(std::min<std::int64_t>(rows, kMaxRowBlocks)), kPackThreads, 0, stream>>>(d);
      SB_CUDA_LAUNCH();
      continue;
    }
    if (b.n == kMaxPruneBatch || (b.n > 0 && !same_source(b.d, d))) flush();
    if (b.n == 0) b.d = d;
    b.dst[b.n++] = {b.rows, d.rows.win_len, row_rule_of(d.rows), d.values, d.pairs};
    b.rows += rows;
  }
  flush();
}

}  // namespace

void launch_prune_pack_many(const prune_desc* ds, int n, cudaStream_t stream) { prune_pack_many(ds, n, stream, nullptr); }

void launch_prune_pack_many(const prune_desc* ds, int n, cudaStream_t stream, const pack_card& card) {
  prune_pack_many(ds, n, stream, &card);
}

pack_card current_pack_card() {
  int dev = 0;
  pack_card c;
  SB_CUDA(cudaGetDevice(&dev));
  SB_CUDA(cudaDeviceGetAttribute(&c.bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev));
  SB_CUDA(cudaDeviceGetAttribute(&c.sms, cudaDevAttrMultiProcessorCount, dev));
  int major = 0, minor = 0;
  SB_CUDA(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  SB_CUDA(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
  c.cc = major * 10 + minor;
  return c;
}

const char* prune_pack_kernel(const prune_desc& d) { return prune_pack_kernel(d, current_pack_card()); }

const char* prune_pack_kernel(const prune_desc& d, const pack_card& card) {
  if (!vectorizable(d)) return "element by element";
  switch (pick_pack_kernel(d, pack_rows(d), card)) {
    case pack_kernel::split_64: return "split 64+64";
    case pack_kernel::split_128: return "split 128+128";
    case pack_kernel::split_128_staggered: return "split 128+128 staggered";
    case pack_kernel::bulk_row: return "bulk row";
    case pack_kernel::scan_then_gather: break;
  }
  return "scan-then-gather";
}

}  // namespace sb::kernels
