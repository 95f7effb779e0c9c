#include "harness/core/shape.h"


#include <fmt/format.h>

#include "harness/core/error.h"

namespace sb {

std::string_view to_string(path_kind p) {
  switch (p) {
    case path_kind::baseline: return "baseline";
    case path_kind::batch: return "batch";
    case path_kind::usp: return "usp";
  }
  return "?";
}

std::string_view to_string(variant_kind v) {
  switch (v) {
    case variant_kind::specforge: return "specforge";
    case variant_kind::fused: return "fused";
    case variant_kind::peer_pull: return "peer_pull";
    case variant_kind::pruned: return "pruned";
  }
  return "?";
}

std::string_view to_string(consumer_kind c) { return c == consumer_kind::target_p ? "target_p" : "none"; }
std::string_view to_string(t2d_kind t) { return t == t2d_kind::skewed ? "skewed" : "uniform"; }

consumer_kind parse_consumer(std::string_view s) {
  if (s == "none") return consumer_kind::none;
  if (s == "target_p") return consumer_kind::target_p;
  throw_config(fmt::format("unknown consumer '{}' (expected one of: none, target_p)", s));
}

t2d_kind parse_t2d(std::string_view s) {
  if (s == "uniform") return t2d_kind::uniform;
  if (s == "skewed") return t2d_kind::skewed;
  throw_config(fmt::format("unknown t2d '{}' (expected one of: uniform, skewed)", s));
}

path_kind parse_path(std::string_view s) {
  if (s == "baseline") return path_kind::baseline;
  if (s == "batch") return path_kind::batch;
  if (s == "usp") return path_kind::usp;
  throw_config(fmt::format("unknown path '{}' (expected one of: baseline, batch, usp)", s));
}

variant_kind parse_variant(std::string_view s) {
  if (s == "specforge") return variant_kind::specforge;
  if (s == "fused") return variant_kind::fused;
  if (s == "peer_pull") return variant_kind::peer_pull;
  if (s == "pruned") return variant_kind::pruned;
  throw_config(fmt::format("unknown variant '{}' (expected one of: specforge, fused, peer_pull, pruned)", s));
}

std::string shape::label() const {
  std::string l = fmt::format("tp{} sp{}x{} b{} s{} v{} {}", tp, sp_ulysses, sp_ring, batch, seq, vocab, to_string(type));
  if (has_consumer()) l += fmt::format(" {} vd{} {}", to_string(consumer), draft_vocab, to_string(t2d));
  return l;
}

void require_in_range(std::int64_t v, std::int64_t low, std::int64_t max, const char* what) {
  if (v < low || v > max) throw_config(fmt::format("{} must be between {} and {} (got {})", what, low, max, v));
}

namespace {
// Bounds checked before anything multiplies the sizes: column ids are int32 (t2d, the pruned
// pairs, the kernels' column indices), and the byte count of the largest tensors must fit an
// int64: [B, S + ttt, Vp] (usp's windows are at most S + ttt rows; SpecForge's send buffer holds
// B of them) and [B, S + ttt, hidden], counted at 8 bytes an element.
void require_representable(const shape& s) {
  if (s.vocab_padded() > kMaxVocab)
    throw_config(fmt::format("vocab padded to vocab_pad must be below 2^31 (vocab={}, vocab_pad={})", s.vocab, s.vocab_pad));
  std::int64_t rows = 0, tokens = 0, logits = 0, hidden = 0;
  if (__builtin_add_overflow(s.seq, s.ttt, &rows) || __builtin_mul_overflow(s.batch, rows, &tokens) ||
      __builtin_mul_overflow(tokens, s.vocab_padded(), &logits) || __builtin_mul_overflow(logits, std::int64_t(8), &logits) ||
      __builtin_mul_overflow(tokens, s.hidden, &hidden) || __builtin_mul_overflow(hidden, std::int64_t(8), &hidden))
    throw_config(fmt::format("shape too large: the bytes of B·(S+ttt)·Vp or B·(S+ttt)·hidden overflow 64 bits "
                             "(B={}, S={}, ttt={}, Vp={}, hidden={})",
                             s.batch, s.seq, s.ttt, s.vocab_padded(), s.hidden));
}

void validate_usp(const shape& s) {
  if (s.tp % s.sp() != 0)
    throw_config(fmt::format("usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P={}, U*R={})", s.tp, s.sp()));
  if (s.batch != s.tp / s.sp())
    throw_config(fmt::format("usp needs one sample per draft dp group: B == P/sp (B={}, P/sp={})", s.batch,
                             s.tp / s.sp()));
  if (s.seq % s.sp() != 0)
    throw_config(fmt::format("usp needs S % sp == 0 (S={}, sp={})", s.seq, s.sp()));
  // A window then overlaps the whole of the next ones and reaches past the sample's end: rows of
  // zeros, nothing SpecForge's ttt_length means.
  if (s.ttt >= s.seq) throw_config(fmt::format("usp needs ttt below seq (ttt={}, seq={})", s.ttt, s.seq));
}
}  // namespace

void validate_shape(const shape& s, path_kind p) {
  require_in_range(s.tp, 1, kMaxTp, "tp");
  require_in_range(s.sp_ulysses, 1, kMaxSp, "sp_ulysses");
  require_in_range(s.sp_ring, 1, kMaxSp, "sp_ring");
  require_in_range(s.batch, 1, kMaxBatch, "batch");
  require_in_range(s.seq, 1, kMaxSeq, "seq");
  require_in_range(s.vocab, 1, kMaxVocab, "vocab");
  require_in_range(s.vocab_pad, 1, kMaxVocabPad, "vocab_pad");
  require_in_range(s.hidden, 1, kMaxHidden, "hidden");
  require_in_range(s.ttt, 0, kMaxTtt, "ttt");
  require_representable(s);
  if (!is_float(s.type)) throw_config("dtype must be bf16, fp16 or fp32");
  if (s.vocab_padded() % s.tp != 0)
    throw_config(fmt::format("padded vocab must divide by tp: Vp % P != 0 (Vp={}, P={})", s.vocab_padded(), s.tp));
  if (s.has_consumer() && (s.draft_vocab < 1 || s.draft_vocab > s.vocab))
    throw_config(fmt::format("draft_vocab must be in [1, vocab] (Vd={}, V={})", s.draft_vocab, s.vocab));
  if (p == path_kind::usp) return validate_usp(s);
  if (s.sp() != 1)
    throw_config(fmt::format("sp applies to the usp path only: {} needs sp_ulysses=sp_ring=1 (got {}x{})", to_string(p),
                             s.sp_ulysses, s.sp_ring));
}

std::string variant_rule_broken(const shape& s, path_kind p, variant_kind v) {
  if ((v == variant_kind::peer_pull || v == variant_kind::pruned) && p == path_kind::baseline)
    return fmt::format("variant {} applies to the batch and usp paths only", to_string(v));
  if (v == variant_kind::pruned && !s.has_consumer())
    return "variant pruned needs the consumer stage (--consumer target_p): its outputs are target_p and position_mask";
  if ((v == variant_kind::peer_pull || v == variant_kind::pruned) && s.tp > 64)
    return fmt::format("variant {} supports tp <= 64 (got {})", to_string(v), s.tp);
  return {};
}

void validate(const shape& s, path_kind p, variant_kind v) {
  validate_shape(s, p);
  if (std::string why = variant_rule_broken(s, p, v); !why.empty()) throw_config(why);
}

}  // namespace sb
