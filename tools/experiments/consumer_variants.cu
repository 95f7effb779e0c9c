// Experiment (not part of the build): the consumer stage's kernel (target_p and position_mask),
// production against variants whose lanes read through harness/consumer_ops.h's softmax_lane and
// softmax_probs_lane (U draft values loaded ahead of the arithmetic, the stored type fixed at
// compile time, a step whose values stay at or below the lane's maximum as independent exps), at
// DeepSeek-V3's shapes, timed on one GPU beside a D2D copy of the same bytes (bench/traffic.cpp's
// count: the full row once, the draft values twice, target_p and position_mask written). Every
// variant's target_p and position_mask are compared bit for bit with round 10's kernel (one
// draft_value_from and one softmax_push after another). Build and run on a
// GPU machine from the repository root:
//   nvcc -O3 -std=c++20 -arch=sm_90 --expt-relaxed-constexpr -I. tools/experiments/consumer_variants.cu \
//        harness/error.cpp harness/cuda_check.cpp harness/dtype.cpp -o /tmp/consumer_variants && /tmp/consumer_variants
// Why: on the H200 the consumer kernels read 0.18 (after pruned) and 0.41-0.42 (after fused) of the
// copy and set the pruned variant's time. Each production lane loads one value, waits for it, then
// pushes it (a branch, an exp and a chained add): one load in flight per thread, and after pruned
// (no full-row scan) nothing else to overlap it with. Round 11 (H200, 2026-12-04,
// docs/data/h200_experiments/consumer_round11.txt) moved lanes U1 and scan+push U4 with the stash
// into production; round 12 (consumer_round12.txt) replaced lanes U1 after pruned with blocks U1
// (one peer block after another, no block test per value). Round 15 (prepared 2026-12-04, not yet
// run): production's two kernels with the branch-free exp (sb_exp_nonpos_select, the same bits),
// against the warp divergence ncu showed with the generator's values ("wide").
#include "kernels/consumer.cu"  // the production kernels, internals included
#include "tools/experiments/timing.cuh"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace sb::kernels {
namespace {

using experiments::d2d_us;
using experiments::median_us;

// Row i's draft values with the stored type fixed at compile time (no type switch per load).
template <consumer_source Src, dtype T>
__device__ __forceinline__ auto reader_of(const consumer_desc& d, std::int64_t i) {
  if constexpr (Src == consumer_source::pruned) {
    return pruned_reader<T>{&d, i};
  } else {
    return full_row_reader<T>{static_cast<const char*>(d.src) + i * d.src_ld * std::int64_t(dtype_size(T)), d.d2t};
  }
}

// Round 11's kernel: consumer_kernel's lanes (same pushes in the same order, same tree, so the same
// bits) through harness/consumer_ops.h's typed readers and lane helpers. After pruned on the H200,
// U = 1 beat consumer_kernel's draft_value_from loop by 1.33x and U = 2, 4, 8 (more registers for
// the peer-block reader) by less; production kept it until round 12's pruned_blocks_kernel.
template <consumer_source Src, dtype T, int U>
__global__ void __launch_bounds__(kLanes) lanes_kernel(const __grid_constant__ consumer_desc d) {
  __shared__ row_shared sh;
  const int l = int(threadIdx.x);
  const std::int64_t rows = d.rows();
  for (std::int64_t i = blockIdx.x; i < rows; i += gridDim.x) {
    arg_max a;
    if constexpr (Src == consumer_source::pruned) {
      if (l < d.n_peers) a = pruned_argmax(d, i, l);
    } else {  // aligned rows (launch_consume checks)
      a = scan_row<T, kLanes>(static_cast<const char*>(d.src) + i * d.src_ld * std::int64_t(dtype_size(T)), int(d.vocab), 0);
    }
    softmax_state st;
    {
      auto value = reader_of<Src, T>(d, i);
      softmax_lane<U>(st, value, l, d.vd, kLanes);
    }
    const auto [total, best] = block_totals(sh, st, a);
    {
      auto value = reader_of<Src, T>(d, i);
      float* out = d.target_p + i * d.vd;
      softmax_probs_lane<U>(total, value, l, d.vd, kLanes, [&](std::int64_t k, float p) { __stcs(out + k, p); });
    }
    finish_row(d, i, best);
  }
}

// Production (kernels/consumer.cu) launches pruned_blocks_kernel U1 after pruned and
// scan_push_kernel U4 with the stash after full rows; the other instantiations run here so the
// rounds can be repeated on another card.
template <consumer_source Src, dtype T, int U>
void launch_lanes(const consumer_desc& d) {
  lanes_kernel<Src, T, U><<<row_blocks(d), kLanes>>>(d);
  SB_CUDA_LAUNCH();
}

template <int U, bool Select = false>
void launch_blocks(const consumer_desc& d) {
  pruned_blocks_kernel<dtype::bf16, U, Select><<<row_blocks(d), kLanes>>>(d);
  SB_CUDA_LAUNCH();
}

template <int U, bool Stash, bool Select = false>
void launch_scan_push(const consumer_desc& d) {
  if (d.vocab > std::int64_t(kMaxScanChunks) * kScanChunkCols) throw_runtime("scan_push: rows longer than the chunk table");
  scan_push_kernel<U, Stash, Select><<<row_blocks(d), kLanes>>>(d);
  SB_CUDA_LAUNCH();
}

// Round 10's production: consumer_kernel's own draft loops (draft_value_from, one load at a
// time), still the verifier's kernel and the fallback for generated or unaligned rows.
void launch_round10(const consumer_desc& d) { launch_consumer_kernel<false>(d, nullptr, nullptr); }

void launch_production(const consumer_desc& d) { launch_consume(d, nullptr); }

struct variant {
  const char* name;
  void (*launch)(const consumer_desc&);
};

// Values with ties in a logit-like range: (h mod 4001 - 2000) / 64, within +-31.25, exactly
// representable in bf16 only where it has few significant bits, so stored rounded. Wide: the
// harness generator's values instead (gen::small_exact: m / 2^e, m in [-128, 127], e in [0, 10]),
// which bench --kernels and the sweeps feed the kernel; against a row maximum of 127 most of their
// exps underflow to 0 or come out subnormal, so a lane's exps take three different branches.
__global__ void fill_values(void* p, std::int64_t n, dtype t, std::uint32_t seed, bool wide) {
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < n; e += std::int64_t(gridDim.x) * blockDim.x) {
    std::uint32_t h = std::uint32_t(e) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    const float v = wide ? gen::small_exact(std::uint64_t(h) * 0x9e3779b97f4a7c15ull ^ std::uint64_t(e) << 32)
                         : float(int(h % 4001u) - 2000) / 64.0f;
    store_from_float(p, e, t, t == dtype::fp32 ? bf16_to_float(float_to_bf16(v)) : v);  // fp32 rows: upcast bf16 values
  }
}

