// The command line's contract: exit codes, one clear error line, and no results file on bad input.
#include "bench/cli.h"

#include <fmt/format.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "bench/interrupt.h"
#include "harness/report/npy.h"

namespace sb {

namespace {

struct cli_run {
  int code;
  std::string out, err;
};

cli_run run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "shardbench");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = cli_main(int(argv.size()), argv.data());
  return {code, ::testing::internal::GetCapturedStdout(), ::testing::internal::GetCapturedStderr()};
}

std::string out_file(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/cli";
  std::filesystem::create_directories(dir);
  std::string p = dir + "/" + name;
  std::filesystem::remove(p);
  std::filesystem::remove(p + "l");
  return p;
}

// Bad input: exit 2 and exactly one line naming the rule.
void expect_usage_error(const std::vector<std::string>& args, const std::string& message) {
  cli_run r = run_cli(args);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err, "shardbench: error: " + message + "\n");
}

// ... and for `run`, no results file.
void expect_config_error(std::vector<std::string> args, const std::string& message) {
  std::string out = out_file("bad.json");
  args.push_back("--out");
  args.push_back(out);
  expect_usage_error(args, message);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + "l"));
}

const std::string kSmoke = std::string(SB_SOURCE_DIR) + "/configs/smoke.yaml";

}  // namespace

TEST(cli, smoke_config_runs_on_cpu_verifies_every_point_and_writes_results) {
  std::string out = out_file("smoke.json");
  cli_run r = run_cli({"run", "--config", kSmoke, "--backend", "cpu", "--out", out});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("run points verified (all)"), std::string::npos) << r.out;
  // The first sweep a newcomer runs (tools/setup) skips nothing it did not ask for.
  EXPECT_NE(r.out.find("24 points: 24 ok; 24 of 24 run points verified (all)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("skipped"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::exists(out + "l"));  // the .jsonl beside it
}

// One shape by flags over path and variant lists: the pairs a rule excludes (baseline has no
// peer_pull) are skipped as in a sweep, not a usage error, since the other pairs are valid.
TEST(cli, a_single_shape_skips_the_pairs_a_rule_excludes) {
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "baseline,batch", "--variants", "fused,peer_pull", "--tp", "2",
                       "--batch", "2", "--seq", "16", "--vocab", "200", "--iters", "1", "--warmup", "0", "--out",
                       out_file("pairs.json")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("4 points: 3 ok, 1 skipped; 3 of 3 run points verified (all)"), std::string::npos) << r.out;
}

TEST(cli, a_flipped_output_element_exits_1_with_the_first_mismatch) {
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "usp", "--variants", "fused", "--tp", "4", "--sp-ulysses",
                       "2", "--seq", "16", "--vocab", "200", "--inject-mismatch"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("verification failed: usp/fused rank 0 buffer 'output': 1 mismatches, first at flat index"),
            std::string::npos)
      << r.err;
}

TEST(cli, plan_gives_the_deepseek_v3_figures) {
  cli_run r = run_cli({"plan", "--json", "--tp", "8", "--sp-ulysses", "8", "--batch", "1", "--seq", "32768", "--vocab",
                       "129280", "--hidden", "7168", "--variants", "fused"});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const auto& p : j) {
    std::map<std::string, std::size_t> bytes;
    for (const auto& b : p["buffers"]) bytes[b["name"]] = b["bytes"];
    if (p["path"] == "baseline") {
      EXPECT_EQ(bytes["output"], 32768ull * 129280 * 4);    // 16.9 GB fp32 [32768, 129280]
      EXPECT_EQ(bytes["gathered"], 32768ull * 129280 * 2);  // 8.5 GB bf16 gathered buffer
    }
    if (p["path"] == "usp") {
      EXPECT_EQ(bytes["output"], 4103ull * 129280 * 4);  // 2.1 GB fp32 [4103, 129280]
    }
  }
}

