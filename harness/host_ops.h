// Host implementations of the layout operations (the `cpu` backend's, and the tests' reference).
// Element semantics come from harness/layout_ops.h, shared with the CUDA kernels.
#pragma once
#include <functional>

#include "harness/backend.h"
#include "harness/layout_ops.h"

namespace sb {

void remap_host(const remap_desc& d);
void fill_host(void* dst, const expected_spec& spec);
mismatch_report verify_host(const void* data, const expected_spec& spec);

// Verifies against an arbitrary reference instead of the generator: ref(token, column) is called
// for the elements the spec says are non-zero. Used for the cross-check against the baseline's
// output and for the golden cases.
mismatch_report verify_host_with(const void* data, const expected_spec& spec,
                                 const std::function<double(std::int64_t, std::int64_t)>& ref);

}  // namespace sb
