// What every point must satisfy by docs/semantics.md, derived here from its formulas, apart from the
// layout functions (harness/core/layout.*) that the paths and their definitions share: a bug in those
// (a window off by one, samples dealt to no rank, position ids of another rank) passes the run's
// bitwise verification, since the data and its definition come from the same function, but not
// these checks.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench/path.h"

namespace sb {

// The violations (one line each) of the point's plans, one per rank, and of the bytes each rank
// handed to its collectives in one iteration (`sent`, per rank: unknown for a rank that did not run,
// as the emulated peers of local `one`).
std::vector<std::string> check_invariants(const point& pt, const std::vector<path_plan>& plans,
                                          const std::vector<std::optional<std::size_t>>& sent);

}  // namespace sb
