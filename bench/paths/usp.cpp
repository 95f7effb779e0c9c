// usp: all-to-all from full-sequence/local-vocab to local-sequence/full-vocab for Ulysses × Ring
// sequence parallelism. Rank r (sp rank s, dp rank d) trains on sample b = d and keeps the window of
// tokens [s·C, s·C + Lloc) of it, Lloc = C + ttt, with full vocab; its hidden states, input ids and
// masks are sliced to the same window locally, and its position ids follow the Ulysses layout.
//
// `specforge` zero-fills a [P, B, Lloc, Vl] fp32 send buffer, copies *every* sample's window for each
// destination into it (one host sync per destination, as the Python loop does), exchanges it with one
// all-to-all, keeps its own sample, concatenates along vocab and shifts. `fused` sends each
// destination only its own sample's window, in dtype w, straight from the input (the window is a
// contiguous row range), and unpacks with the upcast and the shift in one pass. `peer_pull` reads
// the window of every peer's input shard in place with one kernel (no exchange buffers); `pruned`
// (bench/pruned.h) exchanges only the window's draft columns and argmax pairs.
#include "bench/path.h"
#include "bench/pruned.h"
#include "harness/t2d.h"
#include "harness/layout.h"

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
    const bool wire_w = fused || pull;  // the LM head's dtype crosses the link, one window per destination
    const int out_step = pull ? 0 : fused ? 1 : 3, align_step = out_step + 1;
    p.buffers.push_back(input_logits_buffer(s, rank, align_step));
    if (pull) {
      p.peer_shared.push_back("input");
    } else if (fused) {
      p.buffers.push_back(make_buffer("recv", s.type, P * L * Vl, 0, 1));  // [P, Lloc, Vl]
    } else {
      p.buffers.push_back(make_buffer("send", dtype::fp32, P * B * L * Vl, 0, 1));  // [P, B, Lloc, Vl]
      p.buffers.push_back(make_buffer("recv", dtype::fp32, P * B * L * Vl, 1, 2));  // [P, B, Lloc, Vl]
      p.buffers.push_back(make_buffer("concat", dtype::fp32, L * Vp, 2, 3));        // [Lloc, Vp]
    }
    buffer_spec out = make_buffer("output", dtype::fp32, L * Vp, out_step, align_step);
    out.check = usp_output_spec(s, rank);
    out.dump = true;
    p.buffers.push_back(out);
    add_aligned_tensors(p, s, rank, align_step);

    p.collective = collective_kind::all_to_all;
    const std::size_t w = dtype_size(s.type);
    for (int d = 0; d < s.tp; ++d) {
      std::size_t bytes = wire_w ? std::size_t(usp_role_of(s, d).valid_rows * Vl) * w : std::size_t(B * L * Vl) * 4;
      p.op_bytes += bytes;
      if (d != rank) p.bytes_sent += bytes;
    }
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
      buffer_spec b = make_buffer(name, e.type, e.elements(), 0, step);
      b.fill = e;
      p.buffers.push_back(b);
    };
    auto aligned = [&](const char* name, const expected_spec& e) {
      buffer_spec b = make_buffer(name, e.type, e.elements(), step, step);
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
      ctx.comm().all_to_all(a, [&](int q) {
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
      remap_desc d = window_from_peers(s, ctx.buf("recv"), s.type, L * Vl, 0, ctx.buf("output"));
      d.shift = 1;
      d.valid_len = me.valid_rows;
      ctx.comm().remap(d);
    }
  }

  static void run_specforge(rank_context& ctx) {
    const shape& s = ctx.shp();
    const int r = ctx.rank();
    const usp_role me = usp_role_of(s, r);
    const std::int64_t Vl = s.vocab_local(), L = me.window, B = s.batch;
    const std::size_t chunk_bytes = std::size_t(B * L * Vl) * 4;
    char* send = static_cast<char*>(ctx.buf("send"));
    {
      auto ph = ctx.phase("zero");
      ctx.comm().zero(send, std::size_t(s.tp) * chunk_bytes);
    }
    {
      auto ph = ctx.phase("pack");
      for (int d = 0; d < s.tp; ++d) {
        ctx.comm().remap(every_sample_window(s, usp_role_of(s, d), ctx.buf("input"), send + std::size_t(d) * chunk_bytes));
        ctx.comm().host_sync();  // the Python loop syncs once per destination
      }
    }
    a2a_args a;
    a.send = send;
    a.recv = ctx.buf("recv");
    for (int d = 0; d < s.tp; ++d) {
      a.send_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
      a.recv_chunks.push_back({std::size_t(d) * chunk_bytes, chunk_bytes});
    }
    a.impl = a2a_impl::collective;  // all_to_all_single over the [P, ...] tensor
    {
      auto ph = ctx.phase("comm");
      ctx.comm().all_to_all(a, [&](int q) {
        remap_desc d = every_sample_window(s, me, nullptr, static_cast<char*>(ctx.buf("recv")) + std::size_t(q) * chunk_bytes);
        d.win_len = me.window;  // the whole window arrives, its zero-filled tail included
        d.valid_len = me.valid_rows;
        generate_from_peer(d, s, q);
        return d;
      });
    }
    {
      auto ph = ctx.phase("concat");  // keep sample b of every peer's block, side by side along vocab
      remap_desc d = window_from_peers(s, ctx.buf("recv"), dtype::fp32, B * L * Vl, me.sample * L, ctx.buf("concat"));
      ctx.comm().remap(d);
    }
    {
      auto ph = ctx.phase("shift");
      const std::int64_t Vp = s.vocab_padded();
      remap_desc d = dense_copy(ctx.buf("concat"), dtype::fp32, Vp, ctx.buf("output"), dtype::fp32, Vp, L, Vp);
      shift_windows(d, 1, L, L, L);
      ctx.comm().remap(d);
    }
  }

  // Destination `dst`'s window of every sample, upcast to fp32: [B, Lloc, Vl], zero past each sample.
  static remap_desc every_sample_window(const shape& s, const usp_role& dst, const void* input, void* out) {
    const std::int64_t Vl = s.vocab_local();
    remap_desc d = dense_copy(input, s.type, Vl, out, dtype::fp32, Vl, dst.valid_rows, Vl);
    d.windows = s.batch;
    d.valid_windows = s.batch;
    d.dst_win_stride = dst.window;  // rows past valid_rows stay as zero-filled
    d.src_row_base = dst.first_token;
    d.src_win_stride = s.seq;
    return d;
  }

  // [P][peer_stride] blocks, rows from `row_base` -> [Lloc, Vp] fp32 (the full-vocab window).
  static remap_desc window_from_peers(const shape& s, const void* recv, dtype t, std::int64_t peer_stride,
                                      std::int64_t row_base, void* out) {
    const std::int64_t Vl = s.vocab_local(), Vp = s.vocab_padded();
    const std::int64_t L = s.seq / s.sp() + s.ttt;
    remap_desc d = dense_copy(recv, t, Vl, out, dtype::fp32, Vp, L, Vp);
    d.src_peer_cols = Vl;
    d.src_peer_stride = peer_stride;
    d.src_row_base = row_base;
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
    ctx.comm().remap_many(ds);
  }

  variant_kind m_variant;
};

}  // namespace

std::unique_ptr<path> make_usp_path(variant_kind v) { return std::make_unique<usp_path>(v); }

}  // namespace sb
