// `shardbench bench`: every (path, variant, shape) of the config registered as a Google Benchmark,
// timed by the engine (manual time from CUDA events or host clocks), with a fixed iteration count
// so every rank runs the same number of collectives. Output is Google Benchmark's own (console,
// --benchmark_out JSON), so its compare.py and other tooling read it.
#pragma once
#include <string>
#include <vector>

#include "bench/engine.h"
#include "harness/backends/env.h"

namespace sb {

// args: argv[0] followed by the --benchmark_* flags left over by our parser. Returns the exit code.
int run_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
               std::vector<std::string> args, int process_rank);

// `bench --kernels`: every local phase (one kernel or copy each) of every point as a benchmark, its
// rate in bytes read + written beside a device-to-device cudaMemcpyAsync of the same bytes timed in
// the same run. GPU backends only.
int run_kernel_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
                      std::vector<std::string> args);

// `bench --collectives`: every point of the config, then its collective alone at the same size
// (nccl-tests' S: the point's op_bytes) on the same ranks, so each path's link phase sits beside the
// raw ncclAllGather / ncclAlltoAll. Link bandwidth (algbw, busbw) only on nccl; `comm_of_raw` (raw
// time / the path's collective-phase time) on every backend but local.
int run_collective_gbench(const std::vector<point>& pts, const engine_options& o, const env_info& env,
                          std::vector<std::string> args, int process_rank);

}  // namespace sb
