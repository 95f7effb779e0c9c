#include "harness/core/bandwidth.h"

#include <gtest/gtest.h>

namespace sb {

// nccl-tests: all_gather with count N per rank over n ranks has size S = N·n·elem, algbw = S/t,
// busbw = algbw·(n-1)/n. Hand-computed: 8 ranks, 128 MiB per rank of bf16, 10 ms.
TEST(bandwidth, all_gather_matches_nccl_tests) {
  const std::size_t per_rank = std::size_t(128) << 20;
  const std::size_t S = 8 * per_rank;  // 1073741824 bytes
  EXPECT_NEAR(algbw_gbps(S, 10000.0), 107.3741824, 1e-9);
  EXPECT_NEAR(busbw_gbps(S, 10000.0, 8), 107.3741824 * 7 / 8, 1e-9);
}

// all_to_all: S is the whole send buffer (count·n·elem); the same (n-1)/n factor.
TEST(bandwidth, all_to_all_matches_nccl_tests) {
  EXPECT_NEAR(algbw_gbps(4000000000ull, 2e6), 2.0, 1e-12);
  EXPECT_NEAR(busbw_gbps(4000000000ull, 2e6, 4), 1.5, 1e-12);
  EXPECT_EQ(busbw_factor(1), 0.0);  // one rank moves nothing over a link
}

TEST(bandwidth, zero_time_gives_zero_not_inf) { EXPECT_EQ(algbw_gbps(100, 0.0), 0.0); }

}  // namespace sb
