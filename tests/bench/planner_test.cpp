// The planner: bytes per phase from the paths' own code, and predictions from measured rates,
// checked on points held out of the calibration (committed H100 nightly results).
#include "bench/planner.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "bench/traffic.h"
#include "harness/report/results.h"

namespace sb {

namespace {
point make_point(path_kind p, variant_kind v, int tp, int u, std::int64_t b, std::int64_t seq) {
  point pt{p, v, {}};
  pt.shp.tp = tp;
  pt.shp.sp_ulysses = u;
  pt.shp.batch = b;
  pt.shp.seq = seq;
  pt.shp.vocab = 129280;
  pt.shp.hidden = 7168;
  pt.shp.ttt = 7;
  return pt;
}

std::vector<point_result> nightly(const char* name) {
  std::ifstream f(std::string(SB_TEST_DATA_DIR) + "/tools/data/" + name);
  nlohmann::json doc = nlohmann::json::parse(f);
  std::vector<point_result> out;
  for (const auto& p : doc["points"]) out.push_back(point_from_json(p));
  return out;
}
}  // namespace

TEST(traffic, baseline_fused_reads_the_gathered_shards_and_writes_fp32_once) {
  auto t = path_traffic(make_point(path_kind::baseline, variant_kind::fused, 8, 1, 1, 4096));
  const double T = 4096, Vl = 16160, V = 129280;
  // unpack: reads (S-1) shifted rows of all P shards (bf16), writes [S, V] fp32.
  EXPECT_DOUBLE_EQ(t["unpack"].local_bytes, (T - 1) * 8 * Vl * 2 + T * V * 4);
  EXPECT_DOUBLE_EQ(t["comm"].link_bytes, 7 * T * Vl * 2);
  EXPECT_TRUE(t["comm"].collective);
  EXPECT_FALSE(t["unpack"].collective);
}

TEST(traffic, batch_counts_what_the_busiest_rank_receives) {
  // B = 1: rank 0 receives its sample from 7 peers and sends nothing.
  auto t = path_traffic(make_point(path_kind::batch, variant_kind::fused, 8, 1, 1, 4096));
  EXPECT_DOUBLE_EQ(t["comm"].link_bytes, 7 * 4096.0 * 16160 * 2);
}

TEST(planner, predicts_held_out_points_within_10_percent_of_the_local_work) {
  std::vector<point_result> measured = nightly("h100_nightly_a.json");
  const std::string hold = "usp/fused tp8 sp8x1";
  calibration c = calibrate(measured, hold);
  EXPECT_FALSE(c.local_gbps.empty());
  EXPECT_EQ(c.link_gbps, 0.0);  // local results measure no link
  int checked = 0;
  for (const auto& r : measured) {
    if (r.pt.label().find(hold) == std::string::npos) continue;
    prediction p = predict(r.pt, c);
    double measured_us = 0, predicted_us = 0;
    for (const auto& [phase, us] : r.phases_us) {
      if (phase == "comm") continue;  // emulated peers on local(one), not a link
      measured_us += us;
      predicted_us += p.phases_us[phase];
    }
    EXPECT_NEAR(predicted_us / measured_us, 1.0, 0.10) << r.pt.label();
    EXPECT_FALSE(p.complete);  // the collective needs a link rate the calibration lacks
    ++checked;
  }
  EXPECT_EQ(checked, 1);
}

TEST(planner, multi_node_links_slow_the_collective) {
  calibration c;
  c.pooled_local_gbps = 2000;
  c.link_gbps = 360;
  point pt = make_point(path_kind::usp, variant_kind::fused, 16, 16, 1, 32768);
  prediction one_node = predict(pt, c);
  c.gpus_per_node = 8;
  c.inter_node_gbps = 50;
  prediction two_nodes = predict(pt, c);
  EXPECT_TRUE(two_nodes.complete);
  EXPECT_GT(two_nodes.link_us, 3 * one_node.link_us);
  EXPECT_NE(two_nodes.rests_on.find("links at 360 GB/s"), std::string::npos);
}

}  // namespace sb

namespace sb {

// Every variant runs on the counting backend (bench --kernels and plan --calibrate use it):
// peer_pull's reads of the peers' shards cross the link, pruned's pack and consumer are local.
TEST(traffic, every_variant_is_counted) {
  for (variant_kind v : {variant_kind::peer_pull, variant_kind::pruned}) {
    point pt{path_kind::usp, v, {}};
    pt.shp.tp = 8;
    pt.shp.sp_ulysses = 8;
    pt.shp.seq = 4096;
    pt.shp.vocab = 129280;
    pt.shp.hidden = 7168;
    pt.shp.consumer = consumer_kind::target_p;
    auto t = path_traffic(pt);
    if (v == variant_kind::peer_pull) {
      ASSERT_TRUE(t.count("pull"));
      EXPECT_TRUE(t["pull"].collective);
      EXPECT_GT(t["pull"].link_bytes, 0);
    } else {
      ASSERT_TRUE(t.count("pack") && t.count("consumer") && t.count("comm"));
      EXPECT_FALSE(t["pack"].collective);
      EXPECT_GT(t["consumer"].local_bytes, 0);
    }
  }
}

}  // namespace sb
