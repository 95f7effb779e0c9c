#include "bench/pruned.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "harness/core/layout.h"

namespace sb {

namespace {

std::size_t align16(std::size_t b) { return (b + 15) / 16 * 16; }

// What rank q sends rank d: [rows_d][n_q] values, padded to 16 bytes, then [rows_d] pairs.
struct pruned_chunk {
  std::size_t values_bytes = 0;  // padded
  std::size_t bytes = 0;
};

pruned_chunk chunk_of(const shape& s, const std::vector<draft_share>& draft, int q, std::int64_t rows) {
  pruned_chunk c;
  c.values_bytes = align16(std::size_t(rows * draft[std::size_t(q)].count) * dtype_size(s.type));
  c.bytes = align16(c.values_bytes + std::size_t(rows) * sizeof(pruned_pair));
  return c;
}

std::int64_t rows_of_spec(const expected_spec& e) { return e.windows * e.win_len; }

// The draft columns as 16-bit columns of their shard (d2t[k] - q·Vl for shard q's share), which the
// H100's bulk-copy pack reads (kernels/consumer.cu): when a shard's columns fit 16 bits (tp >= 2 at
// DeepSeek-V3's vocabulary).
bool has_cols16(const shape& s) { return s.vocab_local() <= 65536; }

// Padded with zeros to a 16-byte multiple: the kernel reads them in whole 16-byte vectors.
std::vector<char> cols16_bytes(const shape& s, const std::vector<std::int32_t>& d2t) {
  std::vector<std::uint16_t> c((d2t.size() + 7) / 8 * 8, 0);
  for (std::size_t k = 0; k < d2t.size(); ++k) c[k] = std::uint16_t(d2t[k] % s.vocab_local());
  return {reinterpret_cast<const char*>(c.data()), reinterpret_cast<const char*>(c.data() + c.size())};
}

// Rank q's pack of the rows `out` (a destination's output rows) from a [T, Vl] shard.
prune_desc pack_desc(const shape& s, const std::vector<draft_share>& draft, const std::int32_t* d2t, const std::uint16_t* cols16,
                     int q, const expected_spec& out, const void* input, char* chunk_start, const pruned_chunk& c) {
  const std::int64_t Vl = s.vocab_local();
  prune_desc p;
  p.rows = dense_copy(input, s.type, Vl, nullptr, s.type, Vl, out.win_len, Vl);
  rows_like(p.rows, out);
  if (!input) generate_from_peer(p.rows, s, q);  // a peer that is only emulated
  const draft_share& mine = draft[std::size_t(q)];
  p.ids = d2t + mine.first;
  p.cols16 = cols16 ? cols16 + mine.first : nullptr;
  p.n_ids = mine.count;
  p.col_base = q * Vl;
  p.valid_cols = std::clamp<std::int64_t>(s.vocab - q * Vl, 0, Vl);
  p.values = chunk_start;
  p.pairs = reinterpret_cast<pruned_pair*>(chunk_start + c.values_bytes);
  return p;
}

}  // namespace

void plan_pruned(path_plan& p, const shape& s, int rank, output_rows_fn rows_of, const std::vector<std::int32_t>& d2t) {
  const std::vector<draft_share> draft = draft_shares(s, d2t);
  const std::int64_t my_rows = rows_of_spec(rows_of(s, rank));
  std::size_t send = 0, recv = 0;
  for (int d = 0; d < s.tp; ++d) {
    const std::size_t out = chunk_of(s, draft, rank, rows_of_spec(rows_of(s, d))).bytes;
    const std::size_t in = chunk_of(s, draft, d, my_rows).bytes;
    send += out;
    recv += in;
    p.op_bytes += out;
    if (d != rank) {
      p.bytes_sent += out;
      p.useful_bytes += in;
    }
  }
  p.steps = {"pack", "comm"};
  p.buffers.push_back(input_logits_buffer(s, rank, 1));
  p.buffers.push_back(make_buffer("send", dtype::i32, {std::int64_t(send / 4)}, 0, 1));  // raw bytes
  p.buffers.push_back(make_buffer("recv", dtype::i32, {std::int64_t(recv / 4)}, 1, 1));
  if (has_cols16(s)) {  // an input: add_consumer keeps it alive to the last step
    auto bytes = std::make_shared<const std::vector<char>>(cols16_bytes(s, d2t));
    buffer_spec c = make_buffer("d2t_cols16", dtype::i32, {std::int64_t(bytes->size() / 4)}, 0, 1);  // raw bytes
    c.upload = std::move(bytes);
    p.buffers.push_back(c);
  }
  p.collective = collective_kind::all_to_all;  // add_consumer, which the caller runs next, records the draft shares
}

void run_pruned(rank_context& ctx, output_rows_fn rows_of) {
  const shape& s = ctx.shp();
  const int r = ctx.rank();
  const std::vector<draft_share>& draft = ctx.plan().draft;
  const auto* d2t = static_cast<const std::int32_t*>(ctx.buf("d2t"));
  const auto* cols16 = has_cols16(s) ? static_cast<const std::uint16_t*>(ctx.buf("d2t_cols16")) : nullptr;
  char* send = static_cast<char*>(ctx.buf("send"));
  char* recv = static_cast<char*>(ctx.buf("recv"));
  const expected_spec mine = rows_of(s, r);
  a2a_args a;
  a.send = send;
  a.recv = recv;
  a.impl = a2a_impl::send_recv;  // uneven chunks: draft columns per shard differ
  std::vector<pruned_chunk> from(std::size_t(s.tp));
  {
    auto ph = ctx.phase("pack");
    std::size_t so = 0, ro = 0;
    std::vector<prune_desc> packs;
    for (int d = 0; d < s.tp; ++d) {
      const expected_spec out = rows_of(s, d);
      const pruned_chunk c = chunk_of(s, draft, r, rows_of_spec(out));
      packs.push_back(pack_desc(s, draft, d2t, cols16, r, out, ctx.buf("input"), send + so, c));
      a.send_chunks.push_back({so, c.bytes});
      so += c.bytes;
      from[std::size_t(d)] = chunk_of(s, draft, d, rows_of_spec(mine));
      a.recv_chunks.push_back({ro, from[std::size_t(d)].bytes});
      ro += from[std::size_t(d)].bytes;
    }
    ctx.backend().prune_pack_many(packs);  // every destination's rows in one launch on a GPU
  }
  {
    auto ph = ctx.phase("comm");
    ctx.backend().all_to_all(a, [&](int q) {
      return pack_desc(s, draft, d2t, cols16, q, mine, nullptr, recv + a.recv_chunks[std::size_t(q)].offset, from[std::size_t(q)]);
    });
  }
  consumer_desc d = consumer_over(s, ctx, mine);
  d.source = consumer_source::pruned;
  d.src = recv;
  d.src_type = s.type;
  d.n_peers = s.tp;
  for (int q = 0; q < s.tp; ++q) {
    const std::int64_t off = std::int64_t(a.recv_chunks[std::size_t(q)].offset);
    d.peers[q] = {off, off + std::int64_t(from[std::size_t(q)].values_bytes), draft[std::size_t(q)].first,
                  draft[std::size_t(q)].count};
  }
  auto ph = ctx.phase("consumer");
  ctx.backend().consume(d);
}

}  // namespace sb
