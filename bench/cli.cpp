#include "bench/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <iostream>
#include <optional>
#include <regex>
#include <type_traits>

#include "bench/engine.h"
#include "bench/frontier.h"
#include "bench/gbench.h"
#include "bench/interrupt.h"
#include "bench/planner.h"
#include "bench/self_test.h"
#include "harness/report/config.h"
#include "harness/backends/cupti.h"
#include "harness/core/error.h"
#include "harness/backends/mpi_session.h"
#include "harness/backends/nvtx.h"
#include "harness/report/printer.h"
#include "harness/report/results.h"

namespace sb {

namespace {

constexpr int kExitOk = 0, kExitMismatch = 1, kExitConfig = 2, kExitRuntime = 3;
constexpr int kExitNothingVerified = 4;  // every point ran out of memory or was skipped

constexpr const char* kGateHelp =
    "queue each timed iteration behind a stream gate (nvbench's blocking kernel), so the host's launch latency is "
    "not timed up to the path's first host wait (results: launch_gate)";

// Flags shared by `run` and `plan`. Shape flags, when any is given, turn the config into one point.
struct cli_flags {
  std::string config, backend, out, dump, paths, variants, dtypes, emulate, consumer, t2d;
  std::optional<std::int64_t> draft_vocab;
  std::optional<int> tp, sp_ulysses, sp_ring, iters, warmup;
  std::optional<double> warmup_ms;
  std::optional<std::int64_t> batch, seq, vocab, vocab_pad, hidden, ttt;
  std::optional<std::uint64_t> seed;
  std::optional<int> emulated_rank;  // local --emulate one only; 0 when not given
  double timeout_s = 300;
  double memory_cap_gib = 0;
  bool inject_mismatch = false;
  bool json = false;
  bool cold = false;
  bool gate = false;
  bool cupti = false;
  std::string trace;
  std::string a2a = "auto";
  std::string budget, reserve;     // frontier: sizes like 80GiB, 141GB, 512MiB
  bool predict_only = false;
  bool kernels = false;
  bool collectives = false;
  std::int64_t seq_step = 1024, max_seq = std::int64_t(1) << 20;
  std::string calibrate, hold_out;  // plan --calibrate results.json [--hold-out SUBSTRING]
  double link_gbps = 0, inter_node_gbps = 0;
  int gpus_per_node = 8;
};

// "80GiB", "141GB", "512MiB", "1e9": bytes. Throws config_error naming the flag.
std::size_t parse_size(const std::string& text, const char* flag) {
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw_config(fmt::format("{} must be a size like 80GiB (got '{}')", flag, text));
  }
  const std::string unit = text.substr(pos);
  const std::map<std::string, double> units{{"", 1},      {"B", 1},          {"KiB", 1024.0}, {"MiB", 1048576.0},
                                            {"GiB", 1073741824.0}, {"kB", 1e3}, {"MB", 1e6},  {"GB", 1e9}};
  auto it = units.find(unit);
  // NaN fails the first test, inf and sizes past 2^63 bytes the second.
  if (it == units.end() || !(v >= 0) || !(v * it->second < 9.2e18))
    throw_config(fmt::format("{} must be a size like 80GiB (got '{}')", flag, text));
  return std::size_t(v * it->second);
}

// A decimal integer past its option's type: CLI11 2.1 (Debian 12) saturates a 64-bit one to the
// type's maximum and runs on that, later versions refuse it in their own words. One rule, one
// message, on every version.
template <typename T>
CLI::Validator fits() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        // from_chars calls "-1" no unsigned number at all, and CLI11 2.1 would then wrap it to 2^64 - 1.
        if constexpr (!std::is_signed_v<T>)
          if (const std::size_t first = s.find_first_not_of(" \t"); first != std::string::npos && s[first] == '-')
            return fmt::format("{} is negative; it takes an unsigned {}-bit integer", s, 8 * sizeof(T));
        T v{};
        if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc::result_out_of_range) return {};
        return fmt::format("{} does not fit in {} {}-bit integer", s, std::is_signed_v<T> ? "a signed" : "an unsigned",
                           8 * sizeof(T));
      },
      "");
}

