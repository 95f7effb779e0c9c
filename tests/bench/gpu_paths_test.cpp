// The three paths on GPUs: every path × variant × dtype on `local` (all ranks on one GPU) for
// tp ∈ {1, 2, 4, 8} and the sp layouts of the cpu tests, the golden cases on `local`, `local`
// `one`-rank emulation, and `nccl` on the GPUs present; all against the definition and the
// baseline's output, bit for bit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "bench/cli.h"
#include "bench/engine.h"
#include "tests/support/gpu_test_util.h"
#include "tests/support/golden_util.h"
#include "tests/support/path_cases.h"

namespace sb {

namespace {

using gpu_case = testing_paths::case_shape;

std::vector<point> points_for(const gpu_case& c) { return testing_paths::points_for(c, 8); }

void expect_all_verified(const std::vector<point_result>& res) {
  for (const auto& r : res) {
    EXPECT_EQ(r.status, "ok") << r.pt.label() << " on " << r.backend << ": " << r.reason;
    EXPECT_TRUE(r.verified) << r.pt.label();
    if (r.pt.path != path_kind::baseline) {
      EXPECT_TRUE(r.cross_checked) << r.pt.label();
    }
  }
}

engine_options gpu_options(backend_kind b) {
  engine_options o;
  o.iters = 2;
  o.warmup = 1;
  o.world.backend = b;
  return o;
}

class paths_local : public ::testing::TestWithParam<gpu_case> {};

}  // namespace

TEST_P(paths_local, every_variant_and_dtype_verifies_and_matches_the_baseline) {
  SB_REQUIRE_GPU();
  expect_all_verified(run_points(points_for(GetParam()), gpu_options(backend_kind::local), nullptr));
}

TEST_P(paths_local, one_rank_emulation_verifies_for_every_rank) {
  SB_REQUIRE_GPU();
  const gpu_case& c = GetParam();
  for (int rank : {0, c.tp - 1}) {
    engine_options o = gpu_options(backend_kind::local);
    o.world.emulate = emulate_mode::one;
    o.world.emulated_rank = rank;
    expect_all_verified(run_points(points_for(c), o, nullptr));
  }
}

INSTANTIATE_TEST_SUITE_P(
    shapes, paths_local,
    ::testing::Values(gpu_case{1, 1, 1, 1, 64, 1000, 7}, gpu_case{2, 2, 1, 1, 64, 1000, 7},
                      gpu_case{2, 1, 1, 3, 32, 130, 0}, gpu_case{4, 2, 1, 2, 64, 2048, 7},
                      gpu_case{4, 2, 2, 1, 64, 4000, 7}, gpu_case{4, 1, 1, 3, 16, 200, 0},
                      gpu_case{8, 8, 1, 1, 128, 129280, 7}, gpu_case{8, 4, 2, 1, 128, 32000, 0},
                      gpu_case{8, 2, 2, 2, 64, 1024, 7}, gpu_case{8, 1, 1, 5, 16, 512, 0},
                      gpu_case{8, 2, 1, 4, 48, 1001, 5}),
    [](const ::testing::TestParamInfo<gpu_case>& i) { return testing_paths::test_name(i.param); });

TEST(paths_nccl, every_variant_and_dtype_on_the_gpus_present) {
  SB_REQUIRE_GPU();
  const int gpus = testing_gpu::gpu_count();
  for (int tp : {1, 2, 4, 8}) {
    if (tp > gpus) break;
    std::vector<point> pts = points_for({tp, tp, 1, 1, 64, 4096, 7});
    auto more = points_for({tp, 1, 1, tp + 1, 32, 1000, 0});
    pts.insert(pts.end(), more.begin(), more.end());
    expect_all_verified(run_points(pts, gpu_options(backend_kind::nccl), nullptr));
  }
}

// --gate on every backend that has it: every variant still verifies, and each point says how its
// timed iterations were queued. Only usp/specforge waits on the host inside an iteration (SpecForge
// syncs once per destination); every other path queues its whole iteration before it runs.
void expect_gated(const std::vector<point_result>& res) {
  expect_all_verified(res);
  for (const auto& r : res) {
    const bool syncs = r.pt.path == path_kind::usp && r.pt.variant == variant_kind::specforge;
    EXPECT_EQ(r.launch_gate, syncs ? "host_wait" : "whole") << r.pt.label() << " on " << r.backend;
  }
}

TEST(paths_gated, every_variant_verifies_and_says_how_it_was_queued) {
  SB_REQUIRE_GPU();
  for (emulate_mode m : {emulate_mode::all, emulate_mode::one}) {
    engine_options o = gpu_options(backend_kind::local);
    o.world.emulate = m;
    o.world.gate = true;
    expect_gated(run_points(points_for({4, 2, 1, 2, 64, 2048, 7}), o, nullptr));
  }
  if (testing_gpu::gpu_count() >= 2) {
    engine_options o = gpu_options(backend_kind::nccl);
    o.world.gate = true;
    expect_gated(run_points(points_for({2, 2, 1, 1, 64, 4096, 7}), o, nullptr));
  }
  for (const auto& r : run_points(points_for({2, 2, 1, 1, 64, 1000, 7}), gpu_options(backend_kind::local), nullptr))
    EXPECT_EQ(r.launch_gate, "off") << r.pt.label();
}

// The GPU consumer verifier's report of a corrupted target_p: where, the value the definition
// gives (the host replays the row's lanes) and the value found.
TEST(paths_local_verification, a_flipped_target_p_is_reported_with_its_expected_value) {
  SB_REQUIRE_GPU();
  testing_paths::expect_flipped_target_p_reported(gpu_options(backend_kind::local));
}

TEST(cupti_trace, breakdown_by_phase_and_a_chrome_trace_with_nvtx_and_kernels) {
  SB_REQUIRE_GPU();
  const std::string trace = ::testing::TempDir() + "/trace.json";
  std::vector<std::string> args{"shardbench", "run", "--backend", "local", "--paths", "usp", "--tp", "4", "--sp-ulysses",
                                "2", "--seq", "256", "--vocab", "32000", "--iters", "3", "--warmup", "1",
                                "--cupti", "--trace", trace, "--out", ::testing::TempDir() + "/cupti.json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  int code = cli_main(int(argv.size()), argv.data());
  std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("remap_vec_kernel"), std::string::npos) << out;  // the unpack kernel, by phase
  std::ifstream f(trace);
  nlohmann::json j = nlohmann::json::parse(f);
  int kernels = 0, nvtx = 0, phases = 0;
  std::set<int> pids;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    kernels += e["cat"] == "kernel";
    nvtx += e["cat"] == "nvtx";
    phases += e["cat"] == "nvtx" && (e["name"] == "comm" || e["name"] == "unpack");
    pids.insert(e["pid"].get<int>());
  }
  EXPECT_GT(kernels, 0);
  EXPECT_GT(nvtx, 0);
  EXPECT_GT(phases, 0);
  EXPECT_EQ(pids, (std::set<int>{0, 1, 2, 3}));  // pid = rank
  std::ifstream rf(::testing::TempDir() + "/cupti.json");
  nlohmann::json res = nlohmann::json::parse(rf);
  EXPECT_TRUE(res["points"][0].contains("kernels"));
}

namespace golden {
class golden_local : public ::testing::TestWithParam<golden_case> {};
TEST_P(golden_local, every_variant_and_dtype_reproduces_the_reference_bitwise) {
  SB_REQUIRE_GPU();
  check_case(GetParam(), backend_kind::local);
}
INSTANTIATE_TEST_SUITE_P(cases, golden_local, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<golden_case>& i) { return i.param.name; });
}  // namespace golden

}  // namespace sb
