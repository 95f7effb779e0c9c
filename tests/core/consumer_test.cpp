// The consumer stage's arithmetic (harness/core/consumer_ops.h) and the draft vocabulary (harness/core/t2d.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "harness/core/consumer_ops.h"
#include "harness/core/host_ops.h"
#include "harness/core/t2d.h"

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

namespace {
// A lane's values that exercise every branch of softmax_lane: rises (new maxima inside a step),
// runs below the maximum, ties with it, -inf before and after the first finite value, NaN,
// values far enough below the maximum that exp underflows, and +inf.
std::vector<float> awkward_values() {
  std::vector<float> x = {-INFINITY, -INFINITY, -3.0f, -3.0f, NAN, -2.5f, 1.0f, 0.5f, 1.0f, -200.0f};
  for (int k = 0; k < 300; ++k) x.push_back(float((k * 53) % 97) * 0.37f - 20.0f + (k % 41 == 0 ? float(k) * 0.2f : 0.0f));
  x.push_back(-INFINITY);
  x.push_back(INFINITY);
  x.push_back(3.0f);
  return x;
}

std::uint32_t bits(float f) { return float_to_bits(f); }
}  // namespace

// softmax_lane loads U values before pushing any and takes a step whose values all stay at or
// below the maximum as plain adds: the state's bits must equal one softmax_push after another, for
// every U, start and stride (the kernels' lanes and the host loops share it).
TEST(consumer_softmax, a_lane_batched_u_at_a_time_has_the_bits_of_one_push_at_a_time) {
  const std::vector<float> x = awkward_values();
  const auto n = std::int64_t(x.size());
  auto value = [&](std::int64_t k) { return x[std::size_t(k)]; };
  for (std::int64_t stride : {1, 3, 7}) {
    for (std::int64_t first = 0; first < stride; ++first) {
      for (std::int64_t end : {n, n - 1, n - 2, first + 1, first}) {
        softmax_state want;
        for (std::int64_t k = first; k < end; k += stride) softmax_push(want, x[std::size_t(k)]);
        auto check = [&](softmax_state got, int u) {
          EXPECT_EQ(bits(got.m), bits(want.m)) << "U=" << u << " stride=" << stride << " first=" << first << " end=" << end;
          EXPECT_EQ(bits(got.s), bits(want.s)) << "U=" << u << " stride=" << stride << " first=" << first << " end=" << end;
        };
        softmax_state s1, s2, s3, s4, s8;
        softmax_lane<1>(s1, value, first, end, stride);
        softmax_lane<2>(s2, value, first, end, stride);
        softmax_lane<3>(s3, value, first, end, stride);
        softmax_lane<4>(s4, value, first, end, stride);
        softmax_lane<8>(s8, value, first, end, stride);
        check(s1, 1), check(s2, 2), check(s3, 3), check(s4, 4), check(s8, 8);

        // keep (the GPU's stash of the values for the second pass) sees each k once, in order,
        // with its value, and does not change the state's bits.
        softmax_state sk;
        std::vector<std::int64_t> kept;
        softmax_lane<4>(sk, value, first, end, stride, [&](std::int64_t k, float v) {
          kept.push_back(k);
          EXPECT_EQ(bits(v), bits(x[std::size_t(k)])) << k;
        });
        check(sk, 4);

        softmax_state total;  // the row's: its maximum is at least every value (+inf here)
        for (std::int64_t k = 0; k < n; ++k) softmax_push(total, x[std::size_t(k)]);
        std::vector<std::int64_t> seen;
        softmax_probs_lane<3>(total, value, first, end, stride, [&](std::int64_t k, float p) {
          seen.push_back(k);
          EXPECT_EQ(bits(p), bits(softmax_prob(total, x[std::size_t(k)]))) << k;
        });
        std::vector<std::int64_t> expected;
        for (std::int64_t k = first; k < end; k += stride) expected.push_back(k);
        EXPECT_EQ(seen, expected);
        EXPECT_EQ(kept, expected);
      }
    }
  }
}

