#include "harness/core/memory.h"

#include <gtest/gtest.h>

namespace sb {

namespace {
buffer_spec buf(const char* name, std::int64_t bytes, int first, int last) {
  buffer_spec b;
  b.name = name;
  b.type = dtype::i32;
  b.elements = bytes / 4;
  b.first_step = first;
  b.last_step = last;
  return b;
}
}  // namespace

TEST(memory, peak_is_the_largest_live_sum) {
  std::vector<buffer_spec> chain{buf("in", 1024, 0, 3), buf("a", 4096, 0, 1), buf("b", 4096, 1, 2),
                                 buf("c", 8192, 2, 3), buf("out", 8192, 3, 3)};
  EXPECT_EQ(peak_live_bytes(chain), 1024u + 8192 + 8192);
}

TEST(memory, arena_never_overlaps_buffers_alive_together) {
  std::vector<buffer_spec> chain{buf("in", 1000, 0, 3), buf("a", 4000, 0, 1), buf("b", 4000, 1, 2),
                                 buf("c", 8000, 2, 3), buf("out", 8000, 3, 3), buf("z", 0, 0, 3)};
  arena_layout l = plan_arena(chain);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(l.offsets[i] % kArenaAlign, 0u);
    for (std::size_t j = i + 1; j < chain.size(); ++j) {
      bool live_together = chain[i].first_step <= chain[j].last_step && chain[j].first_step <= chain[i].last_step;
      bool overlap = l.offsets[i] < l.offsets[j] + chain[j].bytes() && l.offsets[j] < l.offsets[i] + chain[i].bytes();
      if (live_together && chain[i].bytes() && chain[j].bytes()) {
        EXPECT_FALSE(overlap) << i << "," << j;
      }
    }
  }
  // Reuse happens: far less than the sum of all buffers, close to the analytic peak.
  EXPECT_LT(l.size, 1000u + 4000 + 4000 + 8000 + 8000);
  EXPECT_LE(double(l.size), 1.05 * double(peak_live_bytes(chain)) + 5 * kArenaAlign);
}

TEST(memory, tracker_current_and_peak) {
  memory_tracker t;
  t.on_alloc(100);
  t.on_alloc(50);
  t.on_free(100);
  EXPECT_EQ(t.current(), 50u);
  EXPECT_EQ(t.peak(), 150u);
  t.reset_peak();
  EXPECT_EQ(t.peak(), 50u);
}

}  // namespace sb
