// `shardbench bench` writes Google Benchmark's own JSON, with our counters and context.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bench/cli.h"
#include "bench/engine.h"
#include "harness/core/error.h"

namespace sb {

namespace {

// `shardbench bench ...` in a child process (a gtest death-test child): Google Benchmark runs once
// per process (benchmark 1.7.1 crashes in a second run). Its JSON output is read back from `out`.
void bench_in_child(std::vector<std::string> args, int exit_code = 0) {
  args.insert(args.begin(), {"shardbench", "bench"});
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child re-executes the binary: no fork of threads
  EXPECT_EXIT(
      {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        if (!std::freopen("/dev/null", "w", stdout)) std::exit(3);  // the console report is not the test's output
        std::exit(cli_main(int(argv.size()), argv.data()));
      },
      ::testing::ExitedWithCode(exit_code), "");
}

}  // namespace

TEST(gbench, benchmark_out_is_google_benchmark_json_with_the_counters) {
  // In a folder not there yet: made up front (Google Benchmark would say "invalid file name" after the run).
  const std::string dir = ::testing::TempDir() + "/gb_out_folder", out = dir + "/gb.json";
  std::filesystem::remove_all(dir);
  bench_in_child({"--backend", "cpu", "--paths", "usp,batch", "--tp", "4", "--sp-ulysses", "2", "--batch", "2", "--seq",
                  "16", "--vocab", "256", "--hidden", "2", "--iters", "4", "--warmup", "1", "--benchmark_out=" + out,
                  "--benchmark_format=json"});
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

// A --benchmark_filter that matches no benchmark runs nothing: exit 2, where Google Benchmark alone
// would print its line and let the process exit 0 (a nightly job would read that as a pass).
TEST(gbench, a_filter_matching_nothing_exits_2) {
  bench_in_child({"--backend", "cpu", "--paths", "usp", "--tp", "2", "--seq", "16", "--vocab", "256", "--hidden", "2",
                  "--iters", "2", "--benchmark_filter=no_such_benchmark"},
                 2);
}

// bench --collectives: each point followed by its collective alone at the point's op_bytes.
TEST(gbench, collectives_put_each_point_beside_its_raw_collective) {
  const std::string out = ::testing::TempDir() + "/gbc.json";
  std::remove(out.c_str());
  bench_in_child({"--collectives", "--backend", "cpu", "--paths", "baseline,usp", "--variants", "fused", "--tp", "4",
                  "--sp-ulysses", "4", "--seq", "16", "--vocab", "256", "--hidden", "2", "--iters", "3", "--warmup", "1",
                  "--benchmark_out=" + out, "--benchmark_format=json"});
  nlohmann::json j = nlohmann::json::parse(std::ifstream(out));
  ASSERT_EQ(j["benchmarks"].size(), 4u);  // baseline, its raw all-gather, usp, its raw all-to-all
  const auto& b = j["benchmarks"];
  EXPECT_NE(b[1]["name"].get<std::string>().find("baseline/fused/bf16/tp:4"), std::string::npos);
  EXPECT_NE(b[1]["name"].get<std::string>().find("/raw_all_gather"), std::string::npos);
  EXPECT_NE(b[3]["name"].get<std::string>().find("/raw_all_to_all"), std::string::npos);
  for (int i : {1, 3}) {
    EXPECT_EQ(b[i]["iterations"], 3);
    EXPECT_GT(b[i]["op_bytes"].get<double>(), 0.0);
    EXPECT_GT(b[i]["comm_of_raw"].get<double>(), 0.0);
    EXPECT_FALSE(b[i].contains("busbw"));  // cpu: no link bandwidth
  }
}

TEST(gbench, a_raw_collective_times_every_iteration_and_refuses_emulated_peers) {
  engine_options o;
  o.iters = 3;
  o.warmup = 1;
  o.world.backend = backend_kind::cpu;
  auto w = make_world(o.world, 4);
  for (collective_kind k : {collective_kind::all_gather, collective_kind::all_to_all}) {
    const std::vector<double> us = time_raw_collective(*w, k, 4096, o);
    ASSERT_EQ(us.size(), 3u);
    for (double t : us) EXPECT_GT(t, 0.0);
  }
  o.world.backend = backend_kind::local;
  EXPECT_THROW(time_raw_collective(*w, collective_kind::all_to_all, 4096, o), config_error);
  // A rank that cannot allocate stops every rank (none waits in the collective), and it is an oom.
  o.world.backend = backend_kind::cpu;
  o.world.memory_cap = 6000;  // send (4096) fits, recv (4096) does not
  auto capped = make_world(o.world, 4);
  EXPECT_THROW(time_raw_collective(*capped, collective_kind::all_to_all, 4096, o), oom_error);
}

}  // namespace sb
