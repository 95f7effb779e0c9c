// The consumer stage's arithmetic (harness/consumer_ops.h) and the draft vocabulary (harness/t2d.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "harness/consumer_ops.h"
#include "harness/host_ops.h"
#include "harness/t2d.h"

namespace sb {

namespace {
std::int64_t ulps(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::abs(std::int64_t(ia) - std::int64_t(ib));
}
}  // namespace

TEST(consumer_exp, within_two_ulps_of_libm_where_the_result_is_normal) {
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f)
    ASSERT_LE(ulps(sb_exp(x), std::exp(x)), 2) << "x=" << x;
  EXPECT_EQ(sb_exp(0.0f), 1.0f);
  EXPECT_EQ(sb_exp(-0.0f), 1.0f);
  EXPECT_EQ(sb_exp(-INFINITY), 0.0f);
  EXPECT_EQ(sb_exp(-200.0f), 0.0f);
  EXPECT_GT(sb_exp(-100.0f), 0.0f);  // subnormal, not flushed
  EXPECT_TRUE(std::isinf(sb_exp(100.0f)));
}

// A row of draft values through the lanes, against a double-precision softmax.
TEST(consumer_softmax, lanes_and_tree_agree_with_a_double_softmax) {
  const std::int64_t n = 1000;
  std::vector<float> x(n);
  for (std::int64_t k = 0; k < n; ++k) x[std::size_t(k)] = float((k * 37) % 101) * 0.25f - 12.0f;
  std::vector<std::int32_t> d2t(n);
  for (std::int64_t k = 0; k < n; ++k) d2t[std::size_t(k)] = std::int32_t(k);
  std::vector<float> p(n);
  std::int32_t pm = -1, lm = 1;
  consumer_desc d;
  d.source = consumer_source::memory;
  d.src = x.data();
  d.src_ld = n;
  d.def.windows = 1;
  d.def.win_len = 1;
  d.def.valid_len = 1;
  d.vocab = n;
  d.d2t = d2t.data();
  d.vd = n;
  d.loss_mask = &lm;
  d.target_p = p.data();
  d.position_mask = &pm;
  consume_host(d);
  double m = -1e30, s = 0;
  for (float v : x) m = std::max(m, double(v));
  for (float v : x) s += std::exp(double(v) - m);
  double total = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    const double want = std::exp(double(x[std::size_t(k)]) - m) / s;
    EXPECT_NEAR(p[std::size_t(k)], want, want * 2e-6) << k;
    total += p[std::size_t(k)];
  }
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_EQ(pm, 1);  // every column is a draft column, the loss mask is 1
  // The verifier recomputes the same bits.
  consumer_mismatch mm = verify_consumer_host(d);
  EXPECT_EQ(mm.target_p.count, 0);
  EXPECT_EQ(mm.position_mask.count, 0);
  p[7] = std::nextafter(p[7], 1.0f);
  EXPECT_EQ(verify_consumer_host(d).target_p.count, 1);
  EXPECT_EQ(verify_consumer_host(d).target_p.first_index, 7);
  consume_host(d);
  p[3] = NAN;  // a NaN never verifies, not even against itself
  EXPECT_EQ(verify_consumer_host(d).target_p.count, 1);
}

TEST(consumer_argmax, ties_go_to_the_lowest_column_and_padding_columns_are_ignored) {
  // Row: 3 at columns 2 and 5 (tie), a larger value in a padding column (c >= vocab).
  std::vector<float> row = {1, 0, 3, 1, 0, 3, 0, 9};
  std::vector<std::int32_t> with2 = {2, 4}, without2 = {4, 5};
  std::vector<float> p(2);
  std::int32_t pm = -1, lm = 1;
  consumer_desc d;
  d.src = row.data();
  d.src_ld = 8;
  d.def.windows = 1;
  d.def.win_len = 1;
  d.def.valid_len = 1;
  d.vocab = 7;
  d.vd = 2;
  d.loss_mask = &lm;
  d.target_p = p.data();
  d.position_mask = &pm;
  d.d2t = with2.data();
  consume_host(d);
  EXPECT_EQ(pm, 1);  // argmax = 2, a draft column
  d.d2t = without2.data();
  consume_host(d);
  EXPECT_EQ(pm, 0);  // argmax = 2 is not in {4, 5}; column 5 ties but is not the lowest
  lm = 0;
  d.d2t = with2.data();
  consume_host(d);
  EXPECT_EQ(pm, 0);  // masked out
}

TEST(t2d, draws_vd_distinct_sorted_columns_deterministically) {
  shape s;
  s.vocab = 129280;
  s.tp = 8;
  s.draft_vocab = 32000;
  for (t2d_kind k : {t2d_kind::uniform, t2d_kind::skewed}) {
    s.t2d = k;
    const auto a = make_d2t(s);
    ASSERT_EQ(a.size(), 32000u);
    EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
    EXPECT_EQ(std::set<std::int32_t>(a.begin(), a.end()).size(), a.size());
    EXPECT_GE(a.front(), 0);
    EXPECT_LT(a.back(), 129280);
    EXPECT_EQ(a, make_d2t(s));
    std::int64_t total = 0;
    for (const auto& sh : draft_shares(s, a)) total += sh.count;
    EXPECT_EQ(total, 32000);
  }
}

TEST(t2d, skewed_crowds_into_rank_0s_shard_and_uniform_does_not) {
  shape s;
  s.vocab = 129280;
  s.tp = 8;
  s.draft_vocab = 32000;
  const auto uniform = draft_shares(s, make_d2t(s));
  s.t2d = t2d_kind::skewed;
  const auto skewed = draft_shares(s, make_d2t(s));
  EXPECT_NEAR(double(uniform[0].count), 4000.0, 300.0);
  EXPECT_GT(skewed[0].count, 3 * skewed[7].count);
  EXPECT_GT(skewed[0].count, 10000);
}

}  // namespace sb
