// batch: all-to-all from full-batch/local-vocab [B, S, Vl] to local-batch/full-vocab [n_r, S, Vp].
// Rank r owns samples [r·spr, r·spr + n_r). `specforge` follows SGLang and SpecForge buffer for
// buffer: the fp32 upcast copy SGLang hands over, a zero-filled [Bp, S, Vl] copy padded to a multiple
// of P samples, the list all-to-all (grouped send/recv) into [P, spr·S, Vl], the concat along vocab
// [spr, S, Vp], the concat of the local samples' valid rows [n_r·S, Vp], and the trainer's shift.
// `fused` sends the dtype-w rows of each destination's samples straight from the input (they are
// contiguous, so there is no pack at all) and unpacks with the upcast and the shift in one pass.
// `peer_pull` has no exchange buffers at all: one kernel reads each peer's input shard in place
// (peer access / CUDA IPC) and writes the output. `pruned` (bench/pruned.h) exchanges only the
// draft columns and argmax pairs.
#include "bench/path.h"
#include "bench/pruned.h"
#include "harness/core/t2d.h"
#include "harness/core/layout.h"

namespace sb {
namespace {

class batch_path final : public path {
 public:
  explicit batch_path(variant_kind v) : m_variant(v) {}
  path_kind kind() const override { return path_kind::batch; }
  variant_kind variant() const override { return m_variant; }

  path_plan plan(const shape& s, int rank) const override {
    const std::int64_t S = s.seq, Vl = s.vocab_local(), Vp = s.vocab_padded(), P = s.tp;
    const std::int64_t spr = batch_samples_per_rank(s), n = batch_num_samples(s, rank);
    path_plan p;
    if (m_variant == variant_kind::pruned) {
      const std::vector<std::int32_t> d2t = make_d2t(s);
      plan_pruned(p, s, rank, batch_output_spec, d2t);
      add_consumer(p, s, "recv", batch_output_spec(s, rank), &d2t);
      return p;
    }
    const bool fused = m_variant == variant_kind::fused, pull = m_variant == variant_kind::peer_pull;
    const bool wire_w = fused || pull;  // the LM head's dtype crosses the link
    const int last = pull ? 0 : fused ? 1 : 5;
    p.buffers.push_back(input_logits_buffer(s, rank, last));
    if (pull) {
      p.steps = {"pull"};
      p.peer_shared.push_back("input");
    } else if (fused) {
      p.steps = {"comm", "unpack"};
      p.buffers.push_back(make_buffer("recv", s.type, {P, n * S, Vl}, 0, 1));
    } else {
      // SpecForge's function holds padded, recv and concat until it returns (end of step 4).
      p.steps = {"upcast", "pad", "comm", "concat", "local_rows", "shift"};
      p.buffers.push_back(make_buffer("logits", dtype::fp32, {s.tokens(), Vl}, 0, 4));
      p.buffers.push_back(make_buffer("padded", dtype::fp32, {P * spr, S, Vl}, 1, 4));
      p.buffers.push_back(make_buffer("recv", dtype::fp32, {P, spr * S, Vl}, 2, 4));
      p.buffers.push_back(make_buffer("concat", dtype::fp32, {spr, S, Vp}, 3, 4));
      p.buffers.push_back(make_buffer("local", dtype::fp32, {n * S, Vp}, 4, 5));
    }
    buffer_spec out = make_buffer("output", dtype::fp32, {n, S, Vp}, last, last);
    out.check = batch_output_spec(s, rank);
    out.dump = true;
    p.buffers.push_back(out);

    p.collective = collective_kind::all_to_all;
    const std::size_t row = std::size_t(Vl) * dtype_size(s.type);
    for (int d = 0; d < s.tp; ++d) {
      std::size_t rows_to_d = wire_w ? std::size_t(batch_num_samples(s, d) * S) : std::size_t(spr * S);
      std::size_t bytes = rows_to_d * (wire_w ? row : std::size_t(Vl) * 4);
      p.op_bytes += bytes;
      if (d != rank) p.bytes_sent += bytes;
    }
    p.useful_bytes = std::size_t(P - 1) * std::size_t(n * S) * row;
    if (s.has_consumer()) add_consumer(p, s, "output", batch_output_spec(s, rank));
    return p;
  }

  void run(rank_context& ctx) const override {
    const shape& s = ctx.shp();
    switch (m_variant) {
      case variant_kind::fused: run_fused(ctx); break;
      case variant_kind::specforge: run_specforge(ctx); break;
      case variant_kind::peer_pull: run_pull(ctx, batch_output_spec(s, ctx.rank())); break;
      case variant_kind::pruned: run_pruned(ctx, batch_output_spec); return;
    }
    if (s.has_consumer()) run_consumer(ctx, "output", s.vocab_padded(), batch_output_spec(s, ctx.rank()));
  }

