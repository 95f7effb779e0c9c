#include "bench/path.h"

#include <fmt/format.h>

#include "harness/error.h"
#include "harness/layout.h"

namespace sb {

std::unique_ptr<path> make_baseline_path(variant_kind v);
std::unique_ptr<path> make_batch_path(variant_kind v);
std::unique_ptr<path> make_usp_path(variant_kind v);

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

buffer_spec make_buffer(std::string name, dtype t, std::int64_t elements, int first_step, int last_step) {
  buffer_spec b;
  b.name = std::move(name);
  b.type = t;
  b.elements = elements;
  b.first_step = first_step;
  b.last_step = last_step;
  return b;
}

buffer_spec input_logits_buffer(const shape& s, int rank, int last_step) {
  buffer_spec b = make_buffer("input", s.type, s.tokens() * s.vocab_local(), 0, last_step);
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
  d.src_generated = true;
  d.gen_kind = gen::source::logits;
  d.gen = gen_params(s);
  d.gen_col_base = q * s.vocab_local();
  return d;
}

}  // namespace sb
