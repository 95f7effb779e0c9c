// usp: all-to-all from full-sequence/local-vocab to local-sequence/full-vocab for Ulysses × Ring
// sequence parallelism. Rank r (sp rank s, dp rank d) trains on sample b = d and keeps the window of
// tokens [s·C, s·C + Lloc) of it, Lloc = C + ttt, with full vocab; its hidden states, input ids and
// masks are sliced to the same window locally, and its position ids follow the Ulysses layout.
//
// `specforge` follows SGLang and SpecForge buffer for buffer: the fp32 upcast copy SGLang hands
// over; a zero-filled [B, S, Vl] copy with every sample copied in; an all-gather of every rank's sp
// rank; a zero-filled [P, B, Lloc, Vl] send buffer that carries *every* sample's window to every
// rank, filled destination by destination (one host sync each, reading the destination's gathered
// sp rank); the list all-to-all into [P, B, Lloc, Vl]; the concat along vocab of all B samples
// (the function returns it while padded, send and receive are still alive); then the trainer's
// shift of all B windows and the pick of its own sample. `fused` sends each destination only its
// own sample's window, in dtype w, straight from the input (the window is a contiguous row range),
// and unpacks with the upcast and the shift in one pass. `peer_pull` reads the window of every
// peer's input shard in place with one kernel (no exchange buffers); `pruned` (bench/pruned.h)
// exchanges only the window's draft columns and argmax pairs.
#include "bench/path.h"
#include "bench/pruned.h"
#include "harness/core/t2d.h"
#include "harness/core/layout.h"

namespace sb {
namespace {

class usp_path final : public path {
 public:
  explicit usp_path(variant_kind v) : m_variant(v) {}
  path_kind kind() const override { return path_kind::usp; }
  variant_kind variant() const override { return m_variant; }

  path_plan plan(const shape& s, int rank) const override {
    const usp_role me = usp_role_of(s, rank);
    const std::int64_t Vl = s.vocab_local(), Vp = s.vocab_padded(), P = s.tp, B = s.batch, L = me.window;
    path_plan p;
    if (m_variant == variant_kind::pruned) {
      const std::vector<std::int32_t> d2t = make_d2t(s);
      plan_pruned(p, s, rank, usp_output_spec, d2t);
      add_aligned_tensors(p, s, rank, 1);
      add_consumer(p, s, "recv", usp_output_spec(s, rank), &d2t);
      return p;
    }
    const bool fused = m_variant == variant_kind::fused, pull = m_variant == variant_kind::peer_pull;
    const int out_step = pull ? 0 : fused ? 1 : 7, align_step = out_step + 1;
    p.buffers.push_back(input_logits_buffer(s, rank, align_step));
    if (pull) {
      p.steps = {"pull", "align"};
      p.peer_shared.push_back("input");
    } else if (fused) {
      p.steps = {"comm", "unpack", "align"};
      p.buffers.push_back(make_buffer("recv", s.type, {P, L, Vl}, 0, 1));
    } else {
      // SpecForge's function holds padded, the sp ranks, send and recv until it returns (end of
      // step 5); the trainer holds its result through the shift.
      p.steps = {"upcast", "pad", "sp_ranks", "pack", "comm", "concat", "shift", "pick", "align"};
      p.buffers.push_back(make_buffer("logits", dtype::fp32, {s.tokens(), Vl}, 0, 5));
      p.buffers.push_back(make_buffer("padded", dtype::fp32, {B, s.seq, Vl}, 1, 5));
      p.buffers.push_back(make_buffer("sp_rank", dtype::i64, {1}, 2, 5));
      p.buffers.push_back(make_buffer("sp_ranks", dtype::i64, {P, 1}, 2, 5));
      p.buffers.push_back(make_buffer("send", dtype::fp32, {P, B, L, Vl}, 3, 5));
      p.buffers.push_back(make_buffer("recv", dtype::fp32, {P, B, L, Vl}, 4, 5));
      p.buffers.push_back(make_buffer("concat", dtype::fp32, {B * L, Vp}, 5, 6));
      p.buffers.push_back(make_buffer("shifted", dtype::fp32, {B, L, Vp}, 6, 7));
    }
    buffer_spec out = make_buffer("output", dtype::fp32, {L, Vp}, out_step, align_step);
    out.check = usp_output_spec(s, rank);
    out.dump = true;
    p.buffers.push_back(out);
    add_aligned_tensors(p, s, rank, align_step);

    p.collective = collective_kind::all_to_all;
    const std::size_t w = dtype_size(s.type);
    for (int d = 0; d < s.tp; ++d) {
      std::size_t bytes = fused || pull ? std::size_t(usp_role_of(s, d).valid_rows * Vl) * w : std::size_t(B * L * Vl) * 4;
      p.op_bytes += bytes;
      if (d != rank) p.bytes_sent += bytes;
    }
    if (!fused && !pull) p.bytes_sent += std::size_t(P - 1) * sizeof(std::int64_t);  // the sp ranks' all-gather
    p.useful_bytes = std::size_t(P - 1) * std::size_t(me.valid_rows * Vl) * w;
    if (s.has_consumer()) add_consumer(p, s, "output", usp_output_spec(s, rank));
    return p;
  }

