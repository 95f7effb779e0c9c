// The kernels against the host reference (harness/host_ops.cpp): the same bits for the generators,
// every layout operation and the verifier.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "harness/gpu_handles.h"
#include "harness/host_ops.h"
#include "kernels/api.cuh"
#include "tests/gpu/gpu_test_util.h"

namespace sb {

namespace {

struct device_tensor {
  memory_tracker t;
  device_buffer buf;
  explicit device_tensor(std::size_t bytes) : buf(bytes, t) {}
  void* data() { return buf.data(); }
};

std::vector<char> to_host(void* p, std::size_t bytes) {
  std::vector<char> h(bytes);
  SB_CUDA(cudaDeviceSynchronize());
  SB_CUDA(cudaMemcpy(h.data(), p, bytes, cudaMemcpyDeviceToHost));
  return h;
}

expected_spec spec_of(gen::source k, dtype t, std::int64_t rows, std::int64_t cols) {
  expected_spec e;
  e.kind = k;
  e.gen = {42, 1000, 16};
  e.type = t;
  e.win_len = rows;
  e.valid_len = rows;
  e.cols = cols;
  e.col_base = 960;  // crosses the vocab end: padding columns must be 0
  return e;
}

}  // namespace

TEST(kernels_gpu, generators_are_bit_identical_to_the_host) {
  SB_REQUIRE_GPU();
  const std::pair<gen::source, dtype> cases[] = {
      {gen::source::logits, dtype::bf16},         {gen::source::logits, dtype::fp16},
      {gen::source::logits, dtype::fp32},         {gen::source::hidden, dtype::bf16},
      {gen::source::input_ids, dtype::i32},       {gen::source::attention_mask, dtype::i32},
      {gen::source::loss_mask, dtype::i32},       {gen::source::position, dtype::i64}};
  for (auto [k, t] : cases) {
    expected_spec e = spec_of(k, t, 64, gen::is_float_source(k) ? 96 : 1);
    const std::size_t bytes = std::size_t(e.elements()) * dtype_size(t);
    device_tensor d(bytes);
    kernels::launch_fill(d.data(), e, nullptr);
    std::vector<char> host(bytes);
    fill_host(host.data(), e);
    EXPECT_EQ(to_host(d.data(), bytes), host) << int(k) << " " << to_string(t);
  }
}

// Random descriptors of every kind the paths use, vectorised and scalar, against remap_host.
TEST(kernels_gpu, remap_matches_the_host_reference) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(7);
  int vectorized = 0, scalar = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const dtype src_t = std::array{dtype::bf16, dtype::fp16, dtype::fp32}[trial % 3];
    const bool upcast = trial % 2 == 0;
    const dtype dst_t = upcast ? dtype::fp32 : src_t;
    const std::int64_t peers = 1 + rng() % 4;
    const std::int64_t peer_cols = (trial % 5 == 0 ? 13 : 8) * (1 + rng() % 12);  // some unaligned
    const std::int64_t cols = peers * peer_cols - (trial % 7 == 0 ? 3 : 0);
    const std::int64_t windows = 1 + rng() % 3, win_len = 1 + rng() % 9;
    const std::int64_t src_rows = windows * win_len + 4;
    remap_desc d;
    d.src_type = src_t;
    d.dst_type = dst_t;
    d.src_peer_cols = peer_cols;
    d.src_ld = peer_cols;
    d.src_peer_stride = src_rows * peer_cols;
    d.windows = windows;
    d.win_len = win_len;
    d.cols = cols;
    d.dst_ld = cols + (trial % 4 == 1 ? 8 : 0);
    d.src_win_stride = win_len;
    d.valid_windows = windows - (trial % 3 == 2 ? 1 : 0);
    d.valid_len = win_len - std::int64_t(rng() % 2);
    d.shift = trial % 2;
    d.src_row_base = rng() % 3;
    const std::size_t src_bytes = std::size_t(peers * src_rows * peer_cols) * dtype_size(src_t);
    const std::size_t dst_bytes = std::size_t(windows * win_len * d.dst_ld) * dtype_size(dst_t);
    std::vector<char> src(src_bytes);
    for (std::size_t i = 0; i < src_bytes / dtype_size(src_t); ++i)
      store_from_float(src.data(), std::int64_t(i), src_t, gen::small_exact(rng()));
    device_tensor dsrc(src_bytes), ddst(dst_bytes);
    SB_CUDA(cudaMemcpy(dsrc.data(), src.data(), src_bytes, cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemset(ddst.data(), 0x5a, dst_bytes));  // poison: every element must be written
    std::vector<char> want(dst_bytes, 0x5a);
    remap_desc h = d;
    h.src = src.data();
    h.dst = want.data();
    remap_host(h);
    d.src = dsrc.data();
    d.dst = ddst.data();
    (kernels::remap_is_vectorized(d) ? vectorized : scalar)++;
    kernels::launch_remap(d, nullptr);
    EXPECT_EQ(to_host(ddst.data(), dst_bytes), want) << "trial " << trial;
  }
  EXPECT_GT(vectorized, 10);
  EXPECT_GT(scalar, 5);
}

