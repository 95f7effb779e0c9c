// The layout kernel: each block copies one column range of one output row per step, with 16-byte
// loads and stores (an upcast reads 16 bytes of bf16/fp16 and writes 32 of fp32). A scalar kernel
// covers unaligned shapes, down-casts and generated sources.
#include <algorithm>
#include <string>
#include <type_traits>

#include "kernels/cuda_check.h"
#include "harness/core/error.h"
#include "kernels/api.cuh"
#include "kernels/device_types.cuh"

namespace sb::kernels {

namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxBlocks = 1 << 20;

constexpr int kUnroll = 4;  // 16-byte accesses per thread in flight: loads are issued before their stores
constexpr std::int64_t kMaxGrid = std::int64_t(1) << 30;  // blocks of the 1-D vector grid (rows loop beyond)
constexpr int kMaxRemapBatch = 5;  // keeps the batch within the 4 KiB of kernel parameters

// Blocks are numbered in memory order: block b copies column range b % splits of row b / splits, so
// neighbouring blocks touch neighbouring addresses (on an H100 this ran the bf16->fp32 unpack at
// 0.96 of a D2D copy, against 0.91 with blockIdx.x striding over rows: DRAM page locality). A range
// never straddles two source peer blocks, so its source is fixed and the inner loop does no division.
struct vec_ranges {
  int per_peer;  // column ranges in each source peer block
  int splits;    // ranges per row (peer blocks x per_peer)
};

// Upcasts take 2 loads in flight per thread, and 4 in launches moving less than kShortUpcastBytes
// (read + written). On an H100, bench --kernels side by side in one call (two runs each): with 4 for
// every upcast, usp/specforge's 4K pack (eight 50 MB launches, one per destination) read 0.906-0.907
// of the copy against 0.890-0.895 with 2, while the upcasts of 400 MB and more read 0.007-0.015 less
// (0.944-0.986 against 0.953-0.997); on an H200 one 50 MB launch read 1.086 of a copy of its bytes
// with 4 against 1.066 with 2 (docs/kernels.md). At 50 MB the
// ranges of 4 make 1 038 blocks, one wave of the H100's 132 x 8; those of 2 make two. Launches
// between 50 and 400 MB were not measured.
constexpr std::int64_t kShortUpcastBytes = std::int64_t(128) << 20;

template <int SrcBytes, int DstBytes, dtype S, bool Raw, int Unroll = Raw ? kUnroll : 2>
struct vec_traits {
  // Raw (same-type) moves copy 16 bytes per vector; upcasts read 16 bytes of bf16/fp16 (8 elements)
  // and write 32 bytes of fp32.
  static constexpr int vec = Raw ? detail::raw_vec<SrcBytes> : 8;
  static constexpr int unroll = Unroll;             // 16-byte loads in flight per thread
  static constexpr int range = kThreads * unroll;   // vectors per column range: one pass of the block
};

// This block's column range [begin, end) in vectors, and the source block it reads.
struct vec_range {
  int q, begin, end, first;  // first: the peer block's first vector
};

__device__ __forceinline__ vec_range range_of(const remap_desc& d, int vec, vec_ranges rg) {
  const int vec_per_row = int(d.cols / vec);
  const int vec_per_peer = int(min(d.src_peer_cols, d.cols) / vec);
  const int split = int(blockIdx.x % unsigned(rg.splits));
  vec_range r;
  r.q = split / rg.per_peer;
  r.first = r.q * vec_per_peer;
  const int len = min(vec_per_peer, vec_per_row - r.first);
  const int per = (len + rg.per_peer - 1) / rg.per_peer;
  r.begin = r.first + (split - r.q * rg.per_peer) * per;
  r.end = min(r.first + len, r.begin + per);
  return r;
}

// bf16/fp16 pair (one 32-bit word) -> two floats.
template <dtype S>
__device__ __forceinline__ float2 upcast2(std::uint32_t w) {
  if constexpr (S == dtype::bf16) return make_float2(__uint_as_float(w << 16), __uint_as_float(w & 0xffff0000u));
  else return __half22float2(*reinterpret_cast<const __half2*>(&w));
}

// The upcast of one warp's 32 vectors (lane l loaded vector w0 + l: 8 elements): shuffled so that
// each store instruction writes one contiguous 512-byte span (lane l stores elements 4l..4l+3 of
// each half), instead of every lane writing 32 bytes and each instruction covering half of 1 KiB.
template <dtype S>
__device__ __forceinline__ void store_upcast_warp(char* out, uint4 in, int w0, int end) {
  const int lane = int(threadIdx.x & 31);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int from = h * 16 + (lane >> 1);
    const std::uint32_t x = __shfl_sync(~0u, in.x, from), y = __shfl_sync(~0u, in.y, from);
    const std::uint32_t z = __shfl_sync(~0u, in.z, from), w = __shfl_sync(~0u, in.w, from);
    const int e = w0 * 8 + h * 128 + lane * 4;  // first output element of this lane
    if (e >= end * 8) continue;
    const float2 a = upcast2<S>((lane & 1) ? z : x), b = upcast2<S>((lane & 1) ? w : y);
    detail::store16(out + std::int64_t(e) * 4, make_float4(a.x, a.y, b.x, b.y));
  }
}