void add_shape_flags(CLI::App* app, cli_flags& f) {
  app->add_option("--config", f.config, "YAML sweep config (configs/*.yaml)");
  app->add_option("--paths", f.paths, "comma list of baseline,batch,usp");
  app->add_option("--variants", f.variants, "comma list of specforge,fused,peer_pull,pruned");
  app->add_option("--consumer", f.consumer, "stage after each path: none or target_p (softmax over the draft vocab + position_mask)");
  app->add_option("--draft-vocab", f.draft_vocab, "Vd, draft vocabulary size for --consumer (default 32000)")->check(fits<std::int64_t>());
  app->add_option("--t2d", f.t2d, "comma list of draft vocabulary draws: uniform,skewed");
  app->add_option("--dtype", f.dtypes, "comma list of bf16,fp16,fp32 (the LM head's output dtype)");
  app->add_option("--tp", f.tp, "TP size P")->check(fits<int>());
  app->add_option("--sp-ulysses", f.sp_ulysses, "Ulysses size U (usp)")->check(fits<int>());
  app->add_option("--sp-ring", f.sp_ring, "Ring size R (usp)")->check(fits<int>());
  app->add_option("--batch", f.batch, "samples B in the TP group")->check(fits<std::int64_t>());
  app->add_option("--seq", f.seq, "sequence length S")->check(fits<std::int64_t>());
  app->add_option("--vocab", f.vocab, "vocab V")->check(fits<std::int64_t>());
  app->add_option("--vocab-pad", f.vocab_pad, "vocab padding multiple (SGLang: 64)")->check(fits<std::int64_t>());
  app->add_option("--hidden", f.hidden, "hidden size H")->check(fits<std::int64_t>());
  app->add_option("--ttt", f.ttt, "ttt_length (usp window overlap)")->check(fits<std::int64_t>());
  app->add_option("--seed", f.seed, "generator seed")->check(fits<std::uint64_t>());
}

// A flag's comma list. An empty item ("baseline,,batch", ",") is refused as a config's empty list
// is: it is a typo, and a list with nothing in it would run a sweep of no points and exit 0.
std::vector<std::string> split_list(const std::string& s, const char* flag) {
  std::vector<std::string> out(1);
  for (char ch : s) {
    if (ch == ',') out.emplace_back();
    else if (ch != ' ') out.back() += ch;
  }
  for (const auto& item : out)
    if (item.empty()) throw_config(fmt::format("{} '{}': an empty item in the comma list", flag, s));
  return out;
}

bool single_point(const cli_flags& f) {
  return f.tp || f.sp_ulysses || f.sp_ring || f.batch || f.seq || f.vocab || f.vocab_pad || f.hidden || f.ttt;
}

// The shape flags against the documented bounds (docs/cli.md), before anything is planned.
void check_flag_limits(const cli_flags& f) {
  auto in_range = [](const auto& flag, std::int64_t low, std::int64_t max, const char* name) {
    if (flag) require_in_range(std::int64_t(*flag), low, max, name);
  };
  in_range(f.tp, 1, kMaxTp, "--tp");
  in_range(f.sp_ulysses, 1, kMaxSp, "--sp-ulysses");
  in_range(f.sp_ring, 1, kMaxSp, "--sp-ring");
  in_range(f.batch, 1, kMaxBatch, "--batch");
  in_range(f.seq, 1, kMaxSeq, "--seq");
  in_range(f.vocab, 1, kMaxVocab, "--vocab");
  in_range(f.vocab_pad, 1, kMaxVocabPad, "--vocab-pad");
  in_range(f.hidden, 1, kMaxHidden, "--hidden");
  in_range(f.ttt, 0, kMaxTtt, "--ttt");
  in_range(f.draft_vocab, 1, kMaxVocab, "--draft-vocab");
}

// A flag that sets an axis no asked-for point uses is refused, as the config's key would be.
void check_flags_used(const run_config& c, const cli_flags& f) {
  auto used = [&](bool given, given_axes axes, const char* flag) {
    if (given) require_used_axes(c, axes, flag);
  };
  used(f.sp_ulysses || f.sp_ring, {.sp = true}, f.sp_ulysses ? "--sp-ulysses" : "--sp-ring");
  used(bool(f.ttt), {.ttt = true}, "--ttt");
  used(bool(f.batch), {.batch = true}, "--batch");
  used(!f.t2d.empty(), {.t2d = true}, "--t2d");
  used(bool(f.draft_vocab), {.draft_vocab = true}, "--draft-vocab");
}

