// Every path × variant × dtype on the cpu backend, against the definition (every element, bitwise)
// and against the baseline's output on the same inputs, over shapes that cover the corner cases.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "bench/engine.h"
#include "harness/core/error.h"
#include "tests/support/path_cases.h"

namespace sb {

namespace {

using testing_paths::case_shape;
using testing_paths::points_for;

shape to_shape(const case_shape& c, dtype t) { return testing_paths::to_shape(c, t, 3); }

engine_options cpu_options() {
  engine_options o;
  o.iters = 2;  // two iterations: the second must not depend on leftovers of the first
  o.warmup = 0;
  o.world.backend = backend_kind::cpu;
  return o;
}

class paths_cpu : public ::testing::TestWithParam<case_shape> {};

}  // namespace

TEST_P(paths_cpu, every_variant_and_dtype_verifies_and_matches_the_baseline) {
  std::vector<point> pts = points_for(GetParam(), 3);
  std::vector<point_result> res = run_points(pts, cpu_options(), nullptr);
  ASSERT_EQ(res.size(), pts.size());
  for (const auto& r : res) {
    EXPECT_EQ(r.status, "ok") << r.pt.label() << ": " << r.reason;
    EXPECT_TRUE(r.verified) << r.pt.label();
    if (r.pt.path != path_kind::baseline) {
      EXPECT_TRUE(r.cross_checked) << r.pt.label();
    }
  }
}

// tp=1, tp=sp, tp=2·sp, tp=8/sp=8, U×R=2×2 and 4×2, ttt=0 and 7, B not divisible by P (ranks with
// zero samples), V not a multiple of 64, windows past the sample end, ttt larger than a chunk.
INSTANTIATE_TEST_SUITE_P(
    shapes, paths_cpu,
    ::testing::Values(case_shape{1, 1, 1, 1, 8, 100, 0}, case_shape{1, 1, 1, 3, 5, 64, 0},
                      case_shape{2, 1, 1, 2, 8, 130, 0}, case_shape{2, 1, 1, 3, 4, 200, 0},
                      case_shape{4, 1, 1, 3, 8, 200, 0}, case_shape{4, 1, 1, 4, 12, 256, 0},
                      case_shape{8, 1, 1, 5, 6, 512, 0}, case_shape{8, 1, 1, 8, 4, 512, 0},
                      case_shape{8, 1, 1, 1, 16, 1000, 0}, case_shape{8, 1, 1, 17, 3, 320, 0},
                      case_shape{3, 1, 1, 4, 6, 192, 0}, case_shape{2, 1, 1, 1, 1, 64, 0},
                      case_shape{4, 1, 1, 9, 10, 1001, 0}, case_shape{1, 1, 1, 1, 16, 100, 7},
                      case_shape{2, 2, 1, 1, 16, 70, 3}, case_shape{4, 2, 1, 2, 16, 1000, 7},
                      case_shape{8, 8, 1, 1, 32, 320, 7}, case_shape{8, 8, 1, 1, 64, 129, 0},
                      case_shape{4, 2, 2, 1, 32, 256, 7}, case_shape{8, 2, 2, 2, 32, 256, 7},
                      case_shape{8, 4, 2, 1, 32, 512, 0}, case_shape{8, 4, 2, 1, 64, 512, 7},
                      case_shape{8, 2, 1, 4, 24, 128, 5}, case_shape{4, 4, 1, 1, 8, 200, 7},
                      case_shape{8, 1, 1, 8, 16, 300, 7}, case_shape{2, 1, 2, 1, 16, 64, 7},
                      case_shape{8, 1, 8, 1, 32, 256, 3}, case_shape{4, 2, 1, 2, 8, 65, 1},
                      case_shape{6, 3, 1, 2, 12, 384, 2}, case_shape{8, 8, 1, 1, 8, 64, 7},
                      case_shape{4, 1, 1, 4, 16, 1000, 7}, case_shape{8, 2, 4, 1, 64, 4000, 7}),
    [](const ::testing::TestParamInfo<case_shape>& i) { return testing_paths::test_name(i.param); });

TEST(paths_cpu_variants, specforge_and_fused_outputs_are_byte_identical) {
  for (path_kind p : {path_kind::baseline, path_kind::batch, path_kind::usp}) {
    shape s = to_shape({4, 2, 1, 2, 16, 200, 7}, dtype::bf16);
    if (p != path_kind::usp) s.sp_ulysses = 1;
    engine_options o = cpu_options();
    o.keep_outputs = true;
    point_outcome a = run_point({p, variant_kind::specforge, s}, o);
    point_outcome b = run_point({p, variant_kind::fused, s}, o);
    ASSERT_EQ(a.outputs.size(), b.outputs.size());
    for (std::size_t r = 0; r < a.outputs.size(); ++r) EXPECT_EQ(a.outputs[r], b.outputs[r]) << to_string(p) << " rank " << r;
  }
}

TEST(paths_cpu_verification, a_flipped_element_is_reported_with_its_place_and_values) {
  engine_options o = cpu_options();
  o.inject_mismatch = true;
  shape s = to_shape({4, 1, 1, 3, 8, 200, 0}, dtype::bf16);
  for (path_kind p : {path_kind::baseline, path_kind::batch}) {
    for (variant_kind v : {variant_kind::specforge, variant_kind::fused}) {
      point_result r = run_point({p, v, s}, o).result;
      EXPECT_EQ(r.status, "mismatch");
      EXPECT_FALSE(r.verified);
      EXPECT_EQ(r.mismatches, 1);
      EXPECT_NE(r.first_mismatch.find(fmt::format("{}/{} rank 0 buffer 'output': 1 mismatches, first at flat index",
                                                  to_string(p), to_string(v))),
                std::string::npos)
          << r.first_mismatch;
      EXPECT_NE(r.first_mismatch.find("expected"), std::string::npos);
    }
  }
}

TEST(paths_cpu_memory, tracked_peak_is_within_5_percent_of_the_plan) {
  for (path_kind p : {path_kind::baseline, path_kind::batch, path_kind::usp})
    for (variant_kind v : {variant_kind::specforge, variant_kind::fused}) {
      shape s = to_shape({8, 8, 1, 1, 64, 1000, 7}, dtype::bf16);
      if (p != path_kind::usp) s.sp_ulysses = 1;
      point_result r = run_point({p, v, s}, cpu_options()).result;
      ASSERT_EQ(r.status, "ok");
      double ratio = double(r.memory.tracked_peak) / double(r.memory.predicted_peak);
      EXPECT_GE(ratio, 1.0) << r.pt.label();
      EXPECT_LE(ratio, 1.05) << r.pt.label();
    }
}

// warmup_ms adds warm-up iterations until the warm-up has lasted that long (the slowest rank's
// time, so all four ranks run the same count and the collectives match); without it the count is
// the configured one.
TEST(paths_cpu_warmup, warmup_ms_runs_more_iterations_on_every_rank_alike) {
  engine_options o = cpu_options();
  o.warmup = 1;
  const point pt{path_kind::batch, variant_kind::fused, to_shape({4, 4, 1, 1, 64, 1000, 0}, dtype::bf16)};
  point_result fixed = run_point(pt, o).result;
  ASSERT_EQ(fixed.status, "ok") << fixed.reason;
  EXPECT_EQ(fixed.warmup, 1);
  EXPECT_EQ(fixed.warmup_ms, 0.0);
  o.warmup_ms = 20;
  point_result timed = run_point(pt, o).result;
  ASSERT_EQ(timed.status, "ok") << timed.reason;
  EXPECT_TRUE(timed.verified);
  EXPECT_GT(timed.warmup, 1);  // no iteration of this shape takes 20 ms
  EXPECT_EQ(timed.warmup_ms, 20.0);
  o.warmup = 0;  // time alone
  point_result only_ms = run_point(pt, o).result;
  EXPECT_TRUE(only_ms.verified);
  EXPECT_GT(only_ms.warmup, 1);
}

TEST(paths_cpu_memory, an_allocation_past_the_cap_is_recorded_as_oom_and_the_sweep_goes_on) {
  engine_options o = cpu_options();
  o.world.memory_cap = 64 << 10;  // 64 KiB per rank
  shape big = to_shape({2, 1, 1, 4, 64, 1000, 0}, dtype::fp32);
  shape small = to_shape({2, 1, 1, 1, 2, 64, 0}, dtype::bf16);
  auto res = run_points({{path_kind::baseline, variant_kind::fused, big}, {path_kind::baseline, variant_kind::fused, small}}, o, nullptr);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].status, "oom");
  EXPECT_NE(res[0].reason.find("exceeds the memory cap"), std::string::npos) << res[0].reason;
  EXPECT_EQ(res[1].status, "ok");
}