  void run(rank_context& ctx) const override {
    const shape& s = ctx.shp();
    switch (m_variant) {
      case variant_kind::fused: run_fused(ctx); break;
      case variant_kind::specforge: run_specforge(ctx); break;
      case variant_kind::peer_pull: run_pull(ctx, usp_output_spec(s, ctx.rank())); break;
      case variant_kind::pruned:
        run_pruned(ctx, usp_output_spec);  // its consumer stage included
        align(ctx);
        return;
    }
    align(ctx);
    if (s.has_consumer()) run_consumer(ctx, "output", s.vocab_padded(), usp_output_spec(s, ctx.rank()));
  }

 private:
  // Global inputs every rank holds ([B·S, 3H] hidden states, [B·S] ids and masks) and the rank's
  // aligned slices of them, plus its position ids.
  static void add_aligned_tensors(path_plan& p, const shape& s, int rank, int step) {
    auto input = [&](const char* name, const expected_spec& e) {
      buffer_spec b = make_buffer(name, e.type, dims_of(e), 0, step);
      b.fill = e;
      p.buffers.push_back(b);
    };
    auto aligned = [&](const char* name, const expected_spec& e) {
      buffer_spec b = make_buffer(name, e.type, dims_of(e), step, step);
      b.check = e;
      b.dump = true;
      p.buffers.push_back(b);
    };
    input("hidden_global", hidden_global_spec(s));
    input("ids_global", token_global_spec(s, gen::source::input_ids));
    input("attention_mask_global", token_global_spec(s, gen::source::attention_mask));
    input("loss_mask_global", token_global_spec(s, gen::source::loss_mask));
    aligned("hidden", usp_hidden_spec(s, rank));
    aligned("input_ids", usp_input_ids_spec(s, rank));
    aligned("attention_mask", usp_attention_mask_spec(s, rank));
    aligned("loss_mask", usp_loss_mask_spec(s, rank));
    aligned("position_ids", usp_position_ids_spec(s, rank));
  }

  static void run_fused(rank_context& ctx) {
    const shape& s = ctx.shp();
    const usp_role me = usp_role_of(s, ctx.rank());
    const std::int64_t Vl = s.vocab_local(), L = me.window;
    const std::size_t row = std::size_t(Vl) * dtype_size(s.type);
    a2a_args a;
    a.send = ctx.buf("input");
    a.recv = ctx.buf("recv");
    for (int d = 0; d < s.tp; ++d) {
      const usp_role dst = usp_role_of(s, d);
      a.send_chunks.push_back({std::size_t(dst.sample * s.seq + dst.first_token) * row, std::size_t(dst.valid_rows) * row});
      a.recv_chunks.push_back({std::size_t(d * L) * row, std::size_t(me.valid_rows) * row});
    }
    a.impl = a2a_impl::send_recv;  // windows overlap by ttt rows: not one contiguous send layout
    {
      auto ph = ctx.phase("comm");
      ctx.backend().all_to_all(a, [&](int q) {
        remap_desc d = generated_shard(s, q, s.type);
        d.dst = static_cast<char*>(ctx.buf("recv")) + a.recv_chunks[q].offset;
        d.src_row_base = me.sample * s.seq + me.first_token;
        d.win_len = me.valid_rows;
        d.valid_len = me.valid_rows;
        return d;
      });
    }
    {
      auto ph = ctx.phase("unpack");
      remap_desc d = window_from_peers(s, ctx.buf("recv"), s.type, L, ctx.buf("output"));
      d.shift = 1;
      d.valid_len = me.valid_rows;
      ctx.backend().remap(d);
    }
  }

