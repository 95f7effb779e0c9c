// `shardbench plan`: each point's predicted bytes and per-rank peak, or with --calibrate its time from
// measured rates (docs/cli.md, docs/tools.md). Needs no GPU.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "bench/commands/commands.h"
#include "bench/planner.h"
#include "harness/core/error.h"
#include "harness/report/printer.h"
#include "harness/report/results.h"

namespace sb {

CLI::App* add_plan_command(CLI::App& app, cli_flags& f) {
  CLI::App* cmd = app.add_subcommand("plan", "predicted bytes and per-rank peak memory of each path/variant");
  add_shape_flags(cmd, f);
  cmd->add_flag("--json", f.json, "machine-readable output");
  CLI::Option* calibrate = cmd->add_option("--calibrate", f.calibrate, "results JSON whose measured bandwidths predict the time of each point");
  // Without --calibrate these would be ignored in silence: a plan the user believes calibrated.
  cmd->add_option("--hold-out", f.hold_out, "with --calibrate: leave points whose label contains this out, and predict them")->needs(calibrate);
  cmd->add_option("--link-gbps", f.link_gbps, "with --calibrate: per-rank link busbw (GB/s) when the results have no nccl points")->needs(calibrate);
  cmd->add_option("--inter-node-gbps", f.inter_node_gbps, "with --calibrate: per-rank bandwidth between nodes (GB/s)")->needs(calibrate);
  cmd->add_option("--gpus-per-node", f.gpus_per_node, "with --calibrate: GPUs per node (default 8)")->check(fits<int>())->needs(calibrate);
  return cmd;
}

namespace {

// plan --calibrate: predicted times from measured bandwidths, and the error on held-out points.
int cmd_plan_calibrated(const cli_flags& f, const std::vector<point>& pts) {
  if (!(f.link_gbps >= 0) || !(f.inter_node_gbps >= 0))
    throw_config(fmt::format("--link-gbps and --inter-node-gbps must be non-negative (got {} and {})", f.link_gbps, f.inter_node_gbps));
  if (f.gpus_per_node <= 0) throw_config(fmt::format("--gpus-per-node must be positive (got {})", f.gpus_per_node));
  const std::vector<point_result> measured = load_results(f.calibrate);
  if (!f.hold_out.empty() && std::none_of(measured.begin(), measured.end(), [&](const point_result& r) {
        return r.status == "ok" && r.pt.label().find(f.hold_out) != std::string::npos;
      }))
    throw_config(fmt::format("--hold-out '{}' matches no measured point of {}", f.hold_out, f.calibrate));
  calibration cal = calibrate(measured, f.hold_out);
  if (cal.local_sources.empty())
    throw_config(fmt::format("{} has no measured point{} to calibrate from", f.calibrate,
                             f.hold_out.empty() ? "" : fmt::format(" outside --hold-out '{}'", f.hold_out)));
  if (f.link_gbps > 0) {
    cal.link_gbps = f.link_gbps;
    cal.link_source = "--link-gbps";
  }
  cal.inter_node_gbps = f.inter_node_gbps;
  cal.gpus_per_node = f.gpus_per_node;
  fmt::print("calibration from {}: {} points; local rates (GB/s, bytes read + written):", f.calibrate,
             cal.local_sources.size());
  for (const auto& [phase, gbps] : cal.local_gbps)
    if (phase.find(':') == std::string::npos) fmt::print(" {} {:.0f};", phase, gbps);  // per path/variant ones in "rests on"
  fmt::print(" pooled {:.0f}; links {}\n", cal.pooled_local_gbps,
             cal.link_gbps > 0 ? fmt::format("{:.0f} GB/s ({})", cal.link_gbps, cal.link_source) : "unknown (give --link-gbps)");
  fmt::print("{:<20} {:<40} {:>12} {:>12} {:>12}  rests on\n", "path/variant", "shape", "predicted_us", "local_us", "link_us");
  for (const auto& p : pts) {
    try {
      validate(p);
    } catch (const config_error&) {
      continue;
    }
    prediction pr = predict(p, cal);
    fmt::print("{:<20} {:<40} {:>12} {:>12.1f} {:>12}  {}\n", fmt::format("{}/{}", to_string(p.path), to_string(p.variant)),
               p.shp.label(), pr.complete ? fmt::format("{:.1f}", pr.total_us) : "incomplete", pr.local_us,
               pr.complete ? fmt::format("{:.1f}", pr.link_us) : "-", pr.rests_on);
  }
  if (f.hold_out.empty()) return kExitOk;
  // Held-out check: predict what was measured but not used. Off nccl the comm phase is not a link,
  // so there the comparison covers the local phases only.
  fmt::print("held-out points (not in the calibration):\n");
  for (const auto& r : measured) {
    if (r.status != "ok" || r.pt.label().find(f.hold_out) == std::string::npos) continue;
    prediction pr = predict(r.pt, cal);
    const bool links = r.backend == "nccl";
    double measured_us = 0, predicted_us = 0;
    for (const auto& [phase, us] : r.phases_us) {
      if (!links && pr.phases_us.count(phase) && phase == "comm") continue;
      measured_us += us;
      predicted_us += pr.phases_us[phase];
    }
    fmt::print("  {:<60} measured {:>10.1f} us  predicted {:>10.1f} us  error {:+.1f}% ({})\n", r.pt.label(), measured_us,
               predicted_us, 100.0 * (predicted_us - measured_us) / measured_us,
               links ? "all phases" : "local phases; comm is not a link on " + r.backend);
  }
  return kExitOk;
}

}  // namespace

int cmd_plan(const cli_flags& f) {
  std::vector<point> pts = to_points(expand(resolve_config(f)));
  require_a_valid_point(pts, single_point(f));
  if (!f.calibrate.empty()) return cmd_plan_calibrated(f, pts);
  std::vector<plan_row> rows;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : pts) {
    plan_row row{p, {}, {}};
    try {
      validate(p);
      row.plan = plan_point(p);
    } catch (const config_error& e) {
      row.invalid_reason = e.what();
    }
    if (f.json) out.push_back(to_json(row));
    rows.push_back(std::move(row));
  }
  if (f.json)
    std::cout << out.dump(1) << '\n';
  else
    print_plan_table(std::cout, rows);
  return kExitOk;
}

}  // namespace sb
