#include "harness/shape.h"

#include <fmt/format.h>

#include "harness/error.h"

namespace sb {

std::string_view to_string(path_kind p) {
  switch (p) {
    case path_kind::baseline: return "baseline";
    case path_kind::batch: return "batch";
    case path_kind::usp: return "usp";
  }
  return "?";
}

std::string_view to_string(variant_kind v) { return v == variant_kind::specforge ? "specforge" : "fused"; }

path_kind parse_path(std::string_view s) {
  if (s == "baseline") return path_kind::baseline;
  if (s == "batch") return path_kind::batch;
  if (s == "usp") return path_kind::usp;
  throw_config(fmt::format("unknown path '{}' (expected one of: baseline, batch, usp)", s));
}

variant_kind parse_variant(std::string_view s) {
  if (s == "specforge") return variant_kind::specforge;
  if (s == "fused") return variant_kind::fused;
  throw_config(fmt::format("unknown variant '{}' (expected one of: specforge, fused)", s));
}

std::string shape::label() const {
  return fmt::format("tp{} sp{}x{} b{} s{} v{} {}", tp, sp_ulysses, sp_ring, batch, seq, vocab, to_string(type));
}

namespace {
void require_positive(std::int64_t v, const char* name) {
  if (v <= 0) throw_config(fmt::format("{} must be positive (got {})", name, v));
}
}  // namespace

void validate(const shape& s, path_kind p) {
  require_positive(s.tp, "tp");
  require_positive(s.sp_ulysses, "sp_ulysses");
  require_positive(s.sp_ring, "sp_ring");
  require_positive(s.batch, "batch");
  require_positive(s.seq, "seq");
  require_positive(s.vocab, "vocab");
  require_positive(s.vocab_pad, "vocab_pad");
  require_positive(s.hidden, "hidden");
  if (s.ttt < 0) throw_config(fmt::format("ttt must be non-negative (got {})", s.ttt));
  if (!is_float(s.type)) throw_config("dtype must be bf16, fp16 or fp32");
  if (s.vocab_padded() % s.tp != 0)
    throw_config(fmt::format("padded vocab must divide by tp: Vp % P != 0 (Vp={}, P={})", s.vocab_padded(), s.tp));
  if (p != path_kind::usp) {
    if (s.sp() != 1)
      throw_config(fmt::format("sp applies to the usp path only: {} needs sp_ulysses=sp_ring=1 (got {}x{})",
                               to_string(p), s.sp_ulysses, s.sp_ring));
    return;
  }
  if (s.tp % s.sp() != 0)
    throw_config(fmt::format("usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P={}, U*R={})", s.tp, s.sp()));
  if (s.batch != s.tp / s.sp())
    throw_config(fmt::format("usp needs one sample per draft dp group: B == P/sp (B={}, P/sp={})", s.batch,
                             s.tp / s.sp()));
  if (s.seq % s.sp() != 0)
    throw_config(fmt::format("usp needs S % sp == 0 (S={}, sp={})", s.seq, s.sp()));
}

}  // namespace sb
