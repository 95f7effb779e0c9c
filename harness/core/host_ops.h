// Host implementations of the layout operations (the `cpu` backend's, and the tests' reference).
// Element semantics come from harness/core/layout_ops.h, shared with the CUDA kernels.
#pragma once
#include <functional>

#include "harness/core/consumer_ops.h"
#include "harness/core/layout_ops.h"
#include "harness/core/mismatch.h"

namespace sb {

void remap_host(const remap_desc& d);
void fill_host(void* dst, const expected_spec& spec);
mismatch_report verify_host(const void* data, const expected_spec& spec);

// The consumer stage and the pruned sender (harness/core/consumer_ops.h), lane for lane as the kernels.
void consume_host(const consumer_desc& d);
// One row of the consumer stage: row i's target_p into p[0..vd), its position_mask returned.
// (Host memory only; the GPU verifier uses it to report the value it expected.)
std::int32_t consumer_row_host(const consumer_desc& d, std::int64_t i, float* p);
void prune_pack_host(const prune_desc& d);
// Recomputes from d's source and compares with d.target_p / d.position_mask, bitwise.
consumer_mismatch verify_consumer_host(const consumer_desc& d);

// Verifies against an arbitrary reference instead of the generator: ref(token, column) is called
// for the elements the spec says are non-zero. Used for the cross-check against the baseline's
// output and for the golden cases.
mismatch_report verify_host_with(const void* data, const expected_spec& spec,
                                 const std::function<double(std::int64_t, std::int64_t)>& ref);

}  // namespace sb
