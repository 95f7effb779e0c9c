// The draft vocabulary t2d: which Vd of the V target tokens the EAGLE3 draft predicts. SpecForge
// derives it from token frequencies; we draw it from a seeded generator so any rank and the
// verifier get the same one without a file: `uniform` over [0, V), or `skewed` towards low token
// ids (frequency-ranked vocabularies put common tokens at low ids, i.e. in rank 0's shard), which
// makes the pruned exchange's per-rank column counts uneven.
#pragma once
#include <cstdint>
#include <vector>

#include "harness/core/shape.h"

namespace sb {

// d2t: the Vd draft columns, sorted ascending (the trainer's order of target_p's columns).
std::vector<std::int32_t> make_d2t(const shape& s);

// The draft columns inside rank q's vocab shard [q·Vl, (q+1)·Vl): the index range [first, first+count)
// of d2t (d2t is sorted, so it is contiguous).
struct draft_share {
  std::int64_t first = 0;
  std::int64_t count = 0;
};
std::vector<draft_share> draft_shares(const shape& s, const std::vector<std::int32_t>& d2t);

}  // namespace sb
