// The run's own check apart from the layout functions: plans doctored as the layout bugs would make
// them (a window off by one, samples dealt to no rank, position ids of another rank, bytes that never
// leave) are caught, and every real plan passes.
#include "bench/invariants.h"

#include <gtest/gtest.h>

#include <optional>

#include "bench/engine.h"

namespace sb {

namespace {

shape small(int tp, int sp, std::int64_t batch) {
  shape s;
  s.tp = tp;
  s.sp_ulysses = sp;
  s.batch = batch;
  s.seq = 16;
  s.vocab = 200;
  s.ttt = 3;
  s.hidden = 2;
  return s;
}

std::vector<path_plan> plans_of(const point& pt) {
  std::vector<path_plan> out;
  for (int r = 0; r < pt.shp.tp; ++r) out.push_back(make_path(pt.path, pt.variant)->plan(pt.shp, r));
  return out;
}

std::vector<std::optional<std::size_t>> planned_bytes(const std::vector<path_plan>& plans) {
  std::vector<std::optional<std::size_t>> sent;
  for (const auto& p : plans) sent.push_back(p.bytes_sent);
  return sent;
}

expected_spec& checked(path_plan& p, const char* name) {
  for (auto& b : p.buffers)
    if (b.name == name) return *b.check;
  throw std::runtime_error(name);
}

}  // namespace

TEST(invariants, every_real_plan_passes) {
  for (variant_kind v : {variant_kind::specforge, variant_kind::fused, variant_kind::peer_pull})
    for (const point& pt : {point{path_kind::baseline, variant_kind::fused, small(4, 1, 3)}, point{path_kind::batch, v, small(4, 1, 3)},
                            point{path_kind::batch, v, small(4, 1, 9)}, point{path_kind::usp, v, small(8, 4, 2)},
                            point{path_kind::usp, v, small(4, 4, 1)}}) {
      const auto plans = plans_of(pt);
      EXPECT_EQ(check_invariants(pt, plans, planned_bytes(plans)), std::vector<std::string>{}) << pt.label();
    }
}

TEST(invariants, a_usp_window_off_by_one_is_caught) {
  const point pt{path_kind::usp, variant_kind::fused, small(4, 4, 1)};
  auto plans = plans_of(pt);
  checked(plans[2], "output").tok_base += 1;
  const auto broken = check_invariants(pt, plans, planned_bytes(plans));
  ASSERT_FALSE(broken.empty());
  EXPECT_EQ(broken.front(), "rank 2 output holds 1 window(s) of 7 rows from token 9 (valid 7, shift 1); the semantics give 1 of 7 "
                            "from 8 (valid 7, shift 1)");
}

TEST(invariants, samples_dealt_to_no_rank_are_caught) {
  const point pt{path_kind::batch, variant_kind::fused, small(4, 1, 3)};
  auto plans = plans_of(pt);
  for (auto& p : plans) checked(p, "output").windows = 0;  // samples per rank rounded down: none each
  const auto broken = check_invariants(pt, plans, planned_bytes(plans));
  EXPECT_NE(std::find(broken.begin(), broken.end(), "sample 1 is owned by 0 ranks (exactly one must own it)"), broken.end());
}

TEST(invariants, position_ids_of_another_rank_are_caught) {
  const point pt{path_kind::usp, variant_kind::specforge, small(8, 4, 2)};
  auto plans = plans_of(pt);
  checked(plans[5], "position_ids").tok_base = 16;
  const auto broken = check_invariants(pt, plans, planned_bytes(plans));
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken.front(), "rank 5 position_ids run from 16 for 16; the semantics give arange(0, 16)");
}

TEST(invariants, bytes_that_do_not_leave_as_planned_are_caught) {
  const point pt{path_kind::batch, variant_kind::fused, small(4, 1, 3)};
  const auto plans = plans_of(pt);
  auto sent = planned_bytes(plans);
  sent[1] = 0;
  sent[3] = std::nullopt;  // a rank that did not run (local `one`): not judged
  const auto broken = check_invariants(pt, plans, sent);
  ASSERT_EQ(broken.size(), 2u);
  EXPECT_EQ(broken[0], "rank 1 sent 0 bytes; its plan says " + std::to_string(plans[1].bytes_sent));
  EXPECT_EQ(broken[1], "rank 1 sent nothing, though other ranks' outputs need its columns");
}

}  // namespace sb
