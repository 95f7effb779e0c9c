// The GPU backend's launch gate (--gate): a timed iteration's work is queued behind a stream
// gate and runs once the host opens it, which every host wait does first (else the host would wait
// on work held behind its own gate) and the launch-queue budget does before CUDA's queue could fill.
// Each case would hang until the gate's timeout, then throw, if an opening were missing.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "harness/backends/gpu_backend.h"
#include "tests/support/gpu_test_util.h"

namespace sb {

namespace {

using namespace std::chrono_literals;

constexpr auto kStall = 50ms;
constexpr double kStallUs = 50000;

gpu_rank_setup one_rank(bool gate) {
  gpu_rank_setup s;
  s.mode = gpu_mode::local_one;
  s.gate = gate;
  s.timeout_s = 5;  // a missing opening fails in seconds, not the default five minutes
  return s;
}

// Two small memsets with the host asleep between them, and `between` (a host wait, or nothing)
// after the first; after a warm-up iteration, as the engine runs one before any gated iteration.
template <class F>
iteration_times stalled_iteration(bool gate, iteration_kind k, F&& between) {
  gpu_backend c(one_rank(gate));
  auto buf = c.allocate(1 << 20);
  c.iteration_begin(iteration_kind::warmup);
  c.zero(buf->data(), buf->bytes());
  c.iteration_end();
  c.iteration_begin(k);
  c.zero(buf->data(), buf->bytes());
  between(c, buf->data());
  std::this_thread::sleep_for(kStall);
  c.zero(buf->data(), buf->bytes());
  return c.iteration_end();
}

void nothing(rank_backend&, void*) {}

}  // namespace

TEST(gpu_backend, a_gated_iteration_leaves_a_host_stall_untimed) {
  SB_REQUIRE_GPU();
  const iteration_times gated = stalled_iteration(true, iteration_kind::timed, nothing);
  EXPECT_EQ(gated.gate, launch_gate::whole);
  EXPECT_LT(gated.total_us, kStallUs / 5);
  const iteration_times plain = stalled_iteration(false, iteration_kind::timed, nothing);
  EXPECT_EQ(plain.gate, launch_gate::off);
  EXPECT_GE(plain.total_us, kStallUs * 0.9);  // the GPU waited for the host's second launch
}

TEST(gpu_backend, warmup_iterations_are_not_gated) {
  SB_REQUIRE_GPU();
  const iteration_times t = stalled_iteration(true, iteration_kind::warmup, nothing);
  EXPECT_EQ(t.gate, launch_gate::off);
  EXPECT_GE(t.total_us, kStallUs * 0.9);
}

// SpecForge's per-destination sync, and a copy to pageable host memory (which can block the host
// inside cudaMemcpyAsync): both open the gate, and what follows runs at the host's pace.
TEST(gpu_backend, a_host_wait_inside_a_gated_iteration_opens_the_gate_first) {
  SB_REQUIRE_GPU();
  const iteration_times synced =
      stalled_iteration(true, iteration_kind::timed, [](rank_backend& c, void*) { c.host_sync(); });
  EXPECT_EQ(synced.gate, launch_gate::host_wait);
  EXPECT_GE(synced.total_us, kStallUs * 0.9);
  const iteration_times downloaded = stalled_iteration(true, iteration_kind::timed, [](rank_backend& c, void* p) {
    int word = 0;
    c.download(&word, p, sizeof word);
  });
  EXPECT_EQ(downloaded.gate, launch_gate::host_wait);
}

// More operations than the budget: the gate opens before CUDA's launch queue could fill and block
// the host (which, with the gate closed, nothing would drain).
TEST(gpu_backend, an_iteration_past_the_queue_budget_opens_the_gate_and_says_so) {
  SB_REQUIRE_GPU();
  gpu_backend c(one_rank(true));
  auto buf = c.allocate(256);
  c.iteration_begin(iteration_kind::warmup);
  c.zero(buf->data(), buf->bytes());
  c.iteration_end();
  c.iteration_begin(iteration_kind::timed);
  for (int i = 0; i < 4000; ++i) c.zero(buf->data(), buf->bytes());
  EXPECT_EQ(c.iteration_end().gate, launch_gate::queue_depth);
  // The next iteration is gated afresh.
  c.iteration_begin(iteration_kind::timed);
  c.zero(buf->data(), buf->bytes());
  EXPECT_EQ(c.iteration_end().gate, launch_gate::whole);
}

}  // namespace sb
