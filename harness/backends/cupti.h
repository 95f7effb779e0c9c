// CUPTI activity collection (--cupti) and a Chrome-trace/Perfetto writer (--trace): every kernel
// (NCCL's included), memcpy, memset, device allocation and NVTX range, attributed to the ranks and
// to the path phases that launched them. Nsight Systems is not always usable; this is the fallback a
// user opens in a browser (ui.perfetto.dev or chrome://tracing).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/core/point.h"

typedef struct CUstream_st* cudaStream_t;

namespace sb {

class cupti_session {
 public:
  explicit cupti_session(bool keep_trace);  // throws runtime_error when CUPTI cannot start
  ~cupti_session();
  cupti_session(const cupti_session&) = delete;
  cupti_session& operator=(const cupti_session&) = delete;

  // Called on a rank's own thread: the GPU work that thread launches belongs to `rank` in the
  // breakdown and the trace (ranks are told apart by launching thread, not by stream).
  void register_rank(int rank);
  void begin_point();  // flushes and drops what came before the point
  // Flushes, attributes the point's GPU activity to phases (per iteration, over the `iterations`
  // measured launches of the path; work inside NVTX "warmup N" ranges is left out), appends trace
  // events, and returns the breakdown.
  std::vector<kernel_stat> end_point(const std::string& label, int iterations, std::size_t* alloc_peak_bytes);
  std::string trace_json() const;  // the Chrome-trace document of every point so far (--trace)

  struct impl;  // public only so CUPTI's C callbacks can reach it (harness/backends/cupti.cpp)

 private:
  std::unique_ptr<impl> m;
};

}  // namespace sb