TEST(cli, bad_shapes_exit_2_with_the_rule) {
  expect_config_error({"run", "--backend", "cpu", "--paths", "usp", "--tp", "6", "--sp-ulysses", "4", "--vocab", "768"},
                      "usp needs tp % sp == 0, i.e. P % (U*R) == 0 (P=6, U*R=4)");
  expect_config_error({"run", "--backend", "cpu", "--paths", "usp", "--tp", "8", "--sp-ulysses", "4", "--batch", "1"},
                      "--batch: batch applies to the baseline and batch paths only (usp takes B = P/sp)");
  expect_config_error({"run", "--backend", "cpu", "--tp", "8", "--sp-ulysses", "4", "--ttt", "64", "--seq", "64"},
                      "usp needs ttt below seq (ttt=64, seq=64)");
  expect_config_error({"run", "--backend", "cpu", "--paths", "usp", "--tp", "4", "--sp-ulysses", "4", "--seq", "30"},
                      "usp needs S % sp == 0 (S=30, sp=4)");
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--tp", "3", "--vocab", "1000"},
                      "padded vocab must divide by tp: Vp % P != 0 (Vp=1024, P=3)");
  expect_config_error({"run", "--backend", "cpu", "--seq", "0"}, "--seq must be between 1 and 16777216 (got 0)");
  expect_config_error({"run", "--backend", "cpu", "--batch", "-3"}, "--batch must be between 1 and 1048576 (got -3)");
}

// Sizes past what the int32 column ids and 64-bit byte counts hold are rules too, not a crash or a
// run on wrapped sizes.
TEST(cli, sizes_past_the_representable_exit_2) {
  // Past 64 bits: refused as written (CLI11 2.1 would saturate, later versions word it their way).
  expect_config_error({"run", "--backend", "cpu", "--vocab", "99999999999999999999"},
                      "--vocab: 99999999999999999999 does not fit in a signed 64-bit integer");
  expect_config_error({"run", "--backend", "cpu", "--seed", "18446744073709551616"},
                      "--seed: 18446744073709551616 does not fit in an unsigned 64-bit integer");
  // A negative seed: CLI11 2.1 would wrap -1 to 2^64 - 1 and run on that.
  expect_config_error({"run", "--backend", "cpu", "--seed", "-1"}, "--seed: -1 is negative; it takes an unsigned 64-bit integer");
  expect_usage_error({"frontier", "--backend", "cpu", "--budget", "1GiB", "--max-seq", "-9223372036854775809"},
                     "--max-seq: -9223372036854775809 does not fit in a signed 64-bit integer");
  expect_config_error({"run", "--backend", "cpu", "--tp", "4294967296"}, "--tp: 4294967296 does not fit in a signed 32-bit integer");
  expect_config_error({"run", "--backend", "cpu", "--vocab", "9223372036854775807"},
                      "--vocab must be between 1 and 2147483647 (got 9223372036854775807)");
  expect_config_error({"run", "--backend", "cpu", "--vocab", "2147483640"},
                      "vocab padded to vocab_pad must be below 2^31 (vocab=2147483640, vocab_pad=64)");
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--tp", "2", "--batch", "1048576", "--seq", "16777216",
                       "--vocab", "2147483584"},
                      "shape too large: the bytes of B·(S+ttt)·Vp or B·(S+ttt)·hidden overflow 64 bits "
                      "(B=1048576, S=16777216, ttt=7, Vp=2147483584, hidden=4096)");
}

