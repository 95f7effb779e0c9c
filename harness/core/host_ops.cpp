#include "harness/core/host_ops.h"

#include <cstring>
#include <vector>

namespace sb {

namespace {

// Copies `n` elements of one peer block row, converting between float types (or raw for ints).
void copy_run(const remap_desc& d, const char* src, char* dst_row, std::int64_t c0, std::int64_t n) {
  if (d.src_type == d.dst_type) {
    std::size_t es = dtype_size(d.dst_type);
    std::memcpy(dst_row + c0 * es, src, std::size_t(n) * es);
    return;
  }
  for (std::int64_t k = 0; k < n; ++k) store_from_float(dst_row, c0 + k, d.dst_type, load_as_float(src, k, d.src_type));
}

void store_value(void* p, std::int64_t i, dtype t, double v) {
  switch (t) {
    case dtype::i32: static_cast<std::int32_t*>(p)[i] = std::int32_t(v); break;
    case dtype::i64: static_cast<std::int64_t*>(p)[i] = std::int64_t(v); break;
    default: store_from_float(p, i, t, float(v)); break;
  }
}

void generate_run(const remap_desc& d, std::int64_t row, std::int64_t c0, char* dst_row, std::int64_t n) {
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t c = c0 + k;
    if (!gen::is_float_source(d.gen_kind)) {  // ids, masks, positions: integer tensors
      store_value(dst_row, c, d.dst_type, double(gen::int_value(d.gen_kind, d.gen, row)));
      continue;
    }
    store_from_float(dst_row, c, d.dst_type, gen::float_value(d.gen_kind, d.gen, row, d.gen_col_base + c));
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
          copy_run(d, remap_src_ptr(d, r, c0), dst_row, c0, n);
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

namespace {

struct row_totals {
  softmax_state softmax;
  std::int64_t argmax = -1;
};

// Loads in flight per lane in the host loops: any U gives the same bits (softmax_lane); 4 keeps the
// batched path under every CPU test.
constexpr int kHostLaneLoads = 4;

// The kernel's block, lane by lane: lane l's online softmax over k ≡ l (mod kLanes), then the tree.
row_totals consumer_row(const consumer_desc& d, std::int64_t i) {
  softmax_state lanes[kLanes];
  with_draft_reader(d, i, [&](const auto& row) {  // one type dispatch per row; each lane its own reader
    for (int l = 0; l < kLanes; ++l) {
      auto value = row;
      softmax_lane<kHostLaneLoads>(lanes[l], value, l, d.vd, kLanes);
    }
  });
  for (int s = kLanes / 2; s > 0; s >>= 1)
    for (int l = 0; l < s; ++l) lanes[l] = softmax_combine(lanes[l], lanes[l + s]);
  arg_max a;  // exact: any order gives the same answer
  if (d.source == consumer_source::pruned) {
    for (int q = 0; q < d.n_peers; ++q) a = arg_combine(a, pruned_argmax(d, i, q));
  } else {
    for (std::int64_t c = 0; c < d.vocab; ++c) a = arg_combine(a, {consumer_full_value(d, i, c), c});
  }
  return {lanes[0], a.i};
}

std::int32_t position_mask_of(const consumer_desc& d, std::int64_t i, std::int64_t argmax) {
  return in_draft(d.d2t, d.vd, argmax) ? consumer_loss_mask(d, i) : 0;
}

}  // namespace

std::int32_t consumer_row_host(const consumer_desc& d, std::int64_t i, float* p) {
  const row_totals t = consumer_row(d, i);
  with_draft_reader(d, i, [&](auto& value) {
    softmax_probs_lane<kHostLaneLoads>(t.softmax, value, 0, d.vd, 1, [&](std::int64_t k, float v) { p[k] = v; });
  });
  return position_mask_of(d, i, t.argmax);
}

void consume_host(const consumer_desc& d) {
  for (std::int64_t i = 0; i < d.rows(); ++i) d.position_mask[i] = consumer_row_host(d, i, d.target_p + i * d.vd);
}

consumer_mismatch verify_consumer_host(const consumer_desc& d) {
  consumer_mismatch m;
  std::vector<float> expected(static_cast<std::size_t>(d.vd));
  for (std::int64_t i = 0; i < d.rows(); ++i) {
    const std::int32_t pm = consumer_row_host(d, i, expected.data());
    for (std::int64_t k = 0; k < d.vd; ++k) {
      const float e = expected[std::size_t(k)], a = d.target_p[i * d.vd + k];
      if (same_probability(e, a)) continue;
      if (m.target_p.count++ == 0) m.target_p = {1, i * d.vd + k, e, a};
    }
    if (pm != d.position_mask[i] && m.position_mask.count++ == 0) m.position_mask = {1, i, double(pm), double(d.position_mask[i])};
  }
  return m;
}

void prune_pack_host(const prune_desc& d) {
  const std::int64_t rows = d.rows.windows * d.rows.win_len;
  const dtype t = d.rows.src_type;
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t r = remap_src_row(d.rows, i / d.rows.win_len, i % d.rows.win_len);
    char* out = static_cast<char*>(d.values) + std::size_t(i * d.n_ids) * dtype_size(t);
    for (std::int64_t k = 0; k < d.n_ids; ++k)
      store_from_float(out, k, t, r < 0 ? 0.0f : prune_source_value(d, r, d.ids[k] - d.col_base));
    arg_max a;
    for (std::int64_t c = 0; c < d.valid_cols; ++c) a = arg_combine(a, {r < 0 ? 0.0f : prune_source_value(d, r, c), d.col_base + c});
    d.pairs[i] = a.i < 0 ? pruned_pair{-INFINITY, std::int32_t(d.col_base)} : pruned_pair{a.v, std::int32_t(a.i)};
  }
}

}  // namespace sb
