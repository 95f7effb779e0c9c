// `shardbench frontier`: the longest sequence per path/variant that fits a per-rank memory budget
// (docs/tools.md).
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "bench/commands/commands.h"
#include "bench/frontier.h"
#include "harness/backends/env.h"
#include "harness/backends/world.h"
#include "harness/core/error.h"
#include "harness/report/output_file.h"
#include "harness/report/printer.h"
#include "harness/report/results.h"

namespace sb {

CLI::App* add_frontier_command(CLI::App& app, cli_flags& f) {
  CLI::App* cmd = app.add_subcommand("frontier", "longest sequence per path/variant that fits a memory budget (real allocations)");
  add_shape_flags(cmd, f);
  cmd->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  cmd->add_option("--emulate", f.emulate, "local backend: all or one (one: a rank's exact footprint)");
  cmd->add_option("--budget", f.budget, "per-rank memory, e.g. 80GiB (default: the GPU's total memory)");
  cmd->add_option("--reserve", f.reserve, "memory reserved for the model, e.g. 60GiB");
  cmd->add_option("--seq-step", f.seq_step, "search granularity in tokens (default 1024)")->check(fits<std::int64_t>());
  cmd->add_option("--max-seq", f.max_seq, "longest sequence tried (default 1048576)")->check(fits<std::int64_t>());
  cmd->add_flag("--predict-only", f.predict_only, "the plan's answer only, no allocations (e.g. a larger card than this one)");
  cmd->add_option("--out", f.out, "frontier JSON (schema shardbench.frontier/1; tools/plot draws it)");
  return cmd;
}

int cmd_frontier(const cli_flags& f) {
  run_config c = resolve_config(f);
  engine_options o = make_engine_options(c, f);
  std::vector<point> pts = resolve_points(c, o, single_point(f));
  if (!f.out.empty()) require_output_file(f.out, "--out", {f.config});
  // The seq axis is what the search varies: one point per path/variant/other axes. A variant that
  // cannot run on its path has no frontier: it is named below the table, not given a length of 0.
  std::vector<point> uniq;
  std::vector<std::string> not_searched;
  for (const auto& p : pts) {
    if (std::string why = variant_rule_broken(p.shp, p.path, p.variant); !why.empty()) {
      std::string line = fmt::format("{}/{}: {}", to_string(p.path), to_string(p.variant), why);
      if (std::find(not_searched.begin(), not_searched.end(), line) == not_searched.end()) not_searched.push_back(line);
      continue;
    }
    bool seen = false;
    for (const auto& u : uniq) {
      point a = u, b = p;
      a.shp.seq = b.shp.seq = 0;
      seen |= a.label() == b.label() && a.shp.hidden == b.shp.hidden && a.shp.ttt == b.shp.ttt;
    }
    if (!seen) uniq.push_back(p);
  }
  frontier_options fo;
  fo.seq_step = f.seq_step;
  fo.max_seq = f.max_seq;
  fo.predict_only = f.predict_only;
  if (fo.seq_step <= 0 || fo.max_seq < fo.seq_step) throw_config("--seq-step must be positive and at most --max-seq");
  if (!f.budget.empty()) {
    fo.budget_bytes = parse_size(f.budget, "--budget");
  } else {
    if (o.world.backend == backend_kind::cpu || f.predict_only) throw_config("frontier needs --budget here (no GPU to take it from)");
    fo.budget_bytes = gpu_memory_bytes();
  }
  if (!f.reserve.empty()) fo.reserve_bytes = parse_size(f.reserve, "--reserve");
  std::vector<frontier_result> res = find_frontier(uniq, o, fo);
  const env_info env = collect_env(describe_backend(o));
  fmt::print("OOM frontier on {} [{}]: per-rank budget {} - reserve {} = {} for the logits path\n", env.backend, env.gpu,
             human_bytes(double(fo.budget_bytes)), human_bytes(double(fo.reserve_bytes)),
             human_bytes(double(fo.budget_bytes - fo.reserve_bytes)));
  fmt::print("{:<20} {:<36} {:>14} {:>14} {:>7}\n", "path/variant", "shape (seq searched)", "longest seq", "predicted",
             "trials");
  for (const auto& r : res) {
    point shown = r.pt;
    fmt::print("{:<20} {:<36} {:>13}{} {:>14} {:>7}\n", fmt::format("{}/{}", to_string(r.pt.path), to_string(r.pt.variant)),
               fmt::format("tp{} sp{}x{} b{} v{} {}", shown.shp.tp, shown.shp.sp_ulysses, shown.shp.sp_ring, shown.shp.batch,
                           shown.shp.vocab, to_string(shown.shp.type)),
               fo.predict_only ? std::string("-") : std::to_string(r.measured_seq), r.capped ? "+" : " ", r.predicted_seq,
               r.trials.size());
  }
  if (std::any_of(res.begin(), res.end(), [](const auto& r) { return r.capped; })) fmt::print("(+: still fits at --max-seq)\n");
  for (const auto& line : not_searched) fmt::print("not searched: {}\n", line);
  if (!f.out.empty()) {
    write_file_atomically(f.out, frontier_json(env, fo.budget_bytes, fo.reserve_bytes, fo.seq_step, fo.max_seq, res).dump(1) + '\n');
    fmt::print("frontier: {}\n", f.out);
  }
  return kExitOk;
}

}  // namespace sb