__global__ void count_diff(const std::uint32_t* a, const std::uint32_t* b, std::int64_t n, unsigned long long* out) {
  unsigned long long c = 0;
  for (std::int64_t e = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; e < n; e += std::int64_t(gridDim.x) * blockDim.x)
    c += a[e] != b[e];
  if (c) atomicAdd(out, c);
}

unsigned long long differing_words(const void* a, const void* b, std::size_t bytes) {
  unsigned long long* dc;
  SB_CUDA(cudaMalloc(&dc, sizeof *dc));
  SB_CUDA(cudaMemset(dc, 0, sizeof *dc));
  count_diff<<<1024, 256>>>(static_cast<const std::uint32_t*>(a), static_cast<const std::uint32_t*>(b), std::int64_t(bytes / 4), dc);
  SB_CUDA_LAUNCH();
  unsigned long long c = 0;
  SB_CUDA(cudaMemcpy(&c, dc, sizeof c, cudaMemcpyDeviceToHost));
  SB_CUDA(cudaFree(dc));
  return c;
}

// The Vd sorted draft columns of [0, V): uniform, or crowding into low ids (u^3 V, rank 0's shard).
std::vector<std::int32_t> draft_columns(std::int64_t V, std::int64_t vd, bool skewed) {
  std::mt19937_64 rng(11);
  std::vector<char> taken(std::size_t(V), 0);
  std::vector<std::int32_t> d2t;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  while (std::int64_t(d2t.size()) < vd) {
    const double x = u(rng);
    const auto c = std::int64_t(double(V) * (skewed ? x * x * x : x));
    if (c < V && !taken[std::size_t(c)]) {
      taken[std::size_t(c)] = 1;
      d2t.push_back(std::int32_t(c));
    }
  }
  std::sort(d2t.begin(), d2t.end());
  return d2t;
}

struct device_case {
  std::vector<void*> owned;
  consumer_desc d;
  double bytes = 0;  // bench/traffic.cpp's count
  void* alloc(std::size_t n) {
    void* p;
    SB_CUDA(cudaMalloc(&p, n));
    owned.push_back(p);
    return p;
  }
  ~device_case() {
    for (void* p : owned) cudaFree(p);
  }
};

