#include "harness/core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>

#include "harness/core/error.h"

namespace sb {

TEST(dtype, sizes) {
  EXPECT_EQ(dtype_size(dtype::bf16), 2u);
  EXPECT_EQ(dtype_size(dtype::fp16), 2u);
  EXPECT_EQ(dtype_size(dtype::fp32), 4u);
  EXPECT_EQ(dtype_size(dtype::i32), 4u);
  EXPECT_EQ(dtype_size(dtype::i64), 8u);
}

TEST(dtype, parse_round_trip_and_unknown_names_the_choices) {
  for (auto t : {dtype::bf16, dtype::fp16, dtype::fp32}) EXPECT_EQ(parse_dtype(to_string(t)), t);
  try {
    parse_dtype("fp8");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "unknown dtype 'fp8' (expected one of: bf16, fp16, fp32)");
  }
}

TEST(dtype, bf16_round_to_nearest_even) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_float(0x3f80), 1.0f);
  // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1+2^-7: ties to even (1).
  EXPECT_EQ(float_to_bf16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(float_to_bf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST(dtype, fp16_matches_ieee_half) {
  EXPECT_EQ(float_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(float_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(float_to_fp16(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_fp16(70000.0f), 0x7c00);          // overflow to inf
  EXPECT_EQ(float_to_fp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(fp16_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_float(0x3555), 0.333251953125f);
  // Every fp16 value survives a round trip through fp32.
  for (std::uint32_t h = 0; h < 0x7c00; ++h) {
    ASSERT_EQ(float_to_fp16(fp16_to_float(std::uint16_t(h))), h) << h;
    ASSERT_EQ(float_to_fp16(fp16_to_float(std::uint16_t(h | 0x8000))), h | 0x8000) << h;
  }
}

}  // namespace sb
