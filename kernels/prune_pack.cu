// The pruned variant's sender: for each destination's rows, the rank's draft columns and one
// (max, argmax) pair over its real columns (harness/core/consumer_ops.h's prune_desc), with the
// kernel picked per row length, draft density and card (pick_pack_kernel).
#include <algorithm>
#include <climits>
#include <optional>
#include <string>

#include "harness/core/error.h"
#include "kernels/api.cuh"
#include "kernels/cuda_check.h"
#include "kernels/device_types.cuh"
#include "kernels/row_scan.cuh"

namespace sb::kernels {

namespace {

constexpr std::int64_t kMaxPackBlocks = std::int64_t(1) << 20;  // one block per row up to here
constexpr unsigned kPackStaggerNs = 4000;  // the H100's staggered first wave (pick_pack_kernel)

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
// fits only once per SM (fp32 0.77 of a D2D copy instead of 0.93). What else was tried and lost
// (an L2 prefetch of the next row from a persistent grid, a warp per row, a shared-memory row):
// docs/kernels.md, "The pruned sender".
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
// the block shape by the row's bytes and draft columns per vector (docs/kernels.md).
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
// NT - S) draft columns: the split kernel's loop body.
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
// (on an H100 at 4K rows 0.905-0.908 of the copy against 0.881-0.889 unstaggered, in two runs;
// docs/kernels.md).
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
// reduce and start anew (docs/kernels.md); here a new block's first act is a 32 KB request. Its
// work is cut to what DRAM's rate leaves room for (ncu counted 6 200 warp instructions per row in a
// first version): the row's location by thread 0 alone; the argmax in two
// passes over shared memory (the thread's maximum by packed maxima, the row's by a REDUX per warp
// over order-preserving keys, then only the threads holding it search their own columns in order
// for its first one: exact, the first column holding the maximum, -0 and +0 alike, and its own
// bits read back); the draft columns as 16-bit shard columns (cols16: 32-bit ids read 0.04 slower),
// read as 16-byte vectors (0.015-0.055 of the copy better on every 4K shape), eight to a thread
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
// Eight 2-byte loads a group, lanes 16 bytes apart, took four L1 wavefronts each (ncu), more than
// the row's shared-memory reads; these take four to eight a warp.
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
  if (l == 0) {  // one thread locates the row (32-bit division: 0.3-0.9 µs less than 64-bit) and asks for it
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
// row_smem of the longest row the kernel takes (kMaxRowBytes of a 2-byte type).
constexpr int kMaxRowSmem = int((kMaxRowBytes / 2 / 8 + 7) / 8 * 128);

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

}  // namespace

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
// the skewed one at tp 8 6.7 / 3.4, rank 1 2.9 / 1.5). Measured on the H200 (docs/kernels.md:
// every kernel at 10 cpv from 0.6 to 6.7, 4K and 32K rows, identical bytes), what each
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
//   (docs/kernels.md). Longer rows (tp 1, not measured) take it too.
// - fp32 rows up to 64 KiB: 128 + 128 with 8 loads in flight per scanner up to 2.25 cpv (0.80-0.98
//   against 0.66-0.96 for 64 + 64); above, and on longer rows (tp 4: 0.84-0.95 at 0.5-2.0 against
//   0.61-0.93), the 1024-thread scan-then-gather (0.72-0.78).
// - On an H100 (5 120-bit bus; every range above is the H200's), 128 + 128 beats 64 + 64 on rows
//   up to 48 KiB and 3.5 cpv between two and eight waves of 64 + 64 blocks (8 per SM): at 4K-8K
//   rows and 2.0 cpv 0.879-0.927 against 0.857-0.915 in each of five runs on lent H100s, at
//   2.94 cpv 0.869-0.874 against 0.849-0.852. Outside, 64 + 64 stays:
//   ahead over one or two waves (1 056 rows: 0.973 against 0.912; 2 112: 0.934 against 0.908), and
//   at 16K-32K rows within 0.01 either way (16K 0.960 against 0.955). On the H200 (6 144-bit bus)
//   64 + 64 led at 4K (0.779 against 0.734). Other cards were not measured; narrower buses take
//   the H100's choice. In bench --kernels the gain is smaller: 4K pruned packs (batch / usp)
//   0.836 / 0.901 against 0.833 / 0.896 in one call on one H100.
// - On the H100 the first wave of 128 + 128 blocks starts staggered over 4 µs in the same range
//   (4K 0.905-0.908 against 0.881-0.889, 4 152 rows 0.938-0.942 against 0.917-0.925, 8K
//   0.933-0.937 against 0.921-0.927, two runs). In bench --kernels, 4K pruned
//   packs (batch / usp) 0.845 / 0.894 against 0.829 / 0.886 in consecutive calls on one H100.
// - On an H100 with the draft columns as 16-bit shard columns (cols16), 2-byte rows of up to 36 KiB
//   and 7 cpv over more than one wave of 64 + 64 blocks take the bulk-copy kernel (against the
//   choice above in the same runs: 4K rows 0.909-0.919 against 0.896-0.906, the
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
      // The attribute belongs to the kernel, process-wide: ranks on other host threads launch it at
      // once with rows of other lengths, so it is set to the longest row's size, never to this launch's
      // (a rank with shorter rows would lower it under another's launch: cudaErrorInvalidValue).
      SB_CUDA(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, bulk::kMaxRowSmem));
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
      prune_kernel<<<unsigned(row_blocks_for(rows)), kPackThreads, 0, stream>>>(d);
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

