// baseline: SGLang's tensor-parallel all-gather. Every rank gathers all vocab shards [P, T, Vl],
// reorders to [T, Vp], drops the padding columns, upcasts to fp32, splits the tokens into samples
// and shifts each sample one token left. `specforge` makes each of those its own allocation and
// copy, as the Python code does: SGLang's all-gather, its movedim(0, 1) reorder, the slice to V with
// the upcast, then SpecForge's split into samples with their concat, and its shift. `fused` does
// the reorder, slice, upcast and shift in one pass.
#include "bench/path.h"
#include "harness/core/layout.h"

namespace sb {
namespace {

class baseline_path final : public path {
 public:
  explicit baseline_path(variant_kind v) : m_variant(v) {}
  path_kind kind() const override { return path_kind::baseline; }
  variant_kind variant() const override { return m_variant; }

  path_plan plan(const shape& s, int rank) const override {
    const std::int64_t T = s.tokens(), Vl = s.vocab_local(), P = s.tp, V = s.vocab;
    const bool fused = m_variant == variant_kind::fused;
    const int last = fused ? 1 : 4;
    path_plan p;
    p.steps = fused ? std::vector<std::string>{"comm", "unpack"}
                    : std::vector<std::string>{"comm", "reorder", "slice_upcast", "split_concat", "shift"};
    p.buffers.push_back(input_logits_buffer(s, rank, last));
    p.buffers.push_back(make_buffer("gathered", s.type, {P, T, Vl}, 0, 1));
    if (!fused) {
      p.buffers.push_back(make_buffer("reordered", s.type, {T, s.vocab_padded()}, 1, 2));
      p.buffers.push_back(make_buffer("sliced", dtype::fp32, {T, V}, 2, 3));
      p.buffers.push_back(make_buffer("samples", dtype::fp32, {s.batch, s.seq, V}, 3, 4));
    }
    buffer_spec out = make_buffer("output", dtype::fp32, {s.batch, s.seq, V}, last, last);
    out.check = baseline_output_spec(s);
    out.dump = true;
    p.buffers.push_back(out);
    const std::size_t shard = std::size_t(T * Vl) * dtype_size(s.type);
    p.collective = collective_kind::all_gather;
    p.bytes_sent = std::size_t(P - 1) * shard;
    p.op_bytes = std::size_t(P) * shard;
    p.useful_bytes = std::size_t(P - 1) * shard;
    if (s.has_consumer()) add_consumer(p, s, "output", baseline_output_spec(s));
    return p;
  }

  void run(rank_context& ctx) const override {
    gather(ctx);
    const shape& s = ctx.shp();
    if (m_variant == variant_kind::fused)
      unpack_fused(ctx);
    else
      unpack_specforge(ctx);
    if (s.has_consumer()) run_consumer(ctx, "output", s.vocab, baseline_output_spec(s));
  }

 private:
  static void gather(rank_context& ctx) {
    const shape& s = ctx.shp();
    const std::size_t shard_bytes = std::size_t(s.tokens() * s.vocab_local()) * dtype_size(s.type);
    auto ph = ctx.phase("comm");
    ctx.backend().all_gather(ctx.buf("input"), ctx.buf("gathered"), shard_bytes, [&](int q) {
      remap_desc d = generated_shard(s, q, s.type);
      d.dst = static_cast<char*>(ctx.buf("gathered")) + std::size_t(q) * shard_bytes;
      return d;
    });
  }

  // gathered [P, T, Vl] read as [T, Vp]: column c comes from peer block c / Vl.
  static remap_desc reorder_of(const rank_context& ctx) {
    const shape& s = ctx.shp();
    const std::int64_t T = s.tokens(), Vl = s.vocab_local(), Vp = s.vocab_padded();
    remap_desc d = dense_copy(ctx.buf("gathered"), s.type, Vl, nullptr, s.type, Vp, T, Vp);
    d.src_peer_cols = Vl;
    d.src_peer_stride = T * Vl;
    return d;
  }

  static void unpack_fused(rank_context& ctx) {
    const shape& s = ctx.shp();
    auto ph = ctx.phase("unpack");
    remap_desc d = reorder_of(ctx);  // reorder + slice + upcast + shift in one pass
    d.dst = ctx.buf("output");
    d.dst_type = dtype::fp32;
    d.dst_ld = s.vocab;
    d.cols = s.vocab;
    shift_windows(d, s.batch, s.seq, s.seq, s.seq);
    ctx.backend().remap(d);
  }

  static void unpack_specforge(rank_context& ctx) {
    const shape& s = ctx.shp();
    const std::int64_t T = s.tokens(), V = s.vocab;
    rank_backend& comm = ctx.backend();
    {
      auto ph = ctx.phase("reorder");  // movedim(0, 1).reshape(T, Vp): a copy
      remap_desc d = reorder_of(ctx);
      d.dst = ctx.buf("reordered");
      comm.remap(d);
    }
    {
      auto ph = ctx.phase("slice_upcast");  // [:, :V].float()
      comm.remap(dense_copy(ctx.buf("reordered"), s.type, s.vocab_padded(), ctx.buf("sliced"), dtype::fp32, V, T, V));
    }
    {
      auto ph = ctx.phase("split_concat");  // the tokens split into samples, concatenated as [B, S, V]
      comm.remap(dense_copy(ctx.buf("sliced"), dtype::fp32, V, ctx.buf("samples"), dtype::fp32, V, T, V));
    }
    {
      auto ph = ctx.phase("shift");
      remap_desc d = dense_copy(ctx.buf("samples"), dtype::fp32, V, ctx.buf("output"), dtype::fp32, V, T, V);
      shift_windows(d, s.batch, s.seq, s.seq, s.seq);
      comm.remap(d);
    }
  }

  variant_kind m_variant;
};

}  // namespace

std::unique_ptr<path> make_baseline_path(variant_kind v) { return std::make_unique<baseline_path>(v); }

}  // namespace sb
