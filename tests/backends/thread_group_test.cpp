#include "harness/backends/thread_group.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

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

// A machine out of threads: the ranks already started are released and joined, and the failure is
// one error naming the rank (it had aborted the process, std::terminate on a joinable thread).
// The child process's address space is capped so that thread stacks cannot be mapped; AddressSanitizer
// reserves its shadow memory up front and cannot run under such a cap.
#if !defined(__SANITIZE_ADDRESS__)
namespace {
[[noreturn]] void start_256_ranks_under_a_capped_address_space() {
  std::ifstream status("/proc/self/status");
  std::string line;
  long vm_kb = 0;
  while (std::getline(status, line))
    if (line.rfind("VmSize:", 0) == 0) vm_kb = std::stol(line.substr(7));
  const rlim_t bytes = rlim_t(vm_kb + 96 * 1024) * 1024;
  const rlimit cap{bytes, bytes};
  setrlimit(RLIMIT_AS, &cap);
  thread_group g(256);  // 8 MB of stack each: far past the cap
  try {
    run_ranks(g, [&](int) { g.barrier(); });
  } catch (const runtime_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::exit(std::string(e.what()).rfind("cannot start a thread for rank ", 0) == 0 ? 0 : 1);
  }
  std::exit(2);
}
}  // namespace

TEST(thread_group, no_thread_left_is_one_error_not_an_abort) {
  EXPECT_EXIT(start_256_ranks_under_a_capped_address_space(), ::testing::ExitedWithCode(0),
              "cannot start a thread for rank [0-9]+ of 256");
}
#endif

}  // namespace sb
