#include "harness/thread_group.h"

#include <gtest/gtest.h>

#include <atomic>

namespace sb {

TEST(thread_group, reductions_across_rank_threads) {
  thread_group g(5);
  std::atomic<int> ok{0};
  run_ranks(g, [&](int r) {
    for (int i = 0; i < 50; ++i) {
      if (g.sum(r, r + i) != 10 + 5 * i) return;
      if (g.max(r, double(r * i)) != 4.0 * i) return;
    }
    ++ok;
  });
  EXPECT_EQ(ok, 5);
}

TEST(thread_group, one_failing_rank_releases_the_others_and_its_error_wins) {
  thread_group g(4);
  try {
    run_ranks(g, [&](int r) {
      if (r == 2) throw runtime_error("rank 2 broke");
      g.barrier();  // would hang forever without abort
    });
    FAIL();
  } catch (const group_aborted&) {
    FAIL() << "the root cause should be reported, not the abort";
  } catch (const runtime_error& e) {
    EXPECT_STREQ(e.what(), "rank 2 broke");
  }
}

}  // namespace sb
