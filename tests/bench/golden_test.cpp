// The golden cases on the cpu backend: computed by SpecForge's own redistribution functions and
// SGLang's all-gather pattern, with random inputs that are not our generator's. Every path ×
// variant × dtype must reproduce them bit for bit.
#include <gtest/gtest.h>

#include "tests/support/golden_util.h"

namespace sb::golden {

class golden_cpu : public ::testing::TestWithParam<golden_case> {};

TEST_P(golden_cpu, every_variant_and_dtype_reproduces_the_reference_bitwise) { check_case(GetParam(), backend_kind::cpu); }

INSTANTIATE_TEST_SUITE_P(cases, golden_cpu, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<golden_case>& i) { return i.param.name; });

}  // namespace sb::golden
