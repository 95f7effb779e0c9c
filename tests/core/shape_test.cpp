#include "harness/core/shape.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <tuple>

#include <limits>

#include "harness/core/error.h"

namespace sb {

namespace {
std::string error_of(const shape& s, path_kind p, variant_kind v = variant_kind::fused) {
  try {
    validate(s, p, v);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

shape usp_shape() {
  shape s;
  s.tp = 8;
  s.sp_ulysses = 4;
  s.sp_ring = 2;
  s.batch = 1;
  s.seq = 64;
  s.vocab = 1000;
  return s;
}
}  // namespace

TEST(shape, derived_sizes) {
  shape s;
  s.tp = 8;
  s.vocab = 129280;
  s.batch = 2;
  s.seq = 10;
  EXPECT_EQ(s.vocab_padded(), 129280);
  EXPECT_EQ(s.vocab_local(), 16160);
  EXPECT_EQ(s.tokens(), 20);
  s.vocab = 32001;
  EXPECT_EQ(s.vocab_padded(), 32064);
}

TEST(shape, valid_shapes_pass) {
  EXPECT_EQ(error_of(usp_shape(), path_kind::usp), "");
  shape b = usp_shape();
  b.sp_ulysses = b.sp_ring = 1;
  b.batch = 3;
  EXPECT_EQ(error_of(b, path_kind::batch), "");
  EXPECT_EQ(error_of(b, path_kind::baseline), "");
}

TEST(shape, tp_not_divisible_by_sp) {
  shape s = usp_shape();
  s.tp = 6;
  s.vocab = 768;
  EXPECT_EQ(error_of(s, path_kind::usp), "usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P=6, U*R=8)");
}

TEST(shape, usp_batch_must_be_tp_over_sp) {
  shape s = usp_shape();
  s.batch = 2;
  EXPECT_EQ(error_of(s, path_kind::usp), "usp needs one sample per draft dp group: B == P/sp (B=2, P/sp=1)");
}

TEST(shape, seq_not_divisible_by_sp) {
  shape s = usp_shape();
  s.seq = 60;
  EXPECT_EQ(error_of(s, path_kind::usp), "usp needs S % sp == 0 (S=60, sp=8)");
}

TEST(shape, padded_vocab_not_divisible_by_tp) {
  shape s = usp_shape();
  s.sp_ulysses = s.sp_ring = 1;
  s.tp = 3;
  s.batch = 3;
  EXPECT_EQ(error_of(s, path_kind::batch), "padded vocab must divide by tp: Vp % P != 0 (Vp=1024, P=3)");
}

TEST(shape, non_positive_sizes) {
  const std::pair<std::int64_t shape::*, const char*> fields[] = {
      {&shape::batch, "batch"}, {&shape::seq, "seq"}, {&shape::vocab, "vocab"},
      {&shape::hidden, "hidden"}, {&shape::vocab_pad, "vocab_pad"}};
  for (auto [field, name] : fields) {
    shape s = usp_shape();
    s.*field = 0;
    EXPECT_EQ(error_of(s, path_kind::baseline).rfind(std::string(name) + " must be between 1 and ", 0), 0u) << name;
  }
  shape s = usp_shape();
  s.tp = -1;
  EXPECT_EQ(error_of(s, path_kind::baseline), "tp must be between 1 and 1024 (got -1)");
  s = usp_shape();
  s.ttt = -1;
  EXPECT_EQ(error_of(s, path_kind::usp), "ttt must be between 0 and 16777216 (got -1)");
}

// Every axis has a documented upper bound, checked before anything is planned or allocated.
TEST(shape, every_axis_has_an_upper_bound) {
  const std::tuple<std::int64_t shape::*, std::int64_t, const char*> fields[] = {
      {&shape::batch, kMaxBatch, "batch"}, {&shape::seq, kMaxSeq, "seq"}, {&shape::hidden, kMaxHidden, "hidden"},
      {&shape::vocab_pad, kMaxVocabPad, "vocab_pad"}, {&shape::ttt, kMaxTtt, "ttt"}};
  for (auto [field, max, name] : fields) {
    shape s = usp_shape();
    s.*field = max + 1;
    EXPECT_EQ(error_of(s, path_kind::baseline), fmt::format("{} must be between {} and {} (got {})", name,
                                                            name == std::string("ttt") ? 0 : 1, max, max + 1));
  }
  shape s = usp_shape();
  s.tp = 1025;
  EXPECT_EQ(error_of(s, path_kind::baseline), "tp must be between 1 and 1024 (got 1025)");
  s = usp_shape();
  s.sp_ring = 2000;
  EXPECT_EQ(error_of(s, path_kind::usp), "sp_ring must be between 1 and 1024 (got 2000)");
}

// A window longer than the sample is nothing SpecForge's ttt_length means.
TEST(shape, usp_ttt_below_seq) {
  shape s = usp_shape();
  s.ttt = s.seq;
  EXPECT_EQ(error_of(s, path_kind::usp), "usp needs ttt below seq (ttt=64, seq=64)");
  s.ttt = s.seq - 1;
  EXPECT_EQ(error_of(s, path_kind::usp), "");
}

// Each bound of require_representable: the padded vocab's int32 ids, and the 64-bit byte counts of
// [B, S+ttt, Vp] and [B, S+ttt, hidden] (ttt alone can overflow S+ttt).
TEST(shape, sizes_past_the_representable) {
  shape s = usp_shape();
  s.vocab = (std::int64_t(1) << 31) - 10;  // itself below 2^31, padded to 64 above it
  EXPECT_EQ(error_of(s, path_kind::baseline), "vocab padded to vocab_pad must be below 2^31 (vocab=2147483638, vocab_pad=64)");
  s = usp_shape();
  s.sp_ulysses = s.sp_ring = 1;
  s.batch = kMaxBatch;  // every axis within its bound, the product past 64 bits
  s.seq = kMaxSeq;
  s.vocab = (std::int64_t(1) << 31) - 64;
  EXPECT_EQ(error_of(s, path_kind::batch), "shape too large: the bytes of B·(S+ttt)·Vp or B·(S+ttt)·hidden overflow 64 bits "
                                           "(B=1048576, S=16777216, ttt=7, Vp=2147483584, hidden=4096)");
  s.vocab = 64;
  s.hidden = kMaxHidden;  // the logits fit, the hidden states do not
  EXPECT_EQ(error_of(s, path_kind::batch), "shape too large: the bytes of B·(S+ttt)·Vp or B·(S+ttt)·hidden overflow 64 bits "
                                           "(B=1048576, S=16777216, ttt=7, Vp=64, hidden=1048576)");
}

TEST(shape, sp_only_for_usp) {
  EXPECT_EQ(error_of(usp_shape(), path_kind::batch),
            "sp applies to the usp path only: batch needs sp_ulysses=sp_ring=1 (got 4x2)");
}

TEST(shape, unknown_names) {
  EXPECT_THROW(parse_path("ring"), config_error);
  EXPECT_THROW(parse_variant("fast"), config_error);
  try {
    parse_path("ring");
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "unknown path 'ring' (expected one of: baseline, batch, usp)");
  }
  try {
    parse_variant("fast");
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "unknown variant 'fast' (expected one of: specforge, fused, peer_pull, pruned)");
  }
}

TEST(shape, variant_and_consumer_rules) {
  shape s;
  s.tp = 4;
  s.batch = 4;
  s.vocab = 1000;
  EXPECT_EQ(error_of(s, path_kind::baseline, variant_kind::peer_pull), "variant peer_pull applies to the batch and usp paths only");
  EXPECT_EQ(error_of(s, path_kind::batch, variant_kind::pruned),
            "variant pruned needs the consumer stage (--consumer target_p): its outputs are target_p and position_mask");
  s.consumer = consumer_kind::target_p;
  s.draft_vocab = 300;
  EXPECT_EQ(error_of(s, path_kind::batch, variant_kind::pruned), "");
  s.draft_vocab = 1001;
  EXPECT_EQ(error_of(s, path_kind::batch), "draft_vocab must be in [1, vocab] (Vd=1001, V=1000)");
  s.draft_vocab = 0;
  EXPECT_EQ(error_of(s, path_kind::batch), "draft_vocab must be in [1, vocab] (Vd=0, V=1000)");
  s.draft_vocab = 100;
  s.tp = 128;
  s.vocab = 128 * 64;
  EXPECT_EQ(error_of(s, path_kind::batch, variant_kind::pruned), "variant pruned supports tp <= 64 (got 128)");
  try {
    parse_consumer("logits");
    ADD_FAILURE() << "no error";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "unknown consumer 'logits' (expected one of: none, target_p)");
  }
  try {
    parse_t2d("zipf");
    ADD_FAILURE() << "no error";
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "unknown t2d 'zipf' (expected one of: uniform, skewed)");
  }
  EXPECT_EQ(parse_t2d("skewed"), t2d_kind::skewed);
}

}  // namespace sb
