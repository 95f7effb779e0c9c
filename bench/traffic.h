// Bytes each phase of a path moves, derived by running the path's own code against a counting
// communicator (no data moves): local bytes (read + written by kernels and copies on the rank's
// memory) and bytes over links (sent to other ranks). The planner turns them into time.
#pragma once
#include <map>
#include <string>

#include "bench/engine.h"

namespace sb {

struct phase_traffic {
  double local_bytes = 0;  // read + written on the rank's own memory
  double link_bytes = 0;   // over links: the larger of what the rank sends and receives
  bool collective = false; // the phase issues a collective (its time is not a local rate)
};

// Per phase, for the rank that moves the most (the one an iteration waits for).
std::map<std::string, phase_traffic> path_traffic(const point& pt);

}  // namespace sb
