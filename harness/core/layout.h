// Layout math of the three paths: which global tokens and vocab columns each rank holds before and
// after, per ../docs/semantics.md. Everything here is pure arithmetic on a validated shape.
#pragma once
#include <cstdint>

#include "harness/core/layout_ops.h"
#include "harness/core/shape.h"

namespace sb {

// ---- batch path ------------------------------------------------------------------------------
// Samples are dealt in contiguous blocks of spr = ceil(B/P); the last ranks may own fewer or none.
std::int64_t batch_samples_per_rank(const shape& s);  // spr
std::int64_t batch_first_sample(const shape& s, int rank);
std::int64_t batch_num_samples(const shape& s, int rank);  // n_r, possibly 0

// ---- usp path --------------------------------------------------------------------------------
struct usp_role {
  int sp_rank = 0;       // s = r mod sp
  int ulysses_rank = 0;  // u = s mod U (Ulysses is the low dimension)
  int ring_rank = 0;     // q = s div U
  int dp_rank = 0;       // d = r div sp; the rank trains on sample b = d
  std::int64_t sample = 0;
  std::int64_t chunk = 0;       // C = S / sp
  std::int64_t window = 0;      // Lloc = C + ttt
  std::int64_t first_token = 0; // s·C, within the sample
  std::int64_t valid_rows = 0;  // rows of the window inside the sample: min(Lloc, S - s·C)
};
usp_role usp_role_of(const shape& s, int rank);
// The window of sp rank `sp_rank` within its sample: its first token s·C and its rows inside the
// sample, min(Lloc, S - s·C) (SpecForge's senders compute it from the sp rank they gather).
struct usp_window {
  std::int64_t first_token = 0;
  std::int64_t valid_rows = 0;
};
usp_window usp_window_of(const shape& s, std::int64_t sp_rank);

// ---- what each buffer holds (the definitions the verifier checks) ------------------------------
expected_spec input_shard_spec(const shape& s, int rank);  // L_r: [T, Vl] in dtype w
expected_spec baseline_output_spec(const shape& s);        // [B, S, V] fp32, the same on every rank
expected_spec batch_output_spec(const shape& s, int rank); // [n_r, S, Vp] fp32
expected_spec usp_output_spec(const shape& s, int rank);   // [Lloc, Vp] fp32

// usp aligned tensors (no communication) and the global inputs they are sliced from.
expected_spec hidden_global_spec(const shape& s);              // [B·S, 3H] bf16
expected_spec token_global_spec(const shape& s, gen::source k);  // [B·S] i32: ids / masks
expected_spec usp_hidden_spec(const shape& s, int rank);        // [Lloc, 3H] bf16
expected_spec usp_input_ids_spec(const shape& s, int rank);     // [Lloc] i32, shifted like the target
expected_spec usp_attention_mask_spec(const shape& s, int rank);// [Lloc] i32
expected_spec usp_loss_mask_spec(const shape& s, int rank);     // [Lloc] i32, not shifted
expected_spec usp_position_ids_spec(const shape& s, int rank);  // [U·C] i64

gen::params gen_params(const shape& s);

}  // namespace sb