// An output path that cannot be a file fails before the sweep (exit 2), leaving nothing behind.
TEST(cli, an_out_path_that_names_a_folder_exits_2_before_the_run) {
  const std::string dir = ::testing::TempDir() + "/cli_outdir";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::vector<std::string> one = {"run", "--backend", "cpu", "--paths", "batch", "--tp", "2", "--seq", "16", "--vocab", "100"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = one;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expect_usage_error(with({"--out", dir}), "--out " + dir + ": is a folder; only a regular file may be replaced");
  expect_usage_error(with({"--out", dir + "/sub/"}), "--out " + dir + "/sub/: names a folder; give a file name");
  expect_usage_error({"frontier", "--backend", "cpu", "--budget", "1GiB", "--out", dir},
                     "--out " + dir + ": is a folder; only a regular file may be replaced");
  expect_usage_error(with({"--trace", dir}), "--trace " + dir + ": is a folder; only a regular file may be replaced");
  std::ofstream(dir + "/file") << "x";
  expect_usage_error(with({"--dump", dir + "/file"}), "--dump " + dir + "/file: exists and is not a folder");
  expect_usage_error(with({"--out", dir + "/file/r.json"}),
                     "--out " + dir + "/file/r.json: cannot be examined (Not a directory); only a regular file may be replaced");
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(::testing::TempDir() + "/cli_outdir")) left.push_back(e.path().string());
  EXPECT_EQ(left, std::vector<std::string>{dir + "/file"});
  EXPECT_FALSE(std::filesystem::exists(dir + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(dir + ".jsonl"));
}

TEST(cli, repeated_list_values_and_counts_past_the_bound_exit_2) {
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch,usp,batch"}, "--paths lists the same value twice");
  expect_config_error({"run", "--backend", "cpu", "--variants", "fused,fused"}, "--variants lists the same value twice");
  expect_config_error({"run", "--backend", "cpu", "--dtype", "bf16,fp32,bf16"}, "--dtype lists the same value twice");
  expect_config_error({"run", "--backend", "cpu", "--iters", "2000000"}, "iters must be between 1 and 1000000 (got 2000000)");
  expect_config_error({"run", "--backend", "cpu", "--warmup", "2000000"}, "warmup must be between 0 and 1000000 (got 2000000)");
}

TEST(cli, empty_items_in_a_comma_list_exit_2) {  // "," had run a sweep of no points and exited 0
  expect_config_error({"run", "--backend", "cpu", "--paths", ","}, "--paths ',': an empty item in the comma list");
  expect_config_error({"run", "--backend", "cpu", "--variants", "fused,,pruned"},
                      "--variants 'fused,,pruned': an empty item in the comma list");
  expect_config_error({"run", "--backend", "cpu", "--dtype", "bf16,"}, "--dtype 'bf16,': an empty item in the comma list");
  expect_config_error({"run", "--backend", "cpu", "--t2d", " , uniform"}, "--t2d ' , uniform': an empty item in the comma list");
}

// A sweep whose every point breaks a rule had run, skipped them all and exited 0.
TEST(cli, a_sweep_with_no_point_that_can_run_exits_2) {
  const std::string cfg = ::testing::TempDir() + "/all_skipped.yaml";
  std::ofstream(cfg) << "paths: [baseline]\nvariants: [pruned]\n";
  expect_config_error({"run", "--backend", "cpu", "--config", cfg}, "variant pruned applies to the batch and usp paths only");
  expect_usage_error({"plan", "--config", cfg}, "variant pruned applies to the batch and usp paths only");
  // One point that can run among the skips is a sweep.
  std::ofstream(cfg) << "paths: [baseline, batch]\nvariants: [pruned]\nconsumer: target_p\n"
                        "sweep: {tp: [2], batch: [2], seq: [8], vocab: [64], hidden: [2]}\ndraft_vocab: 16\n";
  cli_run r = run_cli({"run", "--backend", "cpu", "--config", cfg});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 points: 1 ok, 1 skipped"), std::string::npos) << r.out;
}

TEST(cli, unknown_names_exit_2) {
  expect_config_error({"run", "--backend", "cpu", "--paths", "ring"}, "unknown path 'ring' (expected one of: baseline, batch, usp)");
  expect_config_error({"run", "--backend", "cpu", "--variants", "fast"},
                      "unknown variant 'fast' (expected one of: specforge, fused, peer_pull, pruned)");
  expect_config_error({"run", "--backend", "cpu", "--dtype", "fp8"}, "unknown dtype 'fp8' (expected one of: bf16, fp16, fp32)");
  expect_config_error({"run", "--backend", "tpu"}, "unknown backend 'tpu' (expected one of: auto, cpu, local, nccl)");
  expect_config_error({"run", "--backend", "cpu", "--a2a", "ring"}, "unknown --a2a 'ring' (expected auto, alltoall or sendrecv)");
  expect_config_error({"run", "--backend", "cpu", "--emulate", "two"}, "unknown --emulate 'two' (expected all or one)");
  expect_config_error({"run", "--backend", "cpu", "--emulate", "one"}, "--emulate one needs the local backend");
  expect_config_error({"run", "--backend", "cpu", "--timeout", "0"}, "--timeout must be positive (got 0)");
  expect_config_error({"run", "--backend", "cpu", "--consumer", "logits"}, "unknown consumer 'logits' (expected one of: none, target_p)");
  expect_config_error({"run", "--backend", "cpu", "--t2d", "zipf"}, "unknown t2d 'zipf' (expected one of: uniform, skewed)");
  // Invalid single points are usage errors naming the rule.
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--variants", "pruned", "--tp", "2", "--batch", "2"},
                      "variant pruned needs the consumer stage (--consumer target_p): its outputs are target_p and position_mask");
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--consumer", "target_p", "--vocab", "100", "--tp", "2"},
                      "draft_vocab must be in [1, vocab] (Vd=32000, V=100)");
}