// DeepSeek-V3: V 129 280, tp 8 (shards of 16 160), Vd 32 000.
constexpr std::int64_t kV = 129280, kTp = 8, kVd = 32000;

void common(device_case& c, std::int64_t rows, const std::vector<std::int32_t>& d2t) {
  consumer_desc& d = c.d;
  d.def.windows = 1;
  d.def.win_len = rows;
  d.def.valid_len = rows - 1;  // the last row has no next token: its loss mask is 0
  d.def.win_tok_stride = rows;
  d.vocab = kV;
  d.vd = std::int64_t(d2t.size());
  auto* dd = static_cast<std::int32_t*>(c.alloc(d2t.size() * 4));
  SB_CUDA(cudaMemcpy(dd, d2t.data(), d2t.size() * 4, cudaMemcpyHostToDevice));
  d.d2t = dd;
  std::vector<std::int32_t> lm(static_cast<std::size_t>(rows));
  for (std::size_t t = 0; t < lm.size(); ++t) lm[t] = std::int32_t((t * 7 + 3) % 5 != 0);
  auto* dm = static_cast<std::int32_t*>(c.alloc(lm.size() * 4));
  SB_CUDA(cudaMemcpy(dm, lm.data(), lm.size() * 4, cudaMemcpyHostToDevice));
  d.loss_mask = dm;
  d.target_p = static_cast<float*>(c.alloc(std::size_t(rows * d.vd) * 4));
  d.position_mask = static_cast<std::int32_t*>(c.alloc(std::size_t(rows) * 4));
}

// After the pruned exchange: kTp peer blocks of bf16 draft values [rows][n_q] and (max, argmax)
// pairs, laid out one after another as the receive buffer holds them.
void pruned_case(device_case& c, std::int64_t rows, const std::vector<std::int32_t>& d2t, bool wide) {
  common(c, rows, d2t);
  consumer_desc& d = c.d;
  d.source = consumer_source::pruned;
  d.src_type = dtype::bf16;
  d.n_peers = int(kTp);
  const std::int64_t vl = (kV + kTp - 1) / kTp;
  std::int64_t off = 0, k0 = 0;
  for (int q = 0; q < d.n_peers; ++q) {
    const auto n = std::int64_t(std::lower_bound(d2t.begin(), d2t.end(), std::int32_t((q + 1) * vl)) - d2t.begin()) - k0;
    d.peers[q] = {off, off + (rows * n * 2 + 15) / 16 * 16, k0, n};
    off = d.peers[q].pairs_offset + rows * 8;
    k0 += n;
  }
  char* buf = static_cast<char*>(c.alloc(std::size_t(off)));
  d.src = buf;
  std::vector<pruned_pair> pairs(static_cast<std::size_t>(rows));
  std::mt19937 rng(5);
  for (int q = 0; q < d.n_peers; ++q) {
    fill_values<<<1024, 256>>>(buf + d.peers[q].values_offset, rows * d.peers[q].n, dtype::bf16, 77u + unsigned(q), wide);
    SB_CUDA_LAUNCH();
    for (auto& p : pairs) {  // maxima with ties across peers (the lowest column must win)
      p.max = float(int(rng() % 8)) + 31.0f;
      p.argmax = std::int32_t(q * vl + std::int64_t(rng() % std::uint32_t(vl)));
    }
    SB_CUDA(cudaMemcpy(buf + d.peers[q].pairs_offset, pairs.data(), pairs.size() * 8, cudaMemcpyHostToDevice));
  }
  c.bytes = double(rows) * (2.0 * double(d.vd) * 2.0 + double(d.vd) * 4.0 + 4.0);
}

// After a full path (fused, specforge, peer_pull): fp32 rows of the whole vocabulary.
void memory_case(device_case& c, std::int64_t rows, const std::vector<std::int32_t>& d2t, bool wide) {
  common(c, rows, d2t);
  consumer_desc& d = c.d;
  d.source = consumer_source::memory;
  d.src_type = dtype::fp32;
  d.src_ld = kV;
  void* src = c.alloc(std::size_t(rows * kV) * 4);
  fill_values<<<4096, 256>>>(src, rows * kV, dtype::fp32, 99u, wide);
  SB_CUDA_LAUNCH();
  d.src = src;
  c.bytes = double(rows) * (double(kV) * 4.0 + 2.0 * double(d.vd) * 4.0 + double(d.vd) * 4.0 + 4.0);
}