TEST(paths_cpu_sweep, invalid_combinations_are_skipped_with_the_rule) {
  shape s = to_shape({8, 4, 1, 2, 30, 512, 7}, dtype::bf16);  // S % sp != 0
  auto res = run_points({{path_kind::usp, variant_kind::fused, s}}, cpu_options(), nullptr);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].status, "skipped");
  EXPECT_EQ(res[0].reason, "usp needs S % sp == 0 (S=30, sp=4)");
}

}  // namespace sb

namespace sb {

namespace {
using testing_paths::consumer_shape;
}  // namespace

// The pruned variant never holds full-vocab logits, yet its target_p and position_mask are the full
// paths' bit for bit (both rows go through the same lanes on the same values).
TEST(paths_cpu_consumer, pruned_equals_fused_and_specforge_bit_for_bit) {
  for (path_kind p : {path_kind::batch, path_kind::usp})
    for (t2d_kind t : {t2d_kind::uniform, t2d_kind::skewed}) {
      shape s = consumer_shape({8, 4, 1, 2, 16, 1000, 7}, t);
      if (p != path_kind::usp) s.sp_ulysses = 1;
      engine_options o = cpu_options();
      o.keep_outputs = true;
      std::vector<point_outcome> outs;
      for (variant_kind v : {variant_kind::specforge, variant_kind::fused, variant_kind::peer_pull, variant_kind::pruned})
        outs.push_back(run_point({p, v, s}, o));
      for (std::size_t r = 0; r < outs[0].outputs.size(); ++r)
        for (std::size_t i = 1; i < outs.size(); ++i)
          for (const char* name : {"target_p", "position_mask"}) {
            ASSERT_TRUE(outs[i].outputs[r].count(name)) << name;
            EXPECT_EQ(outs[0].outputs[r].at(name), outs[i].outputs[r].at(name))
                << to_string(p) << " rank " << r << " " << name << " variant " << to_string(outs[i].result.pt.variant);
          }
    }
}

// Bytes on the wire: pruned sends its draft columns and 8 bytes per row instead of its whole shard.
TEST(paths_cpu_consumer, pruned_sends_about_v_over_vd_fewer_bytes_than_fused) {
  shape s = consumer_shape({8, 1, 1, 8, 16, 129280, 0}, t2d_kind::uniform);
  s.draft_vocab = 32000;
  const point_plan fused = plan_point({path_kind::batch, variant_kind::fused, s});
  const point_plan pruned = plan_point({path_kind::batch, variant_kind::pruned, s});
  const double ratio = double(fused.bytes_sent) / double(pruned.bytes_sent);
  EXPECT_GT(ratio, 3.0);
  EXPECT_LT(ratio, 129280.0 / 32000.0 * 1.1);
}

// peer_pull holds no exchange buffer: its peak is its input plus its output.
TEST(paths_cpu_memory, peer_pull_peak_is_input_plus_output) {
  for (path_kind p : {path_kind::batch, path_kind::usp}) {
    shape s = testing_paths::to_shape({8, 8, 1, 1, 64, 1000, 7}, dtype::bf16, 3);
    if (p != path_kind::usp) s.sp_ulysses = 1;
    point_result r = run_point({p, variant_kind::peer_pull, s}, cpu_options()).result;
    ASSERT_EQ(r.status, "ok") << r.reason;
    const point_plan plan = plan_point({p, variant_kind::peer_pull, s});
    std::size_t in_out = 0;  // inputs (logits, usp's global hidden states, ids, masks) and outputs
    for (const auto& b : plan.buffers) {
      EXPECT_TRUE(b.is_input() || b.check) << b.name << " is neither an input nor an output";
      in_out += b.bytes();
    }
    EXPECT_EQ(plan.peak_bytes, in_out);
    EXPECT_LE(double(r.memory.tracked_peak), 1.05 * double(plan.peak_bytes)) << to_string(p);
  }
}

TEST(paths_cpu_consumer, pruned_is_verified_through_its_consumer_outputs) {
  // A variant without a logits output is checked through target_p and position_mask alone.
  shape s = consumer_shape({4, 1, 1, 4, 8, 200, 0}, t2d_kind::uniform);
  engine_options o = cpu_options();
  point_result ok = run_point({path_kind::batch, variant_kind::pruned, s}, o).result;
  EXPECT_EQ(ok.status, "ok");
  EXPECT_TRUE(ok.verified);
  s.draft_vocab = 201;  // more draft columns than the vocab: a config error, not a crash
  EXPECT_THROW(validate(s, path_kind::batch, variant_kind::pruned), config_error);
}

// A corrupted target_p is reported with the value the definition gives and the one found.
TEST(paths_cpu_consumer, a_flipped_target_p_is_reported_with_its_expected_value) {
  testing_paths::expect_flipped_target_p_reported(cpu_options());
}

}  // namespace sb
