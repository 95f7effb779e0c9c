#include "harness/core/generator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "harness/core/dtype.h"

namespace sb {

TEST(generator, logits_are_finite_and_exact_in_bf16_fp16_fp32) {
  gen::params p{7, 129280, 64};
  for (std::int64_t t = 0; t < 200; ++t)
    for (std::int64_t c = 0; c < 2000; c += 7) {
      float v = gen::logit(p, t, c);
      ASSERT_TRUE(std::isfinite(v));
      ASSERT_EQ(bf16_to_float(float_to_bf16(v)), v) << t << "," << c;
      ASSERT_EQ(fp16_to_float(float_to_fp16(v)), v) << t << "," << c;
    }
}

TEST(generator, padding_columns_are_zero) {
  gen::params p{1, 1000, 64};
  for (std::int64_t c = 1000; c < 1024; ++c) EXPECT_EQ(gen::logit(p, 5, c), 0.0f);
}

TEST(generator, deterministic_index_addressable_and_seed_dependent) {
  gen::params a{1, 1000, 64}, b{2, 1000, 64};
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(gen::logit(a, i, i * 3), gen::logit(a, i, i * 3));
    differ += gen::logit(a, i, i * 3) != gen::logit(b, i, i * 3);
  }
  EXPECT_GT(differ, 80);
}

TEST(generator, values_spread_and_include_ties) {
  gen::params p{3, 1 << 20, 64};
  std::set<float> seen;
  for (int c = 0; c < 4096; ++c) seen.insert(gen::logit(p, 11, c));
  EXPECT_GT(seen.size(), 500u);   // spread
  EXPECT_LT(seen.size(), 4096u);  // and ties (argmax tie-breaking must be exercised)
}

TEST(generator, ids_in_range_and_masks_binary_with_padding) {
  gen::params p{5, 1000, 64};
  for (std::int64_t b = 0; b < 8; ++b) {
    std::int64_t len = gen::sample_length(p, b);
    EXPECT_GE(len, 64 - 64 / 4);
    EXPECT_LE(len, 64);
    for (std::int64_t s = 0; s < 64; ++s) {
      std::int64_t t = b * 64 + s;
      auto id = gen::int_value(gen::source::input_ids, p, t);
      EXPECT_GE(id, 0);
      EXPECT_LT(id, 1000);
      auto am = gen::int_value(gen::source::attention_mask, p, t);
      auto lm = gen::int_value(gen::source::loss_mask, p, t);
      EXPECT_EQ(am, s < len ? 1 : 0);
      EXPECT_LE(lm, am);  // the loss mask is a subset of the attention mask
    }
  }
  EXPECT_EQ(gen::int_value(gen::source::position, p, 42), 42);
}

TEST(generator, hidden_is_bf16_exact) {
  gen::params p{9, 1000, 64};
  for (int t = 0; t < 100; ++t)
    for (int k = 0; k < 100; ++k) {
      float v = gen::hidden(p, t, k);
      ASSERT_EQ(bf16_to_float(float_to_bf16(v)), v);
    }
}

}  // namespace sb
