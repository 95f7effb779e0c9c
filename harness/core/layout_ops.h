// The element-level contract of the layout operations, shared verbatim by the CPU backend's loops
// and the CUDA kernels (kernels/api.cuh): a path describes *what* moves with these structs, the
// backend decides *how*. Keeping one definition is what stops CPU and GPU from drifting.
#pragma once
#include <cstdint>

#include "harness/core/dtype.h"
#include "harness/core/generator.h"
#include "harness/core/hd.h"

namespace sb {

inline constexpr int kMaxPeerTable = 64;  // ranks a peer_pull kernel can read from

// One 2-D re-layout: pack, unpack/reorder, slice+upcast, shift and the usp aligned slices are all
// instances of it.
//
// Output: `windows` windows of `win_len` rows of `cols` columns, row (w, j) at
// dst + (w·dst_win_stride + j)·dst_ld (dst_win_stride 0: windows are dense).
// Row (w, j) reads source row  r = src_row_base + w·src_win_stride + j + shift,  or writes zeros when
// w >= valid_windows or j + shift >= valid_len (padding samples, the shifted-out last row, rows past
// the end of a sample).
// Column c reads peer block q = c / src_peer_cols at offset v = c % src_peer_cols: source element
// (q, r, v) lives at src + q·src_peer_stride + r·src_ld + v. A plain 2-D copy has one block
// (src_peer_cols >= cols).
struct remap_desc {
  const void* src = nullptr;
  dtype src_type = dtype::fp32;
  std::int64_t src_peer_stride = 0;
  std::int64_t src_ld = 0;
  std::int64_t src_peer_cols = 0;
  // peer_pull: when n_src_peers > 0, peer block q is a separate allocation (a peer's own input, reached
  // by peer access or CUDA IPC): source element (q, r, v) lives at src_peers[q] + r·src_ld + v, and
  // src / src_peer_stride are unused.
  int n_src_peers = 0;
  const void* src_peers[kMaxPeerTable] = {};

  // When set, the source is the generator instead of memory: element (q, r, v) is the generated
  // value at token r, column gen_col_base + q·src_peer_cols + v. Used to stand in for peers that
  // are not there (the local backend's `one` mode) and to fill inputs.
  bool src_generated = false;
  gen::source gen_kind = gen::source::logits;
  gen::params gen{};
  std::int64_t gen_col_base = 0;

  void* dst = nullptr;
  dtype dst_type = dtype::fp32;
  std::int64_t dst_ld = 0;

  std::int64_t windows = 1;
  std::int64_t win_len = 0;
  std::int64_t cols = 0;
  std::int64_t dst_win_stride = 0;  // rows between output windows; 0 means win_len (dense)

  std::int64_t src_row_base = 0;
  std::int64_t src_win_stride = 0;
  std::int64_t valid_windows = 1;
  std::int64_t valid_len = 0;
  std::int64_t shift = 0;
};

// The row half of remap_desc's rule, for kernels that batch several row mappings over one source
// (the pruned sender's packs for every destination) and carry only these fields.
struct row_rule {
  std::int64_t src_row_base = 0, src_win_stride = 0, valid_windows = 1, valid_len = 0, shift = 0;

  // Source row of output row (w, j), or -1 when the row is zero-filled.
  SB_HD std::int64_t source(std::int64_t w, std::int64_t j) const {
    if (w >= valid_windows || j + shift >= valid_len) return -1;
    return src_row_base + w * src_win_stride + j + shift;
  }
};

SB_HD row_rule row_rule_of(const remap_desc& d) { return {d.src_row_base, d.src_win_stride, d.valid_windows, d.valid_len, d.shift}; }

// Source row of output row (w, j), or -1 when the row is zero-filled.
SB_HD std::int64_t remap_src_row(const remap_desc& d, std::int64_t w, std::int64_t j) { return row_rule_of(d).source(w, j); }

SB_HD std::int64_t remap_dst_row(const remap_desc& d, std::int64_t w, std::int64_t j) {
  return w * (d.dst_win_stride ? d.dst_win_stride : d.win_len) + j;
}

// Offset (in elements) of source element (row r, column c), for a memory source.
SB_HD std::int64_t remap_src_offset(const remap_desc& d, std::int64_t r, std::int64_t c) {
  std::int64_t q = c / d.src_peer_cols;
  return q * d.src_peer_stride + r * d.src_ld + (c - q * d.src_peer_cols);
}

// Address of source element (row r, column c), for a memory source (either form).
SB_HD const char* remap_src_ptr(const remap_desc& d, std::int64_t r, std::int64_t c) {
  const std::size_t es = dtype_size(d.src_type);
  if (d.n_src_peers == 0) return static_cast<const char*>(d.src) + remap_src_offset(d, r, c) * std::int64_t(es);
  const std::int64_t q = c / d.src_peer_cols;
  return static_cast<const char*>(d.src_peers[q]) + (r * d.src_ld + (c - q * d.src_peer_cols)) * std::int64_t(es);
}

// What an output buffer must hold, element by element: the definition a verifier checks against.
// Output [windows][win_len][cols] dense; element (w, j, c) is the generated value of kind `kind` at
// token t = tok_base + w·win_tok_stride + j + shift, column col_base + c, when j + shift < valid_len,
// and 0 otherwise. (Logits are 0 on padding columns by the generator itself.)
struct expected_spec {
  gen::source kind = gen::source::logits;
  gen::params gen{};
  dtype type = dtype::fp32;
  std::int64_t windows = 1;
  std::int64_t win_len = 0;
  std::int64_t cols = 1;
  std::int64_t tok_base = 0;
  std::int64_t win_tok_stride = 0;
  std::int64_t valid_len = 0;
  std::int64_t shift = 0;
  std::int64_t col_base = 0;

  SB_HD std::int64_t elements() const { return windows * win_len * cols; }
};

// Token of element (w, j) or -1 when the element must be zero.
SB_HD std::int64_t expected_token(const expected_spec& e, std::int64_t w, std::int64_t j) {
  if (j + e.shift >= e.valid_len) return -1;
  return e.tok_base + w * e.win_tok_stride + j + e.shift;
}

// The expected value of flat element i, as a double (holds every fp32 and int64 value we produce).
SB_HD double expected_value(const expected_spec& e, std::int64_t i) {
  std::int64_t c = i % e.cols;
  std::int64_t row = i / e.cols;
  std::int64_t t = expected_token(e, row / e.win_len, row % e.win_len);
  if (t < 0) return 0.0;
  if (gen::is_float_source(e.kind)) return double(gen::float_value(e.kind, e.gen, t, e.col_base + c));
  return double(gen::int_value(e.kind, e.gen, t));
}

// The actual value of flat element i of a buffer of type t, as a double.
SB_HD double load_as_double(const void* p, std::int64_t i, dtype t) {
  switch (t) {
    case dtype::i32: return double(static_cast<const std::int32_t*>(p)[i]);
    case dtype::i64: return double(static_cast<const std::int64_t*>(p)[i]);
    default: return double(load_as_float(p, i, t));
  }
}

// Exact comparison: every value is exact in every dtype we store, and a NaN never matches.
SB_HD bool matches(double expected, double actual) { return expected == actual && !(actual != actual); }

}  // namespace sb
