#include "harness/report/printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sb {

TEST(printer, human_bytes_uses_decimal_units) {
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(16.94e9), "16.9 GB");
  EXPECT_EQ(human_bytes(2.12e9), "2.12 GB");
}

// Golden test: the table's exact text for a fixed result.
TEST(printer, results_table_golden) {
  point_result r;
  r.pt.path = path_kind::batch;
  r.pt.variant = variant_kind::fused;
  r.pt.shp.tp = 4;
  r.pt.shp.batch = 3;
  r.pt.shp.seq = 64;
  r.pt.shp.vocab = 1000;
  r.verified = true;
  r.cross_checked = true;
  r.time_us = summarize({100, 110, 120});
  r.bytes_sent = 98304;
  r.memory = {491520, 491520, 0};
  point_result s = r;
  s.status = "skipped";
  s.cross_checked = false;
  s.reason = "usp needs S % sp == 0 (S=60, sp=8)";
  std::ostringstream os;
  print_results_table(os, {r, s});
  print_summary_line(os, {r, s});
  const std::string expected =
      "path/variant         shape                                    status      median_us   stddev_us  alg/bus GB/s  "
      "sent/rank  pred_peak   trk_peak verified\n"
      "batch/fused          tp4 sp1x1 b3 s64 v1000 ttt7 bf16         ok              110.0        10.0             "
      "-    98.3 kB   491.5 kB   491.5 kB yes+base\n"
      "batch/fused          tp4 sp1x1 b3 s64 v1000 ttt7 bf16         skipped   usp needs S % sp == 0 (S=60, sp=8)\n"
      "2 points: 1 ok, 1 skipped; 1 of 1 run point verified (all); 1 cross-checked against the baseline\n";
  EXPECT_EQ(os.str(), expected);
}

TEST(printer, summary_line_says_point_for_one) {
  point_result r;
  r.status = "ok";
  std::ostringstream os;
  print_summary_line(os, {r});
  EXPECT_EQ(os.str(), "1 point: 1 ok; 1 of 1 run point verified (all); 0 cross-checked against the baseline\n");
}

}  // namespace sb
