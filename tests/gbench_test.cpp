// `shardbench bench` writes Google Benchmark's own JSON, with our counters and context.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "bench/cli.h"

namespace sb {

TEST(gbench, benchmark_out_is_google_benchmark_json_with_the_counters) {
  const std::string out = ::testing::TempDir() + "/gb.json";
  std::vector<std::string> args{"shardbench", "bench", "--backend", "cpu", "--paths", "usp,batch", "--tp", "4",
                                "--sp-ulysses", "2", "--batch", "2", "--seq", "16", "--vocab", "256", "--hidden", "2",
                                "--iters", "4", "--warmup", "1", "--benchmark_out=" + out, "--benchmark_format=json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = cli_main(int(argv.size()), argv.data());
  ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(code, 0) << err;
  std::ifstream f(out);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["context"]["shardbench.backend"].get<std::string>().rfind("cpu", 0), 0u);
  EXPECT_TRUE(j["context"].contains("shardbench.git_sha"));
  ASSERT_EQ(j["benchmarks"].size(), 4u);  // batch and usp (sp 2x1), specforge and fused
  for (const auto& b : j["benchmarks"]) {
    EXPECT_EQ(b["iterations"], 4);
    EXPECT_EQ(b["time_unit"], "us");
    EXPECT_EQ(b["verified"], 1.0);
    EXPECT_GT(b["bytes_sent"].get<double>(), 0.0);
    EXPECT_GT(b["peak_mem"].get<double>(), 0.0);
    EXPECT_TRUE(b.contains("effective_bw"));
    EXPECT_FALSE(b.contains("algbw"));  // cpu: no link bandwidth
  }
}

}  // namespace sb
