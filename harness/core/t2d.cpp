#include "harness/core/t2d.h"

#include <algorithm>

#include "harness/core/generator.h"

namespace sb {

std::vector<std::int32_t> make_d2t(const shape& s) {
  // Each id gets a key; the Vd smallest keys win (ties to the lower id). Integer-only, so every
  // machine draws the same set. `skewed` scales a 24-bit uniform key by (id + V/64): low ids get
  // small keys more often (at DeepSeek-V3's V = 129 280, Vd = 32 000, tp 8 about 42 % of the draft
  // vocabulary lands in rank 0's shard, against 12.5 % for `uniform`).
  const std::int64_t V = s.vocab, K = std::max<std::int64_t>(1, V / 64);
  std::vector<std::pair<std::uint64_t, std::int32_t>> keys(static_cast<std::size_t>(V));
  for (std::int64_t id = 0; id < V; ++id) {
    const std::uint64_t h = gen::hash(s.seed, gen::source::draft_vocab, std::uint64_t(id), 0);
    const std::uint64_t key = s.t2d == t2d_kind::skewed ? (h >> 40) * std::uint64_t(id + K) : h;
    keys[std::size_t(id)] = {key, std::int32_t(id)};
  }
  const auto vd = static_cast<std::ptrdiff_t>(std::clamp<std::int64_t>(s.draft_vocab, 0, V));
  std::nth_element(keys.begin(), keys.begin() + vd, keys.end());
  std::vector<std::int32_t> d2t;
  d2t.reserve(std::size_t(vd));
  for (std::ptrdiff_t i = 0; i < vd; ++i) d2t.push_back(keys[std::size_t(i)].second);
  std::sort(d2t.begin(), d2t.end());
  return d2t;
}

std::vector<draft_share> draft_shares(const shape& s, const std::vector<std::int32_t>& d2t) {
  std::vector<draft_share> out;
  const std::int64_t Vl = s.vocab_local();
  for (int q = 0; q < s.tp; ++q) {
    auto lo = std::lower_bound(d2t.begin(), d2t.end(), std::int32_t(q * Vl));
    auto hi = std::lower_bound(d2t.begin(), d2t.end(), std::int32_t((q + 1) * Vl));
    out.push_back({lo - d2t.begin(), hi - lo});
  }
  return out;
}

}  // namespace sb