void run(const char* label, device_case& c, const std::vector<variant>& vs) {
  consumer_desc ref = c.d;
  const std::int64_t rows = c.d.rows();
  const std::size_t p_bytes = std::size_t(rows * c.d.vd) * 4, m_bytes = std::size_t(rows) * 4;
  ref.target_p = static_cast<float*>(c.alloc(p_bytes));
  ref.position_mask = static_cast<std::int32_t*>(c.alloc(m_bytes));
  launch_round10(ref);  // the reference: round 10's kernel, one push after another
  SB_CUDA(cudaDeviceSynchronize());
  // The copy of half the bytes (read + written = the bytes), measured on at most 2 GB and scaled:
  // copies that large run at the card's asymptotic rate, and 32K's 15 GB halves in rotating pairs
  // would not fit an 80 GB card beside the case itself.
  const double half = c.bytes / 2, measured = std::min(half, 2e9);
  const double copy = d2d_us(std::size_t(measured)) * half / measured;
  std::printf("== %s: %lld rows, %.1f MB; d2d %.1f us (%.0f GB/s)\n", label, static_cast<long long>(rows), c.bytes / 1e6, copy,
              c.bytes / copy / 1e3);
  for (const variant& v : vs) {
    SB_CUDA(cudaMemset(c.d.target_p, 0xff, p_bytes));
    SB_CUDA(cudaMemset(c.d.position_mask, 0xff, m_bytes));
    v.launch(c.d);
    SB_CUDA(cudaDeviceSynchronize());
    const unsigned long long bad = differing_words(c.d.target_p, ref.target_p, p_bytes) +
                                   differing_words(c.d.position_mask, ref.position_mask, m_bytes);
    const double us = median_us([&](int) { v.launch(c.d); }, 9);
    std::printf("  %-34s %9.1f us  %6.0f GB/s  %.3f of d2d  %s\n", v.name, us, c.bytes / us / 1e3, copy / us,
                bad ? ("DIFFERENT (" + std::to_string(bad) + " words)").c_str() : "identical");
  }
}

}  // namespace
}  // namespace sb::kernels

int main(int argc, char** argv) {
  using namespace sb;
  using namespace sb::kernels;
  const std::string which = argc > 1 ? argv[1] : "all";  // all, pruned or memory
  const bool wide = argc > 2 && std::string(argv[2]) == "wide";  // the harness generator's values
  const std::vector<variant> pruned = {
      {"round 10 production", launch_round10},
      {"production (blocks U1)", launch_production},
      {"lanes U1 (round 11)", launch_lanes<consumer_source::pruned, dtype::bf16, 1>},
      {"lanes U2", launch_lanes<consumer_source::pruned, dtype::bf16, 2>},
      {"lanes U4", launch_lanes<consumer_source::pruned, dtype::bf16, 4>},
      {"lanes U8", launch_lanes<consumer_source::pruned, dtype::bf16, 8>},
      {"blocks U2", launch_blocks<2>},
      {"blocks U4", launch_blocks<4>},
      {"blocks U1, select exp (round 15)", launch_blocks<1, true>},
      {"blocks U2, select exp", launch_blocks<2, true>},
  };
  const std::vector<variant> memory = {
      {"round 10 production", launch_round10},
      {"production (scan+push U4, stash)", launch_production},
      {"lanes U1", launch_lanes<consumer_source::memory, dtype::fp32, 1>},
      {"lanes U2", launch_lanes<consumer_source::memory, dtype::fp32, 2>},
      {"lanes U4", launch_lanes<consumer_source::memory, dtype::fp32, 4>},
      {"lanes U8", launch_lanes<consumer_source::memory, dtype::fp32, 8>},
      {"scan+push U4", launch_scan_push<4, false>},
      {"scan+push U8", launch_scan_push<8, false>},
      {"scan+push U8, stash", launch_scan_push<8, true>},
      {"scan+push U4, stash, select exp", launch_scan_push<4, true, true>},
  };
  try {
    experiments::print_device();
    for (bool skewed : {false, true}) {
      const auto d2t = draft_columns(kV, kVd, skewed);
      for (std::int64_t rows : {std::int64_t(4096), std::int64_t(32768)}) {
        const std::string shape = std::to_string(rows / 1024) + "K " + (skewed ? "skewed" : "uniform") + (wide ? " wide" : "");
        if (which == "all" || which == "pruned") {
          device_case c;
          pruned_case(c, rows, d2t, wide);
          run(("pruned bf16 " + shape).c_str(), c, pruned);
        }
        if (which == "all" || which == "memory") {
          device_case c;
          memory_case(c, rows, d2t, wide);
          run(("full rows fp32 " + shape).c_str(), c, memory);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer_variants: %s\n", e.what());
    return 1;
  }
  return 0;
}