// The config file (or the defaults) with the flags applied on top.
run_config resolve_config(const cli_flags& f) {
  check_flag_limits(f);
  run_config c = f.config.empty() ? run_config{} : load_config(f.config);
  if (!f.backend.empty()) c.backend = f.backend;
  if (!f.emulate.empty()) c.emulate = f.emulate;
  if (f.seed) c.seed = *f.seed;
  if (f.iters) c.iters = *f.iters;
  if (f.warmup) c.warmup = *f.warmup;
  if (f.warmup_ms) c.warmup_ms = *f.warmup_ms;
  if (c.iters <= 0 || c.iters > kMaxIterations)
    throw_config(fmt::format("iters must be between 1 and {} (got {})", kMaxIterations, c.iters));
  if (c.warmup < 0 || c.warmup > kMaxIterations)
    throw_config(fmt::format("warmup must be between 0 and {} (got {})", kMaxIterations, c.warmup));
  if (!valid_warmup_ms(c.warmup_ms))
    throw_config(fmt::format("warmup-ms must be between 0 and {} (got {})", kMaxWarmupMs, c.warmup_ms));
  if (!f.paths.empty()) {
    c.paths.clear();
    for (const auto& p : split_list(f.paths, "--paths")) c.paths.push_back(parse_path(p));
  }
  if (!f.variants.empty()) {
    c.variants.clear();
    for (const auto& v : split_list(f.variants, "--variants")) c.variants.push_back(parse_variant(v));
  }
  if (!f.consumer.empty()) c.consumer = parse_consumer(f.consumer);
  if (f.draft_vocab) c.draft_vocab = *f.draft_vocab;
  if (!f.t2d.empty()) {
    c.sweep.t2d.clear();
    for (const auto& t : split_list(f.t2d, "--t2d")) c.sweep.t2d.push_back(parse_t2d(t));
  }
  if (!f.dtypes.empty()) {
    c.sweep.dtypes.clear();
    for (const auto& d : split_list(f.dtypes, "--dtype")) c.sweep.dtypes.push_back(parse_dtype(d));
  }
  auto distinct = [](const auto& list, const char* flag) {
    if (first_repeat(list)) throw_config(fmt::format("{} lists the same value twice", flag));
  };
  distinct(c.paths, "--paths");
  distinct(c.variants, "--variants");
  distinct(c.sweep.t2d, "--t2d");
  distinct(c.sweep.dtypes, "--dtype");
  if (single_point(f)) {
    sweep_axes& a = c.sweep;
    auto pick = [](auto& axis, const auto& flag) {
      if (flag) axis = {static_cast<typename std::decay_t<decltype(axis)>::value_type>(*flag)};
      else axis.resize(1);
    };
    pick(a.tp, f.tp);
    pick(a.batch, f.batch);
    pick(a.seq, f.seq);
    pick(a.vocab, f.vocab);
    pick(a.vocab_pad, f.vocab_pad);
    pick(a.hidden, f.hidden);
    pick(a.ttt, f.ttt);
    sp_layout sp = a.sp.front();
    if (f.sp_ulysses) sp.ulysses = *f.sp_ulysses;
    if (f.sp_ring) sp.ring = *f.sp_ring;
    a.sp = {sp};
  }
  check_flags_used(c, f);
  count_points(c);
  return c;
}

nlohmann::json config_json(const run_config& c) {
  nlohmann::json j{{"name", c.name}, {"backend", c.backend}, {"emulate", c.emulate}, {"seed", c.seed}, {"iters", c.iters}, {"warmup", c.warmup}, {"warmup_ms", c.warmup_ms}};
  for (auto p : c.paths) j["paths"].push_back(std::string(to_string(p)));
  for (auto v : c.variants) j["variants"].push_back(std::string(to_string(v)));
  j["consumer"] = std::string(to_string(c.consumer));
  j["draft_vocab"] = c.draft_vocab;
  auto& s = j["sweep"];
  for (auto t : c.sweep.t2d) s["t2d"].push_back(std::string(to_string(t)));
  for (auto d : c.sweep.dtypes) s["dtype"].push_back(std::string(to_string(d)));
  s["tp"] = c.sweep.tp;
  for (auto sp : c.sweep.sp) s["sp"].push_back({{"ulysses", sp.ulysses}, {"ring", sp.ring}});
  s["batch"] = c.sweep.batch;
  s["seq"] = c.sweep.seq;
  s["vocab"] = c.sweep.vocab;
  s["vocab_pad"] = c.sweep.vocab_pad;
  s["hidden"] = c.sweep.hidden;
  s["ttt"] = c.sweep.ttt;
  return j;
}

std::vector<point> to_points(const std::vector<planned_point>& planned) {
  std::vector<point> pts;
  for (const auto& p : planned) pts.push_back({p.path, p.variant, p.shp});
  return pts;
}

// A point that breaks a rule is skipped with its rule beside points that can run (the path ×
// variant lists of a config at one shape: baseline has no peer_pull). When none can, the first
// rule is a usage error: a sweep of skips alone would exit 0 having measured nothing, which a
// nightly job reads as a pass. One point given by shape flags is not a sweep: a rule its shape
// breaks for any path asked for is a usage error.
void require_a_valid_point(const std::vector<point>& pts, bool one_shape) {
  if (one_shape)
    for (const auto& p : pts) validate_shape(p.shp, p.path);
  std::string first;
  for (const auto& p : pts) {
    try {
      validate(p);
      return;
    } catch (const config_error& e) {
      if (first.empty()) first = e.what();
    }
  }
  if (!first.empty()) throw_config(first);
}

