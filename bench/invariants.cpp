#include "bench/invariants.h"

#include <fmt/format.h>

#include <algorithm>

namespace sb {

namespace {

// The rows a rank's output holds, as docs/semantics.md defines them: `count` windows of `len` rows,
// window w's row j holding token first + w·stride + j + 1 while j + 1 < valid.
struct rows_def {
  std::int64_t count = 0, len = 0, first = 0, stride = 0, valid = 0;
};

// batch: spr = ceil(B/P); rank r owns samples [r·spr, min((r+1)·spr, B)).
rows_def batch_rows(const shape& s, int r) {
  const std::int64_t spr = (s.batch + s.tp - 1) / s.tp;
  const std::int64_t first = std::int64_t(r) * spr;
  return {std::max<std::int64_t>(0, std::min(spr, s.batch - first)), s.seq, first * s.seq, s.seq, s.seq};
}

// usp: sp rank q = r mod sp, sample b = r div sp, chunk C = S/sp; the window starts at q·C, holds
// C + ttt rows, of which those before the sample's end are valid.
rows_def usp_rows(const shape& s, int r) {
  const std::int64_t sp = std::int64_t(s.sp_ulysses) * s.sp_ring, q = r % sp, b = r / sp, chunk = s.seq / sp;
  const std::int64_t len = chunk + s.ttt;
  return {1, len, b * s.seq + q * chunk, 0, std::min(len, s.seq - q * chunk)};
}

rows_def baseline_rows(const shape& s) { return {s.batch, s.seq, 0, s.seq, s.seq}; }

rows_def rows_of(const point& pt, int r) {
  switch (pt.path) {
    case path_kind::baseline: return baseline_rows(pt.shp);
    case path_kind::batch: return batch_rows(pt.shp, r);
    case path_kind::usp: return usp_rows(pt.shp, r);
  }
  return {};
}

// The definition a rank's output is verified against: its "output" buffer's, or the consumer's rows
// (pruned holds no logits output).
const expected_spec* output_definition(const path_plan& p) {
  for (const auto& b : p.buffers)
    if (b.name == "output" && b.check) return &*b.check;
  return p.consumer_rows ? &*p.consumer_rows : nullptr;
}

const expected_spec* definition_of(const path_plan& p, const char* name) {
  for (const auto& b : p.buffers)
    if (b.name == name && b.check) return &*b.check;
  return nullptr;
}

// A definition against the rows it must hold (shifted by `shift`; windows need not match when none).
std::string compare(const expected_spec& e, const rows_def& want, std::int64_t shift) {
  if (e.windows * e.win_len == 0 && want.count * want.len == 0) return {};
  if (e.windows != want.count || e.win_len != want.len || e.tok_base != want.first || e.valid_len != want.valid ||
      e.shift != shift || (want.count > 1 && e.win_tok_stride != want.stride))
    return fmt::format("holds {} window(s) of {} rows from token {} (valid {}, shift {}); the semantics give {} of {} from {} "
                       "(valid {}, shift {})",
                       e.windows, e.win_len, e.tok_base, e.valid_len, e.shift, want.count, want.len, want.first, want.valid,
                       shift);
  return {};
}

void check_outputs(const point& pt, const std::vector<path_plan>& plans, std::vector<std::string>& out) {
  for (int r = 0; r < int(plans.size()); ++r) {
    const expected_spec* e = output_definition(plans[std::size_t(r)]);
    if (!e) {
      out.push_back(fmt::format("rank {}: no output definition to verify", r));
      continue;
    }
    if (std::string why = compare(*e, rows_of(pt, r), 1); !why.empty()) out.push_back(fmt::format("rank {} output {}", r, why));
  }
}

// Every sample is owned by exactly one rank (batch), every token of every sample lies in some rank's
// window (usp): counted from the plans' definitions against the semantics' sample count.
void check_coverage(const point& pt, const std::vector<path_plan>& plans, std::vector<std::string>& out) {
  const shape& s = pt.shp;
  std::vector<int> owners(std::size_t(s.batch), 0);
  std::vector<std::vector<char>> covered(std::size_t(s.batch), std::vector<char>(std::size_t(s.seq), 0));
  for (const auto& p : plans) {
    const expected_spec* e = output_definition(p);
    if (!e) continue;
    for (std::int64_t w = 0; w < e->windows; ++w) {
      const std::int64_t t0 = e->tok_base + w * e->win_tok_stride;
      const std::int64_t b = t0 / s.seq;
      if (b < 0 || b >= s.batch) continue;
      if (pt.path == path_kind::batch) ++owners[std::size_t(b)];
      for (std::int64_t j = 0; j < e->valid_len && t0 % s.seq + j < s.seq; ++j) covered[std::size_t(b)][std::size_t(t0 % s.seq + j)] = 1;
    }
  }
  for (std::int64_t b = 0; b < s.batch; ++b) {
    if (pt.path == path_kind::batch && owners[std::size_t(b)] != 1)
      out.push_back(fmt::format("sample {} is owned by {} ranks (exactly one must own it)", b, owners[std::size_t(b)]));
    if (pt.path == path_kind::usp && std::count(covered[std::size_t(b)].begin(), covered[std::size_t(b)].end(), 0))
      out.push_back(fmt::format("sample {}: tokens outside every rank's window", b));
  }
}

// usp's aligned tensors: the window's rows of the global tensors, and the positions after the
// Ulysses all-to-all, arange(q·U·C, (q+1)·U·C) with ring rank q = (r mod sp) div U.
void check_aligned(const point& pt, const std::vector<path_plan>& plans, std::vector<std::string>& out) {
  const shape& s = pt.shp;
  const std::int64_t sp = std::int64_t(s.sp_ulysses) * s.sp_ring, chunk = s.seq / sp;
  for (int r = 0; r < int(plans.size()); ++r) {
    const rows_def win = usp_rows(s, r);
    for (const auto& [name, shift] : {std::pair{"hidden", 0}, {"input_ids", 1}, {"attention_mask", 0}, {"loss_mask", 0}}) {
      const expected_spec* e = definition_of(plans[std::size_t(r)], name);
      if (!e) continue;
      if (std::string why = compare(*e, win, shift); !why.empty()) out.push_back(fmt::format("rank {} {} {}", r, name, why));
    }
    if (const expected_spec* e = definition_of(plans[std::size_t(r)], "position_ids")) {
      const std::int64_t ring = (r % sp) / s.sp_ulysses, len = s.sp_ulysses * chunk;
      if (e->tok_base != ring * len || e->win_len != len)
        out.push_back(fmt::format("rank {} position_ids run from {} for {}; the semantics give arange({}, {})", r, e->tok_base,
                                  e->win_len, ring * len, (ring + 1) * len));
    }
  }
}

// The bytes each rank handed to its collectives are its plan's, and a rank that holds rows another
// rank's output needs sends some (the semantics' rows, not the plan's, decide who needs what).
void check_bytes(const point& pt, const std::vector<path_plan>& plans, const std::vector<std::optional<std::size_t>>& sent,
                 std::vector<std::string>& out) {
  const int P = pt.shp.tp;
  for (int q = 0; q < P && q < int(sent.size()); ++q) {
    const auto& mine = sent[std::size_t(q)];
    const std::size_t planned = plans[std::size_t(q)].bytes_sent;
    if (!mine) continue;
    // peer_pull's peers read its shard in place: nothing passes through a collective to count.
    if (pt.variant != variant_kind::peer_pull && *mine != planned)
      out.push_back(fmt::format("rank {} sent {} bytes; its plan says {}", q, *mine, planned));
    bool needed = false;
    for (int d = 0; d < P; ++d)
      if (d != q && rows_of(pt, d).count * rows_of(pt, d).valid > 0) needed = true;
    const bool moves = pt.variant == variant_kind::peer_pull ? planned > 0 : *mine > 0;
    if (needed && !moves) out.push_back(fmt::format("rank {} sent nothing, though other ranks' outputs need its columns", q));
  }
}

}  // namespace

std::vector<std::string> check_invariants(const point& pt, const std::vector<path_plan>& plans,
                                          const std::vector<std::optional<std::size_t>>& sent) {
  std::vector<std::string> out;
  check_outputs(pt, plans, out);
  if (pt.path != path_kind::baseline) check_coverage(pt, plans, out);
  if (pt.path == path_kind::usp) check_aligned(pt, plans, out);
  check_bytes(pt, plans, sent, out);
  return out;
}

}  // namespace sb
