#include "harness/core/host_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

namespace sb {

// Two peer blocks of [3 rows, 2 cols] -> one window of [3 rows, 4 cols],
// shifted by one: row j takes source row j+1, the last row is zero.
TEST(host_ops, remap_reorders_peer_blocks_and_shifts) {
  std::vector<float> src(2 * 3 * 2);
  std::iota(src.begin(), src.end(), 1.0f);  // peer0: 1..6, peer1: 7..12
  std::vector<float> dst(3 * 4, -1.0f);
  remap_desc d;
  d.src = src.data();
  d.src_type = dtype::fp32;
  d.src_peer_stride = 6;
  d.src_ld = 2;
  d.src_peer_cols = 2;
  d.dst = dst.data();
  d.dst_type = dtype::fp32;
  d.dst_ld = 4;
  d.win_len = 3;
  d.cols = 4;
  d.valid_len = 3;
  d.shift = 1;
  remap_host(d);
  EXPECT_EQ(dst, (std::vector<float>{3, 4, 9, 10, 5, 6, 11, 12, 0, 0, 0, 0}));
}

TEST(host_ops, remap_upcasts_and_zero_fills_padding_windows) {
  std::vector<std::uint16_t> src{float_to_bf16(1.5f), float_to_bf16(-2.0f)};
  std::vector<float> dst(4, -1.0f);
  remap_desc d;
  d.src = src.data();
  d.src_type = dtype::bf16;
  d.src_ld = 1;
  d.src_peer_cols = 1;
  d.dst = dst.data();
  d.dst_type = dtype::fp32;
  d.dst_ld = 1;
  d.windows = 2;
  d.win_len = 2;
  d.cols = 1;
  d.valid_windows = 1;  // the second window is a dummy sample
  d.src_win_stride = 2;
  d.valid_len = 2;
  remap_host(d);
  EXPECT_EQ(dst, (std::vector<float>{1.5f, -2.0f, 0.0f, 0.0f}));
}

TEST(host_ops, fill_then_verify_passes_and_a_flip_is_reported_first) {
  expected_spec e;
  e.kind = gen::source::logits;
  e.gen = {3, 100, 8};
  e.type = dtype::fp32;
  e.windows = 2;
  e.win_len = 8;
  e.cols = 16;
  e.win_tok_stride = 8;
  e.valid_len = 8;
  e.shift = 1;
  std::vector<float> buf(std::size_t(e.elements()));
  fill_host(buf.data(), e);
  EXPECT_EQ(verify_host(buf.data(), e).count, 0);
  buf[40] += 1.0f;
  buf[90] = NAN;
  mismatch_report m = verify_host(buf.data(), e);
  EXPECT_EQ(m.count, 2);
  EXPECT_EQ(m.first_index, 40);
  EXPECT_EQ(m.actual, m.expected + 1.0);
}

}  // namespace sb