template <int SrcBytes, int DstBytes, dtype S, bool Raw, int Unroll>
__global__ void __launch_bounds__(kThreads) remap_vec_kernel(const __grid_constant__ remap_desc d, vec_ranges rg) {
  using tr = vec_traits<SrcBytes, DstBytes, S, Raw, Unroll>;
  constexpr int Vec = tr::vec, U = tr::unroll;
  const vec_range rr = range_of(d, Vec, rg);
  const std::int64_t rows = d.windows * d.win_len;
  const std::int64_t row_step = gridDim.x / unsigned(rg.splits);
  for (std::int64_t row = blockIdx.x / unsigned(rg.splits); row < rows; row += row_step) {
    const std::int64_t w = row / d.win_len, j = row - w * d.win_len;
    char* out = static_cast<char*>(d.dst) + remap_dst_row(d, w, j) * d.dst_ld * DstBytes;
    const std::int64_t r = remap_src_row(d, w, j);
    if (r < 0) {
      constexpr int units = Vec * DstBytes / 16;  // 16-byte stores per vector
      for (int v = rr.begin * units + int(threadIdx.x); v < rr.end * units; v += blockDim.x)
        detail::store16(out + std::int64_t(v) * 16, make_uint4(0, 0, 0, 0));
      continue;
    }
    // src + v·16 is vector v of the row (v counted from the row's first column).
    // __grid_constant__ lets src_peers[q] be read from the parameter bank without a local copy.
    const char* src = (d.n_src_peers ? static_cast<const char*>(d.src_peers[rr.q]) + r * d.src_ld * SrcBytes
                                     : static_cast<const char*>(d.src) + (r * d.src_ld + rr.q * d.src_peer_stride) * SrcBytes) -
                      std::int64_t(rr.first) * 16;
    if constexpr (Raw) {
      for (int v0 = rr.begin + int(threadIdx.x); v0 < rr.end; v0 += blockDim.x * U) {
        uint4 buf[U];  // loads issued before their stores
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const int v = v0 + u * blockDim.x;
          if (v < rr.end) buf[u] = *reinterpret_cast<const uint4*>(src + std::int64_t(v) * 16);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const int v = v0 + u * blockDim.x;
          if (v < rr.end) detail::store16(out + std::int64_t(v) * 16, buf[u]);
        }
      }
    } else {
      // Whole warps step together (the shuffles need every lane); lanes past the end load nothing.
      const int lane = int(threadIdx.x & 31);
      for (int w0 = rr.begin + int(threadIdx.x & ~31u); w0 < rr.end; w0 += blockDim.x * U) {
        uint4 buf[U];
#pragma unroll
        for (int u = 0; u < U; ++u) {
          const int v = w0 + u * blockDim.x + lane;
          buf[u] = v < rr.end ? *reinterpret_cast<const uint4*>(src + std::int64_t(v) * 16) : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < U; ++u)
          if (w0 + u * int(blockDim.x) < rr.end) store_upcast_warp<S>(out, buf[u], w0 + u * blockDim.x, rr.end);
      }
    }
  }
}

