#include "harness/report/results.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "harness/core/error.h"

namespace sb {

namespace {
point_result sample_result() {
  point_result r;
  r.pt.path = path_kind::usp;
  r.pt.variant = variant_kind::fused;
  r.pt.shp.tp = 8;
  r.pt.shp.sp_ulysses = 4;
  r.pt.shp.sp_ring = 2;
  r.pt.shp.seq = 4096;
  r.pt.shp.vocab = 129280;
  r.backend = "cpu";
  r.timing_domain = "cpu wall clock";
  r.verified = true;
  r.cross_checked = true;
  r.collective = collective_kind::all_to_all;
  r.bytes_sent = 123456;
  r.op_bytes = 140000;
  r.useful_bytes = 100000;
  r.iters = 3;
  r.warmup = 7;
  r.warmup_ms = 250;
  r.time_us = summarize({10.5, 12.25, 11.0});
  r.phases_us = {{"comm", 8.0}, {"unpack", 2.5}};
  r.algbw_gbps = 1.5;
  r.busbw_gbps = 1.3125;
  r.effective_gbps = 1.1;
  r.memory = {1000, 1024, 4096};
  return r;
}
}  // namespace

TEST(results, point_json_round_trip) {
  point_result a = sample_result();
  point_result b = point_from_json(to_json(a));
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_EQ(b.pt.label(), a.pt.label());
  EXPECT_EQ(b.time_us.samples, a.time_us.samples);
  EXPECT_EQ(b.phases_us, a.phases_us);
}

TEST(results, has_every_interface_field) {
  nlohmann::json j = to_json(sample_result());
  for (const char* k : {"path", "variant", "backend", "dtype", "tp", "sp_ulysses", "sp_ring", "batch", "seq", "vocab",
                        "vocab_padded", "hidden", "ttt", "status", "reason", "verified", "mismatches",
                        "bytes_sent_per_rank", "op_bytes", "time_us", "phases_us", "algbw_gbps", "busbw_gbps", "memory"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"median", "min", "max", "mean", "stddev", "samples"}) EXPECT_TRUE(j["time_us"].contains(k)) << k;
  for (const char* k : {"predicted_peak_bytes", "tracked_peak_bytes", "device_peak_bytes"})
    EXPECT_TRUE(j["memory"].contains(k)) << k;
}

// How a point's timed iterations were queued (--gate) is part of its record: A/B comparisons of a
// gated and an ungated run are told apart. Files written before the field existed read as "off".
TEST(results, launch_gate_round_trips_and_defaults_to_off) {
  point_result a = sample_result();
  a.launch_gate = "host_wait";
  EXPECT_EQ(to_json(a)["launch_gate"], "host_wait");
  EXPECT_EQ(point_from_json(to_json(a)).launch_gate, "host_wait");
  nlohmann::json old = to_json(sample_result());
  old.erase("launch_gate");
  EXPECT_EQ(point_from_json(old).launch_gate, "off");
}

// A run that dies mid-sweep leaves every finished point in the .jsonl and no (half-written) final file.
TEST(results, jsonl_survives_a_crash_and_final_file_is_all_or_nothing) {
  const std::string dir = ::testing::TempDir() + "/sink";
  std::filesystem::remove_all(dir);
  const std::string final_path = dir + "/r.json";
  {
    result_sink sink(final_path, {});
    sink.append(sample_result());
    sink.append(sample_result());
    // no finalize: the process "crashed" here
  }
  EXPECT_FALSE(std::filesystem::exists(final_path));
  std::ifstream in(dir + "/r.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(point_from_json(nlohmann::json::parse(line)).bytes_sent, 123456u);
    ++n;
  }
  EXPECT_EQ(n, 2);

  result_sink sink(final_path, {});
  sink.finalize(nlohmann::json{{"gpu", "none"}}, nlohmann::json::object(), {sample_result()});
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  std::ifstream f(final_path);
  nlohmann::json doc = nlohmann::json::parse(f);
  EXPECT_EQ(doc["schema"], kResultSchema);
  EXPECT_EQ(doc["points"].size(), 1u);
}

TEST(results, an_interrupted_run_says_so_at_the_top) {
  const std::string dir = ::testing::TempDir() + "/sink_interrupted";
  std::filesystem::remove_all(dir);
  result_sink sink(dir + "/r.json", {});
  sink.finalize(nlohmann::json::object(), nlohmann::json::object(), {sample_result()},
                {{"interrupted", {{"signal", "SIGINT"}, {"abandoned_point", "usp/fused"}}}});
  std::ifstream f(dir + "/r.json");
  nlohmann::json doc = nlohmann::json::parse(f);
  EXPECT_EQ(doc["interrupted"]["signal"], "SIGINT");
  EXPECT_EQ(doc["points"].size(), 1u);
}

}  // namespace sb