  static void run_specforge(rank_context& ctx) {
    const shape& s = ctx.shp();
    const int r = ctx.rank();
    const usp_role me = usp_role_of(s, r);
    const std::int64_t Vl = s.vocab_local(), Vp = s.vocab_padded(), L = me.window, B = s.batch, T = s.tokens();
    const std::size_t chunk_bytes = std::size_t(B * L * Vl) * 4;
    rank_backend& comm = ctx.backend();
    {
      auto ph = ctx.phase("upcast");  // SGLang hands SpecForge an fp32 copy of the logits
      comm.remap(dense_copy(ctx.buf("input"), s.type, Vl, ctx.buf("logits"), dtype::fp32, Vl, T, Vl));
    }
    {
      auto ph = ctx.phase("pad");  // torch.zeros([B, S, Vl]), then every sample copied in
      comm.zero(ctx.buf("padded"), std::size_t(T * Vl) * 4);
      comm.remap(dense_copy(ctx.buf("logits"), dtype::fp32, Vl, ctx.buf("padded"), dtype::fp32, Vl, T, Vl));
    }
    auto* sp_ranks = static_cast<std::int64_t*>(ctx.buf("sp_ranks"));
    {
      auto ph = ctx.phase("sp_ranks");  // torch.tensor([sp_rank], device) and an all-gather of it
      const std::int64_t mine = me.sp_rank;
      comm.upload(ctx.buf("sp_rank"), &mine, sizeof mine);
      comm.all_gather(ctx.buf("sp_rank"), sp_ranks, sizeof mine, [&](int q) {
        remap_desc d = dense_copy(nullptr, dtype::i64, 1, sp_ranks + q, dtype::i64, 1, 1, 1);
        d.src_generated = true;  // peer q's sp rank: the position generator's value at q mod sp
        d.gen_kind = gen::source::position;
        d.gen = gen_params(s);
        d.src_row_base = q % s.sp();
        return d;
      });
    }
    char* send = static_cast<char*>(ctx.buf("send"));
    {
      auto ph = ctx.phase("pack");
      comm.zero(send, std::size_t(s.tp) * chunk_bytes);
      for (int d = 0; d < s.tp; ++d) {
        std::int64_t dst_sp = usp_role_of(s, d).sp_rank;  // what the gathered tensor holds, read back:
        comm.download(&dst_sp, sp_ranks + d, sizeof dst_sp);  // one host sync per destination
        comm.remap(every_sample_window(s, usp_window_of(s, dst_sp), ctx.buf("padded"), dtype::fp32,
                                       send + std::size_t(d) * chunk_bytes));
      }
    }
    a2a_args a;
    a.send = send;
    a.recv = ctx.buf("recv");
    for (int d = 0; d < s.tp; ++d) {
      a.send_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
      a.recv_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
    }
    a.impl = a2a_impl::send_recv;  // dist.all_to_all over a list of tensors
    {
      auto ph = ctx.phase("comm");
      comm.all_to_all(a, [&](int q) {
        remap_desc d = every_sample_window(s, usp_window_of(s, me.sp_rank), nullptr, dtype::fp32,
                                           static_cast<char*>(ctx.buf("recv")) + std::size_t(q) * chunk_bytes);
        d.win_len = me.window;  // the whole window arrives, its zero-filled tail included
        d.valid_len = me.valid_rows;
        generate_from_peer(d, s, q);
        return d;
      });
    }
    {
      auto ph = ctx.phase("concat");  // torch.cat(received, dim=-1) of all B samples: [B·Lloc, Vp]
      comm.remap(window_from_peers(s, ctx.buf("recv"), dtype::fp32, B * L, ctx.buf("concat")));
    }
    {
      auto ph = ctx.phase("shift");  // the trainer shifts every sample's window
      remap_desc d = dense_copy(ctx.buf("concat"), dtype::fp32, Vp, ctx.buf("shifted"), dtype::fp32, Vp, L, Vp);
      shift_windows(d, B, L, L, L);
      comm.remap(d);
    }
    {
      auto ph = ctx.phase("pick");  // and keeps its own sample's: a copy
      remap_desc d = dense_copy(ctx.buf("shifted"), dtype::fp32, Vp, ctx.buf("output"), dtype::fp32, Vp, L, Vp);
      d.src_row_base = me.sample * L;
      comm.remap(d);
    }
  }

