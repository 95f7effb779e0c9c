// Experiment (not part of the build): the layout kernel's bf16 -> fp32 upcast on short launches
// (usp/specforge's pack: one launch per destination, ~50 MB each at DeepSeek-V3 4K tp 8), the
// production kernel against other block shapes, beside D2D copies of several sizes. Outputs are
// compared byte for byte with the production kernel's. Build and run on a GPU machine:
//   nvcc -O3 -std=c++20 -arch=sm_90 --expt-relaxed-constexpr -I. tools/experiments/remap_variants.cu \
//        harness/error.cpp harness/cuda_check.cpp harness/dtype.cpp -o /tmp/remap_variants && /tmp/remap_variants
#include "kernels/remap.cu"  // the production kernels, internals included
#include "tools/experiments/timing.cuh"

#include <cstdio>
#include <functional>
#include <vector>

namespace sb::kernels {
namespace {

using experiments::d2d_us;
using experiments::median_us;

// remap_vec_kernel's upcast branch with the block size and loads in flight as parameters.
template <int NT, int U, int MinBlocks>
__global__ void __launch_bounds__(NT, MinBlocks) upcast_kernel(const __grid_constant__ remap_desc d, vec_ranges rg) {
  const vec_range rr = range_of(d, 8, rg);
  const std::int64_t rows = d.windows * d.win_len;
  const std::int64_t row_step = gridDim.x / unsigned(rg.splits);
  for (std::int64_t row = blockIdx.x / unsigned(rg.splits); row < rows; row += row_step) {
    const std::int64_t w = row / d.win_len, j = row - w * d.win_len;
    char* out = static_cast<char*>(d.dst) + remap_dst_row(d, w, j) * d.dst_ld * 4;
    const std::int64_t r = remap_src_row(d, w, j);
    if (r < 0) {
      for (int v = rr.begin * 2 + int(threadIdx.x); v < rr.end * 2; v += blockDim.x) detail::store16(out + std::int64_t(v) * 16, make_uint4(0, 0, 0, 0));
      continue;
    }
    const char* src = static_cast<const char*>(d.src) + (r * d.src_ld + rr.q * d.src_peer_stride) * 2 - std::int64_t(rr.first) * 16;
    const int lane = int(threadIdx.x & 31);
    for (int w0 = rr.begin + int(threadIdx.x & ~31u); w0 < rr.end; w0 += NT * U) {
      uint4 buf[U];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int v = w0 + u * NT + lane;
        buf[u] = v < rr.end ? *reinterpret_cast<const uint4*>(src + std::int64_t(v) * 16) : make_uint4(0, 0, 0, 0);
      }
#pragma unroll
      for (int u = 0; u < U; ++u)
        if (w0 + u * NT < rr.end) store_upcast_warp<dtype::bf16>(out, buf[u], w0 + u * NT, rr.end);
    }
  }
}

// range: vectors per block step (a multiple of NT·U makes one pass; larger loops inside the block).
template <int NT, int U, int MinBlocks>
void launch_upcast(const remap_desc& d, int range, cudaStream_t s) {
  const std::int64_t vec_per_row = d.cols / 8;
  const std::int64_t per_peer = std::max<std::int64_t>(1, (vec_per_row + range - 1) / range);
  const vec_ranges rg{int(per_peer), int(per_peer)};
  const std::int64_t rows = d.windows * d.win_len;
  upcast_kernel<NT, U, MinBlocks><<<unsigned(rows * rg.splits), NT, 0, s>>>(d, rg);
  SB_CUDA_LAUNCH();
}

}  // namespace
}  // namespace sb::kernels

