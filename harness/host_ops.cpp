#include "harness/host_ops.h"

#include <cstring>

namespace sb {

namespace {

// Copies `n` elements of one peer block row, converting between float types (or raw for ints).
void copy_run(const remap_desc& d, std::int64_t src_off, char* dst_row, std::int64_t c0, std::int64_t n) {
  if (d.src_type == d.dst_type) {
    std::size_t es = dtype_size(d.dst_type);
    std::memcpy(dst_row + c0 * es, static_cast<const char*>(d.src) + src_off * es, std::size_t(n) * es);
    return;
  }
  for (std::int64_t k = 0; k < n; ++k)
    store_from_float(dst_row, c0 + k, d.dst_type, load_as_float(d.src, src_off + k, d.src_type));
}

void generate_run(const remap_desc& d, std::int64_t row, std::int64_t c0, char* dst_row, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) {
    std::int64_t c = c0 + k;
    std::int64_t q = c / d.src_peer_cols;
    std::int64_t col = d.gen_col_base + q * d.src_peer_cols + (c - q * d.src_peer_cols);
    store_from_float(dst_row, c, d.dst_type, gen::float_value(d.gen_kind, d.gen, row, col));
  }
}

void store_value(void* p, std::int64_t i, dtype t, double v) {
  switch (t) {
    case dtype::i32: static_cast<std::int32_t*>(p)[i] = std::int32_t(v); break;
    case dtype::i64: static_cast<std::int64_t*>(p)[i] = std::int64_t(v); break;
    default: store_from_float(p, i, t, float(v)); break;
  }
}

}  // namespace

void remap_host(const remap_desc& d) {
  const std::size_t es = dtype_size(d.dst_type);
  for (std::int64_t w = 0; w < d.windows; ++w) {
    for (std::int64_t j = 0; j < d.win_len; ++j) {
      char* dst_row = static_cast<char*>(d.dst) + std::size_t(remap_dst_row(d, w, j) * d.dst_ld) * es;
      std::int64_t r = remap_src_row(d, w, j);
      if (r < 0) {
        std::memset(dst_row, 0, std::size_t(d.cols) * es);
        continue;
      }
      // Walk the row one peer block at a time: each block is contiguous in the source.
      for (std::int64_t c0 = 0; c0 < d.cols;) {
        std::int64_t n = std::min(d.cols - c0, d.src_peer_cols - c0 % d.src_peer_cols);
        if (d.src_generated)
          generate_run(d, r, c0, dst_row, n);
        else
          copy_run(d, remap_src_offset(d, r, c0), dst_row, c0, n);
        c0 += n;
      }
    }
  }
}

void fill_host(void* dst, const expected_spec& spec) {
  const std::int64_t n = spec.elements();
  for (std::int64_t i = 0; i < n; ++i) store_value(dst, i, spec.type, expected_value(spec, i));
}

mismatch_report verify_host(const void* data, const expected_spec& spec) {
  mismatch_report rep;
  const std::int64_t n = spec.elements();
  for (std::int64_t i = 0; i < n; ++i) {
    double e = expected_value(spec, i);
    double a = load_as_double(data, i, spec.type);
    if (matches(e, a)) continue;
    if (rep.count++ == 0) rep = {1, i, e, a};
  }
  return rep;
}

mismatch_report verify_host_with(const void* data, const expected_spec& spec,
                                 const std::function<double(std::int64_t, std::int64_t)>& ref) {
  mismatch_report rep;
  const std::int64_t n = spec.elements();
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t c = i % spec.cols, row = i / spec.cols;
    std::int64_t t = expected_token(spec, row / spec.win_len, row % spec.win_len);
    double e = t < 0 ? 0.0 : ref(t, spec.col_base + c);
    double a = load_as_double(data, i, spec.type);
    if (matches(e, a)) continue;
    if (rep.count++ == 0) rep = {1, i, e, a};
  }
  return rep;
}

}  // namespace sb
