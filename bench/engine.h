// The engine (nccl-tests' common engine): allocate per the plan -> fill -> warm up -> timed
// iterations (barrier, whole path and each phase timed, max over ranks) -> verify -> record.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/path.h"
#include "harness/backends/nvtx.h"
#include "harness/core/point.h"
#include "harness/backends/world.h"

namespace sb {

// Host copies of one rank's buffers (for cross-checks and the golden tests).
using rank_buffers = std::map<std::string, std::vector<char>>;

struct engine_options {
  int iters = 20;
  int warmup = 5;
  double warmup_ms = 0;  // warm up at least this long too (GPU time, agreed across ranks)
  world_options world;
  std::string dump_dir;          // empty: no dump
  bool inject_mismatch = false;  // test hook: flip one output element of rank 0 before verifying
  // Replaces the generator for an input buffer: (rank, buffer) -> bytes in the buffer's dtype.
  std::function<std::optional<std::vector<char>>(int, const std::string&)> input_override;
  bool verify_definition = true;  // off only when inputs are not the generator's (golden cases)
  bool keep_outputs = false;      // fill point_outcome::outputs
  std::size_t cross_check_limit = std::size_t(256) << 20;  // bytes of baseline output kept on the host
  bool cold = false;                 // flush the L2 cache before every timed iteration
  const nvtx_domain* nvtx = nullptr;  // NVTX ranges for point, path/variant, iteration and phase
  // Set by a signal (bench/interrupt.h): the point in flight stops at its next iteration, on every
  // rank at the same one, with `interrupted`.
  const std::atomic<int>* interrupt = nullptr;
};

struct point_outcome {
  point_result result;
  std::vector<rank_buffers> outputs;  // per rank, when keep_outputs
};

// Worlds (and so NCCL communicators, whose set-up takes a second or more) kept per tp size.
class world_cache {
 public:
  explicit world_cache(const world_options& o) : m_o(o) {}
  world& get(int ranks);

 private:
  world_options m_o;
  std::map<int, std::unique_ptr<world>> m_worlds;
};

// Runs one point on `w` (a world of pt.shp.tp ranks), or on a fresh world when w is null. Never throws for OOM (status "oom"); config errors are the
// caller's to catch before (validate the shape first); runtime failures propagate.
point_outcome run_point(const point& pt, const engine_options& o, world* w = nullptr);

// Runs a list of points in order: invalid ones are recorded as skipped, sharded points are
// cross-checked against the baseline's output of the same shape where it fits, and on_result is
// called as each point finishes (the .jsonl appender hooks in here). Worlds (and so NCCL
// communicators, whose set-up takes a second or more) are kept per tp size for the whole list.
std::vector<point_result> run_points(const std::vector<point>& pts, const engine_options& o,
                                     const std::function<void(const point_result&)>& on_result);
// The same for one point, with caller-owned worlds (Google Benchmark registers points one by one).
point_result run_checked_point(const point& pt, const engine_options& o, world_cache& worlds);

point_plan plan_point(const point& pt);

// The collective alone (nccl-tests' measurement, shardbench's own): `op_bytes` as nccl-tests' S —
// all-gather: every rank sends op_bytes / P; all-to-all: every rank sends op_bytes / P to each rank
// (ncclAlltoAll unless o.world.a2a says otherwise) — on a world of P ranks, o.warmup untimed and
// o.iters timed iterations after a barrier each. Returns each iteration's time in microseconds, the
// slowest rank's (empty on processes without rank 0). Raw traffic needs every rank real: not on
// `local` (its peers are copies or generated). Throws oom_error, on every rank, when one rank cannot
// allocate its buffers.
std::vector<double> time_raw_collective(world& w, collective_kind k, std::size_t op_bytes, const engine_options& o);

}  // namespace sb
