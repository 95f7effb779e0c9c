#include "bench/gbench.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "bench/traffic.h"
#include "harness/bandwidth.h"
#include "harness/stats.h"
#include "harness/error.h"

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

void report(benchmark::State& st, const point_result& r, bool link_bandwidth) {
  using benchmark::Counter;
  if (link_bandwidth) {  // only real links: local/cpu peer traffic is memory copies
    st.counters["algbw"] = Counter(double(r.op_bytes), Counter::kIsIterationInvariantRate, Counter::kIs1000);
    st.counters["busbw"] = Counter(double(r.op_bytes) * busbw_factor(r.pt.shp.tp), Counter::kIsIterationInvariantRate,
                                   Counter::kIs1000);
  }
  st.counters["effective_bw"] = Counter(double(r.useful_bytes), Counter::kIsIterationInvariantRate, Counter::kIs1000);
  st.counters["bytes_sent"] = Counter(double(r.bytes_sent), Counter::kDefaults, Counter::kIs1000);
  st.counters["peak_mem"] = Counter(double(r.memory.tracked_peak), Counter::kDefaults, Counter::kIs1000);
  st.counters["predicted_peak"] = Counter(double(r.memory.predicted_peak), Counter::kDefaults, Counter::kIs1000);
  st.counters["median_us"] = r.time_us.median;
  st.counters["verified"] = r.verified ? 1 : 0;
  st.counters["cross_checked"] = r.cross_checked ? 1 : 0;
}

}  // namespace

int run_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
               std::vector<std::string> args, int process_rank) {
  if (process_rank != 0)  // one report: rank 0 writes --benchmark_out
    std::erase_if(args, [](const std::string& a) { return a.rfind("--benchmark_out", 0) == 0; });
  if (!init_gbench(args, env)) return 2;

  world_cache worlds(o.world);
  bool mismatch = false;
  int invalid = 0;
  for (const point& pt : pts) {
    try {
      validate(pt);
    } catch (const config_error&) {
      ++invalid;  // a sweep's invalid combinations are not benchmarks
      continue;
    }
    benchmark::RegisterBenchmark(bench_name(pt).c_str(), [pt, o, &worlds, &mismatch](benchmark::State& st) {
      engine_options po = o;
      po.iters = int(st.max_iterations);
      point_result r = run_checked_point(pt, po, worlds);
      if (r.status != "ok") {
        mismatch |= r.status == "mismatch";
        st.SkipWithError((r.status + ": " + r.reason).c_str());
        for (auto _ : st) {
        }
        return;
      }
      std::size_t i = 0;
      for (auto _ : st) st.SetIterationTime(r.time_us.samples[i++] * 1e-6);
      report(st, r, o.world.backend == backend_kind::nccl);
    })
        ->UseManualTime()
        ->Iterations(o.iters)
        ->Unit(benchmark::kMicrosecond);
  }
  if (process_rank == 0) {
    if (invalid) fmt::print(stderr, "shardbench bench: {} invalid combinations of the sweep not registered\n", invalid);
    benchmark::RunSpecifiedBenchmarks();
  } else {
    silent_reporter quiet;
    benchmark::RunSpecifiedBenchmarks(&quiet);
  }
  benchmark::Shutdown();
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
                              "kernels_of_d2d = rate of the phase's kernels alone (CUPTI durations) / copy rate");
  world_cache worlds(o.world);
  for (const point& pt : pts) {
    try {
      validate(pt);
    } catch (const config_error&) {
      continue;
    }
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
        const std::vector<double>* samples = nullptr;
        for (const auto& [n, v] : r.phase_samples_us)
          if (n == ph) samples = &v;
        if (r.status != "ok" || !samples) {
          st.SkipWithError((r.status + ": " + r.reason).c_str());
          for (auto _ : st) {
          }
          return;
        }
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
        double kernels_us = 0;
        for (const auto& k : r.kernels)
          if (k.phase == ph) kernels_us += k.total_us;
        if (kernels_us > 0) {
          st.counters["kernels_GBps"] = bytes / (kernels_us * 1e-6) / 1e9;
          st.counters["kernels_of_d2d"] = copy_us / kernels_us;
        }
        st.counters["verified"] = r.verified ? 1 : 0;
      })
          ->UseManualTime()
          ->Iterations(o.iters)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace sb
