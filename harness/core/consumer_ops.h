// The consumer stage's element contract (what the EAGLE3 trainer does with the logits), shared
// verbatim by the CPU backend's loops and the CUDA kernels, like harness/core/layout_ops.h:
//   target_p[i, k]    = softmax over the Vd draft columns d2t[0..Vd) of logits row i,
//   position_mask[i]  = t2d[argmax_{c<V} row i] · loss_mask[i]   (ties: lowest column).
//
// Bitwise agreement between backends and variants needs a softmax whose every rounding is fixed:
// - exp is our own (fma-based polynomial; no libm, no fast-math intrinsics, no FTZ);
// - every multiply and add that could be contracted into an fma is spelled out (mul_rn/add_rn);
// - the row is reduced in kLanes fixed lanes: lane l runs an online (max, sum) over the draft
//   columns k ≡ l (mod kLanes) in increasing k, and the lanes are combined in a fixed binary tree
//   (lane l += lane l+s for s = kLanes/2 ... 1). A CUDA block of kLanes threads does exactly this.
// The argmax is exact (order cannot change it), so only the softmax needs this discipline.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "harness/core/dtype.h"
#include "harness/core/generator.h"
#include "harness/core/hd.h"
#include "harness/core/layout_ops.h"

#if defined(__CUDA_ARCH__)
#include <cuda_runtime.h>
#endif

namespace sb {

inline constexpr int kLanes = 256;

SB_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;  // the host build uses -ffp-contract=off
#endif
}

SB_HD float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// 2^n as a float for -126 <= n <= 127.
SB_HD float pow2i(int n) { return bits_to_float(std::uint32_t(n + 127) << 23); }

// exp's two halves: n = rint(x·log2 e), and
// y = exp(x - n·ln2) in [0.7, 1.5] (Cody-Waite reduction in two steps, Cephes' polynomial).
SB_HD float exp_exponent(float x) { return rintf(mul_rn(x, 1.44269504088896341f)); }

SB_HD float exp_mantissa(float x, float n) {
  float r = fmaf(n, -0.693359375f, x);
  r = fmaf(n, 2.12194440e-4f, r);
  float p = 1.9875691500e-4f;
  p = fmaf(p, r, 1.3981999507e-3f);
  p = fmaf(p, r, 8.3334519073e-3f);
  p = fmaf(p, r, 4.1665795894e-2f);
  p = fmaf(p, r, 1.6666665459e-1f);
  p = fmaf(p, r, 5.0000001201e-1f);
  return add_rn(fmaf(p, mul_rn(r, r), r), 1.0f);
}

// exp(x) with a fixed sequence of correctly rounded operations (Cephes' expf polynomial, about
// 1 ulp): identical bits on every IEEE-754 host and on the GPU. Overflow = false drops the two
// branches that only x > 0 can take (x > 88.5; e > 127, where n = rint(x·log2 e) <= 0 for x <= 0):
// the same bits for x <= 0 and NaN, which is all the softmax passes (x - m, m at least x).
template <bool Overflow>
SB_HD float exp_fixed(float x) {
  if (!(x > -104.0f)) return 0.0f;  // below the smallest subnormal result; also -inf and NaN
  if constexpr (Overflow)
    if (x > 88.5f) return bits_to_float(0x7f800000u);
  const float n = exp_exponent(x);
  float y = exp_mantissa(x, n);
  int e = int(n);
  if (e < -126) {  // the result is subnormal: scale in two exact steps, the last one rounds once
    y = mul_rn(y, pow2i(-64));
    e += 64;
  }
  if constexpr (Overflow)
    if (e > 127) {
      y = mul_rn(y, 2.0f);
      e -= 1;
    }
  return mul_rn(y, pow2i(e));
}

SB_HD float sb_exp(float x) { return exp_fixed<true>(x); }
SB_HD float sb_exp_nonpos(float x) { return exp_fixed<false>(x); }  // x <= 0 or NaN

// One lane's running softmax state: max and sum of exp(x - max) so far.
struct softmax_state {
  float m = -INFINITY;
  float s = 0.0f;
};

SB_HD void softmax_push(softmax_state& st, float x) {
  if (x > st.m) {  // a new maximum: rescale what was summed against the old one
    st.s = st.s == 0.0f ? 1.0f : add_rn(mul_rn(st.s, sb_exp(st.m - x)), 1.0f);
    st.m = x;
  } else {
    st.s = add_rn(st.s, sb_exp(x - st.m));
  }
}