std::vector<point_result> load_results(const std::string& file) {
  const std::string text = read_text_file(file, "results");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_config(fmt::format("{}: not JSON: {}", file, e.what()));
  }
  if (!doc.is_object() || doc.value("schema", "") != kResultSchema)
    throw_config(fmt::format("{}: not a {} file", file, kResultSchema));
  const auto points = doc.find("points");
  if (points == doc.end() || !points->is_array()) throw_config(fmt::format("{}: has no 'points' list", file));
  std::vector<point_result> pts;
  for (std::size_t n = 0; n < points->size(); ++n) {
    // A file cut short or edited by hand: one line naming the point, not the JSON library's words.
    try {
      pts.push_back(point_from_json((*points)[n]));
    } catch (const nlohmann::json::exception& e) {
      const std::string_view what = e.what();  // "[json.exception.out_of_range.403] key 'path' not found"
      const std::size_t close = what.find("] ");
      throw_config(fmt::format("{}: point {}: {}", file, n, close == std::string_view::npos ? what : what.substr(close + 2)));
    } catch (const config_error& e) {
      throw_config(fmt::format("{}: point {}: {}", file, n, e.what()));
    }
  }
  return pts;
}

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
    if (f.json) {
      nlohmann::json j{{"path", std::string(to_string(p.path))}, {"variant", std::string(to_string(p.variant))},
                       {"shape", p.shp.label()},  {"tp", p.shp.tp}, {"sp_ulysses", p.shp.sp_ulysses},
                       {"sp_ring", p.shp.sp_ring}, {"batch", p.shp.batch}, {"seq", p.shp.seq},
                       {"vocab", p.shp.vocab}, {"vocab_padded", p.shp.vocab_padded()}, {"hidden", p.shp.hidden},
                       {"ttt", p.shp.ttt}, {"dtype", std::string(to_string(p.shp.type))}};
      if (p.shp.has_consumer())
        j.update({{"consumer", std::string(to_string(p.shp.consumer))}, {"draft_vocab", p.shp.draft_vocab},
                  {"t2d", std::string(to_string(p.shp.t2d))}});
      if (!row.invalid_reason.empty()) {
        j["invalid"] = row.invalid_reason;
      } else {
        j["collective"] = std::string(to_string(row.plan.collective));
        j["bytes_sent_per_rank"] = row.plan.bytes_sent;
        j["op_bytes"] = row.plan.op_bytes;
        j["useful_bytes"] = row.plan.useful_bytes;
        j["predicted_peak_bytes"] = row.plan.peak_bytes;
        j["steps"] = row.plan.steps;
        for (const auto& b : row.plan.buffers)
          j["buffers"].push_back({{"name", b.name}, {"dtype", std::string(to_string(b.type))}, {"dims", b.dims},
                                  {"bytes", b.bytes()}, {"first_step", b.first_step}, {"last_step", b.last_step},
                                  {"input", b.is_input()}});
      }
      out.push_back(j);
    }
    rows.push_back(std::move(row));
  }
  if (f.json)
    std::cout << out.dump(1) << '\n';
  else
    print_plan_table(std::cout, rows);
  return kExitOk;
}

// The engine's options from the resolved config and the run flags (shared by run and bench).
engine_options make_engine_options(const run_config& c, const cli_flags& f) {
  engine_options o;
  o.iters = c.iters;
  o.warmup = c.warmup;
  o.warmup_ms = c.warmup_ms;
  o.world.backend = parse_backend(c.backend);
  if (c.emulate == "one")
    o.world.emulate = emulate_mode::one;
  else if (c.emulate != "all")
    throw_config(fmt::format("unknown --emulate '{}' (expected all or one)", c.emulate));
  if (o.world.emulate == emulate_mode::one && o.world.backend != backend_kind::local)
    throw_config("--emulate one needs the local backend");
  if (f.emulated_rank && o.world.emulate != emulate_mode::one) throw_config("--emulated-rank needs --emulate one");
  o.world.emulated_rank = f.emulated_rank.value_or(0);
  if (!(f.timeout_s > 0)) throw_config(fmt::format("--timeout must be positive (got {})", f.timeout_s));  // NaN too
  if (f.timeout_s > 1e7) throw_config(fmt::format("--timeout must be at most 10000000 seconds (got {})", f.timeout_s));
  o.world.timeout_s = f.timeout_s;
  if (!(f.memory_cap_gib >= 0)) throw_config("--memory-cap must be non-negative");
  if (f.memory_cap_gib > 4294967296.0) throw_config(fmt::format("--memory-cap must be at most 4294967296 GiB (got {})", f.memory_cap_gib));
  o.world.memory_cap = std::size_t(f.memory_cap_gib * double(std::size_t(1) << 30));
  o.inject_mismatch = f.inject_mismatch;
  o.cold = f.cold;
  if (f.gate && o.world.backend == backend_kind::cpu)
    throw_config("--gate holds a GPU stream behind a gate kernel: it needs the local or nccl backend");
  o.world.gate = f.gate;
  if (f.a2a == "alltoall")
    o.world.a2a = a2a_impl::collective;
  else if (f.a2a == "sendrecv")
    o.world.a2a = a2a_impl::send_recv;
  else if (f.a2a != "auto")
    throw_config(fmt::format("unknown --a2a '{}' (expected auto, alltoall or sendrecv)", f.a2a));
  return o;
}

