#include "harness/core/layout.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace sb {

namespace {
shape make(int tp, int u, int r, std::int64_t b, std::int64_t seq, std::int64_t vocab, std::int64_t ttt) {
  shape s;
  s.tp = tp;
  s.sp_ulysses = u;
  s.sp_ring = r;
  s.batch = b;
  s.seq = seq;
  s.vocab = vocab;
  s.ttt = ttt;
  s.hidden = 2;
  return s;
}
}  // namespace

TEST(layout, input_shards_tile_the_padded_vocab) {
  shape s = make(8, 1, 1, 2, 4, 1000, 0);
  std::vector<int> owner(std::size_t(s.vocab_padded()), 0);
  for (int r = 0; r < s.tp; ++r) {
    expected_spec e = input_shard_spec(s, r);
    for (std::int64_t c = 0; c < e.cols; ++c) ++owner[std::size_t(e.col_base + c)];
  }
  for (int n : owner) EXPECT_EQ(n, 1);
}

TEST(layout, batch_samples_tile_the_batch_with_empty_ranks_allowed) {
  for (std::int64_t B : {1, 3, 5, 8, 9, 17}) {
    shape s = make(8, 1, 1, B, 4, 512, 0);
    std::vector<int> owner(std::size_t(B), 0);
    int empty = 0;
    for (int r = 0; r < s.tp; ++r) {
      std::int64_t n = batch_num_samples(s, r);
      EXPECT_LE(n, batch_samples_per_rank(s));
      empty += n == 0;
      for (std::int64_t j = 0; j < n; ++j) ++owner[std::size_t(batch_first_sample(s, r) + j)];
    }
    for (int o : owner) EXPECT_EQ(o, 1) << "B=" << B;
    if (B == 5) {
      EXPECT_EQ(empty, 3);  // spr = 1: ranks 5..7 own nothing
    }
  }
}

// Every (token, column) of the full logits that a trainer needs appears in exactly one rank's
// batch output: one source for each element, and the shards tile the whole.
TEST(layout, batch_outputs_cover_every_shifted_element_once) {
  shape s = make(4, 1, 1, 3, 5, 200, 0);
  std::map<std::pair<std::int64_t, std::int64_t>, int> seen;
  for (int r = 0; r < s.tp; ++r) {
    expected_spec e = batch_output_spec(s, r);
    for (std::int64_t w = 0; w < e.windows; ++w)
      for (std::int64_t j = 0; j < e.win_len; ++j) {
        std::int64_t t = expected_token(e, w, j);
        if (t < 0) continue;
        for (std::int64_t c = 0; c < s.vocab; ++c) ++seen[{t, c}];
      }
  }
  // Tokens at s = 0 of a sample are never a target (shifted out); every other one exactly once.
  EXPECT_EQ(seen.size(), std::size_t(s.batch * (s.seq - 1) * s.vocab));
  for (const auto& [k, n] : seen) {
    EXPECT_EQ(n, 1);
    EXPECT_NE(k.first % s.seq, 0);
  }
}

TEST(layout, usp_roles_follow_ulysses_low_ring_high) {
  shape s = make(8, 2, 2, 2, 32, 512, 7);
  usp_role r5 = usp_role_of(s, 5);  // sp rank 1, dp rank 1
  EXPECT_EQ(r5.sp_rank, 1);
  EXPECT_EQ(r5.ulysses_rank, 1);
  EXPECT_EQ(r5.ring_rank, 0);
  EXPECT_EQ(r5.dp_rank, 1);
  EXPECT_EQ(r5.sample, 1);
  usp_role r6 = usp_role_of(s, 6);  // sp rank 2
  EXPECT_EQ(r6.ulysses_rank, 0);
  EXPECT_EQ(r6.ring_rank, 1);
  EXPECT_EQ(r6.chunk, 8);
  EXPECT_EQ(r6.window, 15);
  EXPECT_EQ(r6.first_token, 16);
  usp_role r7 = usp_role_of(s, 7);  // last window runs past the sample end
  EXPECT_EQ(r7.valid_rows, 8);
}

// The sp ranks' chunks (first C rows of each window) tile each sample exactly once, and each
// window overlaps the next by ttt rows.
TEST(layout, usp_windows_tile_each_sample) {
  for (auto [u, r, ttt] : {std::tuple{2, 1, 0}, {4, 2, 7}, {8, 1, 3}, {2, 2, 5}}) {
    shape s = make(8, u, r, 8 / (u * r), 64, 256, ttt);
    std::map<std::int64_t, int> tokens;
    for (int rank = 0; rank < s.tp; ++rank) {
      usp_role ro = usp_role_of(s, rank);
      EXPECT_EQ(ro.window, ro.chunk + ttt);
      for (std::int64_t j = 0; j < ro.chunk; ++j) ++tokens[ro.sample * s.seq + ro.first_token + j];
    }
    EXPECT_EQ(tokens.size(), std::size_t(s.tokens()));
    for (const auto& [t, n] : tokens) EXPECT_EQ(n, 1);
  }
}

TEST(layout, usp_position_ids_are_post_ulysses_positions) {
  shape s = make(4, 2, 2, 1, 32, 256, 7);
  for (int rank = 0; rank < 4; ++rank) {
    expected_spec e = usp_position_ids_spec(s, rank);
    EXPECT_EQ(e.win_len, 16);  // U·C
    EXPECT_EQ(expected_value(e, 0), rank < 2 ? 0 : 16);
    EXPECT_EQ(expected_value(e, 15), rank < 2 ? 15 : 31);
  }
}

TEST(layout, baseline_output_is_shifted_and_unpadded) {
  shape s = make(2, 1, 1, 2, 4, 130, 0);
  expected_spec e = baseline_output_spec(s);
  EXPECT_EQ(e.cols, 130);
  EXPECT_EQ(expected_token(e, 1, 0), 5);   // sample 1, row 0 holds token 1·S+1
  EXPECT_EQ(expected_token(e, 1, 3), -1);  // last row of a sample is 0
}

}  // namespace sb