__device__ __forceinline__ void store_scalar(const remap_desc& d, std::int64_t out_index, std::int64_t r,
                                             std::int64_t c) {
  if (r < 0) {
    switch (dtype_size(d.dst_type)) {
      case 2: static_cast<std::uint16_t*>(d.dst)[out_index] = 0; break;
      case 4: static_cast<std::uint32_t*>(d.dst)[out_index] = 0; break;
      default: static_cast<std::uint64_t*>(d.dst)[out_index] = 0; break;
    }
    return;
  }
  if (d.src_generated) {
    if (!gen::is_float_source(d.gen_kind)) {  // ids, masks, positions: integer tensors
      const std::int64_t v = gen::int_value(d.gen_kind, d.gen, r);
      if (dtype_size(d.dst_type) == 8)
        static_cast<std::int64_t*>(d.dst)[out_index] = v;
      else
        static_cast<std::int32_t*>(d.dst)[out_index] = std::int32_t(v);
      return;
    }
    store_from_float(d.dst, out_index, d.dst_type, gen::float_value(d.gen_kind, d.gen, r, d.gen_col_base + c));
    return;
  }
  const void* in = remap_src_ptr(d, r, c);
  if (d.src_type == d.dst_type) {
    switch (dtype_size(d.dst_type)) {
      case 2: static_cast<std::uint16_t*>(d.dst)[out_index] = *static_cast<const std::uint16_t*>(in); break;
      case 4: static_cast<std::uint32_t*>(d.dst)[out_index] = *static_cast<const std::uint32_t*>(in); break;
      default: static_cast<std::uint64_t*>(d.dst)[out_index] = *static_cast<const std::uint64_t*>(in); break;
    }
    return;
  }
  store_from_float(d.dst, out_index, d.dst_type, load_as_float(in, 0, d.src_type));
}

// Element by element over the whole output, a grid-stride loop along blockIdx.x (shared by the
// scalar kernel and remap_many's non-vector descriptors).
__device__ __forceinline__ void remap_elements(const remap_desc& d) {
  const std::int64_t n = d.windows * d.win_len * d.cols;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t c = i % d.cols, row = i / d.cols;
    const std::int64_t w = row / d.win_len, j = row - w * d.win_len;
    store_scalar(d, remap_dst_row(d, w, j) * d.dst_ld + c, remap_src_row(d, w, j), c);
  }
}

__global__ void __launch_bounds__(kThreads) remap_scalar_kernel(const __grid_constant__ remap_desc d) { remap_elements(d); }

// A generated float source (the peers `local --emulate one` stands in for, and fills): one output
// row per block step, so the row and its token are worked out once per row rather than with 64-bit
// divisions per element, and each thread writes consecutive columns.
__global__ void __launch_bounds__(kThreads) remap_generated_kernel(const __grid_constant__ remap_desc d) {
  const std::int64_t rows = d.windows * d.win_len;
  const int cols = int(d.cols);
  for (std::int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const std::int64_t w = row / d.win_len, j = row - w * d.win_len;
    const std::int64_t out = remap_dst_row(d, w, j) * d.dst_ld;
    const std::int64_t r = remap_src_row(d, w, j);
    for (int c = int(blockIdx.y * blockDim.x + threadIdx.x); c < cols; c += int(gridDim.y * blockDim.x)) {
      const float v = r < 0 ? 0.0f : gen::float_value(d.gen_kind, d.gen, r, d.gen_col_base + c);
      store_from_float(d.dst, out + c, d.dst_type, v);
    }
  }
}

// Several small re-layouts in one launch (usp's aligned slices: hidden states, ids, masks and
// positions), so a phase of tiny tensors pays one launch, not five. blockIdx.y picks the descriptor;
// a same-type, 16-byte-aligned one is copied 16 bytes per thread, the others element by element.
struct remap_batch {
  remap_desc d[kMaxRemapBatch];
  bool vec[kMaxRemapBatch];
};