// The softmax passes exp only x - m with m at least x (or NaN): there exp_fixed<false>, without the
// overflow branches, must give sb_exp's bits. Every 61st non-positive float, all of [-128, -64)
// (the underflow edge at -104 and the subnormal results) at a step of 3, and the special values.
TEST(consumer_exp, the_non_positive_exp_has_the_bits_of_sb_exp) {
  auto same = [](float x) { return float_to_bits(sb_exp_nonpos(x)) == float_to_bits(sb_exp(x)); };
  std::int64_t checked = 0;
  for (std::uint64_t b = 0x80000000u; b <= 0xff800000u; b += 61, ++checked)
    ASSERT_TRUE(same(bits_to_float(std::uint32_t(b)))) << std::hex << b;
  for (std::uint32_t b = float_to_bits(-64.0f); b < float_to_bits(-128.0f); b += 3, ++checked)
    ASSERT_TRUE(same(bits_to_float(b))) << std::hex << b;
  for (float x : {-0.0f, 0.0f, -INFINITY, NAN, -104.0f, std::nextafter(-104.0f, 0.0f), -87.33655f, -1e-45f})
    EXPECT_TRUE(same(x)) << x;
  EXPECT_GT(checked, 37000000);
}

// The pruned reader walks the peer blocks as k grows (blocks of uneven size, an empty one among
// them) and reads what draft_value_from reads; so do the full-row readers of each type.
TEST(consumer_softmax, readers_read_what_draft_value_from_reads) {
  const std::int64_t rows = 3;
  const std::vector<std::int64_t> counts = {5, 0, 2, 9, 1};
  std::vector<std::uint16_t> values;  // bf16 blocks, one after another: [rows][n] each
  consumer_desc d;
  d.source = consumer_source::pruned;
  d.src_type = dtype::bf16;
  d.n_peers = int(counts.size());
  std::int64_t k0 = 0;
  for (int q = 0; q < d.n_peers; ++q) {
    d.peers[q].values_offset = std::int64_t(values.size() * 2);
    d.peers[q].k0 = k0;
    d.peers[q].n = counts[std::size_t(q)];
    for (std::int64_t e = 0; e < rows * counts[std::size_t(q)]; ++e) values.push_back(float_to_bf16(float(q * 100 + e) * 0.5f));
    k0 += counts[std::size_t(q)];
  }
  d.src = values.data();
  d.vd = k0;
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t l = 0; l < 4; ++l) {  // a lane's k: l, l + 4, ...
      pruned_reader<dtype::bf16> r{&d, i};
      int q = 0;
      for (std::int64_t k = l; k < d.vd; k += 4)
        EXPECT_EQ(bits(r(k)), bits(draft_value_from<consumer_source::pruned>(d, i, k, q))) << i << " " << k;
    }
  }

  const std::int64_t vocab = 10, ld = 12;
  const std::vector<std::int32_t> d2t = {1, 4, 5, 9};
  std::vector<float> f32(std::size_t(rows * ld));
  for (std::size_t e = 0; e < f32.size(); ++e) f32[e] = float(e) * 0.25f - 3.0f;
  std::vector<std::uint16_t> b16(f32.size()), h16(f32.size());
  for (std::size_t e = 0; e < f32.size(); ++e) b16[e] = float_to_bf16(f32[e]), h16[e] = float_to_fp16(f32[e]);
  consumer_desc m;
  m.source = consumer_source::memory;
  m.src_ld = ld;
  m.vocab = vocab;
  m.d2t = d2t.data();
  m.vd = std::int64_t(d2t.size());
  for (auto [t, p] : {std::pair<dtype, const void*>{dtype::fp32, f32.data()}, {dtype::bf16, b16.data()}, {dtype::fp16, h16.data()}}) {
    m.src_type = t;
    m.src = p;
    for (std::int64_t i = 0; i < rows; ++i)
      with_draft_reader(m, i, [&](auto& r) {
        int q = 0;
        for (std::int64_t k = 0; k < m.vd; ++k)
          EXPECT_EQ(bits(r(k)), bits(draft_value_from<consumer_source::memory>(m, i, k, q))) << to_string(t) << " " << i << " " << k;
      });
  }
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
