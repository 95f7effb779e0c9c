#include "harness/core/stats.h"

#include <gtest/gtest.h>

namespace sb {

TEST(stats, odd_and_even_medians_and_sample_stddev) {
  summary s = summarize({5, 1, 3});
  EXPECT_EQ(s.median, 3);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 5);
  EXPECT_EQ(s.mean, 3);
  EXPECT_DOUBLE_EQ(s.stddev, 2.0);  // sqrt(((−2)²+0+2²)/2)
  EXPECT_EQ(s.samples, (std::vector<double>{5, 1, 3}));  // kept in run order
  EXPECT_EQ(summarize({4, 1, 2, 3}).median, 2.5);
}

TEST(stats, single_and_empty) {
  summary s = summarize({7});
  EXPECT_EQ(s.median, 7);
  EXPECT_EQ(s.stddev, 0);
  EXPECT_EQ(summarize({}).median, 0);
}

}  // namespace sb