__global__ void __launch_bounds__(kThreads) remap_many_kernel(const __grid_constant__ remap_batch b) {
  const remap_desc& d = b.d[blockIdx.y];
  const std::int64_t rows = d.windows * d.win_len;
  if (!b.vec[blockIdx.y]) return remap_elements(d);
  const std::int64_t es = std::int64_t(dtype_size(d.dst_type));
  const int vec_per_row = int(d.cols * es / 16);
  for (std::int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const std::int64_t w = row / d.win_len, j = row - w * d.win_len;
    uint4* out = reinterpret_cast<uint4*>(static_cast<char*>(d.dst) + remap_dst_row(d, w, j) * d.dst_ld * es);
    const std::int64_t r = remap_src_row(d, w, j);
    if (r < 0) {
      for (int v = threadIdx.x; v < vec_per_row; v += blockDim.x) detail::store16(out + v, make_uint4(0, 0, 0, 0));
      continue;
    }
    const uint4* in = reinterpret_cast<const uint4*>(static_cast<const char*>(d.src) + r * d.src_ld * es);
    for (int v0 = threadIdx.x; v0 < vec_per_row; v0 += blockDim.x * kUnroll) {
      uint4 buf[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (v0 + u * int(blockDim.x) < vec_per_row) buf[u] = in[v0 + u * blockDim.x];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (v0 + u * int(blockDim.x) < vec_per_row) detail::store16(out + v0 + u * blockDim.x, buf[u]);
    }
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<std::uintptr_t>(p) & 15u) == 0; }

// A plain same-type row copy (no peer blocks, no conversion) whose rows are 16-byte aligned.
bool raw_rows_16(const remap_desc& d) {
  const std::int64_t es = std::int64_t(dtype_size(d.dst_type));
  return !d.src_generated && d.n_src_peers == 0 && d.src_type == d.dst_type && d.src_peer_cols >= d.cols &&
         aligned16(d.src) && aligned16(d.dst) && (d.cols * es) % 16 == 0 && (d.src_ld * es) % 16 == 0 &&
         (d.dst_ld * es) % 16 == 0 && d.cols >= 64;
}

// fmt's compile-time format checks do not build under nvcc's C++20 mode: plain strings here.
std::string str(std::int64_t v) { return std::to_string(v); }

void check(const remap_desc& d) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw_runtime("launch_remap: " + what);
  };
  need(d.windows >= 0 && d.win_len >= 0 && d.cols >= 0,
       "negative extent (windows=" + str(d.windows) + ", win_len=" + str(d.win_len) + ", cols=" + str(d.cols) + ")");
  need(d.dst_ld >= d.cols, "dst_ld=" + str(d.dst_ld) + " < cols=" + str(d.cols));
  need(d.src_peer_cols > 0, "src_peer_cols=" + str(d.src_peer_cols) + " must be positive");
  need(d.dst != nullptr, "dst is null");
  need(d.n_src_peers >= 0 && d.n_src_peers <= kMaxPeerTable, "n_src_peers=" + str(d.n_src_peers) + " out of range");
  need(d.src_generated || d.n_src_peers > 0 || d.src != nullptr, "src is null");
  for (int q = 0; q < d.n_src_peers; ++q) need(d.src_peers[q] != nullptr, "src_peers[" + str(q) + "] is null");
  need(d.n_src_peers == 0 || (d.cols + d.src_peer_cols - 1) / d.src_peer_cols <= d.n_src_peers,
       "cols=" + str(d.cols) + " need more than n_src_peers=" + str(d.n_src_peers) + " peer blocks");
  need(d.src_generated || d.src_type == d.dst_type || (is_float(d.src_type) && is_float(d.dst_type)),
       "cannot convert " + std::string(to_string(d.src_type)) + " to " + std::string(to_string(d.dst_type)));
  need(d.src_generated || d.src_ld >= std::min(d.cols, d.src_peer_cols),
       "src_ld=" + str(d.src_ld) + " < src_peer_cols=" + str(d.src_peer_cols));
}

// Enough blocks for several waves on any current GPU (132 SMs x 8 resident blocks on an H100).
constexpr std::int64_t kTargetBlocks = 4096;

template <int SB, int DB, dtype S, bool Raw, int Unroll = vec_traits<SB, DB, S, Raw>::unroll>
void launch_vec(const remap_desc& d, cudaStream_t stream) {
  using tr = vec_traits<SB, DB, S, Raw, Unroll>;
  const std::int64_t rows = d.windows * d.win_len;
  const std::int64_t vec_per_row = d.cols / tr::vec, vec_per_peer = std::min(d.src_peer_cols, d.cols) / tr::vec;
  const std::int64_t peers = (vec_per_row + vec_per_peer - 1) / vec_per_peer;
  // Each range one pass of the block: short rows (a 4K-token window's) still make many blocks.
  const std::int64_t per_peer = std::max<std::int64_t>(1, (std::min(vec_per_row, vec_per_peer) + tr::range - 1) / tr::range);
  const vec_ranges rg{int(per_peer), int(peers * per_peer)};
  const std::int64_t grid_rows = std::clamp<std::int64_t>(kMaxGrid / rg.splits, 1, rows);
  remap_vec_kernel<SB, DB, S, Raw, Unroll><<<unsigned(grid_rows * rg.splits), kThreads, 0, stream>>>(d, rg);
}

// A bf16/fp16 -> fp32 upcast with Unroll loads in flight per thread.
template <int Unroll>
void launch_upcast(const remap_desc& d, cudaStream_t stream) {
  if (d.src_type == dtype::bf16) launch_vec<2, 4, dtype::bf16, false, Unroll>(d, stream);
  else launch_vec<2, 4, dtype::fp16, false, Unroll>(d, stream);
}

enum class remap_kind { vector, upcast_4, upcast_2, generated, scalar };

}  // namespace