  // A destination's window (`w`) of every sample, fp32: [B, Lloc, Vl] from a [B·S, Vl] tensor of
  // type t; only the rows inside each sample are written (the rest was zero-filled).
  static remap_desc every_sample_window(const shape& s, const usp_window& w, const void* src, dtype t, void* out) {
    const std::int64_t Vl = s.vocab_local();
    remap_desc d = dense_copy(src, t, Vl, out, dtype::fp32, Vl, w.valid_rows, Vl);
    d.windows = s.batch;
    d.valid_windows = s.batch;
    d.dst_win_stride = s.seq / s.sp() + s.ttt;
    d.src_row_base = w.first_token;
    d.src_win_stride = s.seq;
    return d;
  }

  // recv [P][rows][Vl] of type t -> [rows, Vp] fp32: each peer's block side by side along vocab.
  static remap_desc window_from_peers(const shape& s, const void* recv, dtype t, std::int64_t rows, void* out) {
    const std::int64_t Vl = s.vocab_local(), Vp = s.vocab_padded();
    remap_desc d = dense_copy(recv, t, Vl, out, dtype::fp32, Vp, rows, Vp);
    d.src_peer_cols = Vl;
    d.src_peer_stride = rows * Vl;
    return d;
  }

  // The aligned slices and the position ids: five small tensors, one launch where the backend can.
  static void align(rank_context& ctx) {
    const shape& s = ctx.shp();
    const usp_role me = usp_role_of(s, ctx.rank());
    auto ph = ctx.phase("align");
    const std::int64_t first = me.sample * s.seq + me.first_token;
    std::vector<remap_desc> ds;
    auto slice = [&](const char* src, const char* dst, dtype t, std::int64_t cols, std::int64_t shift) {
      remap_desc d = dense_copy(ctx.buf(src), t, cols, ctx.buf(dst), t, cols, me.window, cols);
      d.src_row_base = first;
      d.valid_len = me.valid_rows;
      d.shift = shift;
      ds.push_back(d);
    };
    slice("hidden_global", "hidden", dtype::bf16, s.hidden3(), 0);
    slice("ids_global", "input_ids", dtype::i32, 1, 1);  // shifted like the target
    slice("attention_mask_global", "attention_mask", dtype::i32, 1, 0);
    slice("loss_mask_global", "loss_mask", dtype::i32, 1, 0);
    // Position ids are an arange (positions after the Ulysses all-to-all): generated, not copied.
    const expected_spec pos = usp_position_ids_spec(s, ctx.rank());
    remap_desc p = dense_copy(nullptr, dtype::i64, 1, ctx.buf("position_ids"), dtype::i64, 1, pos.win_len, 1);
    p.src_generated = true;
    p.gen_kind = gen::source::position;
    p.gen = pos.gen;
    p.src_row_base = pos.tok_base;
    ds.push_back(p);
    ctx.backend().remap_many(ds);
  }

  variant_kind m_variant;
};

}  // namespace

std::unique_ptr<path> make_usp_path(variant_kind v) { return std::make_unique<usp_path>(v); }

}  // namespace sb
