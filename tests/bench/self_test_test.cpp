// The run's start-up replay of the golden cases: every variant reproduces them on the cpu backend,
// and an output that differs from SpecForge's, even by one element, fails it with the case's name.
#include "bench/self_test.h"

#include <gtest/gtest.h>

#include <cstring>

#include "harness/report/npy.h"

namespace sb {

namespace {
engine_options cpu() {
  engine_options o;
  o.world.backend = backend_kind::cpu;
  return o;
}
}  // namespace

TEST(self_test, every_variant_reproduces_the_golden_cases) {
  EXPECT_EQ(golden_self_test({path_kind::batch, path_kind::usp},
                             {variant_kind::specforge, variant_kind::fused, variant_kind::peer_pull, variant_kind::pruned}, cpu()),
            "");
}

TEST(self_test, an_output_one_element_off_fails_naming_the_case) {
  std::vector<golden_file> files = golden_files();
  const std::string name = "usp_tp4_b2_s16_v1000_u2_r1_ttt7/usp_r3.npy";
  auto it = std::find_if(files.begin(), files.end(), [&](const golden_file& f) { return f.name == name; });
  ASSERT_NE(it, files.end());
  std::string doctored(it->bytes);
  npy_array a = parse_npy(doctored, name);
  const std::size_t header = doctored.size() - a.data.size();
  float v = 0;
  std::memcpy(&v, doctored.data() + header + 5 * 4, 4);
  v += 1.0f;
  std::memcpy(doctored.data() + header + 5 * 4, &v, 4);
  it->bytes = doctored;
  EXPECT_EQ(golden_self_test({path_kind::usp}, {variant_kind::fused}, cpu(), files).rfind(
                "golden case usp_tp4_b2_s16_v1000_u2_r1_ttt7 (usp/fused): rank 3 output differs from SpecForge's at flat index 5", 0),
            0u);
  EXPECT_EQ(golden_self_test({path_kind::batch}, {variant_kind::fused}, cpu(), files), "");  // only the paths asked for
}

}  // namespace sb