std::vector<point> resolve_points(const run_config& c, const engine_options& o, bool one_shape) {
  std::vector<point> pts = to_points(expand(c));
  require_a_valid_point(pts, one_shape);
  for (const auto& p : pts)
    if (o.world.emulate == emulate_mode::one && (o.world.emulated_rank < 0 || o.world.emulated_rank >= p.shp.tp))
      throw_config(fmt::format("--emulated-rank must be in [0, tp) (got {}, tp={})", o.world.emulated_rank, p.shp.tp));
  return pts;
}

std::string describe_backend(const engine_options& o) {
  std::string d(to_string(o.world.backend));
  if (o.world.backend == backend_kind::cpu) d += " (times are host wall-clock times of CPU threads)";
  if (o.world.backend == backend_kind::local)
    d += o.world.emulate == emulate_mode::one ? " (one rank emulated on one GPU; peers generated)"
                                              : " (all ranks emulated on one GPU; not link bandwidth)";
  return d;
}

// The run's outputs, checked before the first point (exit 2): each a file this run may replace,
// none the config, no two the same file; the dump folder takes files.
void check_run_outputs(const cli_flags& f) {
  const std::vector<std::string> inputs{f.config};
  if (!f.trace.empty()) require_output_file(f.trace, "--trace", inputs);
  if (!f.dump.empty()) require_output_folder(f.dump, "--dump");
  if (!f.out.empty()) {
    require_output_file(f.out, "--out", inputs);
    require_results_names(f.out);
  }
  require_distinct_outputs({{"--out", f.out}, {"--out's per-point file", f.out.empty() ? "" : jsonl_path_for(f.out)},
                            {"--trace", f.trace}});
}

// What a run that verified nothing says, and its exit code: every point ran out of memory or was
// skipped, which a nightly job must not read as a pass.
int nothing_verified(const std::vector<point_result>& done) {
  int oom = 0, skipped = 0;
  for (const auto& r : done) {
    if (r.verified) return kExitOk;
    oom += r.status == "oom";
    skipped += r.status == "skipped";
  }
  fmt::print(stderr, "shardbench: no point verified: {} ran out of memory, {} skipped\n", oom, skipped);
  return kExitNothingVerified;
}

int cmd_run(const cli_flags& f, int process_rank) {
  run_config c = resolve_config(f);
  engine_options o = make_engine_options(c, f);
  std::vector<point> pts = resolve_points(c, o, single_point(f));
  check_run_outputs(f);
  o.dump_dir = f.dump;
  std::unique_ptr<cupti_session> cupti;  // before the first NVTX call: CUPTI hooks into NVTX at its start
  if (f.cupti || !f.trace.empty()) {
    if (o.world.backend == backend_kind::cpu) throw_config("--cupti and --trace need a GPU backend (local or nccl)");
    cupti = std::make_unique<cupti_session>(!f.trace.empty());
    o.world.cupti = cupti.get();
  }
  nvtx_domain nvtx;
  o.nvtx = &nvtx;
  nvtx_range run_range(&nvtx, "run " + c.name, nvtx_color("run"));
  // Under mpirun each process traces its own rank: rank 0 writes the named file, rank r <stem>.rank<r>.json.
  auto write_trace = [&] {
    if (!cupti || f.trace.empty()) return;
    std::filesystem::path tp(f.trace);
    if (process_rank != 0) tp.replace_filename(tp.stem().string() + fmt::format(".rank{}.json", process_rank));
    write_file_atomically(tp.string(), cupti->trace_json());
  };

  // The layout math replayed on the golden cases, before any point: code that is not shardbench's
  // computed them, so a layout bug that the points' own verification shares fails here.
  if (const std::string why = golden_self_test(c.paths, c.variants, o); !why.empty()) {
    fmt::print(stderr, "shardbench: self-test failed: {}\n", why);
    return kExitMismatch;
  }
  const env_info env = collect_env(describe_backend(o));
  // Under mpirun every process runs every point; only rank 0 prints and writes results.
  const bool reporter = process_rank == 0;
  result_sink sink(reporter ? f.out : std::string(), {f.config});  // takes the files: the lock, an earlier run's gone
  interrupt_watch signals;
  o.interrupt = &signals.taken();
  std::vector<point_result> done;
  int index = 0;
  const bool tty = reporter && isatty(fileno(stderr));
  const auto start = std::chrono::steady_clock::now();
  auto at = [&] { return index < int(pts.size()) ? pts[std::size_t(index)].label() : std::string("?"); };
  try {
    run_points(pts, o, [&](const point_result& r) {
      done.push_back(r);
      sink.append(r);
      ++index;
      if (!tty) return;  // the progress line is for people at a terminal, not for logs
      double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double eta = spent / index * double(int(pts.size()) - index);
      fmt::print(stderr, "\r[{}/{}] ETA {:.0f}s {:<70}", index, pts.size(), eta, r.pt.label());
    });
  } catch (const config_error&) {
    throw;
  } catch (const interrupted& e) {
    if (tty) fmt::print(stderr, "\n");
    const std::string sig = interrupt_watch::name(e.signal());
    sink.finalize(to_json(env), config_json(c), done, {{"interrupted", {{"signal", sig}, {"abandoned_point", at()}}}});
    write_trace();
    if (reporter)
      fmt::print(stderr, "shardbench: interrupted by {}: point {} abandoned; {} finished point{} {}\n", sig, at(), done.size(),
                 done.size() == 1 ? "" : "s", f.out.empty() ? "(no --out)" : "written to " + f.out);
    return 128 + e.signal();
  } catch (const std::bad_alloc&) {
    if (tty) fmt::print(stderr, "\n");
    sink.finalize(to_json(env), config_json(c), done);
    fmt::print(stderr, "shardbench: error: out of host memory at point {}\n", at());
    return kExitRuntime;
  } catch (const std::exception& e) {
    if (tty) fmt::print(stderr, "\n");
    sink.finalize(to_json(env), config_json(c), done);
    write_trace();
    fmt::print(stderr, "shardbench: error: at point {}: {}\n", at(), e.what());
    return kExitRuntime;
  }
  if (tty) fmt::print(stderr, "\n");
  sink.finalize(to_json(env), config_json(c), done);
  write_trace();
  auto mismatch = std::find_if(done.begin(), done.end(), [](const point_result& r) { return r.status == "mismatch"; });
  if (!reporter) return mismatch != done.end() ? kExitMismatch : kExitOk;
  fmt::print("shardbench {} on {} [{}]\n", c.name, env.backend, env.gpu);
  print_results_table(std::cout, done);
  print_kernel_breakdown(std::cout, done);
  print_summary_line(std::cout, done);
  if (!f.trace.empty()) fmt::print("trace: {} (open in ui.perfetto.dev or chrome://tracing)\n", f.trace);
  if (mismatch != done.end()) {
    fmt::print(stderr, "shardbench: verification failed: {}\n", mismatch->first_mismatch);
    return kExitMismatch;
  }
  if (!f.out.empty()) fmt::print("results: {} (per point: {})\n", f.out, sink.jsonl_path());
  return nothing_verified(done);
}

