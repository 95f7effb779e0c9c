#include "harness/report/printer.h"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <map>

namespace sb {

std::string human_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000.0 && u < 4) {
    b /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", b) : fmt::format("{:.{}f} {}", b, b < 10 ? 2 : 1, units[u]);
}

namespace {
std::string shape_cell(const shape& s) {
  std::string c = fmt::format("tp{} sp{}x{} b{} s{} v{} ttt{} {}", s.tp, s.sp_ulysses, s.sp_ring, s.batch, s.seq,
                               s.vocab, s.ttt, to_string(s.type));
  if (s.has_consumer()) c += fmt::format(" vd{} {}", s.draft_vocab, to_string(s.t2d));
  return c;
}

std::string bw_cell(const point_result& r) {
  if (r.busbw_gbps > 0) return fmt::format("{:.1f}/{:.1f}", r.algbw_gbps, r.busbw_gbps);
  return "-";  // cpu and local move no bytes over a link
}
}  // namespace

void print_results_table(std::ostream& os, const std::vector<point_result>& results) {
  fmt::print(os, "{:<20} {:<40} {:<9} {:>11} {:>11} {:>13} {:>10} {:>10} {:>10} {:>8}\n", "path/variant", "shape",
             "status", "median_us", "stddev_us", "alg/bus GB/s", "sent/rank", "pred_peak", "trk_peak", "verified");
  for (const auto& r : results) {
    std::string pv = fmt::format("{}/{}", to_string(r.pt.path), to_string(r.pt.variant));
    if (r.status == "skipped") {
      fmt::print(os, "{:<20} {:<40} {:<9} {}\n", pv, shape_cell(r.pt.shp), r.status, r.reason);
      continue;
    }
    fmt::print(os, "{:<20} {:<40} {:<9} {:>11.1f} {:>11.1f} {:>13} {:>10} {:>10} {:>10} {:>8}\n", pv,
               shape_cell(r.pt.shp), r.status, r.time_us.median, r.time_us.stddev, bw_cell(r), human_bytes(double(r.bytes_sent)),
               human_bytes(double(r.memory.predicted_peak)), human_bytes(double(r.memory.tracked_peak)),
               r.verified ? (r.cross_checked ? "yes+base" : "yes") : "NO");
    if (!r.reason.empty() && r.status != "ok") fmt::print(os, "    {}\n", r.reason);
  }
}

void print_kernel_breakdown(std::ostream& os, const std::vector<point_result>& results, int top) {
  for (const auto& r : results) {
    if (r.kernels.empty()) continue;
    fmt::print(os, "{}  (GPU time per iteration, by phase)\n", r.pt.label());
    std::map<std::string, double> phase_total;
    for (const auto& k : r.kernels) phase_total[k.phase] += k.total_us;
    for (const auto& [phase, total] : phase_total) {
      std::vector<const kernel_stat*> ks;
      for (const auto& k : r.kernels)
        if (k.phase == phase) ks.push_back(&k);
      std::sort(ks.begin(), ks.end(), [](auto* a, auto* b) { return a->total_us > b->total_us; });
      fmt::print(os, "  {:<14} {:>10.1f} us\n", phase, total);
      for (int i = 0; i < int(ks.size()) && i < top; ++i)
        fmt::print(os, "      {:>10.1f} us  x{:<5.0f} {}\n", ks[std::size_t(i)]->total_us, ks[std::size_t(i)]->calls,
                   ks[std::size_t(i)]->name.substr(0, 90));
    }
  }
}

void print_summary_line(std::ostream& os, const std::vector<point_result>& results) {
  std::map<std::string, int> by_status;
  int cross = 0;
  for (const auto& r : results) {
    ++by_status[r.status];
    cross += r.cross_checked ? 1 : 0;
  }
  std::string parts;
  for (const auto& [k, v] : by_status) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", v, k);
  const int ok = by_status.count("ok") ? by_status.at("ok") : 0;
  const int measured = int(results.size()) - (by_status.count("skipped") ? by_status.at("skipped") : 0);
  // "point" or "points" by the count it follows; tools/gpu-check greps " points?:".
  const auto points = [](std::size_t n) { return n == 1 ? "point" : "points"; };
  fmt::print(os, "{} {}: {}; {} of {} run {} verified{}; {} cross-checked against the baseline\n", results.size(),
             points(results.size()), parts, ok, measured, points(std::size_t(measured)), ok == measured ? " (all)" : "",
             cross);
}

namespace {
std::string shape_of(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}
}  // namespace

void print_plan_table(std::ostream& os, const std::vector<plan_row>& rows) {
  fmt::print(os, "{:<20} {:<40} {:>11} {:>12} {:>12} {:>12}\n", "path/variant", "shape", "collective", "sent/rank",
             "op_bytes", "peak/rank");
  for (const auto& r : rows) {
    std::string pv = fmt::format("{}/{}", to_string(r.pt.path), to_string(r.pt.variant));
    if (!r.invalid_reason.empty()) {
      fmt::print(os, "{:<20} {:<40} invalid: {}\n", pv, shape_cell(r.pt.shp), r.invalid_reason);
      continue;
    }
    fmt::print(os, "{:<20} {:<40} {:>11} {:>12} {:>12} {:>12}\n", pv, shape_cell(r.pt.shp),
               to_string(r.plan.collective), human_bytes(double(r.plan.bytes_sent)), human_bytes(double(r.plan.op_bytes)),
               human_bytes(double(r.plan.peak_bytes)));
    auto step = [&](int i) { return std::size_t(i) < r.plan.steps.size() ? r.plan.steps[std::size_t(i)] : std::to_string(i); };
    for (const auto& b : r.plan.buffers)
      fmt::print(os, "    {:<24} {:>5} {:<26} {:>12}  {}{}\n", b.name, to_string(b.type), shape_of(b.dims),
                 human_bytes(double(b.bytes())), b.first_step == b.last_step ? step(b.first_step)
                                                                            : step(b.first_step) + " .. " + step(b.last_step),
                 b.is_input() ? " (input)" : "");
  }
}

}  // namespace sb
