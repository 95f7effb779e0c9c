#include "bench/path.h"

#include <fmt/format.h>

#include "harness/core/error.h"
#include "harness/core/layout.h"

#include <algorithm>

namespace sb {

std::unique_ptr<path> make_baseline_path(variant_kind v);
std::unique_ptr<path> make_batch_path(variant_kind v);
std::unique_ptr<path> make_usp_path(variant_kind v);

const path_plan& rank_context::plan() const {
  if (!m_plan) throw_runtime("path asked for its plan, but the rank context has none");
  return *m_plan;
}

const std::vector<const void*>& rank_context::peers(std::string_view name) const {
  auto it = m_peers.find(name);
  if (it == m_peers.end()) throw_runtime(fmt::format("path asked for the peers' '{}', which were not opened", name));
  return it->second;
}

void* rank_context::buf(std::string_view name) const {
  auto it = m_buffers.find(name);
  if (it == m_buffers.end()) throw_runtime(fmt::format("path asked for buffer '{}' that its plan does not list", name));
  return it->second;
}

std::unique_ptr<path> make_path(path_kind p, variant_kind v) {
  switch (p) {
    case path_kind::baseline: return make_baseline_path(v);
    case path_kind::batch: return make_batch_path(v);
    case path_kind::usp: return make_usp_path(v);
  }
  throw_config("unknown path");
}

buffer_spec make_buffer(std::string name, dtype t, std::vector<std::int64_t> dims, int first_step, int last_step) {
  buffer_spec b;
  b.name = std::move(name);
  b.type = t;
  b.elements = 1;
  for (std::int64_t d : dims) b.elements *= d;
  b.dims = std::move(dims);
  b.first_step = first_step;
  b.last_step = last_step;
  return b;
}

std::vector<std::int64_t> dims_of(const expected_spec& e) {
  if (e.cols == 1) return {e.windows * e.win_len};
  return {e.windows * e.win_len, e.cols};
}

buffer_spec input_logits_buffer(const shape& s, int rank, int last_step) {
  buffer_spec b = make_buffer("input", s.type, {s.tokens(), s.vocab_local()}, 0, last_step);
  b.fill = input_shard_spec(s, rank);
  b.dump = true;
  return b;
}

remap_desc dense_copy(const void* src, dtype st, std::int64_t src_ld, void* dst, dtype dt, std::int64_t dst_ld,
                      std::int64_t rows, std::int64_t cols) {
  remap_desc d;
  d.src = src;
  d.src_type = st;
  d.src_ld = src_ld;
  d.src_peer_cols = cols;
  d.dst = dst;
  d.dst_type = dt;
  d.dst_ld = dst_ld;
  d.win_len = rows;
  d.cols = cols;
  d.valid_len = rows;
  return d;
}

void shift_windows(remap_desc& d, std::int64_t windows, std::int64_t win_len, std::int64_t src_stride,
                   std::int64_t valid_len) {
  d.windows = windows;
  d.valid_windows = windows;
  d.win_len = win_len;
  d.src_win_stride = src_stride;
  d.valid_len = valid_len;
  d.shift = 1;
}

remap_desc generated_shard(const shape& s, int q, dtype out_type) {
  remap_desc d = dense_copy(nullptr, out_type, s.vocab_local(), nullptr, out_type, s.vocab_local(), s.tokens(),
                            s.vocab_local());
  generate_from_peer(d, s, q);
  return d;
}

void generate_from_peer(remap_desc& d, const shape& s, int q) {
  d.src_generated = true;
  d.gen_kind = gen::source::logits;
  d.gen = gen_params(s);
  d.gen_col_base = q * s.vocab_local();
}

void rows_like(remap_desc& d, const expected_spec& out) {
  d.windows = out.windows;
  d.valid_windows = out.windows;
  d.win_len = out.win_len;
  d.src_row_base = out.tok_base;
  d.src_win_stride = out.win_tok_stride;
  d.valid_len = out.valid_len;
  d.shift = out.shift;
}

remap_desc pull_desc(const shape& s, const rank_context& ctx, const expected_spec& out) {
  const std::int64_t Vl = s.vocab_local(), Vp = s.vocab_padded();
  remap_desc d = dense_copy(nullptr, s.type, Vl, ctx.buf("output"), dtype::fp32, Vp, out.win_len, Vp);
  const auto& peers = ctx.peers("input");
  d.n_src_peers = int(peers.size());
  for (std::size_t q = 0; q < peers.size(); ++q) d.src_peers[q] = peers[q];
  d.src_peer_cols = Vl;
  d.gen_kind = gen::source::logits;  // for a backend that generates absent peers (local `one`)
  d.gen = gen_params(s);
  rows_like(d, out);
  return d;
}

void run_pull(rank_context& ctx, const expected_spec& out) {
  auto ph = ctx.phase("pull");
  ctx.backend().pull(pull_desc(ctx.shp(), ctx, out));
}

void add_consumer(path_plan& p, const shape& s, const std::string& logits, const expected_spec& rows,
                  const std::vector<std::int32_t>* given_d2t) {
  int step = 0;
  for (const auto& b : p.buffers) step = std::max(step, b.last_step + 1);
  auto has = [&](const char* name) {
    return std::any_of(p.buffers.begin(), p.buffers.end(), [&](const buffer_spec& b) { return b.name == name; });
  };
  std::vector<std::int32_t> drawn;  // only when the caller did not draw it (~1 ms at V = 129 280)
  const std::vector<std::int32_t>& d2t = given_d2t ? *given_d2t : (drawn = make_d2t(s));
  buffer_spec t = make_buffer("d2t", dtype::i32, {std::int64_t(d2t.size())}, 0, step);
  t.upload = std::make_shared<const std::vector<char>>(reinterpret_cast<const char*>(d2t.data()),
                                                       reinterpret_cast<const char*>(d2t.data() + d2t.size()));
  p.buffers.push_back(t);
  if (!has("loss_mask_global")) {
    buffer_spec lm = make_buffer("loss_mask_global", dtype::i32, {s.tokens()}, 0, step);
    lm.fill = token_global_spec(s, gen::source::loss_mask);
    p.buffers.push_back(lm);
  }
  // Inputs persist, and every verified output (the usp aligned tensors too) must survive until
  // the verifier reads it after the iteration: none may share memory with the consumer's outputs.
  for (auto& b : p.buffers)
    if (b.is_input() || b.check || b.name == logits) b.last_step = step;
  const std::int64_t n = rows.windows * rows.win_len;
  buffer_spec tp = make_buffer("target_p", dtype::fp32, {n, s.draft_vocab}, step, step);
  tp.dump = true;
  buffer_spec pm = make_buffer("position_mask", dtype::i32, {n}, step, step);
  pm.dump = true;
  p.buffers.push_back(tp);
  p.buffers.push_back(pm);
  p.consumer_rows = rows;
  p.draft = draft_shares(s, d2t);
  p.steps.resize(std::size_t(step) + 1);
  p.steps.back() = "consumer";
}

consumer_desc consumer_over(const shape& s, const rank_context& ctx, const expected_spec& rows) {
  consumer_desc d;
  d.def = rows;
  d.vocab = s.vocab;
  d.d2t = static_cast<const std::int32_t*>(ctx.buf("d2t"));
  d.vd = s.draft_vocab;
  d.loss_mask = static_cast<const std::int32_t*>(ctx.buf("loss_mask_global"));
  d.target_p = static_cast<float*>(ctx.buf("target_p"));
  d.position_mask = static_cast<std::int32_t*>(ctx.buf("position_mask"));
  return d;
}

void run_consumer(rank_context& ctx, const std::string& logits, std::int64_t ld, const expected_spec& rows) {
  consumer_desc d = consumer_over(ctx.shp(), ctx, rows);
  d.source = consumer_source::memory;
  d.src = ctx.buf(logits);
  d.src_type = dtype::fp32;
  d.src_ld = ld;
  auto ph = ctx.phase("consumer");
  ctx.backend().consume(d);
}

}  // namespace sb