int cmd_frontier(const cli_flags& f) {
  run_config c = resolve_config(f);
  engine_options o = make_engine_options(c, f);
  std::vector<point> pts = resolve_points(c, o, single_point(f));
  if (!f.out.empty()) require_output_file(f.out, "--out", {f.config});
  // The seq axis is what the search varies: one point per path/variant/other axes.
  std::vector<point> uniq;
  for (const auto& p : pts) {
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
  nlohmann::json j{{"schema", "shardbench.frontier/1"}, {"env", to_json(env)}, {"budget_bytes", fo.budget_bytes},
                   {"reserve_bytes", fo.reserve_bytes}, {"seq_step", fo.seq_step}, {"max_seq", fo.max_seq},
                   {"frontier", nlohmann::json::array()}};
  for (const auto& r : res) {
    point shown = r.pt;
    fmt::print("{:<20} {:<36} {:>13}{} {:>14} {:>7}\n", fmt::format("{}/{}", to_string(r.pt.path), to_string(r.pt.variant)),
               fmt::format("tp{} sp{}x{} b{} v{} {}", shown.shp.tp, shown.shp.sp_ulysses, shown.shp.sp_ring, shown.shp.batch,
                           shown.shp.vocab, to_string(shown.shp.type)),
               fo.predict_only ? std::string("-") : std::to_string(r.measured_seq), r.capped ? "+" : " ", r.predicted_seq,
               r.trials.size());
    nlohmann::json t = nlohmann::json::array();
    for (const auto& tr : r.trials) t.push_back({{"seq", tr.seq}, {"status", tr.status}, {"tracked_peak_bytes", tr.tracked_peak}});
    j["frontier"].push_back({{"path", std::string(to_string(r.pt.path))}, {"variant", std::string(to_string(r.pt.variant))},
                             {"tp", r.pt.shp.tp}, {"sp_ulysses", r.pt.shp.sp_ulysses}, {"sp_ring", r.pt.shp.sp_ring},
                             {"batch", r.pt.shp.batch}, {"vocab", r.pt.shp.vocab}, {"hidden", r.pt.shp.hidden},
                             {"dtype", std::string(to_string(r.pt.shp.type))}, {"measured_seq", r.measured_seq},
                             {"predicted_seq", r.predicted_seq}, {"capped_at_max_seq", r.capped}, {"trials", t}});
  }
  if (std::any_of(res.begin(), res.end(), [](const auto& r) { return r.capped; })) fmt::print("(+: still fits at --max-seq)\n");
  if (!f.out.empty()) {
    write_file_atomically(f.out, j.dump(1) + '\n');
    fmt::print("frontier: {}\n", f.out);
  }
  return kExitOk;
}

// The Google Benchmark flags whose bad values it answers with its usage and exit 0 (format, time
// unit), a run of nothing and exit 0 (repetitions 0), a crash (negative repetitions) or a late exit 1
// (an --benchmark_out it cannot open), checked here so they exit 2 like ours.
void check_gbench_flag(const std::string& a) {
  auto value_of = [&](const std::string& name) -> std::optional<std::string> {
    const std::string prefix = "--" + name + "=";
    if (a.rfind(prefix, 0) != 0) return std::nullopt;
    return a.substr(prefix.size());
  };
  for (const char* name : {"benchmark_format", "benchmark_out_format"})
    if (const auto v = value_of(name); v && *v != "console" && *v != "json" && *v != "csv")
      throw_config(fmt::format("--{} must be console, json or csv (got '{}')", name, *v));
  if (const auto v = value_of("benchmark_time_unit"); v && *v != "ns" && *v != "us" && *v != "ms" && *v != "s")
    throw_config(fmt::format("--benchmark_time_unit must be ns, us, ms or s (got '{}')", *v));
  if (const auto v = value_of("benchmark_repetitions")) {
    int n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || n < 1 || n > kMaxIterations)
      throw_config(fmt::format("--benchmark_repetitions must be an integer from 1 to {} (got '{}')", kMaxIterations, *v));
  }
  if (const auto v = value_of("benchmark_out")) require_output_file(*v, "--benchmark_out");
  if (const auto v = value_of("benchmark_filter")) {
    // Google Benchmark compiles the filter as an extended regular expression ("-" in front negates
    // it) and, when it cannot, prints so and exits 0 having run nothing.
    const std::string spec = !v->empty() && v->front() == '-' ? v->substr(1) : *v;
    try {
      std::regex re(spec, std::regex::extended);
    } catch (const std::regex_error&) {
      throw_config(fmt::format("--benchmark_filter '{}' is not a regular expression", *v));
    }
  }
}