TEST(cli, bad_config_files_exit_2) {
  expect_config_error({"run", "--config", "/nonexistent.yaml"}, "/nonexistent.yaml: cannot read the config file");
  std::string bad = ::testing::TempDir() + "/bad.yaml";
  std::ofstream(bad) << "name: x\nsweep:\n  seqq: [1]\n";
  expect_config_error({"run", "--config", bad},
                      bad + ":3: unknown key 'seqq' in sweep (known: batch, dtype, hidden, seq, sp, t2d, tp, ttt, vocab, vocab_pad)");
  std::ofstream(bad) << "name: [x\n";
  expect_config_error({"run", "--config", bad}, bad + ":2: malformed YAML: end of sequence flow not found");
}

TEST(cli, cupti_on_the_cpu_backend_exits_2) {
  expect_config_error({"run", "--backend", "cpu", "--config", kSmoke, "--cupti"},
                      "--cupti and --trace need a GPU backend (local or nccl)");
}

TEST(cli, gate_on_the_cpu_backend_exits_2) {
  const std::string message = "--gate holds a GPU stream behind a gate kernel: it needs the local or nccl backend";
  expect_config_error({"run", "--backend", "cpu", "--config", kSmoke, "--gate"}, message);
  expect_usage_error({"bench", "--backend", "cpu", "--config", kSmoke, "--gate"}, message);
}

// The cpu backend has no launch queue to hold: its points say so.
TEST(cli, results_of_an_ungated_run_say_launch_gate_off) {
  std::string out = out_file("ungated.json");
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "batch", "--variants", "fused", "--tp", "2", "--seq", "64",
                       "--vocab", "1000", "--iters", "2", "--warmup", "0", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j;
  std::ifstream(out) >> j;
  ASSERT_FALSE(j["points"].empty());
  for (const auto& p : j["points"]) EXPECT_EQ(p["launch_gate"], "off") << p.dump();
}

TEST(cli, unknown_flags_exit_2) {
  cli_run r = run_cli({"run", "--frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("shardbench: error: ", 0), 0u);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(cli, dump_writes_numpy_files_per_rank) {
  std::string dir = ::testing::TempDir() + "/dump";
  std::filesystem::remove_all(dir);
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "usp", "--variants", "fused", "--tp", "2", "--sp-ulysses", "2",
                       "--seq", "8", "--vocab", "64", "--hidden", "2", "--ttt", "3", "--dump", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* n : {"input", "output", "hidden", "input_ids", "attention_mask", "loss_mask", "position_ids"})
    for (int rank : {0, 1})
      EXPECT_TRUE(std::filesystem::exists(dir + "/usp_fused_bf16_r" + std::to_string(rank) + "_" + n + ".npy")) << n;
}

// A dump holds each output at its path's full shape, whatever the sample count: [n_r, S, Vp] for
// batch (n_r = 1 here, and 0 on the last rank), [B, S, V] for the baseline at B = 1.
TEST(cli, dump_keeps_the_sample_dimension_of_one) {
  std::string dir = ::testing::TempDir() + "/dump_dims";
  std::filesystem::remove_all(dir);
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "baseline,batch", "--variants", "specforge,fused", "--tp", "4",
                       "--batch", "3", "--seq", "8", "--vocab", "100", "--dump", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* v : {"specforge", "fused"}) {
    EXPECT_EQ(read_npy(fmt::format("{}/batch_{}_bf16_r0_output.npy", dir, v)).shape, (std::vector<std::int64_t>{1, 8, 128}));
    EXPECT_EQ(read_npy(fmt::format("{}/batch_{}_bf16_r3_output.npy", dir, v)).shape, (std::vector<std::int64_t>{0, 8, 128}));
    EXPECT_EQ(read_npy(fmt::format("{}/baseline_{}_bf16_r0_output.npy", dir, v)).shape, (std::vector<std::int64_t>{3, 8, 100}));
    EXPECT_EQ(read_npy(fmt::format("{}/batch_{}_bf16_r0_input.npy", dir, v)).shape, (std::vector<std::int64_t>{24, 32}));
  }
  std::filesystem::remove_all(dir);
  r = run_cli({"run", "--backend", "cpu", "--paths", "baseline", "--tp", "2", "--batch", "1", "--seq", "8", "--vocab", "100",
               "--dump", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_npy(dir + "/baseline_fused_bf16_r1_output.npy").shape, (std::vector<std::int64_t>{1, 8, 100}));
}

}  // namespace sb

