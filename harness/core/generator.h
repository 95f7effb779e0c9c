// Index-addressable data (nccl-tests' verifiable-data idea): any rank, and the verifier, computes
// any element from (seed, token, column) alone, with no copy of the data. Shared by the CPU backend
// and the CUDA kernels, so both produce the same bits.
#pragma once
#include <cstdint>

#include "harness/core/hd.h"

namespace sb::gen {

// Which generated tensor an element belongs to. Each has its own salt so the streams are unrelated.
enum class source : std::uint8_t {
  logits,          // L[t, c]: token t, global vocab column c; 0 on padding columns c >= vocab
  hidden,          // hidden_global[t, k], bf16-exact
  input_ids,       // ids[t] in [0, vocab)
  attention_mask,  // am[t]: 1 inside the sample's length, 0 in its right padding
  loss_mask,       // lm[t]: a subset of am
  position,        // the index itself (position ids are an arange)
  draft_vocab,     // t2d's selection keys (harness/core/t2d.h)
};

SB_HD std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

SB_HD std::uint64_t hash(std::uint64_t seed, source s, std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = mix64(seed * 0x9e3779b97f4a7c15ull + std::uint64_t(s) + 1);
  h = mix64(h ^ (a + 0x632be59bd9b4e019ull));
  return mix64(h ^ (b * 0x85ebca6b + 0x27d4eb2f165667c5ull));
}

// m * 2^-e with |m| <= 128 and 0 <= e <= 10: 8 significant bits, exponent inside fp16's normal
// range, so bf16, fp16 and fp32 hold it exactly and every upcast is exact. Ties are common (by design:
// argmax tie-breaking is part of the contract).
SB_HD float small_exact(std::uint64_t h) {
  int m = int(h & 0xffu) - 128;
  int e = int((h >> 8) % 11u);
  return float(m) * (1.0f / float(1 << e));
}

struct params {
  std::uint64_t seed = 1;
  std::int64_t vocab = 0;  // real vocab V (logits: columns >= V are 0; ids: range)
  std::int64_t seq = 1;    // S, for the masks' per-sample lengths
};

SB_HD float logit(const params& p, std::int64_t t, std::int64_t c) {
  if (c >= p.vocab) return 0.0f;
  return small_exact(hash(p.seed, source::logits, std::uint64_t(t), std::uint64_t(c)));
}

SB_HD float hidden(const params& p, std::int64_t t, std::int64_t k) {
  return small_exact(hash(p.seed, source::hidden, std::uint64_t(t), std::uint64_t(k)));
}

// Sample b's unpadded length: between 3/4·S and S, so every sample has right padding to mask.
SB_HD std::int64_t sample_length(const params& p, std::int64_t b) {
  std::int64_t span = p.seq / 4 + 1;
  return p.seq - std::int64_t(hash(p.seed, source::attention_mask, std::uint64_t(b), 0) % std::uint64_t(span));
}

SB_HD std::int64_t int_value(source s, const params& p, std::int64_t t) {
  switch (s) {
    case source::input_ids:
      return std::int64_t(hash(p.seed, s, std::uint64_t(t), 0) % std::uint64_t(p.vocab > 0 ? p.vocab : 1));
    case source::attention_mask: return (t % p.seq) < sample_length(p, t / p.seq) ? 1 : 0;
    case source::loss_mask:
      return ((t % p.seq) < sample_length(p, t / p.seq) && (hash(p.seed, s, std::uint64_t(t), 0) & 3u) != 0) ? 1 : 0;
    case source::position: return t;
    default: return 0;
  }
}

SB_HD float float_value(source s, const params& p, std::int64_t t, std::int64_t c) {
  return s == source::logits ? logit(p, t, c) : hidden(p, t, c);
}

SB_HD bool is_float_source(source s) { return s == source::logits || s == source::hidden; }

}  // namespace sb::gen
