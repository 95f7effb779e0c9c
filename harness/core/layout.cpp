#include "harness/core/layout.h"

#include <algorithm>

namespace sb {

gen::params gen_params(const shape& s) { return gen::params{s.seed, s.vocab, s.seq}; }

std::int64_t batch_samples_per_rank(const shape& s) { return (s.batch + s.tp - 1) / s.tp; }

std::int64_t batch_first_sample(const shape& s, int rank) { return rank * batch_samples_per_rank(s); }

std::int64_t batch_num_samples(const shape& s, int rank) {
  std::int64_t first = batch_first_sample(s, rank);
  return std::clamp<std::int64_t>(s.batch - first, 0, batch_samples_per_rank(s));
}

usp_role usp_role_of(const shape& s, int rank) {
  usp_role r;
  r.sp_rank = rank % s.sp();
  r.ulysses_rank = r.sp_rank % s.sp_ulysses;
  r.ring_rank = r.sp_rank / s.sp_ulysses;
  r.dp_rank = rank / s.sp();
  r.sample = r.dp_rank;
  r.chunk = s.seq / s.sp();
  r.window = r.chunk + s.ttt;
  const usp_window w = usp_window_of(s, r.sp_rank);
  r.first_token = w.first_token;
  r.valid_rows = w.valid_rows;
  return r;
}

usp_window usp_window_of(const shape& s, std::int64_t sp_rank) {
  const std::int64_t chunk = s.seq / s.sp();
  usp_window w;
  w.first_token = sp_rank * chunk;
  w.valid_rows = std::min(chunk + s.ttt, s.seq - w.first_token);
  return w;
}

namespace {
expected_spec logits_spec(const shape& s) {
  expected_spec e;
  e.kind = gen::source::logits;
  e.gen = gen_params(s);
  e.type = dtype::fp32;
  e.win_tok_stride = s.seq;
  return e;
}
}  // namespace

expected_spec input_shard_spec(const shape& s, int rank) {
  expected_spec e = logits_spec(s);
  e.type = s.type;
  e.win_len = s.tokens();
  e.valid_len = s.tokens();
  e.cols = s.vocab_local();
  e.col_base = rank * s.vocab_local();
  return e;
}

expected_spec baseline_output_spec(const shape& s) {
  expected_spec e = logits_spec(s);
  e.windows = s.batch;
  e.win_len = s.seq;
  e.cols = s.vocab;
  e.valid_len = s.seq;
  e.shift = 1;
  return e;
}

expected_spec batch_output_spec(const shape& s, int rank) {
  expected_spec e = logits_spec(s);
  e.windows = batch_num_samples(s, rank);
  e.win_len = s.seq;
  e.cols = s.vocab_padded();
  e.tok_base = batch_first_sample(s, rank) * s.seq;
  e.valid_len = s.seq;
  e.shift = 1;
  return e;
}

expected_spec usp_output_spec(const shape& s, int rank) {
  usp_role r = usp_role_of(s, rank);
  expected_spec e = logits_spec(s);
  e.win_len = r.window;
  e.cols = s.vocab_padded();
  e.tok_base = r.sample * s.seq + r.first_token;
  e.valid_len = r.valid_rows;
  e.shift = 1;
  return e;
}

expected_spec hidden_global_spec(const shape& s) {
  expected_spec e;
  e.kind = gen::source::hidden;
  e.gen = gen_params(s);
  e.type = dtype::bf16;
  e.win_len = s.tokens();
  e.valid_len = s.tokens();
  e.cols = s.hidden3();
  return e;
}

expected_spec token_global_spec(const shape& s, gen::source k) {
  expected_spec e;
  e.kind = k;
  e.gen = gen_params(s);
  e.type = dtype::i32;
  e.win_len = s.tokens();
  e.valid_len = s.tokens();
  return e;
}

namespace {
// The rank's window of sample b, zero past the sample's end; `shift` 1 for tensors shifted like
// the target.
expected_spec usp_window_spec(const shape& s, int rank, expected_spec e, std::int64_t shift) {
  usp_role r = usp_role_of(s, rank);
  e.windows = 1;
  e.win_len = r.window;
  e.tok_base = r.sample * s.seq + r.first_token;
  e.valid_len = r.valid_rows;
  e.shift = shift;
  return e;
}
}  // namespace

expected_spec usp_hidden_spec(const shape& s, int rank) { return usp_window_spec(s, rank, hidden_global_spec(s), 0); }
expected_spec usp_input_ids_spec(const shape& s, int rank) {
  return usp_window_spec(s, rank, token_global_spec(s, gen::source::input_ids), 1);
}
expected_spec usp_attention_mask_spec(const shape& s, int rank) {
  return usp_window_spec(s, rank, token_global_spec(s, gen::source::attention_mask), 0);
}
expected_spec usp_loss_mask_spec(const shape& s, int rank) {
  return usp_window_spec(s, rank, token_global_spec(s, gen::source::loss_mask), 0);
}

expected_spec usp_position_ids_spec(const shape& s, int rank) {
  usp_role r = usp_role_of(s, rank);
  expected_spec e;
  e.kind = gen::source::position;
  e.gen = gen_params(s);
  e.type = dtype::i64;
  e.win_len = s.sp_ulysses * r.chunk;
  e.valid_len = e.win_len;
  e.tok_base = std::int64_t(r.ring_rank) * s.sp_ulysses * r.chunk;  // positions after the Ulysses all-to-all
  return e;
}

}  // namespace sb
