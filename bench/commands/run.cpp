// `shardbench run`: a sweep (or one point), every output verified, results recorded (docs/cli.md).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "bench/commands/commands.h"
#include "bench/interrupt.h"
#include "bench/self_test.h"
#include "harness/backends/cupti.h"
#include "harness/backends/env.h"
#include "harness/backends/nvtx.h"
#include "harness/core/error.h"
#include "harness/report/output_file.h"
#include "harness/report/printer.h"
#include "harness/report/results.h"

namespace sb {

CLI::App* add_run_command(CLI::App& app, cli_flags& f) {
  CLI::App* cmd = app.add_subcommand("run", "run a sweep (or one point), verify every output, record results");
  add_shape_flags(cmd, f);
  cmd->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  cmd->add_option("--out", f.out, "results JSON (a .jsonl beside it grows point by point)");
  cmd->add_option("--iters", f.iters, "timed iterations per point")->check(fits<int>());
  cmd->add_option("--warmup", f.warmup, "warm-up iterations per point")->check(fits<int>());
  cmd->add_option("--warmup-ms", f.warmup_ms, "and warm up at least this many ms of GPU time per point (0: the count alone)");
  cmd->add_option("--dump", f.dump, "write every rank's input, outputs and aligned tensors as .npy into DIR");
  cmd->add_option("--emulate", f.emulate, "local backend: all ranks (all) or one rank with generated peers (one)");
  cmd->add_option("--emulated-rank", f.emulated_rank, "local --emulate one: the rank that runs")->check(fits<int>());
  cmd->add_option("--timeout", f.timeout_s, "seconds a collective may make no progress before aborting");
  cmd->add_option("--memory-cap", f.memory_cap_gib, "GiB per rank the allocator may hand out (0: no cap)");
  cmd->add_flag("--inject-mismatch", f.inject_mismatch, "test hook: corrupt one output element before verifying");
  cmd->add_flag("--cold", f.cold, "flush the L2 cache before every timed iteration");
  cmd->add_flag("--gate", f.gate, kGateHelp);
  cmd->add_option("--a2a", f.a2a, "nccl all-to-all form: auto (per variant), alltoall (ncclAlltoAll where chunks are even), sendrecv (grouped ncclSend/ncclRecv)");
  cmd->add_flag("--cupti", f.cupti, "collect CUPTI activity: per-phase GPU time by kernel (NCCL's included)");
  cmd->add_option("--trace", f.trace, "write a Chrome-trace/Perfetto JSON of kernels, copies and NVTX ranges (implies --cupti)");
  return cmd;
}

namespace {

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

// CUPTI, when asked for, starts before the first NVTX call: it hooks into NVTX at NVTX's start.
std::unique_ptr<cupti_session> start_cupti(const cli_flags& f, engine_options& o) {
  if (!f.cupti && f.trace.empty()) return nullptr;
  if (o.world.backend == backend_kind::cpu) throw_config("--cupti and --trace need a GPU backend (local or nccl)");
  auto cupti = std::make_unique<cupti_session>(!f.trace.empty());
  o.world.cupti = cupti.get();
  return cupti;
}

// Under mpirun each process traces its own rank: rank 0 writes the named file, rank r <stem>.rank<r>.json.
void write_trace(const cupti_session* cupti, const cli_flags& f, int process_rank) {
  if (!cupti || f.trace.empty()) return;
  std::filesystem::path tp(f.trace);
  if (process_rank != 0) tp.replace_filename(tp.stem().string() + fmt::format(".rank{}.json", process_rank));
  write_file_atomically(tp.string(), cupti->trace_json());
}

// The progress line is for people at a terminal, not for logs.
class progress_line {
 public:
  progress_line(bool reporter, std::size_t total) : tty_(reporter && isatty(fileno(stderr))), total_(total) {}
  void done(std::size_t index, const std::string& label) const {
    if (!tty_) return;
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = spent / double(index) * double(total_ - index);
    fmt::print(stderr, "\r[{}/{}] ETA {:.0f}s {:<70}", index, total_, eta, label);
  }
  void end() const {
    if (tty_) fmt::print(stderr, "\n");
  }

 private:
  bool tty_;
  std::size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

const point_result* first_mismatch(const std::vector<point_result>& done) {
  auto it = std::find_if(done.begin(), done.end(), [](const point_result& r) { return r.status == "mismatch"; });
  return it == done.end() ? nullptr : &*it;
}

// The finished run's tables and its exit code (rank 0 only).
int report_run(const run_config& c, const env_info& env, const cli_flags& f, const std::vector<point_result>& done,
               const std::string& jsonl) {
  fmt::print("shardbench {} on {} [{}]\n", c.name, env.backend, env.gpu);
  print_results_table(std::cout, done);
  print_kernel_breakdown(std::cout, done);
  print_summary_line(std::cout, done);
  if (!f.trace.empty()) fmt::print("trace: {} (open in ui.perfetto.dev or chrome://tracing)\n", f.trace);
  if (const point_result* mismatch = first_mismatch(done)) {
    fmt::print(stderr, "shardbench: verification failed: {}\n", mismatch->first_mismatch);
    return kExitMismatch;
  }
  if (!f.out.empty()) fmt::print("results: {} (per point: {})\n", f.out, jsonl);
  return nothing_verified(done);
}

}  // namespace

int cmd_run(const cli_flags& f, int process_rank) {
  run_config c = resolve_config(f);
  engine_options o = make_engine_options(c, f);
  std::vector<point> pts = resolve_points(c, o, single_point(f));
  check_run_outputs(f);
  o.dump_dir = f.dump;
  const std::unique_ptr<cupti_session> cupti = start_cupti(f, o);
  nvtx_domain nvtx;
  o.nvtx = &nvtx;
  nvtx_range run_range(&nvtx, "run " + c.name, nvtx_color("run"));

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
  const progress_line progress(reporter, pts.size());
  auto at = [&] { return done.size() < pts.size() ? pts[done.size()].label() : std::string("?"); };
  auto stop = [&](const std::string& why) {  // a point failed: the finished points are kept, the trace written
    progress.end();
    sink.finalize(to_json(env), to_json(c), done);
    write_trace(cupti.get(), f, process_rank);
    fmt::print(stderr, "shardbench: error: {}\n", why);
    return kExitRuntime;
  };
  try {
    run_points(pts, o, [&](const point_result& r) {
      done.push_back(r);
      sink.append(r);
      progress.done(done.size(), r.pt.label());
    });
  } catch (const config_error&) {
    throw;
  } catch (const interrupted& e) {
    progress.end();
    const std::string sig = interrupt_watch::name(e.signal());
    sink.finalize(to_json(env), to_json(c), done, {{"interrupted", {{"signal", sig}, {"abandoned_point", at()}}}});
    write_trace(cupti.get(), f, process_rank);
    if (reporter)
      fmt::print(stderr, "shardbench: interrupted by {}: point {} abandoned; {} finished point{} {}\n", sig, at(), done.size(),
                 done.size() == 1 ? "" : "s", f.out.empty() ? "(no --out)" : "written to " + f.out);
    return 128 + e.signal();
  } catch (const std::bad_alloc&) {
    return stop(fmt::format("out of host memory at point {}", at()));
  } catch (const std::exception& e) {
    return stop(fmt::format("at point {}: {}", at(), e.what()));
  }
  progress.end();
  sink.finalize(to_json(env), to_json(c), done);
  write_trace(cupti.get(), f, process_rank);
  if (!reporter) return first_mismatch(done) ? kExitMismatch : kExitOk;
  return report_run(c, env, f, done, sink.jsonl_path());
}

}  // namespace sb