 private:
  static void run_fused(rank_context& ctx) {
    const shape& s = ctx.shp();
    const int r = ctx.rank();
    const std::int64_t S = s.seq, Vl = s.vocab_local(), n = batch_num_samples(s, r);
    const std::size_t row = std::size_t(Vl) * dtype_size(s.type);
    a2a_args a;
    a.send = ctx.buf("input");
    a.recv = ctx.buf("recv");
    for (int d = 0; d < s.tp; ++d) {
      a.send_chunks.push_back({std::size_t(batch_first_sample(s, d) * S) * row, std::size_t(batch_num_samples(s, d) * S) * row});
      a.recv_chunks.push_back({std::size_t(d * n * S) * row, std::size_t(n * S) * row});
    }
    // Equal, back-to-back chunks make it one ncclAlltoAll; otherwise the grouped point-to-point form.
    a.impl = s.batch % s.tp == 0 ? a2a_impl::collective : a2a_impl::send_recv;
    {
      auto ph = ctx.phase("comm");
      ctx.backend().all_to_all(a, [&](int q) {
        remap_desc d = generated_shard(s, q, s.type);
        d.dst = static_cast<char*>(ctx.buf("recv")) + a.recv_chunks[q].offset;
        d.src_row_base = batch_first_sample(s, r) * S;
        d.win_len = n * S;
        d.valid_len = n * S;
        return d;
      });
    }
    {
      auto ph = ctx.phase("unpack");
      ctx.backend().remap(unpack_desc(s, ctx.buf("recv"), s.type, n, ctx.buf("output")));
    }
  }

  static void run_specforge(rank_context& ctx) {
    const shape& s = ctx.shp();
    const int r = ctx.rank();
    const std::int64_t S = s.seq, Vl = s.vocab_local(), Vp = s.vocab_padded(), T = s.tokens();
    const std::int64_t spr = batch_samples_per_rank(s), P = s.tp, n = batch_num_samples(s, r);
    const std::size_t chunk_bytes = std::size_t(spr * S * Vl) * 4;
    rank_backend& comm = ctx.backend();
    {
      auto ph = ctx.phase("upcast");  // SGLang hands SpecForge an fp32 copy of the logits
      comm.remap(dense_copy(ctx.buf("input"), s.type, Vl, ctx.buf("logits"), dtype::fp32, Vl, T, Vl));
    }
    {
      auto ph = ctx.phase("pad");  // torch.zeros([Bp, S, Vl]), then every sample copied in
      comm.zero(ctx.buf("padded"), std::size_t(P) * chunk_bytes);
      comm.remap(dense_copy(ctx.buf("logits"), dtype::fp32, Vl, ctx.buf("padded"), dtype::fp32, Vl, T, Vl));
    }
    a2a_args a;
    a.send = ctx.buf("padded");
    a.recv = ctx.buf("recv");
    for (int d = 0; d < s.tp; ++d) {
      a.send_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
      a.recv_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
    }
    a.impl = a2a_impl::send_recv;  // dist.all_to_all over a list of tensors
    {
      auto ph = ctx.phase("comm");
      comm.all_to_all(a, [&](int q) {
        remap_desc d = generated_shard(s, q, dtype::fp32);
        d.dst = static_cast<char*>(ctx.buf("recv")) + std::size_t(q) * chunk_bytes;
        d.src_row_base = batch_first_sample(s, r) * S;
        d.win_len = spr * S;
        d.valid_len = std::max<std::int64_t>(0, T - batch_first_sample(s, r) * S);  // dummy samples are zeros
        return d;
      });
    }
    {
      auto ph = ctx.phase("concat");  // torch.cat(received, dim=-1)
      remap_desc d = dense_copy(ctx.buf("recv"), dtype::fp32, Vl, ctx.buf("concat"), dtype::fp32, Vp, spr * S, Vp);
      d.src_peer_cols = Vl;
      d.src_peer_stride = spr * S * Vl;
      comm.remap(d);
    }
    {
      auto ph = ctx.phase("local_rows");  // torch.cat of the local samples' valid rows: [n·S, Vp]
      comm.remap(dense_copy(ctx.buf("concat"), dtype::fp32, Vp, ctx.buf("local"), dtype::fp32, Vp, n * S, Vp));
    }
    {
      auto ph = ctx.phase("shift");
      remap_desc d = dense_copy(ctx.buf("local"), dtype::fp32, Vp, ctx.buf("output"), dtype::fp32, Vp, S, Vp);
      shift_windows(d, n, S, S, S);
      comm.remap(d);
    }
  }

  // recv [P, n·S, Vl] of `type` -> output [n, S, Vp] fp32, shifted within each sample.
  static remap_desc unpack_desc(const shape& s, const void* recv, dtype type, std::int64_t n, void* out) {
    const std::int64_t S = s.seq, Vl = s.vocab_local(), Vp = s.vocab_padded();
    remap_desc d = dense_copy(recv, type, Vl, out, dtype::fp32, Vp, S, Vp);
    d.src_peer_cols = Vl;
    d.src_peer_stride = n * S * Vl;
    shift_windows(d, n, S, S, S);
    return d;
  }

  variant_kind m_variant;
};

}  // namespace

std::unique_ptr<path> make_batch_path(variant_kind v) { return std::make_unique<batch_path>(v); }

}  // namespace sb
