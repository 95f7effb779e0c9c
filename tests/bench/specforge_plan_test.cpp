// The `specforge` variants hold SGLang's and SpecForge's buffers, one for one: names, shapes, dtypes
// and lifetimes, for the three paths at DeepSeek-V3's shapes. The peaks above the inputs are the
// figures PyTorch's allocator gives for the real code (buffer sizes summed by hand below), and the
// arena the engine allocates is exactly the plan's peak.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "bench/engine.h"

namespace sb {

namespace {

struct expected_buffer {
  std::string name;
  dtype type;
  std::vector<std::int64_t> dims;
  std::string first, last;  // step names
};

shape deepseek(int sp, std::int64_t batch, std::int64_t seq) {
  shape s;
  s.tp = 8;
  s.sp_ulysses = sp;
  s.batch = batch;
  s.seq = seq;
  s.vocab = 129280;
  s.hidden = 7168;
  s.ttt = 7;
  return s;
}

path_plan plan_of(path_kind p, const shape& s, int rank = 0) { return make_path(p, variant_kind::specforge)->plan(s, rank); }

// Every buffer of the path's own (the usp aligned tensors and their global inputs aside) in order.
void expect_buffers(const path_plan& p, const std::vector<expected_buffer>& want) {
  std::vector<const buffer_spec*> mine;
  const std::vector<std::string> aligned{"hidden", "input_ids", "attention_mask", "loss_mask", "position_ids"};
  for (const auto& b : p.buffers)
    if (b.name.find("_global") == std::string::npos && std::find(aligned.begin(), aligned.end(), b.name) == aligned.end())
      mine.push_back(&b);
  ASSERT_EQ(mine.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const buffer_spec& b = *mine[i];
    SCOPED_TRACE(want[i].name);
    EXPECT_EQ(b.name, want[i].name);
    EXPECT_EQ(b.type, want[i].type);
    EXPECT_EQ(b.dims, want[i].dims);
    EXPECT_EQ(p.steps.at(std::size_t(b.first_step)), want[i].first);
    EXPECT_EQ(p.steps.at(std::size_t(b.last_step)), want[i].last);
  }
}

// The plan's peak minus its inputs (and the fp32 copy SGLang hands over, which the real code's
// figure counts as its input).
double peak_above_inputs(const path_plan& p) {
  std::size_t inputs = 0;
  for (const auto& b : p.buffers)
    if (b.is_input() || b.name == "logits") inputs += b.bytes();
  return double(peak_live_bytes(p.buffers) - inputs);
}

}  // namespace

TEST(specforge_plan, usp_holds_padded_send_recv_and_the_concat_of_every_sample_until_it_returns) {
  const shape s = deepseek(4, 2, 32768);  // B = P/sp = 2, Lloc = 8192 + 7
  const path_plan p = plan_of(path_kind::usp, s);
  EXPECT_EQ(p.steps, (std::vector<std::string>{"upcast", "pad", "sp_ranks", "pack", "comm", "concat", "shift", "pick", "align"}));
  expect_buffers(p, {{"input", dtype::bf16, {65536, 16160}, "upcast", "align"},
                     {"logits", dtype::fp32, {65536, 16160}, "upcast", "concat"},
                     {"padded", dtype::fp32, {2, 32768, 16160}, "pad", "concat"},
                     {"sp_rank", dtype::i64, {1}, "sp_ranks", "concat"},
                     {"sp_ranks", dtype::i64, {8, 1}, "sp_ranks", "concat"},
                     {"send", dtype::fp32, {8, 2, 8199, 16160}, "pack", "concat"},
                     {"recv", dtype::fp32, {8, 2, 8199, 16160}, "comm", "concat"},
                     {"concat", dtype::fp32, {2 * 8199, 129280}, "concat", "shift"},
                     {"shifted", dtype::fp32, {2, 8199, 129280}, "shift", "pick"},
                     {"output", dtype::fp32, {8199, 129280}, "pick", "align"}});
  // Every sample's window to every rank, in fp32, and the sp ranks' all-gather.
  EXPECT_EQ(p.bytes_sent, 7ull * 2 * 8199 * 16160 * 4 + 7 * 8);
}

TEST(specforge_plan, batch_pads_to_a_multiple_of_p_and_concats_the_local_rows) {
  const shape s = deepseek(1, 8, 4096);
  const path_plan p = plan_of(path_kind::batch, s, 3);
  EXPECT_EQ(p.steps, (std::vector<std::string>{"upcast", "pad", "comm", "concat", "local_rows", "shift"}));
  expect_buffers(p, {{"input", dtype::bf16, {32768, 16160}, "upcast", "shift"},
                     {"logits", dtype::fp32, {32768, 16160}, "upcast", "local_rows"},
                     {"padded", dtype::fp32, {8, 4096, 16160}, "pad", "local_rows"},
                     {"recv", dtype::fp32, {8, 4096, 16160}, "comm", "local_rows"},
                     {"concat", dtype::fp32, {1, 4096, 129280}, "concat", "local_rows"},
                     {"local", dtype::fp32, {4096, 129280}, "local_rows", "shift"},
                     {"output", dtype::fp32, {1, 4096, 129280}, "shift", "shift"}});
}

TEST(specforge_plan, baseline_makes_every_step_its_own_copy) {
  const shape s = deepseek(1, 8, 4096);
  const path_plan p = plan_of(path_kind::baseline, s);
  EXPECT_EQ(p.steps, (std::vector<std::string>{"comm", "reorder", "slice_upcast", "split_concat", "shift"}));
  expect_buffers(p, {{"input", dtype::bf16, {32768, 16160}, "comm", "shift"},
                     {"gathered", dtype::bf16, {8, 32768, 16160}, "comm", "reorder"},
                     {"reordered", dtype::bf16, {32768, 129280}, "reorder", "slice_upcast"},
                     {"sliced", dtype::fp32, {32768, 129280}, "slice_upcast", "split_concat"},
                     {"samples", dtype::fp32, {8, 4096, 129280}, "split_concat", "shift"},
                     {"output", dtype::fp32, {8, 4096, 129280}, "shift", "shift"}});
}

// The real code's peaks at the five shapes the comparison with PyTorch runs (docs/results.md),
// summed from its buffers: usp padded + send + recv + concat, batch padded + recv + concat + local
// rows, baseline the fp32 slice beside the split samples.
TEST(specforge_plan, peaks_above_the_inputs_are_the_real_codes) {
  const double usp8 = 1.0 * 32768 * 16160 * 4 + 3.0 * 8 * 1 * 4103 * 16160 * 4;  // 4 x 2.12 GB
  EXPECT_DOUBLE_EQ(peak_above_inputs(plan_of(path_kind::usp, deepseek(8, 1, 32768))), usp8 + 8 + 64);
  const double usp4 = 2.0 * 32768 * 16160 * 4 + 3.0 * 8 * 2 * 8199 * 16160 * 4;
  EXPECT_DOUBLE_EQ(peak_above_inputs(plan_of(path_kind::usp, deepseek(4, 2, 32768))), usp4 + 8 + 64);
  const double usp2 = 4.0 * 32768 * 16160 * 4 + 3.0 * 8 * 4 * 16391 * 16160 * 4;
  EXPECT_DOUBLE_EQ(peak_above_inputs(plan_of(path_kind::usp, deepseek(2, 4, 32768))), usp2 + 8 + 64);
  EXPECT_DOUBLE_EQ(peak_above_inputs(plan_of(path_kind::batch, deepseek(1, 8, 4096))), 4.0 * 8 * 4096 * 16160 * 4);
  EXPECT_DOUBLE_EQ(peak_above_inputs(plan_of(path_kind::baseline, deepseek(1, 8, 4096))), 2.0 * 32768 * 129280 * 4);
}

// The engine allocates one arena per rank from the plan: at these shapes its size is the plan's
// peak (tracked / predicted = 1.0000), as for the other variants.
TEST(specforge_plan, the_arena_is_the_plans_peak) {
  for (path_kind p : {path_kind::baseline, path_kind::batch, path_kind::usp})
    for (const shape& s : {deepseek(8, 1, 32768), deepseek(4, 2, 32768), deepseek(2, 4, 32768), deepseek(1, 8, 4096)}) {
      if ((p == path_kind::usp) != (s.sp() > 1)) continue;
      const path_plan pl = plan_of(p, s);
      const double ratio = double(plan_arena(pl.buffers).size) / double(peak_live_bytes(pl.buffers));
      EXPECT_NEAR(ratio, 1.0, 1e-4) << to_string(p) << " " << s.label();
    }
}

}  // namespace sb
