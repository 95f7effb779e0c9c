// The golden cases (tests/golden/README.md), shared by the cpu test and the GPU test.
#pragma once
#include <string>
#include <vector>

#include "harness/backends/rank_backend.h"
#include "harness/core/shape.h"

namespace sb::golden {

struct golden_case {
  std::string name, path;
  shape shp;
};
void PrintTo(const golden_case& c, std::ostream* os);

std::vector<golden_case> load_cases();

// Feeds the case's input shards to baseline and the case's path, every variant and dtype, on the
// given backend, and requires the reference outputs bit for bit (gtest assertions).
void check_case(const golden_case& gc, backend_kind backend);

}  // namespace sb::golden
