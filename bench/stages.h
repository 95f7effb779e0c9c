// One point as each rank runs it, stage by stage (the engine, bench/engine.cpp, calls them in order):
// plan and allocate -> fill the inputs -> warm up -> time -> verify -> dump -> the figures it records.
// Every stage that can make a rank leave early agrees with the other ranks first, so that no rank
// waits in a collective for one that left.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/engine.h"

namespace sb {

// The rank's buffers: one arena laid out by the plan, and each buffer's address in it.
struct rank_arena {
  arena_layout layout;
  std::unique_ptr<buffer> memory;
  std::map<std::string, void*, std::less<>> ptrs;
};

// Plan and allocate: the arena, or nothing when any rank ran out of memory (`oom_reason` holds this
// rank's reason, if it was this one).
std::optional<rank_arena> allocate(rank_backend& c, const path_plan& plan, std::string& oom_reason);
// The inputs, from their definitions, their bytes, or o.input_override.
void fill_inputs(rank_backend& c, const path_plan& plan, const rank_arena& a, const engine_options& o);
// peer_pull: every rank's address of the buffers the path reads in place.
void open_peer_buffers(rank_backend& c, const path_plan& plan, const rank_arena& a, rank_context& ctx);

// Whether a signal asked the run to stop, agreed by every rank (a host reduction): throws
// `interrupted` when it did.
void stop_if_asked(rank_backend& c, const engine_options& o, const point& pt);

// Runs the warm-up: o.warmup iterations and, when o.warmup_ms > 0, more until the warm-up has
// taken that much GPU time. A fixed count of short iterations can leave the GPU short of its
// working clocks: on an H200 the first usp point after a DeepSeek-V3 32K batch point (three
// warm-up iterations of ~6 ms) ran every kernel 4-6 % slower than the same point later in the
// sweep, and as fast once forty iterations warmed it up (docs/kernels.md). Every rank goes
// on while the slowest rank's warm-up is short of the time, so all run the same number of
// collectives. With --gate at least one runs: CUDA loads a kernel at its first launch by default,
// and loading can synchronise the context, which behind a closed gate would wait until the gate
// gave up; after a warm-up iteration every kernel of the path is loaded. `once(i)` runs warm-up
// iteration i and returns its time in µs; returns the iterations run.
template <class F>
int warm_up(rank_backend& c, const engine_options& o, F&& once) {
  constexpr int kMaxWarmup = 1000000;
  int n = 0;
  double us = 0;
  for (; n < std::max(o.warmup, o.world.gate ? 1 : 0); ++n) us += once(n);
  if (o.warmup_ms <= 0) return n;
  while (n < kMaxWarmup && c.max_over_ranks(us) < o.warmup_ms * 1000.0) us += once(n++);
  return n;
}

// The warm-up iterations of the path: how many ran (the same on every rank).
int warm_up_path(rank_backend& c, const engine_options& o, const point& pt, const path& p, rank_context& ctx);
// The timed iterations: a fixed count, the same on every rank (ranks never decide on their own how
// often to run a collective).
std::vector<iteration_times> time_path(rank_backend& c, const engine_options& o, const point& pt, const path& p,
                                       rank_context& ctx);

// Each iteration's time and each phase's, the slowest rank's (a collective finishes when its last
// rank does), phases in the order they ran.
struct timed_samples {
  std::vector<double> totals;
  std::vector<std::pair<std::string, std::vector<double>>> phases;
};
timed_samples slowest_rank(rank_backend& c, const std::vector<iteration_times>& its);
// A point's launch gate: `whole` only where every timed iteration was queued whole before it ran,
// else the first way one opened early.
launch_gate point_gate(const std::vector<iteration_times>& its);
// What each rank handed to its collectives in the last timed iteration (one reduction per rank:
// the processes of an MPI world see only their own); known on the summary rank only, and there only
// for ranks that ran.
std::vector<std::optional<std::size_t>> sent_by_rank(rank_backend& c, int tp, bool summary_rank);

// Verify: the rank's outputs against their definitions (and the consumer's against its rows'),
// bitwise; their bytes kept when asked.
struct rank_verdict {
  std::int64_t mismatches = 0;
  std::string first_mismatch;
  rank_buffers outputs;
};
rank_verdict verify_rank(rank_backend& c, const engine_options& o, const point& pt, const path_plan& plan, const rank_arena& a,
                         rank_context& ctx);
// --dump: the buffers the plan marks, as .npy files.
void dump_rank(rank_backend& c, const engine_options& o, const point& pt, const path_plan& plan, const rank_arena& a);

// The memory figures, the largest over the ranks.
memory_figures memory_over_ranks(rank_backend& c, const path_plan& plan, std::size_t device_before);

std::string describe_mismatch(const point& pt, int rank, const std::string& buf, const mismatch_report& m);

}  // namespace sb
