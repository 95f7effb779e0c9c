// Predicted time per path for shapes and GPU counts not on hand, from bandwidths measured in a
// results file: the rank's local bytes per phase (bench/traffic.h) over the HBM bandwidth the same
// phase reached in the measurements, plus its bytes over links over the link bandwidth (busbw from
// nccl results, or given; inter-node bandwidth for ranks beyond one node).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "bench/engine.h"

namespace sb {

struct calibration {
  std::map<std::string, double> local_gbps;  // per "path/variant:phase" and per phase name (bytes read + written / time)
  double pooled_local_gbps = 0;              // all local phases together, for phases not measured
  std::vector<std::string> local_sources;    // the measured points the local rates rest on
  double link_gbps = 0;                      // per-rank busbw of the links (0: unknown)
  std::string link_source;
  double inter_node_gbps = 0;                // 0: every rank on one node
  int gpus_per_node = 8;
};

// Rates from the `ok` points of results whose label does not contain hold_out (empty: use all).
// Comm phases count only from the nccl backend (cpu/local peer traffic is not a link).
calibration calibrate(const std::vector<point_result>& measured, const std::string& hold_out);

struct prediction {
  double total_us = 0;
  double local_us = 0;  // phases without link traffic, and the local part of the others
  double link_us = 0;
  std::map<std::string, double> phases_us;
  std::string rests_on;  // which measurements
  bool complete = true;  // false when a phase needed a rate the calibration lacks
};

prediction predict(const point& pt, const calibration& c);

}  // namespace sb
