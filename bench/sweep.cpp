// A sweep of points: invalid ones skipped with their rule, sharded ones cross-checked against the
// baseline's output of the same shape (bench/engine.h, run_points).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "bench/engine.h"
#include "bench/stages.h"
#include "harness/core/error.h"
#include "harness/core/host_ops.h"
#include "harness/core/layout.h"

namespace sb {

namespace {

// The baseline's output of a shape (rank 0's, identical on every rank), kept while points of the
// same shape run. Only for shapes whose output fits the cross-check limit.
class baseline_cache {
 public:
  const rank_buffers* get(const shape& s, const engine_options& o, world_cache& worlds) {
    shape b = s;
    b.sp_ulysses = b.sp_ring = 1;
    if (std::size_t(b.tokens() * b.vocab) * 4 > o.cross_check_limit) return nullptr;
    std::string key = fmt::format("{} seed{} pad{}", b.label(), b.seed, b.vocab_pad);
    if (key != m_key) {
      engine_options bo = o;
      bo.iters = 1;
      bo.warmup = 0;
      bo.warmup_ms = 0;
      bo.keep_outputs = true;
      bo.dump_dir.clear();
      bo.inject_mismatch = false;
      point_outcome r = run_point(point{path_kind::baseline, variant_kind::fused, b}, bo, &worlds.get(b.tp));
      // Identical on every rank: take the one that ran (local `one` runs a single rank).
      auto ran = std::find_if(r.outputs.begin(), r.outputs.end(), [](const rank_buffers& rb) { return rb.count("output") > 0; });
      if (r.result.status != "ok" || ran == r.outputs.end()) return nullptr;
      m_key = key;
      m_output = std::move(*ran);
    }
    return &m_output;
  }

 private:
  std::string m_key;
  rank_buffers m_output;  // "output", and with a consumer stage "target_p" and "position_mask"
};

// Baseline row index holding token t (its output row s of sample b holds token b·S + s + 1).
std::int64_t baseline_row_of(std::int64_t t) { return t - 1; }

void record_mismatch(point_result& res, int rank, const char* buf, const mismatch_report& m) {
  res.status = "mismatch";
  res.mismatches += m.count;
  res.first_mismatch = "against the baseline's output: " + describe_mismatch(res.pt, rank, buf, m);
  res.reason = res.first_mismatch;
}

// Every rank's logits output against the matching slice of the baseline's output F [B, S, V]
// (output token t, column c is F[t-1, c]), and its consumer outputs against the baseline's rows of
// the same tokens, bitwise. Only real comparisons count: a point with nothing to compare is not
// cross-checked.
void cross_check(point_outcome& out, const rank_buffers& baseline) {
  point_result& res = out.result;
  const shape& s = res.pt.shp;
  bool compared = false;
  for (std::size_t r = 0; r < out.outputs.size(); ++r) {
    const rank_buffers& mine = out.outputs[r];
    const expected_spec e = res.pt.path == path_kind::batch ? batch_output_spec(s, int(r)) : usp_output_spec(s, int(r));
    auto it = mine.find("output");
    auto base = baseline.find("output");
    if (it != mine.end() && base != baseline.end()) {
      const float* F = reinterpret_cast<const float*>(base->second.data());
      auto ref = [&](std::int64_t t, std::int64_t c) { return c < s.vocab ? double(F[baseline_row_of(t) * s.vocab + c]) : 0.0; };
      mismatch_report m = verify_host_with(it->second.data(), e, ref);
      if (m.count) return record_mismatch(res, int(r), "output", m);
      compared = true;
    }
    auto tp = mine.find("target_p"), pm = mine.find("position_mask");
    auto btp = baseline.find("target_p"), bpm = baseline.find("position_mask");
    if (tp == mine.end() || btp == baseline.end() || pm == mine.end() || bpm == baseline.end()) continue;
    const float* P = reinterpret_cast<const float*>(tp->second.data());
    const float* BP = reinterpret_cast<const float*>(btp->second.data());
    const auto* M = reinterpret_cast<const std::int32_t*>(pm->second.data());
    const auto* BM = reinterpret_cast<const std::int32_t*>(bpm->second.data());
    const std::int64_t vd = s.draft_vocab;
    for (std::int64_t i = 0; i < e.windows * e.win_len; ++i) {
      const std::int64_t t = expected_token(e, i / e.win_len, i % e.win_len);
      if (t < 0) continue;  // a zero row: no baseline row holds it
      const std::int64_t b = baseline_row_of(t);
      if (std::memcmp(P + i * vd, BP + b * vd, std::size_t(vd) * 4) != 0) {
        std::int64_t k = 0;
        while (P[i * vd + k] == BP[b * vd + k]) ++k;
        return record_mismatch(res, int(r), "target_p", {1, i * vd + k, BP[b * vd + k], P[i * vd + k]});
      }
      if (M[i] != BM[b]) return record_mismatch(res, int(r), "position_mask", {1, i, double(BM[b]), double(M[i])});
    }
    compared = true;
  }
  res.cross_checked = compared;
}

}  // namespace

namespace {
point_result run_checked(const point& pt, const engine_options& o, world_cache& worlds, baseline_cache& cache) {
  point_result res;
  res.pt = pt;
  try {
    validate(pt);
  } catch (const config_error& e) {
    res.status = "skipped";
    res.reason = e.what();
    return res;
  }
  const rank_buffers* baseline = nullptr;
  if (pt.path != path_kind::baseline && o.verify_definition) baseline = cache.get(pt.shp, o, worlds);
  engine_options po = o;
  po.keep_outputs = o.keep_outputs || baseline != nullptr;
  point_outcome out = run_point(pt, po, &worlds.get(pt.shp.tp));
  if (baseline && out.result.status == "ok") cross_check(out, *baseline);
  return out.result;
}
}  // namespace

point_result run_checked_point(const point& pt, const engine_options& o, world_cache& worlds) {
  baseline_cache cache;
  return run_checked(pt, o, worlds, cache);
}

std::vector<point_result> run_points(const std::vector<point>& pts, const engine_options& o,
                                     const std::function<void(const point_result&)>& on_result) {
  std::vector<point_result> results;
  baseline_cache cache;
  world_cache worlds(o.world);
  for (const point& pt : pts) {
    results.push_back(run_checked(pt, o, worlds, cache));
    if (on_result) on_result(results.back());
  }
  return results;
}

}  // namespace sb
