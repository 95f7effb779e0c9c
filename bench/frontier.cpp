#include "bench/frontier.h"

#include <algorithm>
#include <numeric>

#include "harness/core/error.h"

namespace sb {

namespace {

std::int64_t granularity(const point& pt, std::int64_t step) {
  return pt.path == path_kind::usp ? std::lcm(step, std::int64_t(pt.shp.sp())) : step;
}

bool predicted_fits(point pt, std::int64_t seq, std::size_t cap) {
  pt.shp.seq = seq;
  try {
    validate(pt);
  } catch (const config_error&) {
    return false;
  }
  return plan_point(pt).peak_bytes <= cap;
}

// Largest multiple of g in [0, max] for which fits() holds, assuming it is monotone in seq. The
// doubling ends at the largest multiple of g itself, so "capped" means it fits at that size (it
// used to stop at the last power-of-two multiple below max and call that capped).
template <class Fits>
std::int64_t search(std::int64_t g, std::int64_t max, bool* capped, Fits fits) {
  const std::int64_t top = max / g * g;
  std::int64_t ok = 0, bad = 0;
  for (std::int64_t s = std::min(g, top); s > ok; s = s > top / 2 ? top : 2 * s) {  // grow until it no longer fits
    if (!fits(s)) {
      bad = s;
      break;
    }
    ok = s;
  }
  if (!bad) {
    *capped = true;
    return ok;
  }
  while (bad - ok > g) {  // then bisect between the last fit and the first failure
    std::int64_t mid = (ok + bad) / 2 / g * g;
    if (mid <= ok) mid = ok + g;
    (fits(mid) ? ok : bad) = mid;
  }
  return ok;
}

}  // namespace

std::vector<frontier_result> find_frontier(const std::vector<point>& pts, const engine_options& o,
                                           const frontier_options& f) {
  if (f.reserve_bytes >= f.budget_bytes) throw_config("--reserve must be smaller than the budget");
  const std::size_t cap = f.budget_bytes - f.reserve_bytes;
  engine_options eo = o;
  eo.iters = 1;
  eo.warmup = 0;
  eo.warmup_ms = 0;
  eo.world.memory_cap = cap;
  world_cache worlds(eo.world);
  std::vector<frontier_result> out;
  for (const point& p : pts) {
    frontier_result r;
    r.pt = p;
    const std::int64_t g = granularity(p, f.seq_step);
    bool capped_pred = false;
    r.predicted_seq = search(g, f.max_seq, &capped_pred, [&](std::int64_t s) { return predicted_fits(p, s, cap); });
    if (f.predict_only) {
      r.capped = capped_pred;
      out.push_back(std::move(r));
      continue;
    }
    r.measured_seq = search(g, f.max_seq, &r.capped, [&](std::int64_t s) {
      point q = p;
      q.shp.seq = s;
      point_result res = run_checked_point(q, eo, worlds);
      r.trials.push_back({s, res.status, res.memory.tracked_peak});
      if (res.status == "mismatch") throw runtime_error("frontier: verification failed at " + q.label() + ": " + res.reason);
      return res.status == "ok";
    });
    r.pt.shp.seq = r.measured_seq;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sb
