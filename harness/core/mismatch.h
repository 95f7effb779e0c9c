// What a verification found: how many elements differ from their definition and the first one.
#pragma once
#include <cstdint>

namespace sb {

struct mismatch_report {
  std::int64_t count = 0;
  std::int64_t first_index = -1;  // flat element index of the first mismatch
  double expected = 0;
  double actual = 0;
};

struct consumer_mismatch {
  mismatch_report target_p, position_mask;
};

}  // namespace sb
