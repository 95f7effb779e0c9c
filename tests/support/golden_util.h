// The golden cases (tests/golden/README.md), shared by the cpu test and the GPU test: replayed by
// the product's own replay (bench/self_test.h), with the files read from tests/golden, the
// baseline's outputs included (the binary embeds all but those).
#pragma once
#include <ostream>
#include <vector>

#include "bench/self_test.h"
#include "harness/backends/rank_backend.h"

namespace sb {

void PrintTo(const golden_case& c, std::ostream* os);

namespace golden {

std::vector<golden_case> load_cases();

// Feeds the case's input shards to baseline and the case's path, every variant and dtype, on the
// given backend, and requires the reference outputs bit for bit (gtest assertions).
void check_case(const golden_case& gc, backend_kind backend);

}  // namespace golden
}  // namespace sb
