// `shardbench bench`: every point as a Google Benchmark entry, or each phase's kernels against a copy
// (--kernels), or each point beside its raw collective (--collectives) (docs/cli.md).
#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <regex>

#include "bench/commands/commands.h"
#include "bench/gbench.h"
#include "harness/backends/cupti.h"
#include "harness/backends/env.h"
#include "harness/backends/nvtx.h"
#include "harness/core/error.h"
#include "harness/report/output_file.h"

namespace sb {

CLI::App* add_bench_command(CLI::App& app, cli_flags& f) {
  CLI::App* cmd = app.add_subcommand("bench", "every point as a Google Benchmark (accepts --benchmark_* flags)");
  add_shape_flags(cmd, f);
  cmd->add_option("--backend", f.backend, "auto|cpu|local|nccl");
  cmd->add_option("--iters", f.iters, "timed iterations per point (the benchmark's fixed iteration count)")->check(fits<int>());
  cmd->add_option("--warmup", f.warmup, "warm-up iterations per point")->check(fits<int>());
  cmd->add_option("--warmup-ms", f.warmup_ms, "and warm up at least this many ms of GPU time per point");
  cmd->add_option("--emulate", f.emulate, "local backend: all or one");
  cmd->add_option("--emulated-rank", f.emulated_rank, "local --emulate one: the rank that runs")->check(fits<int>());
  cmd->add_flag("--cold", f.cold, "flush the L2 cache before every timed iteration");
  cmd->add_flag("--gate", f.gate, kGateHelp);
  cmd->add_option("--a2a", f.a2a, "nccl all-to-all form: auto, alltoall or sendrecv");
  cmd->add_flag("--kernels", f.kernels, "each local phase's kernel vs a device-to-device copy of the same bytes");
  cmd->add_flag("--collectives", f.collectives,
                  "each point, then its collective alone (raw ncclAllGather/ncclAlltoAll) at the same op_bytes");
  cmd->allow_extras();
  return cmd;
}

namespace {

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

}  // namespace

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

}  // namespace sb