TEST(kernels_gpu, generated_source_matches_the_host) {
  SB_REQUIRE_GPU();
  remap_desc d;
  d.src_generated = true;
  d.gen = {3, 500, 16};
  d.gen_col_base = 448;
  d.src_peer_cols = 64;
  d.src_ld = 64;
  d.dst_type = dtype::fp32;
  d.win_len = 20;
  d.cols = 64;
  d.dst_ld = 64;
  d.valid_len = 17;
  d.src_row_base = 5;
  const std::size_t bytes = 20 * 64 * 4;
  device_tensor dd(bytes);
  std::vector<char> want(bytes);
  remap_desc h = d;
  h.dst = want.data();
  remap_host(h);
  d.dst = dd.data();
  kernels::launch_remap(d, nullptr);
  EXPECT_EQ(to_host(dd.data(), bytes), want);
}

TEST(kernels_gpu, verifier_counts_and_finds_the_first_mismatch) {
  SB_REQUIRE_GPU();
  expected_spec e = spec_of(gen::source::logits, dtype::fp32, 256, 128);
  e.shift = 1;
  e.windows = 2;
  e.win_len = 128;
  e.win_tok_stride = 128;
  const std::size_t bytes = std::size_t(e.elements()) * 4;
  device_tensor d(bytes);
  kernels::launch_fill(d.data(), e, nullptr);
  memory_tracker t;
  device_buffer scratch(sizeof(kernels::verify_scratch), t);
  auto* s = static_cast<kernels::verify_scratch*>(scratch.data());
  kernels::launch_verify(d.data(), e, s, nullptr);
  kernels::verify_scratch h{};
  SB_CUDA(cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  EXPECT_EQ(h.count, 0u);
  const float bad[2] = {1e9f, -1e9f};
  SB_CUDA(cudaMemcpy(static_cast<float*>(d.data()) + 5000, bad, sizeof bad, cudaMemcpyHostToDevice));
  SB_CUDA(cudaMemcpy(static_cast<float*>(d.data()) + 30000, bad, sizeof(float), cudaMemcpyHostToDevice));
  kernels::launch_verify(d.data(), e, s, nullptr);
  SB_CUDA(cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.first_index, 5000u);
}

TEST(kernels_gpu, launchers_reject_bad_descriptors_with_the_value) {
  SB_REQUIRE_GPU();
  remap_desc d;
  d.cols = 16;
  d.dst_ld = 8;
  d.src_peer_cols = 16;
  try {
    kernels::launch_remap(d, nullptr);
    FAIL();
  } catch (const runtime_error& e) {
    EXPECT_STREQ(e.what(), "launch_remap: dst_ld=8 < cols=16");
  }
}

TEST(gpu_handles, are_move_only) {
  static_assert(!std::is_copy_constructible_v<cuda_stream>);
  static_assert(!std::is_copy_constructible_v<cuda_event>);
  static_assert(!std::is_copy_constructible_v<nccl_comm>);
  static_assert(!std::is_copy_constructible_v<device_buffer>);
  static_assert(std::is_nothrow_move_constructible_v<cuda_stream>);
  SUCCEED();
}

}  // namespace sb
