// The OOM frontier: for each path/variant, the longest sequence that fits a per-rank memory budget,
// found by search with real allocations (each trial allocates, runs and verifies one iteration under
// an allocator cap of budget - reserve), beside the plan's analytic answer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bench/engine.h"

namespace sb {

struct frontier_options {
  std::size_t budget_bytes = 0;   // per rank: the card's memory, or --budget
  std::size_t reserve_bytes = 0;  // --reserve: the model's share, not available to logits
  std::int64_t seq_step = 1024;   // granularity of the search (usp also needs S % sp == 0)
  std::int64_t max_seq = std::int64_t(1) << 20;
  bool predict_only = false;  // the plan's answer alone (no allocation: budgets larger than the machine)
};

// Searches each point's path/variant/shape (its seq is the search variable).
std::vector<frontier_result> find_frontier(const std::vector<point>& pts, const engine_options& o,
                                           const frontier_options& f);

}  // namespace sb