SB_HD softmax_state softmax_combine(softmax_state a, softmax_state b) {
  if (b.s == 0.0f) return a;
  if (a.s == 0.0f) return b;
  const float m = a.m > b.m ? a.m : b.m;
  return {m, add_rn(mul_rn(a.s, sb_exp(a.m - m)), mul_rn(b.s, sb_exp(b.m - m)))};
}

SB_HD float softmax_prob(const softmax_state& st, float x) { return sb_exp(x - st.m) / st.s; }

// Bitwise equality of two probabilities; a NaN never matches (it would only mean a broken stage).
SB_HD bool same_probability(float expected, float actual) {
  return float_to_bits(expected) == float_to_bits(actual) && expected == expected;
}

// Argmax candidate: larger value wins, equal values go to the lower column (torch.argmax).
struct arg_max {
  float v = -INFINITY;
  std::int64_t i = -1;
};

SB_HD bool arg_better(const arg_max& a, const arg_max& b) {
  if (b.i < 0) return a.i >= 0;
  if (a.i < 0) return false;
  return a.v > b.v || (a.v == b.v && a.i < b.i);
}

SB_HD arg_max arg_combine(const arg_max& a, const arg_max& b) { return arg_better(b, a) ? b : a; }

// t2d[c]: whether column c is one of the sorted draft columns d2t[0..vd).
SB_HD bool in_draft(const std::int32_t* d2t, std::int64_t vd, std::int64_t c) {
  std::int64_t lo = 0, hi = vd;
  while (lo < hi) {
    std::int64_t mid = (lo + hi) / 2;
    if (d2t[mid] < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < vd && d2t[lo] == c;
}

inline constexpr int kMaxPrunedPeers = 64;

// One rank's share of a pruned exchange as it arrives: [rows][n] draft values of dtype w, then
// [rows] (local max, global argmax) pairs.
struct pruned_block {
  std::int64_t values_offset = 0;  // bytes from the receive buffer start
  std::int64_t pairs_offset = 0;
  std::int64_t k0 = 0;  // its first draft index; it holds draft columns [k0, k0 + n)
  std::int64_t n = 0;
};

struct pruned_pair {
  float max;
  std::int32_t argmax;
};

// Where the consumer reads row i's logits from.
enum class consumer_source : std::uint8_t {
  memory,     // a full-vocab row: src + i·src_ld, of src_type
  generated,  // the row's definition (the verifier's reference): `def` gives its token
  pruned,     // the pruned exchange's blocks (values and argmax pairs per peer)
};

struct consumer_desc {
  consumer_source source = consumer_source::memory;
  const void* src = nullptr;
  dtype src_type = dtype::fp32;
  std::int64_t src_ld = 0;
  expected_spec def{};  // rows, and for `generated` the token of each row (0-rows where none)
  int n_peers = 0;      // pruned
  pruned_block peers[kMaxPrunedPeers] = {};

  std::int64_t vocab = 0;  // the argmax runs over columns c < vocab
  const std::int32_t* d2t = nullptr;
  std::int64_t vd = 0;

  // loss_mask of row (w, j) is the global mask at the row's *unshifted* token
  // def.tok_base + w·def.win_tok_stride + j when j < def.valid_len, else 0 (the row holds the next
  // token's logits, the mask stays with its own position); from memory, or from the generator when
  // loss_mask is null.
  const std::int32_t* loss_mask = nullptr;

  float* target_p = nullptr;  // [rows][vd]
  std::int32_t* position_mask = nullptr;  // [rows]

  SB_HD std::int64_t rows() const { return def.windows * def.win_len; }
};

// Token of row i in `def`, or -1 for a zero row.
SB_HD std::int64_t consumer_row_token(const consumer_desc& d, std::int64_t i) {
  return expected_token(d.def, i / d.def.win_len, i % d.def.win_len);
}

SB_HD std::int32_t consumer_loss_mask(const consumer_desc& d, std::int64_t i) {
  const std::int64_t w = i / d.def.win_len, j = i % d.def.win_len;
  if (j >= d.def.valid_len) return 0;
  const std::int64_t t = d.def.tok_base + w * d.def.win_tok_stride + j;
  if (d.loss_mask) return d.loss_mask[t];
  return std::int32_t(gen::int_value(gen::source::loss_mask, d.def.gen, t));
}

// Draft value k of row i for the memory and generated sources.
SB_HD float consumer_full_value(const consumer_desc& d, std::int64_t i, std::int64_t c) {
  if (d.source == consumer_source::memory) return load_as_float(d.src, i * d.src_ld + c, d.src_type);
  const std::int64_t t = consumer_row_token(d, i);
  return t < 0 ? 0.0f : gen::logit(d.def.gen, t, d.def.col_base + c);
}

// Peer block holding draft index k (pruned source).
SB_HD int pruned_peer_of(const consumer_desc& d, std::int64_t k, int from) {
  int q = from;
  while (q + 1 < d.n_peers && k >= d.peers[q].k0 + d.peers[q].n) ++q;
  return q;
}

SB_HD float pruned_value(const consumer_desc& d, std::int64_t i, std::int64_t k, int q) {
  const pruned_block& b = d.peers[q];
  const char* base = static_cast<const char*>(d.src) + b.values_offset;
  return load_as_float(base, i * b.n + (k - b.k0), d.src_type);
}

// Draft value k of row i, read where the row lives. q carries the pruned peer block of the lane's
// previous k (each lane visits its k in increasing order). Src: the source, fixed at compile time
// (kernels/consumer.cu's consumer_kernel; the host loops read through the readers below).
template <consumer_source Src>
SB_HD float draft_value_from(const consumer_desc& d, std::int64_t i, std::int64_t k, int& q) {
  if constexpr (Src == consumer_source::pruned) {
    q = pruned_peer_of(d, k, q);
    return pruned_value(d, i, k, q);
  } else {
    return consumer_full_value(d, i, d.d2t[k]);
  }
}

// Readers of row i's draft values for one lane: value(k) for the lane's k in increasing order. T is
// the stored type, fixed at compile time so a kernel's loads carry no type switch; the host picks it
// at run time (with_draft_reader). They read what draft_value_from reads.
template <dtype T>
struct full_row_reader {  // a full-vocab row in memory: row[d2t[k]]
  const void* row;
  const std::int32_t* d2t;
  SB_HD float operator()(std::int64_t k) const { return load_as_float(row, d2t[k], T); }
};

struct generated_reader {  // the row's definition (the verifier's reference)
  const consumer_desc* d;
  std::int64_t i;
  SB_HD float operator()(std::int64_t k) const { return consumer_full_value(*d, i, d->d2t[k]); }
};

template <dtype T>
struct pruned_reader {  // the pruned exchange's peer blocks; moves to the next block as k leaves one
  const consumer_desc* d;
  std::int64_t i;
  int q = 0;
  std::int64_t end = -1;  // the current block holds k < end ...
  std::int64_t at = 0;    // ... at element at + k of the values
  const void* values = nullptr;
  SB_HD float operator()(std::int64_t k) {
    if (k >= end) {
      q = pruned_peer_of(*d, k, q);
      const pruned_block& b = d->peers[q];
      values = static_cast<const char*>(d->src) + b.values_offset;
      at = i * b.n - b.k0;
      end = b.k0 + b.n;
    }
    return load_as_float(values, at + k, T);
  }
};

// Row i's reader for the host loops (the kernels name theirs at compile time): f(reader).
template <typename F>
void with_draft_reader(const consumer_desc& d, std::int64_t i, F&& f) {
  auto typed = [&](auto tag) {
    constexpr dtype T = decltype(tag)::value;
    if (d.source == consumer_source::pruned) {
      pruned_reader<T> r{&d, i};
      f(r);
    } else {
      full_row_reader<T> r{static_cast<const char*>(d.src) + i * d.src_ld * std::int64_t(dtype_size(T)), d.d2t};
      f(r);
    }
  };
  if (d.source == consumer_source::generated) {
    generated_reader r{&d, i};
    f(r);
  } else if (d.src_type == dtype::bf16) {
    typed(std::integral_constant<dtype, dtype::bf16>{});
  } else if (d.src_type == dtype::fp16) {
    typed(std::integral_constant<dtype, dtype::fp16>{});
  } else {
    typed(std::integral_constant<dtype, dtype::fp32>{});
  }
}

// One lane's online softmax over value(k), k = first, first + stride, ... < end, in increasing k.
// The U values of a step are loaded before any is pushed, so a kernel has U loads in flight per
// thread where one push after another waits for each load in turn. When none of them beats the
// running maximum (the usual case once a lane has seen a few values) each push is
// s += exp(x - m) with m fixed: the U exponentials are independent and only the adds are chained.
// Every value is pushed in the same order with the same operations for any U, so the state's bits
// do not depend on U (tests/core/consumer_test.cpp checks U = 1, 2, 3, 4, 8 against softmax_push).
// keep(k, x) sees every value once, after the step's U loads (so no load waits behind a store
// that might alias it): the GPU's full-row consumer keeps them in target_p for its second pass.
struct keep_none {
  SB_HD void operator()(std::int64_t, float) const {}
};
template <int U, typename Reader, typename Keep = keep_none>
SB_HD void softmax_lane(softmax_state& st, Reader& value, std::int64_t first, std::int64_t end, std::int64_t stride,
                        Keep&& keep = Keep{}) {
  for (std::int64_t k = first; k < end; k += U * stride) {
    float x[U];
    bool below = true;
SB_UNROLL
    for (int u = 0; u < U; ++u) x[u] = k + u * stride < end ? value(k + u * stride) : 0.0f;
SB_UNROLL
    for (int u = 0; u < U; ++u)
      if (k + u * stride < end) keep(k + u * stride, x[u]);
SB_UNROLL
    for (int u = 0; u < U; ++u)
      if (k + u * stride < end) below = below && !(x[u] > st.m);
    if (below) {
SB_UNROLL
      for (int u = 0; u < U; ++u)
        if (k + u * stride < end) st.s = add_rn(st.s, sb_exp_nonpos(x[u] - st.m));  // x <= m or NaN
    } else {
SB_UNROLL
      for (int u = 0; u < U; ++u)
        if (k + u * stride < end) softmax_push(st, x[u]);
    }
  }
}

// The same lane's probabilities: emit(k, softmax_prob(total, value(k))), U loads ahead of the
// arithmetic and the stores. total must be the row's (its m at least every value pushed).
template <int U, typename Reader, typename Emit>
SB_HD void softmax_probs_lane(const softmax_state& total, Reader& value, std::int64_t first, std::int64_t end,
                              std::int64_t stride, Emit&& emit) {
  for (std::int64_t k = first; k < end; k += U * stride) {
    float x[U];
SB_UNROLL
    for (int u = 0; u < U; ++u) x[u] = k + u * stride < end ? value(k + u * stride) : 0.0f;
SB_UNROLL
    for (int u = 0; u < U; ++u)  // softmax_prob's bits: total.m is at least every value of the row
      if (k + u * stride < end) emit(k + u * stride, sb_exp_nonpos(x[u] - total.m) / total.s);
  }
}

SB_HD arg_max pruned_argmax(const consumer_desc& d, std::int64_t i, int q) {
  const pruned_block& b = d.peers[q];
  const pruned_pair* p = reinterpret_cast<const pruned_pair*>(static_cast<const char*>(d.src) + b.pairs_offset) + i;
  return {p->max, p->argmax};
}

// The pruned sender: for each output row, this rank's draft columns (as stored, dtype w) and its
// local (max, argmax) over its real columns. Rows come from `rows` (remap_desc's row mapping and
// source: memory or generated; zero rows where the mapping says so).
struct prune_desc {
  remap_desc rows{};  // src, src_type, src_ld, generator, windows, win_len, row mapping; cols unused
  const std::int32_t* ids = nullptr;  // this rank's draft columns (global ids, sorted)
  // The same columns as 16-bit columns of the shard (ids - col_base), or null: the H100's kernel for
  // short 2-byte rows reads them (kernels/consumer.cu); every other kernel, and the host, read ids.
  // It reads them in the whole 16-byte vectors holding them, so their buffer must be readable in
  // whole 16-byte vectors: 16-byte aligned, its bytes a multiple of 16 (bench/pruned.cpp pads its copy).
  const std::uint16_t* cols16 = nullptr;
  std::int64_t n_ids = 0;
  std::int64_t col_base = 0;    // global id of the shard's column 0 (q·Vl)
  std::int64_t valid_cols = 0;  // shard columns below V
  void* values = nullptr;       // [rows][n_ids] of rows.src_type
  pruned_pair* pairs = nullptr; // [rows]
};

SB_HD float prune_source_value(const prune_desc& d, std::int64_t r, std::int64_t local_col) {
  if (d.rows.src_generated) return gen::logit(d.rows.gen, r, d.col_base + local_col);
  return load_as_float(d.rows.src, r * d.rows.src_ld + local_col, d.rows.src_type);
}

}  // namespace sb
