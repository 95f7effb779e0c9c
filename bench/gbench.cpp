#include "bench/gbench.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <utility>

#include "bench/traffic.h"
#include "harness/core/bandwidth.h"
#include "harness/core/stats.h"
#include "harness/core/error.h"

namespace sb {

namespace {

// Ranks other than 0 run every benchmark (their collectives must match rank 0's) but report nothing.
class silent_reporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

// Google Benchmark's flags from args (argv[0] first), and the environment as its context.
bool init_gbench(std::vector<std::string>& args, const env_info& env) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = int(argv.size());
  benchmark::Initialize(&argc, argv.data());
  if (benchmark::ReportUnrecognizedArguments(argc, argv.data())) return false;
  benchmark::AddCustomContext("shardbench.gpu", env.gpu);
  benchmark::AddCustomContext("shardbench.gpu_count", std::to_string(env.gpu_count));
  benchmark::AddCustomContext("shardbench.driver", env.driver);
  benchmark::AddCustomContext("shardbench.cuda", env.cuda);
  benchmark::AddCustomContext("shardbench.nccl", env.nccl);
  benchmark::AddCustomContext("shardbench.backend", env.backend);
  benchmark::AddCustomContext("shardbench.git_sha", env.git_sha);
  benchmark::AddCustomContext("shardbench.build_type", env.build_type);
  benchmark::AddCustomContext("shardbench.clocks", env.clocks);
  return true;
}

std::string bench_name(const point& pt) {
  const shape& s = pt.shp;
  return fmt::format("{}/{}/{}/tp:{}/sp:{}x{}/batch:{}/seq:{}/vocab:{}/ttt:{}", to_string(pt.path), to_string(pt.variant),
                     to_string(s.type), s.tp, s.sp_ulysses, s.sp_ring, s.batch, s.seq, s.vocab, s.ttt);
}

// algbw and busbw of a collective of op_bytes (nccl-tests' S) over `ranks`, per iteration.
void link_rates(benchmark::State& st, double op_bytes, int ranks) {
  using benchmark::Counter;
  st.counters["algbw"] = Counter(op_bytes, Counter::kIsIterationInvariantRate, Counter::kIs1000);
  st.counters["busbw"] = Counter(op_bytes * busbw_factor(ranks), Counter::kIsIterationInvariantRate, Counter::kIs1000);
}

void report(benchmark::State& st, const point_result& r, bool link_bandwidth) {
  using benchmark::Counter;
  if (link_bandwidth) link_rates(st, double(r.op_bytes), r.pt.shp.tp);  // only real links: local/cpu traffic is copies
  st.counters["effective_bw"] = Counter(double(r.useful_bytes), Counter::kIsIterationInvariantRate, Counter::kIs1000);
  st.counters["bytes_sent"] = Counter(double(r.bytes_sent), Counter::kDefaults, Counter::kIs1000);
  st.counters["peak_mem"] = Counter(double(r.memory.tracked_peak), Counter::kDefaults, Counter::kIs1000);
  st.counters["predicted_peak"] = Counter(double(r.memory.predicted_peak), Counter::kDefaults, Counter::kIs1000);
  st.counters["median_us"] = r.time_us.median;
  st.counters["verified"] = r.verified ? 1 : 0;
  st.counters["cross_checked"] = r.cross_checked ? 1 : 0;
}

// Google Benchmark runs once per process: its registry is global (entries hold references to this
// call's worlds), and benchmark 1.7.1 crashes in a second RunSpecifiedBenchmarks (the tests run each
// bench in a child process).
void end_gbench() { benchmark::Shutdown(); }

// Ends a benchmark that did not run (oom, mismatch, ...): Google Benchmark still wants the loop.
void skip(benchmark::State& st, const std::string& why) {
  st.SkipWithError(why.c_str());
  for (auto _ : st) {
  }
}

// Runs the registered benchmarks: rank 0 reports, the other ranks run the same collectives silently.
// The count run: 0 when --benchmark_filter matched none (Google Benchmark says so in a line of its
// own, and would let the process exit 0).
std::size_t run_registered(int process_rank, int invalid) {
  std::size_t ran = 0;
  if (process_rank == 0) {
    if (invalid) fmt::print(stderr, "shardbench bench: {} invalid combinations of the sweep not registered\n", invalid);
    ran = benchmark::RunSpecifiedBenchmarks();
  } else {
    silent_reporter quiet;
    ran = benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  end_gbench();
  return ran;
}

bool valid(const point& pt) {
  try {
    validate(pt);
    return true;
  } catch (const config_error&) {
    return false;  // a sweep's invalid combinations are not benchmarks
  }
}

// One report: rank 0 writes --benchmark_out.
void drop_out_flag(std::vector<std::string>& args, int process_rank) {
  if (process_rank != 0) std::erase_if(args, [](const std::string& a) { return a.rfind("--benchmark_out", 0) == 0; });
}

// Registers pt as a benchmark timed by the engine (its iterations are the engine's); `then` adds
// counters from the point's result when it ran.
void register_point(const point& pt, const engine_options& o, world_cache& worlds, bool& mismatch,
                    std::function<void(benchmark::State&, const point_result&)> then = {}) {
  benchmark::RegisterBenchmark(bench_name(pt).c_str(), [pt, o, &worlds, &mismatch, then = std::move(then)](benchmark::State& st) {
    engine_options po = o;
    po.iters = int(st.max_iterations);
    point_result r = run_checked_point(pt, po, worlds);
    if (r.status != "ok") {
      mismatch |= r.status == "mismatch";
      return skip(st, r.status + ": " + r.reason);
    }
    std::size_t i = 0;
    for (auto _ : st) st.SetIterationTime(r.time_us.samples[i++] * 1e-6);
    report(st, r, o.world.backend == backend_kind::nccl);
    if (then) then(st, r);
  })
      ->UseManualTime()
      ->Iterations(o.iters)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int run_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
               std::vector<std::string> args, int process_rank) {
  drop_out_flag(args, process_rank);
  if (!init_gbench(args, env)) return 2;
  world_cache worlds(o.world);
  bool mismatch = false;
  int invalid = 0;
  for (const point& pt : pts) {
    if (valid(pt)) register_point(pt, o, worlds, mismatch);
    else ++invalid;
  }
  if (run_registered(process_rank, invalid) == 0) return 2;  // the filter matched no benchmark
  return mismatch ? 1 : 0;
}

// ---- each path beside its collective alone (bench --collectives) ----------------------------------

namespace {

// The phase that issues the point's collective ("comm", or peer_pull's "pull").
std::string collective_phase(const point& pt) {
  for (const auto& [phase, t] : path_traffic(pt))
    if (t.collective) return phase;
  return {};
}

const std::vector<double>* phase_samples(const point_result& r, const std::string& phase) {
  for (const auto& [n, v] : r.phase_samples_us)
    if (n == phase) return &v;
  return nullptr;
}

}  // namespace

int run_collective_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
                          std::vector<std::string> args, int process_rank) {
  drop_out_flag(args, process_rank);
  if (!init_gbench(args, env)) return 2;
  benchmark::AddCustomContext("shardbench.note",
                              "each point, then its collective alone at the point's op_bytes (nccl-tests' S) on the same "
                              "ranks; comm_busbw = the point's collective phase at op_bytes; comm_of_raw = raw time / that "
                              "phase's time (1 = the path's link phase as fast as the bare collective)");
  world_cache worlds(o.world);
  const bool link = o.world.backend == backend_kind::nccl;
  bool mismatch = false;
  int invalid = 0;
  for (const point& pt : pts) {
    if (!valid(pt)) {
      ++invalid;
      continue;
    }
    const point_plan pl = plan_point(pt);
    const std::string phase = collective_phase(pt);
    auto result = std::make_shared<point_result>();
    register_point(pt, o, worlds, mismatch, [result, phase, link](benchmark::State& st, const point_result& r) {
      *result = r;
      const std::vector<double>* comm = phase_samples(r, phase);
      if (link && comm)  // the collective's phase alone, at the same op_bytes
        st.counters["comm_busbw"] = double(r.op_bytes) * busbw_factor(r.pt.shp.tp) / (summarize(*comm).median * 1e-6);
    });
    const std::string raw = fmt::format("{}/raw_{}", bench_name(pt), to_string(pl.collective));
    benchmark::RegisterBenchmark(raw.c_str(), [pt, o, pl, &worlds, result, phase, link](benchmark::State& st) {
      std::vector<double> samples;
      try {
        samples = time_raw_collective(worlds.get(pt.shp.tp), pl.collective, pl.op_bytes, o);
      } catch (const oom_error& e) {
        return skip(st, std::string("oom: ") + e.what());
      }
      std::size_t i = 0;
      for (auto _ : st) st.SetIterationTime(samples.empty() ? 0.0 : samples[i++ % samples.size()] * 1e-6);
      if (samples.empty()) return;  // ranks other than 0 under mpirun
      st.counters["op_bytes"] = double(pl.op_bytes);
      if (link) link_rates(st, double(pl.op_bytes), pt.shp.tp);
      const std::vector<double>* comm = result->status == "ok" ? phase_samples(*result, phase) : nullptr;
      if (comm) st.counters["comm_of_raw"] = summarize(samples).median / summarize(*comm).median;
    })
        ->UseManualTime()
        ->Iterations(o.iters)
        ->Unit(benchmark::kMicrosecond);
  }
  if (run_registered(process_rank, invalid) == 0) return 2;  // the filter matched no benchmark
  return mismatch ? 1 : 0;
}

// ---- kernels vs device-to-device copy (bench --kernels) ------------------------------------------

namespace {
// Rate counters in bytes per second (Google Benchmark prints them with SI prefixes).
void rate(benchmark::State& st, const char* name, double bytes) {
  st.counters[name] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
}  // namespace

int run_kernel_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
                      std::vector<std::string> args) {
  if (!init_gbench(args, env)) return 2;
  benchmark::AddCustomContext("shardbench.note",
                              "bytes = read + written by the phase (bench/traffic.cpp); d2d = cudaMemcpyAsync of the same "
                              "bytes in the same run; of_d2d = phase rate (CUDA events around the phase) / copy rate; "
                              "kernels_of_d2d = rate of the phase's kernels alone (CUPTI durations) / copy rate; "
                              "kernels_of_d2d_launch = the same against `launches` copies of one launch's share of the bytes");
  world_cache worlds(o.world);
  for (const point& pt : pts) {
    if (!valid(pt)) continue;
    // One run of the point gives every phase's samples; each local phase becomes a benchmark.
    auto result = std::make_shared<std::optional<point_result>>();
    for (const auto& [phase, traffic] : path_traffic(pt)) {
      if (traffic.collective || traffic.local_bytes <= 0) continue;
      const std::string name = fmt::format("kernel/{}/{}/{}/{}/seq:{}/sp:{}x{}", to_string(pt.path), to_string(pt.variant),
                                           phase, to_string(pt.shp.type), pt.shp.seq, pt.shp.sp_ulysses, pt.shp.sp_ring);
      const double bytes = traffic.local_bytes;
      const std::string ph = phase;
      benchmark::RegisterBenchmark(name.c_str(), [pt, o, bytes, ph, result, &worlds](benchmark::State& st) {
        if (!*result) *result = run_checked_point(pt, o, worlds);
        const point_result& r = **result;
        const std::vector<double>* samples = phase_samples(r, ph);
        if (r.status != "ok" || !samples) return skip(st, r.status + ": " + r.reason);
        // The reference: a copy moving the same bytes (half read, half written), timed in this run.
        const double copy_us = summarize(time_d2d_copy(std::size_t(bytes / 2), 20)).median;
        std::size_t i = 0;
        for (auto _ : st) st.SetIterationTime((*samples)[i++ % samples->size()] * 1e-6);
        const double kernel_us = summarize(*samples).median;
        rate(st, "bytes_rw", bytes);
        st.counters["bytes"] = bytes;  // plain: read + written per iteration
        st.counters["kernel_GBps"] = bytes / (kernel_us * 1e-6) / 1e9;
        st.counters["d2d_GBps"] = bytes / (copy_us * 1e-6) / 1e9;
        st.counters["of_d2d"] = copy_us / kernel_us;
        // The phase's kernels alone (CUPTI): what the kernels reach, launch gaps and host syncs aside.
        double kernels_us = 0, launches = 0;
        for (const auto& k : r.kernels)
          if (k.phase == ph) {
            kernels_us += k.total_us;
            launches += k.calls;
          }
        if (kernels_us > 0) {
          st.counters["kernels_GBps"] = bytes / (kernels_us * 1e-6) / 1e9;
          st.counters["kernels_of_d2d"] = copy_us / kernels_us;
          // A phase of several launches (usp/specforge's pack: one per destination) beside as many
          // copies of one launch's share of the bytes: a copy pays its own ramp and drain per launch too
          // (on an H200 a 50 MB copy runs at 0.70 of a 3 GB one's rate).
          const double n = std::max(1.0, std::round(launches));
          const double launch_copy_us = n > 1 ? n * summarize(time_d2d_copy(std::size_t(bytes / 2 / n), 20)).median : copy_us;
          st.counters["launches"] = n;
          st.counters["d2d_launch_GBps"] = bytes / (launch_copy_us * 1e-6) / 1e9;
          st.counters["kernels_of_d2d_launch"] = launch_copy_us / kernels_us;
        }
        st.counters["verified"] = r.verified ? 1 : 0;
      })
          ->UseManualTime()
          ->Iterations(o.iters)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
  end_gbench();
  return ran == 0 ? 2 : 0;  // 0: the filter matched no benchmark
}

}  // namespace sb