int main() {
  using namespace sb;
  using namespace sb::kernels;
  try {
    experiments::print_device();
    std::printf("D2D copy rate (read + written) by size of one copy:\n");
    for (double mb : {12.5, 25.0, 50.0, 100.0, 200.0, 800.0, 3200.0}) {
      const std::size_t b = std::size_t(mb * 1e6 / 2);
      const double us = d2d_us(b);
      std::printf("  %7.1f MB moved: %8.1f us  %6.0f GB/s\n", mb, us, 2.0 * b / us / 1e3);
    }
    // usp/specforge pack at DeepSeek-V3 4K tp 8 sp 8: one destination's window, 519 rows x 16160
    // bf16 -> fp32 (rows past the sample zero), eight such launches per phase, rotating buffers.
    const std::int64_t rows = 519, cols = 16160, src_rows = 4096;
    const int nbuf = 8;
    std::vector<void*> in(nbuf), out(nbuf);
    for (int k = 0; k < nbuf; ++k) {
      SB_CUDA(cudaMalloc(&in[k], std::size_t(src_rows * cols) * 2));
      SB_CUDA(cudaMalloc(&out[k], std::size_t(rows * cols) * 4));
      SB_CUDA(cudaMemset(in[k], 0x3c, std::size_t(src_rows * cols) * 2));
    }
    auto desc = [&](int k) {
      remap_desc d{};
      d.src = in[k];
      d.src_type = dtype::bf16;
      d.src_ld = cols;
      d.src_peer_cols = cols;
      d.dst = out[k];
      d.dst_type = dtype::fp32;
      d.dst_ld = cols;
      d.windows = 1;
      d.win_len = rows;
      d.cols = cols;
      d.src_row_base = (k % 8) * 512;
      d.valid_len = rows - (k == 7 ? 7 : 0);
      return d;
    };
    const double bytes = double(rows * cols) * 6;
    const double ref = d2d_us(std::size_t(bytes / 2)), ref8 = d2d_us(std::size_t(8 * bytes / 2));
    std::printf("one destination's pack: %.1f MB; D2D of the same bytes %.1f us (%.0f GB/s), of 8x the bytes %.0f GB/s\n",
                bytes / 1e6, ref, bytes / ref / 1e3, 8 * bytes / ref8 / 1e3);
    std::vector<char> want(std::size_t(rows * cols) * 4), got(want.size());
    struct v {
      const char* name;
      std::function<void(const remap_desc&)> f;
    };
    const std::vector<v> vs = {
        {"production (256 thr, U2, range 512)", [](const remap_desc& d) { launch_remap(d, nullptr); }},
        {"256 thr, U2, range 512 (copy)", [](const remap_desc& d) { launch_upcast<256, 2, 1>(d, 512, nullptr); }},
        {"256 thr, U1, range 256", [](const remap_desc& d) { launch_upcast<256, 1, 1>(d, 256, nullptr); }},
        {"256 thr, U4, range 1024", [](const remap_desc& d) { launch_upcast<256, 4, 1>(d, 1024, nullptr); }},
        {"512 thr, U2, range 1024", [](const remap_desc& d) { launch_upcast<512, 2, 1>(d, 1024, nullptr); }},
        {"128 thr, U2, range 256", [](const remap_desc& d) { launch_upcast<128, 2, 1>(d, 256, nullptr); }},
        {"256 thr, U2, range 2048 (loop 4)", [](const remap_desc& d) { launch_upcast<256, 2, 1>(d, 2048, nullptr); }},
        {"1024 thr, U2, range 2048", [](const remap_desc& d) { launch_upcast<1024, 2, 1>(d, 2048, nullptr); }},
    };
    for (std::size_t x = 0; x < vs.size(); ++x) {
      SB_CUDA(cudaMemset(out[0], 0xab, got.size()));
      vs[x].f(desc(0));
      SB_CUDA(cudaMemcpy(got.data(), out[0], got.size(), cudaMemcpyDeviceToHost));
      if (x == 0) want = got;
      const double us = median_us([&](int k) { vs[x].f(desc(k % nbuf)); }, 15);
      std::printf("  %-38s %7.2f us  %6.0f GB/s  %.3f of D2D (same bytes)  %.3f of D2D (8x)  %s\n", vs[x].name, us,
                  bytes / us / 1e3, ref / us, ref8 / 8 / us, got == want ? "identical" : "DIFFERENT");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "remap_variants: %s\n", e.what());
    return 3;
  }
  return 0;
}