int cmd_bench(const cli_flags& f, const std::vector<std::string>& extra, const char* argv0, int process_rank) {
  run_config c = resolve_config(f);
  engine_options o = make_engine_options(c, f);
  std::vector<point> pts = resolve_points(c, o, single_point(f));
  std::vector<std::string> args{argv0};
  for (const auto& a : extra) {
    if (a.rfind("--benchmark_", 0) != 0) throw_config(fmt::format("bench: unknown argument '{}'", a));
    check_gbench_flag(a);
    args.push_back(a);
  }
  if (f.kernels && f.collectives) throw_config("bench: --kernels and --collectives are separate runs (give one)");
  if (f.kernels) {
    if (o.world.backend == backend_kind::cpu) throw_config("bench --kernels needs a GPU backend (local)");
    // CUPTI gives each phase's kernel time without the gaps between its launches (and, for
    // SpecForge's pack, its host syncs); NVTX attributes the kernels to phases.
    cupti_session cupti(false);
    o.world.cupti = &cupti;
    nvtx_domain nvtx;
    o.nvtx = &nvtx;
    return run_kernel_gbench(pts, o, collect_env(describe_backend(o)), args);
  }
  if (f.collectives) {
    if (o.world.backend == backend_kind::local)
      throw_config("bench --collectives times links: it needs the nccl backend (cpu runs it on host threads)");
    return run_collective_gbench(pts, o, collect_env(describe_backend(o)), args, process_rank);
  }
  return run_gbench(pts, o, collect_env(describe_backend(o)), args, process_rank);
}

}  // namespace