bool remap_is_vectorized(const remap_desc& d) {
  if (d.src_generated) return false;
  const bool raw = d.src_type == d.dst_type;
  const bool upcast = (d.src_type == dtype::bf16 || d.src_type == dtype::fp16) && d.dst_type == dtype::fp32;
  if (!raw && !upcast) return false;
  // Elements per vector (see vec_traits): 16 bytes of a raw move, 16 bytes of an upcast's source.
  const std::int64_t k = raw ? 16 / std::int64_t(dtype_size(d.dst_type)) : 8;
  bool peers_aligned = true;
  for (int q = 0; q < d.n_src_peers; ++q) peers_aligned = peers_aligned && aligned16(d.src_peers[q]);
  return (d.n_src_peers ? peers_aligned : aligned16(d.src)) && aligned16(d.dst) && d.cols % k == 0 && d.dst_ld % k == 0 && d.src_ld % k == 0 &&
         d.src_peer_cols % k == 0 && d.src_peer_stride % k == 0 && d.cols / k < (std::int64_t(1) << 30) &&
         d.win_len > 0 && d.cols >= 64;  // narrow rows (ids, masks) are better served element-wise
}

namespace {

// The kernel launch_remap runs for d (remap_is_vectorized first; upcasts by their bytes, see
// kShortUpcastBytes).
remap_kind pick_remap(const remap_desc& d) {
  if (remap_is_vectorized(d)) {
    if (d.src_type == d.dst_type) return remap_kind::vector;
    const std::int64_t bytes = d.windows * d.win_len * d.cols * std::int64_t(dtype_size(d.src_type) + dtype_size(d.dst_type));
    return bytes < kShortUpcastBytes ? remap_kind::upcast_4 : remap_kind::upcast_2;
  }
  if (d.src_generated && gen::is_float_source(d.gen_kind) && is_float(d.dst_type) && d.cols < (std::int64_t(1) << 30))
    return remap_kind::generated;
  return remap_kind::scalar;
}

}  // namespace

const char* remap_kernel(const remap_desc& d) {
  switch (pick_remap(d)) {
    case remap_kind::vector: return "vector";
    case remap_kind::upcast_4: return "vector upcast, 4 loads";
    case remap_kind::upcast_2: return "vector upcast, 2 loads";
    case remap_kind::generated: return "generated";
    default: return "element by element";
  }
}

void launch_remap(const remap_desc& d, cudaStream_t stream) {
  check(d);
  const std::int64_t n = d.windows * d.win_len * d.cols;
  if (n == 0) return;
  switch (pick_remap(d)) {
    case remap_kind::vector:
      switch (dtype_size(d.dst_type)) {
        case 2: launch_vec<2, 2, dtype::bf16, true>(d, stream); break;
        case 4: launch_vec<4, 4, dtype::fp32, true>(d, stream); break;
        default: launch_vec<8, 8, dtype::i64, true>(d, stream); break;
      }
      break;
    case remap_kind::upcast_4: launch_upcast<4>(d, stream); break;
    case remap_kind::upcast_2: launch_upcast<2>(d, stream); break;
    case remap_kind::generated: {
      const std::int64_t rows = d.windows * d.win_len;
      const std::int64_t col_blocks = std::clamp<std::int64_t>((kTargetBlocks + rows - 1) / rows, 1,
                                                               std::max<std::int64_t>(1, d.cols / kThreads));
      const dim3 grid(unsigned(std::min(rows, kMaxBlocks)), unsigned(std::min<std::int64_t>(col_blocks, 65535)));
      remap_generated_kernel<<<grid, kThreads, 0, stream>>>(d);
      break;
    }
    case remap_kind::scalar: {
      const int blocks = int(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
      remap_scalar_kernel<<<blocks, kThreads, 0, stream>>>(d);
      break;
    }
  }
  SB_CUDA_LAUNCH();
}

void launch_remap_many(const remap_desc* ds, int n, cudaStream_t stream) {
  if (n <= 0) return;
  if (n == 1) return launch_remap(ds[0], stream);
  if (n > kMaxRemapBatch) {  // in groups
    for (int i = 0; i < n; i += kMaxRemapBatch) launch_remap_many(ds + i, std::min(kMaxRemapBatch, n - i), stream);
    return;
  }
  remap_batch b{};
  std::int64_t blocks = 1;
  for (int i = 0; i < n; ++i) {
    check(ds[i]);
    b.d[i] = ds[i];
    b.vec[i] = raw_rows_16(ds[i]);
    const std::int64_t rows = ds[i].windows * ds[i].win_len;
    blocks = std::max(blocks, b.vec[i] ? rows : (rows * ds[i].cols + kThreads - 1) / kThreads);
  }
  const dim3 grid(unsigned(std::min(blocks, kMaxBlocks)), unsigned(n));
  remap_many_kernel<<<grid, kThreads, 0, stream>>>(b);
  SB_CUDA_LAUNCH();
}

}  // namespace sb::kernels
