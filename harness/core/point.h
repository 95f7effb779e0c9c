// A measured point and what was measured of it: the data the engine produces, the results writer
// stores and the printers format.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "harness/core/memory.h"
#include "harness/core/shape.h"
#include "harness/core/stats.h"

namespace sb {

enum class collective_kind : std::uint8_t { all_gather, all_to_all };
std::string_view to_string(collective_kind c);

struct point {
  path_kind path = path_kind::baseline;
  variant_kind variant = variant_kind::fused;
  shape shp;
  std::string label() const;  // "usp/fused tp8 sp8x1 ..."
};

// validate(shape, path, variant) for a point: its shape for its path and variant (throws config_error).
inline void validate(const point& pt) { validate(pt.shp, pt.path, pt.variant); }

struct memory_figures {
  std::size_t predicted_peak = 0;  // analytic, from the plan (max over ranks)
  std::size_t tracked_peak = 0;    // through the allocator (max over ranks)
  std::size_t device_peak = 0;     // device-level growth during the point, NCCL's buffers included (GPU)
  std::size_t inputs = 0;          // the plan's input buffers, which the peaks include (max over ranks)
};

// GPU time of one kernel (or copy) name inside one phase, per iteration (CUPTI, --cupti).
struct kernel_stat {
  std::string phase;  // a path phase ("comm", "unpack", ...)
  std::string name;   // kernel name, or "[memcpy DtoD]" / "[memset]"
  double calls = 0;   // per iteration
  double total_us = 0;  // per iteration
};

struct point_result {
  point pt;
  std::string backend;         // "cpu", "local(all)", "local(one)", "nccl"
  std::string timing_domain;
  std::string launch_gate = "off";  // to_string(launch_gate): how much of each timed iteration was queued first
  std::string status = "ok";   // ok | oom | mismatch | skipped | error
  std::string reason;
  bool verified = false;
  std::int64_t mismatches = 0;
  std::string first_mismatch;  // path, variant, rank, buffer, index, expected, actual
  bool cross_checked = false;  // compared with the baseline's output on the same inputs
  collective_kind collective = collective_kind::all_gather;
  std::size_t bytes_sent = 0, op_bytes = 0, useful_bytes = 0;
  std::size_t bytes_sent_all_ranks = 0;  // sum over ranks (bytes_sent is the busiest rank's)
  int iters = 0, warmup = 0;  // warmup: the warm-up iterations run (warmup_ms can add some)
  double warmup_ms = 0;
  summary time_us;
  std::vector<std::pair<std::string, double>> phases_us;  // median per phase
  std::vector<std::pair<std::string, std::vector<double>>> phase_samples_us;  // every iteration (not serialised)
  double algbw_gbps = 0, busbw_gbps = 0, effective_gbps = 0;
  memory_figures memory;
  std::vector<kernel_stat> kernels;       // --cupti only
  std::size_t cupti_alloc_peak_bytes = 0;  // --cupti: peak of device allocations seen by CUPTI
};

// The predicted per-rank peak (max over ranks) and bytes of a point, without running it.
struct point_plan {
  std::size_t peak_bytes = 0;
  std::size_t bytes_sent = 0, op_bytes = 0, useful_bytes = 0;
  std::size_t bytes_sent_all_ranks = 0;
  collective_kind collective = collective_kind::all_gather;
  std::vector<buffer_spec> buffers;  // of the rank with the largest peak
  std::vector<std::string> steps;    // its steps, by index
};

// One path/variant's OOM frontier (shardbench frontier): the longest sequence that fits a memory
// budget, searched with real allocations, beside the plan's answer.
struct frontier_trial {
  std::int64_t seq;
  std::string status;  // ok | oom | mismatch | error
  std::size_t tracked_peak;
};

struct frontier_result {
  point pt;                       // shape at the frontier (seq = longest that fits; 0 if none)
  std::int64_t measured_seq = 0;  // longest seq that ran and verified under the cap
  std::int64_t predicted_seq = 0; // longest seq whose predicted peak fits (plan)
  bool capped = false;            // hit max_seq without running out of memory
  std::vector<frontier_trial> trials;
};

}  // namespace sb