namespace {
// An empty value ("--tp ''", "--out=") would be dropped by CLI11 or read as nothing: refused, naming
// the flag, before any parse.
void refuse_empty_values(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.empty())
      throw_config(i > 1 ? fmt::format("{}: empty value", argv[i - 1]) : std::string("an empty argument"));
    if (a.rfind("--", 0) == 0 && a.back() == '=') throw_config(fmt::format("{}: empty value", a.substr(0, a.size() - 1)));
  }
}
}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{"shardbench: benchmark and verify ways of redistributing vocab-sharded target logits"};
  app.require_subcommand(1);
  cli_flags f;

  CLI::App* run = app.add_subcommand("run", "run a sweep (or one point), verify every output, record results");
  add_shape_flags(run, f);
  run->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  run->add_option("--out", f.out, "results JSON (a .jsonl beside it grows point by point)");
  run->add_option("--iters", f.iters, "timed iterations per point")->check(fits<int>());
  run->add_option("--warmup", f.warmup, "warm-up iterations per point")->check(fits<int>());
  run->add_option("--warmup-ms", f.warmup_ms, "and warm up at least this many ms of GPU time per point (0: the count alone)");
  run->add_option("--dump", f.dump, "write every rank's input, outputs and aligned tensors as .npy into DIR");
  run->add_option("--emulate", f.emulate, "local backend: all ranks (all) or one rank with generated peers (one)");
  run->add_option("--emulated-rank", f.emulated_rank, "local --emulate one: the rank that runs")->check(fits<int>());
  run->add_option("--timeout", f.timeout_s, "seconds a collective may make no progress before aborting");
  run->add_option("--memory-cap", f.memory_cap_gib, "GiB per rank the allocator may hand out (0: no cap)");
  run->add_flag("--inject-mismatch", f.inject_mismatch, "test hook: corrupt one output element before verifying");
  run->add_flag("--cold", f.cold, "flush the L2 cache before every timed iteration");
  run->add_flag("--gate", f.gate, kGateHelp);
  run->add_option("--a2a", f.a2a, "nccl all-to-all form: auto (per variant), alltoall (ncclAlltoAll where chunks are even), sendrecv (grouped ncclSend/ncclRecv)");
  run->add_flag("--cupti", f.cupti, "collect CUPTI activity: per-phase GPU time by kernel (NCCL's included)");
  run->add_option("--trace", f.trace, "write a Chrome-trace/Perfetto JSON of kernels, copies and NVTX ranges (implies --cupti)");

  CLI::App* bench = app.add_subcommand("bench", "every point as a Google Benchmark (accepts --benchmark_* flags)");
  add_shape_flags(bench, f);
  bench->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  bench->add_option("--iters", f.iters, "timed iterations per point (the benchmark's fixed iteration count)")->check(fits<int>());
  bench->add_option("--warmup", f.warmup, "warm-up iterations per point")->check(fits<int>());
  bench->add_option("--warmup-ms", f.warmup_ms, "and warm up at least this many ms of GPU time per point");
  bench->add_option("--emulate", f.emulate, "local backend: all or one");
  bench->add_option("--emulated-rank", f.emulated_rank, "local --emulate one: the rank that runs")->check(fits<int>());
  bench->add_flag("--cold", f.cold, "flush the L2 cache before every timed iteration");
  bench->add_flag("--gate", f.gate, kGateHelp);
  bench->add_option("--a2a", f.a2a, "nccl all-to-all form: auto, alltoall or sendrecv");
  bench->add_flag("--kernels", f.kernels, "each local phase's kernel vs a device-to-device copy of the same bytes");
  bench->add_flag("--collectives", f.collectives,
                  "each point, then its collective alone (raw ncclAllGather/ncclAlltoAll) at the same op_bytes");
  bench->allow_extras();

  CLI::App* frontier = app.add_subcommand("frontier", "longest sequence per path/variant that fits a memory budget (real allocations)");
  add_shape_flags(frontier, f);
  frontier->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  frontier->add_option("--emulate", f.emulate, "local backend: all or one (one: a rank's exact footprint)");
  frontier->add_option("--budget", f.budget, "per-rank memory, e.g. 80GiB (default: the GPU's total memory)");
  frontier->add_option("--reserve", f.reserve, "memory reserved for the model, e.g. 60GiB");
  frontier->add_option("--seq-step", f.seq_step, "search granularity in tokens (default 1024)")->check(fits<std::int64_t>());
  frontier->add_option("--max-seq", f.max_seq, "longest sequence tried (default 1048576)")->check(fits<std::int64_t>());
  frontier->add_flag("--predict-only", f.predict_only, "the plan's answer only, no allocations (e.g. a larger card than this one)");
  frontier->add_option("--out", f.out, "frontier JSON (schema shardbench.frontier/1; tools/plot draws it)");

  CLI::App* plan = app.add_subcommand("plan", "predicted bytes and per-rank peak memory of each path/variant");
  add_shape_flags(plan, f);
  plan->add_flag("--json", f.json, "machine-readable output");
  CLI::Option* calibrate = plan->add_option("--calibrate", f.calibrate, "results JSON whose measured bandwidths predict the time of each point");
  // Without --calibrate these would be ignored in silence: a plan the user believes calibrated.
  plan->add_option("--hold-out", f.hold_out, "with --calibrate: leave points whose label contains this out, and predict them")->needs(calibrate);
  plan->add_option("--link-gbps", f.link_gbps, "with --calibrate: per-rank link busbw (GB/s) when the results have no nccl points")->needs(calibrate);
  plan->add_option("--inter-node-gbps", f.inter_node_gbps, "with --calibrate: per-rank bandwidth between nodes (GB/s)")->needs(calibrate);
  plan->add_option("--gpus-per-node", f.gpus_per_node, "with --calibrate: GPUs per node (default 8)")->check(fits<int>())->needs(calibrate);

  try {
    refuse_empty_values(argc, argv);
    app.parse(argc, argv);
  } catch (const config_error& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  }
  try {
    std::optional<mpi_session> mpi;
    if (launched_under_mpi()) mpi.emplace(&argc, &argv);
    if (run->parsed()) return cmd_run(f, mpi ? mpi->rank() : 0);
    if (frontier->parsed()) return cmd_frontier(f);
    if (bench->parsed()) return cmd_bench(f, bench->remaining(), argv[0], mpi ? mpi->rank() : 0);
    return cmd_plan(f);
  } catch (const config_error& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "shardbench: error: out of host memory in `{}`\n", app.get_subcommands().empty() ? "shardbench" : app.get_subcommands().front()->get_name());
    return kExitRuntime;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitRuntime;
  }
}

}  // namespace sb
