#include "harness/report/config.h"

#include <gtest/gtest.h>

#include <chrono>

#include <filesystem>

#include "harness/core/error.h"

namespace sb {

namespace {
std::string error_of(const std::string& yaml) {
  try {
    parse_config(yaml, "t.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(config, every_shipped_config_parses_and_expands) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(std::string(SB_SOURCE_DIR) + "/configs")) {
    if (f.path().extension() != ".yaml") continue;
    run_config c = load_config(f.path().string());
    EXPECT_FALSE(expand(c).empty()) << f.path();
    for (const auto& p : expand(c)) {
      try {
        validate(p.shp, p.path, p.variant);
        ++n;
      } catch (const config_error&) {  // invalid combinations are skipped points, not errors
      }
    }
  }
  EXPECT_GT(n, 100);
}

TEST(config, full_example_from_the_interface) {
  run_config c = parse_config(R"(
name: smoke
backend: auto
seed: 1
iters: 20
warmup: 5
paths: [baseline, batch, usp]
variants: [specforge, fused]
sweep:
  dtype: [bf16, fp32]
  tp: [1, 2, 4, 8]
  sp: [{ulysses: 1, ring: 1}, {ulysses: 2, ring: 1}, {ulysses: 4, ring: 2}]
  batch: [1, 8]
  seq: [1024, 4096]
  vocab: [32000, 129280]
  hidden: [4096]
  ttt: [7]
)", "t.yaml");
  EXPECT_EQ(c.iters, 20);
  EXPECT_EQ(c.sweep.sp.size(), 3u);
  EXPECT_EQ(c.sweep.sp[2].ulysses, 4);
  EXPECT_EQ(c.sweep.sp[2].ring, 2);
  // per (dtype, tp, seq, vocab): over the 2 batch values, baseline 2 + batch 2 variants; usp 3 sp
  // layouts x 2 variants once (its batch is P/sp)
  auto pts = expand(c);
  EXPECT_EQ(pts.size(), 2u * 4 * 2 * 2 * (2 * (2 + 2) + 6));
  EXPECT_EQ(count_points(c), std::int64_t(pts.size()));
  EXPECT_EQ(pts[0].path, path_kind::baseline);  // baseline first in each shape group
}

TEST(config, malformed_yaml_names_the_line) {
  EXPECT_EQ(error_of("name: [unclosed\n"), "t.yaml:2: malformed YAML: end of sequence flow not found");
}

TEST(config, unknown_keys_are_errors) {
  EXPECT_EQ(error_of("nmae: x\n"),
            "t.yaml:1: unknown key 'nmae' in the config (known: backend, consumer, draft_vocab, emulate, iters, name, "
            "paths, seed, sweep, variants, warmup, warmup_ms)");
  EXPECT_EQ(error_of("sweep:\n  seqlen: [1]\n").rfind("t.yaml:2: unknown key 'seqlen' in sweep", 0), 0u);
  // yaml-cpp keeps a repeated key's two entries and finds the first: the second was ignored.
  EXPECT_EQ(error_of("sweep:\n  seq: [16]\n  seq: [32]\n"), "t.yaml:3: key 'seq' appears twice in sweep");
  EXPECT_EQ(error_of("iters: 2\niters: 3\n"), "t.yaml:2: key 'iters' appears twice in the config");
  EXPECT_EQ(error_of("backend: gpu\n"), "t.yaml:1: unknown backend 'gpu' (expected one of: auto, cpu, local, nccl)");
  EXPECT_EQ(error_of("sweep:\n  sp: [{ulysses: 2, rings: 1}]\n").rfind("t.yaml:2: unknown key 'rings' in sweep.sp", 0), 0u);
}

TEST(config, unknown_names_and_bad_values) {
  EXPECT_EQ(error_of("paths: [baseline, ring]\n"),
            "t.yaml:1: unknown path 'ring' (expected one of: baseline, batch, usp)");
  EXPECT_EQ(error_of("variants: [fast]\n"), "t.yaml:1: unknown variant 'fast' (expected one of: specforge, fused, peer_pull, pruned)");
  EXPECT_EQ(error_of("sweep:\n  dtype: [fp8]\n"), "t.yaml:2: unknown dtype 'fp8' (expected one of: bf16, fp16, fp32)");
  EXPECT_EQ(error_of("sweep:\n  seq: [0]\n"), "t.yaml:2: seq must be positive (got 0)");
  EXPECT_EQ(error_of("sweep:\n  tp: [-2]\n"), "t.yaml:2: tp must be positive (got -2)");
  EXPECT_EQ(error_of("sweep:\n  seq: [abc]\n"), "t.yaml:2: seq has the wrong type");
  EXPECT_EQ(error_of("iters: 0\n"), "t.yaml:1: iters must be positive (got 0)");
  EXPECT_EQ(error_of(""), "t.yaml: empty config");
  EXPECT_EQ(error_of("emulate: some\n"), "t.yaml:1: unknown emulate 'some' (expected all or one)");
  EXPECT_EQ(error_of("consumer: logits\n"), "t.yaml:1: unknown consumer 'logits' (expected one of: none, target_p)");
  EXPECT_EQ(error_of("draft_vocab: 0\n"), "t.yaml:1: draft_vocab must be positive (got 0)");
  EXPECT_EQ(error_of("sweep:\n  t2d: [zipf]\n"), "t.yaml:2: unknown t2d 'zipf' (expected one of: uniform, skewed)");
  EXPECT_EQ(error_of("warmup_ms: -5\n"), "t.yaml:1: warmup_ms must be between 0 and 60000 (got -5)");
  EXPECT_EQ(error_of("warmup_ms: 1e9\n"), "t.yaml:1: warmup_ms must be between 0 and 60000 (got 1000000000)");
  EXPECT_EQ(error_of("warmup_ms: soon\n"), "t.yaml:1: warmup_ms has the wrong type");
  // A name where a list or a map stands: located once (it had read "t.yaml:1: t.yaml:1: ...").
  EXPECT_EQ(error_of("paths: {x: 1}\n"), "t.yaml:1: paths has the wrong type");
  EXPECT_EQ(error_of("variants: [[fused]]\n"), "t.yaml:1: variants has the wrong type");
  EXPECT_EQ(error_of("consumer: [target_p]\n"), "t.yaml:1: consumer has the wrong type");
  EXPECT_EQ(error_of("sweep:\n  dtype: [{a: 1}]\n"), "t.yaml:2: dtype has the wrong type");
  EXPECT_EQ(error_of("sweep:\n  t2d: {a: 1}\n"), "t.yaml:2: t2d has the wrong type");
}

// A value named twice would run and record the same point twice; ints past what their fields
// hold would wrap (tp 2^32 + 2 ran as tp 2).
TEST(config, repeated_values_and_values_past_their_fields_are_errors) {
  EXPECT_EQ(error_of("paths: [batch, usp, batch]\n"), "t.yaml:1: paths lists the same value twice");
  EXPECT_EQ(error_of("sweep:\n  tp: [2, 4,\n    2]\n"), "t.yaml:3: tp lists the same value twice");
  EXPECT_EQ(error_of("sweep:\n  sp: [{ulysses: 2}, {ulysses: 2, ring: 1}]\n"), "t.yaml:2: sp lists the same value twice");
  EXPECT_EQ(error_of("sweep:\n  tp: [4294967298]\n"), "t.yaml:2: tp must be at most 1024 (got 4294967298)");
  EXPECT_EQ(error_of("sweep:\n  sp: [{ulysses: 4294967298}]\n"),
            "t.yaml:2: sp.ulysses and sp.ring must be between 1 and 1024 (got 4294967298x1)");
  EXPECT_EQ(error_of("iters: 4294967297\n"), "t.yaml:1: iters must be at most 1000000 (got 4294967297)");
  EXPECT_EQ(error_of("warmup: 99999999999999\n"), "t.yaml:1: warmup must be at most 1000000 (got 99999999999999)");
  EXPECT_EQ(error_of("sweep:\n  dtype: [bf16, fp32]\n  tp: [1, 2]\n"), "");
  EXPECT_EQ(error_of("iters: [3, 4]\n"), "t.yaml:1: iters must be one number");
  EXPECT_EQ(error_of("draft_vocab: [100]\n"), "t.yaml:1: draft_vocab must be one number");
  EXPECT_EQ(error_of("[a]: 1\n"), "t.yaml:1: a key in the config must be a name");
  EXPECT_EQ(error_of("sweep:\n  {tp: 1}: 2\n"), "t.yaml:2: a key in sweep must be a name");
}

TEST(config, warmup_ms_defaults_to_the_count_alone) {
  EXPECT_EQ(parse_config("iters: 2\n", "t.yaml").warmup_ms, 0.0);
  EXPECT_EQ(parse_config("warmup_ms: 250\n", "t.yaml").warmup_ms, 250.0);
}

TEST(config, unreadable_file) {
  try {
    load_config("/nonexistent/x.yaml");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/x.yaml: cannot read the config file");
  }
}

TEST(config, a_directory_is_not_an_empty_config) {
  const std::string dir = ::testing::TempDir();
  try {
    load_config(dir);
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()), dir + ": is a directory, not a config file");
  }
}

// A list of millions is checked for repeats in a moment (it had been quadratic: 100 000 items took
// 6.4 s), and the repeat found is the first one.
TEST(config, repeats_in_a_long_list_are_found_in_n_log_n) {
  std::vector<std::int64_t> v(2000000);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::int64_t(v.size() - i);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(first_repeat(v));
  v.push_back(17);
  v.push_back(5);
  EXPECT_EQ(first_repeat(v), std::optional<std::size_t>(v.size() - 2));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
  EXPECT_EQ(first_repeat(std::vector<sp_layout>{{2, 1}, {1, 2}, {2, 1}}), std::optional<std::size_t>(2));
}

}  // namespace sb
