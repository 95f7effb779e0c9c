// The engine (nccl-tests' common engine): each rank runs a point through the stages of
// bench/stages.h, then one rank records the summary and the point's own checks are applied.
#include "bench/engine.h"

#include <fmt/format.h>

#include <mutex>

#include "bench/invariants.h"
#include "bench/stages.h"
#include "harness/backends/cupti.h"
#include "harness/core/bandwidth.h"
#include "harness/core/error.h"

namespace sb {

namespace {

// Every rank's plan of a point (run_point hands each rank its own, so no plan is made twice).
std::vector<path_plan> plan_ranks(const path& p, const shape& s) {
  std::vector<path_plan> plans;
  plans.reserve(std::size_t(s.tp));
  for (int r = 0; r < s.tp; ++r) plans.push_back(p.plan(s, r));
  return plans;
}

point_plan combine_plans(const std::vector<path_plan>& plans) {
  point_plan out;
  for (std::size_t r = 0; r < plans.size(); ++r) {
    const path_plan& pl = plans[r];
    std::size_t peak = peak_live_bytes(pl.buffers);
    if (r == 0 || peak > out.peak_bytes) {
      out.peak_bytes = peak;
      out.buffers = pl.buffers;
      out.steps = pl.steps;
    }
    out.bytes_sent = std::max(out.bytes_sent, pl.bytes_sent);
    out.bytes_sent_all_ranks += pl.bytes_sent;
    out.op_bytes = std::max(out.op_bytes, pl.op_bytes);
    out.useful_bytes = std::max(out.useful_bytes, pl.useful_bytes);
    out.collective = pl.collective;
  }
  return out;
}

}  // namespace

point_plan plan_point(const point& pt) { return combine_plans(plan_ranks(*make_path(pt.path, pt.variant), pt.shp)); }


namespace {

// What a point records before it runs: its identity, options and the plans' byte counts.
point_result start_result(const point& pt, const engine_options& o, const point_plan& all) {
  point_result res;
  res.pt = pt;
  res.iters = o.iters;
  res.warmup = o.warmup;
  res.warmup_ms = o.warmup_ms;
  res.backend = std::string(to_string(o.world.backend));
  if (o.world.backend == backend_kind::local) res.backend += o.world.emulate == emulate_mode::one ? "(one)" : "(all)";
  res.collective = all.collective;
  // Bytes come from every rank's plan (the busiest rank's), so that a backend running one rank of
  // many (local `one`) reports the busiest rank, not the one it happens to run.
  res.bytes_sent = all.bytes_sent;
  res.bytes_sent_all_ranks = all.bytes_sent_all_ranks;
  res.op_bytes = all.op_bytes;
  res.useful_bytes = all.useful_bytes;
  return res;
}

// Record: the summary rank's times, figures and verdict.
void record(point_result& res, rank_backend& c, const engine_options& o, const std::vector<iteration_times>& its,
            const timed_samples& t, std::int64_t mismatches, const memory_figures& memory) {
  res.timing_domain = c.timing_domain();
  res.launch_gate = std::string(to_string(point_gate(its)));
  res.mismatches = mismatches;
  res.verified = o.verify_definition && mismatches == 0;
  res.time_us = summarize(t.totals);
  for (const auto& [name, samples] : t.phases) {
    res.phases_us.emplace_back(name, summarize(samples).median);
    res.phase_samples_us.emplace_back(name, samples);
  }
  res.memory = memory;
  if (c.kind() == backend_kind::nccl) {  // only real links give link bandwidth
    res.algbw_gbps = algbw_gbps(res.op_bytes, res.time_us.median);
    res.busbw_gbps = busbw_gbps(res.op_bytes, res.time_us.median, res.pt.shp.tp);
  }
  res.effective_gbps = algbw_gbps(res.useful_bytes, res.time_us.median);
}

// The point's own checks once every rank is done: the first mismatch any rank saw, then the
// invariants of bench/invariants.h, which stand apart from the layout functions the paths and their
// definitions share (a bug there passes the bitwise verification, not these).
void conclude(point_outcome& out, std::vector<rank_verdict>& verdicts, const std::vector<path_plan>& plans,
              const std::vector<std::optional<std::size_t>>& sent, bool keep_outputs) {
  point_result& res = out.result;
  for (auto& v : verdicts) {
    if (!v.first_mismatch.empty() && res.first_mismatch.empty()) res.first_mismatch = v.first_mismatch;
    if (keep_outputs) out.outputs.push_back(std::move(v.outputs));
  }
  if (res.status == "ok") {
    const std::vector<std::string> broken = check_invariants(res.pt, plans, sent);
    if (!broken.empty() && res.first_mismatch.empty())
      res.first_mismatch = fmt::format("{}: invariant: {}", res.pt.label(), broken.front());
    res.mismatches += std::int64_t(broken.size());
    res.verified = res.verified && broken.empty();
  }
  if (res.status == "ok" && res.mismatches > 0) {
    res.status = "mismatch";
    res.reason = res.first_mismatch;
  }
}

}  // namespace

point_outcome run_point(const point& pt, const engine_options& o, world* shared) {
  const auto p = make_path(pt.path, pt.variant);
  std::unique_ptr<world> own;
  world* w = shared ? shared : (own = make_world(o.world, pt.shp.tp)).get();
  const std::vector<path_plan> plans = plan_ranks(*p, pt.shp);
  point_outcome out;
  point_result& res = out.result = start_result(pt, o, combine_plans(plans));
  std::vector<rank_verdict> verdicts(std::size_t(pt.shp.tp));
  std::vector<std::optional<std::size_t>> sent;
  if (o.world.cupti) o.world.cupti->begin_point();
  std::mutex mu;  // guards res and sent for the rank threads

  w->run([&](rank_backend& c) {
    const int rank = c.rank();
    const bool summary_rank = rank == (c.emulates_peers() ? o.world.emulated_rank : 0);
    nvtx_range point_range(o.nvtx, pt.shp.label(), nvtx_color("point"));
    nvtx_range path_range(o.nvtx, fmt::format("{}/{}", to_string(pt.path), to_string(pt.variant)), nvtx_color("point"));
    const path_plan& plan = plans[std::size_t(rank)];
    const std::size_t device_before = c.device_used_bytes();
    c.tracker().reset_peak();
    std::string oom_reason;
    const std::optional<rank_arena> arena = allocate(c, plan, oom_reason);
    if (!arena) {
      std::lock_guard lock(mu);
      res.status = "oom";
      if (!oom_reason.empty() && res.reason.empty()) res.reason = fmt::format("rank {}: {}", rank, oom_reason);
      return;
    }
    fill_inputs(c, plan, *arena, o);
    rank_context ctx(pt.shp, c, arena->ptrs, o.nvtx, &plan);
    open_peer_buffers(c, plan, *arena, ctx);
    const int warmed = warm_up_path(c, o, pt, *p, ctx);
    const std::vector<iteration_times> its = time_path(c, o, pt, *p, ctx);
    const timed_samples t = slowest_rank(c, its);
    auto sent_here = sent_by_rank(c, pt.shp.tp, summary_rank);
    rank_verdict& verdict = verdicts[std::size_t(rank)] = verify_rank(c, o, pt, plan, *arena, ctx);
    c.close_peers();
    dump_rank(c, o, pt, plan, *arena);
    const std::int64_t mismatches = c.sum_over_ranks(verdict.mismatches);
    const memory_figures memory = memory_over_ranks(c, plan, device_before);
    std::lock_guard lock(mu);
    res.warmup = warmed;  // the same on every rank
    if (!summary_rank) return;
    sent = std::move(sent_here);
    record(res, c, o, its, t, mismatches, memory);
  });

  if (o.world.cupti) res.kernels = o.world.cupti->end_point(pt.shp.label(), o.iters, &res.cupti_alloc_peak_bytes);
  conclude(out, verdicts, plans, sent, o.keep_outputs);
  return out;
}

world& world_cache::get(int ranks) {
  auto& w = m_worlds[ranks];
  if (!w) w = make_world(m_o, ranks);
  return *w;
}

}  // namespace sb