namespace sb {

// The frontier's search with real allocations under a cap agrees with the plan's analytic answer,
// and sequence parallelism reaches further than the all-gather.
TEST(cli, frontier_search_matches_the_plan_and_usp_goes_furthest) {
  const std::string out = ::testing::TempDir() + "/frontier.json";
  cli_run r = run_cli({"frontier", "--backend", "cpu", "--tp", "4", "--sp-ulysses", "4", "--vocab", "1000", "--hidden",
                       "4", "--budget", "8MiB", "--reserve", "1MiB", "--seq-step", "64", "--max-seq", "65536", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["schema"], "shardbench.frontier/1");
  std::map<std::string, std::int64_t> seq;
  for (const auto& p : j["frontier"]) {
    EXPECT_EQ(p["measured_seq"], p["predicted_seq"]) << p["path"] << "/" << p["variant"];
    EXPECT_GT(p["measured_seq"].get<std::int64_t>(), 0);
    seq[p["path"].get<std::string>() + "/" + p["variant"].get<std::string>()] = p["measured_seq"];
  }
  EXPECT_GT(seq["usp/fused"], seq["baseline/fused"]);
  EXPECT_GE(seq["baseline/fused"], seq["baseline/specforge"]);
  EXPECT_EQ(r.out.find("(+: still fits"), std::string::npos) << "no point is capped, so no legend for '+'";
}

// With room to spare the search reaches --max-seq itself (its largest multiple of lcm(step, sp)),
// not the last power-of-two multiple below it, before it calls the point capped.
TEST(cli, frontier_that_never_runs_out_reaches_max_seq) {
  const std::string out = ::testing::TempDir() + "/frontier_capped.json";
  cli_run r = run_cli({"frontier", "--backend", "cpu", "--paths", "usp", "--variants", "fused", "--tp", "4", "--sp-ulysses", "4",
                       "--vocab", "1000", "--hidden", "4", "--budget", "64MiB", "--seq-step", "3", "--max-seq", "310", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out);
  const nlohmann::json p = nlohmann::json::parse(f)["frontier"].at(0);
  EXPECT_EQ(p["measured_seq"], 300);  // 12·25: the largest multiple of lcm(3, 4) <= 310; 192 before
  EXPECT_EQ(p["predicted_seq"], 300);
  EXPECT_TRUE(p["capped_at_max_seq"].get<bool>());
  EXPECT_NE(r.out.find("(+: still fits at --max-seq)"), std::string::npos);
}

// A variant that cannot run on a path (peer_pull on the baseline) has no frontier: it is named
// below the table, not listed with a length of 0.
TEST(cli, frontier_names_the_variants_it_cannot_search) {
  const std::string out = ::testing::TempDir() + "/frontier_rules.json";
  cli_run r = run_cli({"frontier", "--predict-only", "--backend", "cpu", "--paths", "baseline,batch", "--variants",
                       "fused,peer_pull", "--tp", "4", "--vocab", "1000", "--hidden", "4", "--budget", "8MiB", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("not searched: baseline/peer_pull: variant peer_pull applies to the batch and usp paths only"),
            std::string::npos) << r.out;
  std::ifstream f(out);
  const nlohmann::json doc = nlohmann::json::parse(f);
  std::vector<std::string> rows;
  for (const auto& p : doc["frontier"]) {
    rows.push_back(p["path"].get<std::string>() + "/" + p["variant"].get<std::string>());
    EXPECT_GT(p["predicted_seq"].get<std::int64_t>(), 0) << rows.back();
  }
  EXPECT_EQ(rows, (std::vector<std::string>{"baseline/fused", "batch/fused", "batch/peer_pull"}));
}

TEST(cli, more_bad_flags_exit_2) {
  expect_config_error({"run", "--backend", "cpu", "--memory-cap", "-1"}, "--memory-cap must be non-negative");
  expect_config_error({"run", "--backend", "cpu", "--memory-cap", "nan"}, "--memory-cap must be non-negative");
  expect_config_error({"run", "--backend", "cpu", "--emulated-rank", "3"}, "--emulated-rank needs --emulate one");
  expect_config_error({"run", "--backend", "cpu", "--memory-cap", "1e30"}, "--memory-cap must be at most 4294967296 GiB (got 1e+30)");
  expect_config_error({"run", "--backend", "cpu", "--timeout", "nan"}, "--timeout must be positive (got nan)");
  expect_config_error({"run", "--backend", "cpu", "--timeout", "1e300"}, "--timeout must be at most 10000000 seconds (got 1e+300)");
  expect_config_error({"frontier", "--backend", "cpu", "--budget", "1e30GiB"}, "--budget must be a size like 80GiB (got '1e30GiB')");
  expect_config_error({"frontier", "--backend", "cpu", "--budget", "1GiB", "--reserve", "nanGiB"},
                      "--reserve must be a size like 80GiB (got 'nanGiB')");
  expect_config_error({"run", "--backend", "cpu", "--warmup-ms", "-1"}, "warmup-ms must be between 0 and 60000 (got -1)");
  expect_usage_error({"bench", "--backend", "cpu", "--kernels"}, "bench --kernels needs a GPU backend (local)");
  expect_usage_error({"bench", "--backend", "cpu", "--kernels", "--collectives"},
                     "bench: --kernels and --collectives are separate runs (give one)");
  expect_usage_error({"plan", "--calibrate", "/nonexistent.json"}, "/nonexistent.json: cannot read the results file");
  expect_usage_error({"plan", "--calibrate", ::testing::TempDir()}, ::testing::TempDir() + ": is a directory, not a results file");
  // The calibration's options without --calibrate had been ignored: one line naming both (CLI11's words).
  for (const char* opt : {"--hold-out", "--link-gbps", "--inter-node-gbps", "--gpus-per-node"}) {
    cli_run r = run_cli({"plan", opt, "4"});
    EXPECT_EQ(r.code, 2) << opt;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(opt), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("requires --calibrate"), std::string::npos) << r.err;
  }
  std::string bad = ::testing::TempDir() + "/notresults.json";
  std::ofstream(bad) << "{\"schema\": \"other\"}";
  expect_usage_error({"plan", "--calibrate", bad}, bad + ": not a shardbench.result/1 file");
  // A result file cut short or edited by hand: the file and the point, in our words.
  const std::string nopoints = ::testing::TempDir() + "/nopoints.json";
  std::ofstream(nopoints) << "{\"schema\": \"shardbench.result/1\"}";
  expect_usage_error({"plan", "--calibrate", nopoints}, nopoints + ": has no 'points' list");
  const std::string nopath = ::testing::TempDir() + "/nopath.json";
  std::ofstream(nopath) << "{\"schema\": \"shardbench.result/1\", \"points\": [{\"status\": \"ok\"}]}";
  expect_usage_error({"plan", "--calibrate", nopath}, nopath + ": point 0: key 'path' not found");
  const std::string baddtype = ::testing::TempDir() + "/baddtype.json";
  std::ofstream(baddtype) << "{\"schema\": \"shardbench.result/1\", \"points\": [{\"path\": \"usp\", \"variant\": \"fused\", \"dtype\": \"bf17\"}]}";
  expect_usage_error({"plan", "--calibrate", baddtype}, baddtype + ": point 0: unknown dtype 'bf17' (expected one of: bf16, fp16, fp32)");

  // A calibration with nothing left to calibrate from, and rates that cannot be.
  const std::string nightly = std::string(SB_SOURCE_DIR) + "/tests/tools/data/h100_nightly_a.json";
  const std::string empty = ::testing::TempDir() + "/empty_results.json";
  std::ofstream(empty) << "{\"schema\": \"shardbench.result/1\", \"env\": {}, \"config\": {}, \"points\": []}";
  expect_usage_error({"plan", "--calibrate", empty}, empty + " has no measured point to calibrate from");
  expect_usage_error({"plan", "--calibrate", nightly, "--hold-out", "bf16"},
                     nightly + " has no measured point outside --hold-out 'bf16' to calibrate from");
  expect_usage_error({"plan", "--calibrate", nightly, "--hold-out", "s99"}, "--hold-out 's99' matches no measured point of " + nightly);
  expect_usage_error({"plan", "--calibrate", nightly, "--link-gbps", "-5"},
                     "--link-gbps and --inter-node-gbps must be non-negative (got -5 and 0)");
  expect_usage_error({"plan", "--calibrate", nightly, "--gpus-per-node", "0"}, "--gpus-per-node must be positive (got 0)");
  expect_config_error({"run", "--backend", "cpu", "--t2d", "uniform,uniform"}, "--t2d lists the same value twice");
  // Google Benchmark's flags whose bad values it would answer with exit 0 or a late exit 1.
  expect_usage_error({"bench", "--backend", "cpu", "--benchmark_format=xml"}, "--benchmark_format must be console, json or csv (got 'xml')");
  expect_usage_error({"bench", "--backend", "cpu", "--benchmark_filter=["}, "--benchmark_filter '[' is not a regular expression");
  expect_usage_error({"bench", "--backend", "cpu", "--benchmark_time_unit=xs"}, "--benchmark_time_unit must be ns, us, ms or s (got 'xs')");
  for (const char* n : {"0", "-2", "1.5", "x", "1000001"})
    expect_usage_error({"bench", "--backend", "cpu", std::string("--benchmark_repetitions=") + n},
                       std::string("--benchmark_repetitions must be an integer from 1 to 1000000 (got '") + n + "')");
  expect_usage_error({"bench", "--backend", "cpu", "--benchmark_filter=-usp("}, "--benchmark_filter '-usp(' is not a regular expression");
  expect_usage_error({"bench", "--backend", "cpu", "--benchmark_out=" + ::testing::TempDir()},
                     "--benchmark_out " + ::testing::TempDir() + ": names a folder; give a file name");
}

TEST(cli, frontier_bad_sizes_exit_2) {
  expect_config_error({"frontier", "--backend", "cpu", "--budget", "lots"}, "--budget must be a size like 80GiB (got 'lots')");
  expect_config_error({"frontier", "--backend", "cpu"}, "frontier needs --budget here (no GPU to take it from)");
  expect_config_error({"frontier", "--backend", "cpu", "--budget", "1GiB", "--reserve", "2GiB"},
                      "--reserve must be smaller than the budget");
}

}  // namespace sb

namespace sb {

namespace {
const std::string kTmp = ::testing::TempDir() + "/cli36";

std::string fresh(const std::string& name) {
  const std::string dir = kTmp + "/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A sweep of many small cpu points, long enough to be stopped in the middle.
std::vector<std::string> long_sweep(const std::string& out) {
  return {"run", "--backend", "cpu", "--paths", "batch", "--variants", "fused", "--tp", "2", "--batch", "2", "--seq", "256",
          "--vocab", "4000", "--dtype", "bf16,fp16,fp32", "--iters", "400", "--warmup", "0", "--out", out};
}

// Sends sig to this process once the .jsonl has its first point (the run's handlers are in place).
std::thread signal_after_first_point(const std::string& jsonl, int sig) {
  return std::thread([jsonl, sig] {
    for (int i = 0; i < 6000; ++i) {
      std::ifstream in(jsonl);
      std::string line;
      if (std::getline(in, line) && !line.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(::getpid(), sig);
  });
}
}  // namespace

// Outputs are checked before the first point: only a regular file or nothing is replaced.
TEST(cli, outputs_that_cannot_be_replaced_exit_2_before_the_run) {
  const std::string dir = fresh("outputs");
  const std::vector<std::string> point{"run", "--backend", "cpu", "--paths", "batch", "--tp", "2", "--seq", "8", "--vocab", "100"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = point;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  expect_usage_error(with({"--out", "/dev/null"}), "--out /dev/null: is a device; only a regular file may be replaced");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  expect_usage_error(with({"--out", dir + "/x.jsonl"}),
                     "--out " + dir + "/x.jsonl: the per-point file would be the results file itself; name the results *.json");
  std::ofstream(dir + "/c.yaml") << "name: c\npaths: [batch]\nsweep:\n  tp: [2]\n  seq: [8]\n  vocab: [100]\n";
  expect_usage_error({"run", "--backend", "cpu", "--config", dir + "/c.yaml", "--out", dir + "/c.yaml"},
                     "--out " + dir + "/c.yaml: is the config this run reads");
  EXPECT_EQ(run_cli(with({"--dump", "/proc/self/npy"})).code, 2);
  expect_usage_error(with({"--out", dir + "/r.json", "--trace", dir + "/r.jsonl"}),
                     "--out's per-point file and --trace name the same file " + dir + "/r.jsonl");
  cli_run r = run_cli({"bench", "--backend", "cpu", "--paths", "batch", "--tp", "2", "--seq", "8", "--vocab", "100",
                       "--benchmark_out=/proc/x.json"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("shardbench: error: --benchmark_out /proc/x.json: ", 0), 0u) << r.err;
}

// SIGINT and SIGTERM stop the run after the point in flight is abandoned: the finished points are
// written, marked interrupted, with one line and exit 128 + the signal.
TEST(cli, a_signal_writes_the_finished_points_and_exits_128_plus_it) {
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string dir = fresh(sig == SIGINT ? "sigint" : "sigterm");
    std::thread sender = signal_after_first_point(dir + "/r.jsonl", sig);
    cli_run r = run_cli(long_sweep(dir + "/r.json"));
    sender.join();
    EXPECT_EQ(r.code, 128 + sig) << r.err;
    const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    EXPECT_EQ(r.err.rfind("shardbench: interrupted by " + name + ": point batch/fused", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    std::ifstream in(dir + "/r.json");
    const nlohmann::json doc = nlohmann::json::parse(in);
    EXPECT_EQ(doc["interrupted"]["signal"], name);
    EXPECT_GE(doc["points"].size(), 1u);
    EXPECT_LT(doc["points"].size(), 3u);
    for (const auto& p : doc["points"]) EXPECT_EQ(p["status"], "ok");
  }
}

// A second signal does not wait for the run to wind down.
TEST(cli, a_second_signal_exits_at_once) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    interrupt_watch w;
    ::raise(SIGTERM);  // the first: noted
    if (w.taken() != SIGTERM) ::_exit(1);
    ::raise(SIGINT);  // the second: out at once, 128 + SIGINT
    ::_exit(2);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
}

// A run in which no point verified (every one ran out of memory) is not a pass.
TEST(cli, a_run_where_nothing_verified_exits_4) {
  cli_run r = run_cli({"run", "--backend", "cpu", "--paths", "batch", "--tp", "2", "--seq", "64", "--vocab", "1000",
                       "--memory-cap", "0.000001"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(r.err, "shardbench: no point verified: 2 ran out of memory, 0 skipped\n");
}

// Nonsense is refused with one line: values no asked-for point uses, empty values, sizes past the
// documented bounds, sweeps past the point bound (before anything is expanded).
TEST(cli, nonsense_exits_2_with_one_line) {
  expect_config_error({"run", "--backend", "cpu", "--ttt", "1000", "--seq", "64"}, "usp needs ttt below seq (ttt=1000, seq=64)");
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--sp-ulysses", "2"},
                      "--sp-ulysses: sp applies to the usp path only, and no usp point is asked for");
  expect_config_error({"run", "--backend", "cpu", "--paths", "batch", "--ttt", "3"},
                      "--ttt: ttt applies to the usp path only, and no usp point is asked for");
  expect_config_error({"run", "--backend", "cpu", "--draft-vocab", "5"},
                      "--draft-vocab: draft_vocab applies with a consumer stage only (consumer target_p)");
  expect_config_error({"run", "--backend", "cpu", "--t2d", "skewed"}, "--t2d: t2d applies with a consumer stage only (consumer target_p)");
  expect_config_error({"run", "--backend", "cpu", "--tp", ""}, "--tp: empty value");
  expect_config_error({"run", "--backend", "cpu", "--tp=", "2"}, "--tp: empty value");
  expect_usage_error({"run", "--backend", "cpu", "--tp", "2", "--out", ""}, "--out: empty value");
  expect_config_error({"run", "--backend", "cpu", "--tp", "100000"}, "--tp must be between 1 and 1024 (got 100000)");
  expect_config_error({"run", "--backend", "cpu", "--tp", "2147483647"}, "--tp must be between 1 and 1024 (got 2147483647)");
  const std::string dir = fresh("nonsense");
  std::string values = "[";
  for (int i = 1; i <= 100; ++i) values += std::to_string(i * 64) + (i < 100 ? ", " : "]");
  std::ofstream(dir + "/big.yaml") << "paths: [batch]\nsweep:\n  seq: " << values << "\n  vocab: " << values << "\n  hidden: "
                                   << values << "\n  batch: " << values << "\n  vocab_pad: " << values << "\n";
  const auto t0 = std::chrono::steady_clock::now();
  expect_config_error({"run", "--backend", "cpu", "--config", dir + "/big.yaml"},
                      "the sweep has 20000000000 points; a run takes at most 100000 (split it into several runs)");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  std::ofstream(dir + "/axes.yaml") << "paths: [usp]\nsweep:\n  batch: [1, 2]\n";
  expect_config_error({"run", "--backend", "cpu", "--config", dir + "/axes.yaml"},
                      dir + "/axes.yaml: batch applies to the baseline and batch paths only (usp takes B = P/sp)");
}

}  // namespace sb
