// Shapes for the path tests, shared by the cpu tests and the GPU tests: one case expands to every
// dtype × variant of baseline and batch (sp 1×1) and, where the layout is valid, usp.
#pragma once
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include "bench/engine.h"

namespace sb::testing_paths {

struct case_shape {
  int tp, u, r;
  std::int64_t batch, seq, vocab, ttt;
};

inline void PrintTo(const case_shape& c, std::ostream* os) {
  *os << fmt::format("tp{} sp{}x{} b{} s{} v{} ttt{}", c.tp, c.u, c.r, c.batch, c.seq, c.vocab, c.ttt);
}

inline std::string test_name(const case_shape& c) {
  return fmt::format("tp{}_u{}_r{}_b{}_s{}_v{}_ttt{}", c.tp, c.u, c.r, c.batch, c.seq, c.vocab, c.ttt);
}

inline shape to_shape(const case_shape& c, dtype t, std::int64_t hidden) {
  shape s;
  s.type = t;
  s.tp = c.tp;
  s.sp_ulysses = c.u;
  s.sp_ring = c.r;
  s.batch = c.batch;
  s.seq = c.seq;
  s.vocab = c.vocab;
  s.ttt = c.ttt;
  s.hidden = hidden;
  s.seed = std::uint64_t(c.tp * 1000 + c.seq);
  return s;
}

// Every dtype × variant of each path: specforge, fused and (batch, usp) peer_pull; then again with
// the consumer stage on (Vd about a third of V, uniform t2d for even tp, skewed for odd), where
// batch and usp add pruned.
inline std::vector<point> points_for(const case_shape& c, std::int64_t hidden) {
  std::vector<point> pts;
  const bool usp_ok = c.tp % (c.u * c.r) == 0 && c.batch == c.tp / (c.u * c.r);
  for (bool consumer : {false, true})
    for (dtype t : {dtype::bf16, dtype::fp16, dtype::fp32})
      for (variant_kind v : {variant_kind::specforge, variant_kind::fused, variant_kind::peer_pull, variant_kind::pruned}) {
        if (v == variant_kind::pruned && !consumer) continue;
        shape s = to_shape(c, t, hidden);
        if (consumer) {
          s.consumer = consumer_kind::target_p;
          s.draft_vocab = std::max<std::int64_t>(1, c.vocab / 3);
          s.t2d = c.tp % 2 ? t2d_kind::skewed : t2d_kind::uniform;
        }
        shape flat = s;
        flat.sp_ulysses = flat.sp_ring = 1;
        const bool full = v == variant_kind::specforge || v == variant_kind::fused;
        if (full) pts.push_back({path_kind::baseline, v, flat});
        pts.push_back({path_kind::batch, v, flat});
        if (usp_ok) pts.push_back({path_kind::usp, v, s});
      }
  return pts;
}

// The consumer stage on a case: Vd a quarter of V, bf16.
inline shape consumer_shape(const case_shape& c, t2d_kind t2d) {
  shape s = to_shape(c, dtype::bf16, 3);
  s.consumer = consumer_kind::target_p;
  s.draft_vocab = c.vocab / 4;
  s.t2d = t2d;
  return s;
}

// The values a mismatch report names: "... expected A got B".
struct reported_values {
  bool found = false;
  double expected = 0, actual = 0;
};

inline reported_values reported_values_of(const std::string& report) {
  std::smatch m;
  static const std::regex re(R"(expected (\S+) got (\S+))");
  if (!std::regex_search(report, m, re)) return {};
  return {true, std::stod(m[1].str()), std::stod(m[2].str())};
}

// A target_p element flipped after a pruned batch point (engine option inject_mismatch, on the
// backend of o) is reported where it is, with the value the definition gives and the one found.
inline void expect_flipped_target_p_reported(engine_options o) {
  o.inject_mismatch = true;
  const point_result r =
      run_point({path_kind::batch, variant_kind::pruned, consumer_shape({4, 1, 1, 4, 8, 200, 0}, t2d_kind::uniform)}, o).result;
  EXPECT_EQ(r.status, "mismatch");
  EXPECT_EQ(r.mismatches, 1);
  const reported_values v = reported_values_of(r.first_mismatch);
  ASSERT_TRUE(v.found) << r.first_mismatch;
  EXPECT_NE(r.first_mismatch.find("buffer 'target_p'"), std::string::npos) << r.first_mismatch;
  EXPECT_GT(v.expected, 0.0) << r.first_mismatch;  // a probability, not the 0 of "no value"
  EXPECT_DOUBLE_EQ(v.actual, double(float(v.expected + 1.0))) << r.first_mismatch;
}

}  // namespace sb::testing_paths
