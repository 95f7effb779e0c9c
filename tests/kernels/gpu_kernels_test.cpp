// The kernels against the host reference (harness/core/host_ops.cpp): the same bits for the generators,
// every layout operation and the verifier.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "harness/backends/gpu_handles.h"
#include "harness/core/host_ops.h"
#include "kernels/api.cuh"
#include "tests/support/gpu_test_util.h"

namespace sb {

namespace {

struct device_tensor {
  memory_tracker t;
  device_buffer buf;
  explicit device_tensor(std::size_t bytes) : buf(bytes, t) {}
  void* data() { return buf.data(); }
};

std::vector<char> to_host(void* p, std::size_t bytes) {
  std::vector<char> h(bytes);
  SB_CUDA(cudaDeviceSynchronize());
  SB_CUDA(cudaMemcpy(h.data(), p, bytes, cudaMemcpyDeviceToHost));
  return h;
}

// A re-layout reading `peer_cols`-wide blocks of `src_rows` rows each, back to back.
remap_desc from_peer_blocks(dtype src_t, dtype dst_t, std::int64_t peer_cols, std::int64_t src_rows) {
  remap_desc d;
  d.src_type = src_t;
  d.dst_type = dst_t;
  d.src_peer_cols = peer_cols;
  d.src_ld = peer_cols;
  d.src_peer_stride = src_rows * peer_cols;
  return d;
}

std::vector<char> bytes_of(const std::vector<pruned_pair>& v) {
  return {reinterpret_cast<const char*>(v.data()), reinterpret_cast<const char*>(v.data() + v.size())};
}

// A pruned-sender descriptor packed by the host (values, pairs) and, on device copies of its input
// and its draft ids, by launch_prune_pack; `dev` is the device-side descriptor.
struct prune_case {
  std::vector<char> values;
  std::vector<pruned_pair> pairs;
  device_tensor di, dids, dv, dpair, dcols16;
  prune_desc dev;

  prune_case(prune_desc h, const std::vector<char>& input, const std::vector<std::int32_t>& ids)
      : values(std::size_t(h.rows.windows * h.rows.win_len * h.n_ids) * dtype_size(h.rows.src_type)),
        pairs(static_cast<std::size_t>(h.rows.windows * h.rows.win_len)),
        di(input.size()),
        dids(ids.size() * 4),
        dv(values.size()),
        dpair(pairs.size() * sizeof(pruned_pair)),
        dcols16((ids.size() + 7) / 8 * 16) {  // whole 16-byte vectors, as the kernel reads them
    h.values = values.data();
    h.pairs = pairs.data();
    prune_pack_host(h);
    SB_CUDA(cudaMemcpy(di.data(), input.data(), input.size(), cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemcpy(dids.data(), ids.data(), ids.size() * 4, cudaMemcpyHostToDevice));
    dev = h;
    dev.rows.src = di.data();
    dev.ids = static_cast<const std::int32_t*>(dids.data()) + (h.ids - ids.data());
    if (h.valid_cols <= 65536) {  // the same columns as 16-bit shard columns, for the bulk row (given to it only)
      std::vector<std::uint16_t> c16((ids.size() + 7) / 8 * 8, 0);
      for (std::size_t k = 0; k < ids.size(); ++k) c16[k] = std::uint16_t(ids[k] - h.col_base);
      SB_CUDA(cudaMemcpy(dcols16.data(), c16.data(), c16.size() * 2, cudaMemcpyHostToDevice));
      cols16 = static_cast<const std::uint16_t*>(dcols16.data()) + (h.ids - ids.data());
    }
    dev.values = dv.data();
    dev.pairs = static_cast<pruned_pair*>(dpair.data());
  }

  const std::uint16_t* cols16 = nullptr;  // device copy of the ids as 16-bit shard columns

  // Runs launch_prune_pack on `dev` (as given or changed by the caller) and compares with the host.
  void expect_device_equal(const std::string& what) {
    kernels::launch_prune_pack(dev, nullptr);
    expect_outputs(what);
  }

  // The same, choosing the kernel as on `card`, over outputs first filled with 0xab.
  void expect_device_equal_on(const kernels::pack_card& card, const std::string& what) {
    SB_CUDA(cudaMemset(dv.data(), 0xab, values.size()));
    SB_CUDA(cudaMemset(dpair.data(), 0xab, pairs.size() * sizeof(pruned_pair)));
    kernels::launch_prune_pack_many(&dev, 1, nullptr, card);
    expect_outputs(what);
  }

  // The device outputs against the host's.
  void expect_outputs(const std::string& what) {
    EXPECT_EQ(to_host(dv.data(), values.size()), values) << what;
    EXPECT_EQ(to_host(dpair.data(), pairs.size() * sizeof(pruned_pair)), bytes_of(pairs)) << what;
  }
};

// A pruned-sender descriptor over T rows of `cols` columns (pitch ld) from `src`, one window whose
// last row is a zero row, the shard's real columns ending 3 before its width (a ragged tail).
prune_desc zero_last_row(const void* src, dtype t, std::int64_t ld, std::int64_t cols, std::int64_t T,
                         const std::vector<std::int32_t>& ids, std::int64_t base) {
  prune_desc h;
  h.rows.src = src;
  h.rows.src_type = t;
  h.rows.src_ld = ld;
  h.rows.src_peer_cols = cols;
  h.rows.win_len = T;
  h.rows.valid_len = T - 1;
  h.ids = ids.data();
  h.n_ids = std::int64_t(ids.size());
  h.col_base = base;
  h.valid_cols = cols - 3;
  return h;
}

expected_spec spec_of(gen::source k, dtype t, std::int64_t rows, std::int64_t cols) {
  expected_spec e;
  e.kind = k;
  e.gen = {42, 1000, 16};
  e.type = t;
  e.win_len = rows;
  e.valid_len = rows;
  e.cols = cols;
  e.col_base = 960;  // crosses the vocab end: padding columns must be 0
  return e;
}

}  // namespace

TEST(kernels_gpu, generators_are_bit_identical_to_the_host) {
  SB_REQUIRE_GPU();
  const std::pair<gen::source, dtype> cases[] = {
      {gen::source::logits, dtype::bf16},         {gen::source::logits, dtype::fp16},
      {gen::source::logits, dtype::fp32},         {gen::source::hidden, dtype::bf16},
      {gen::source::input_ids, dtype::i32},       {gen::source::attention_mask, dtype::i32},
      {gen::source::loss_mask, dtype::i32},       {gen::source::position, dtype::i64}};
  for (auto [k, t] : cases) {
    expected_spec e = spec_of(k, t, 64, gen::is_float_source(k) ? 96 : 1);
    const std::size_t bytes = std::size_t(e.elements()) * dtype_size(t);
    device_tensor d(bytes);
    kernels::launch_fill(d.data(), e, nullptr);
    std::vector<char> host(bytes);
    fill_host(host.data(), e);
    EXPECT_EQ(to_host(d.data(), bytes), host) << int(k) << " " << to_string(t);
  }
}

// Random descriptors of every kind the paths use, vectorised and scalar, against remap_host.
TEST(kernels_gpu, remap_matches_the_host_reference) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(7);
  int vectorized = 0, scalar = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const dtype src_t = std::array{dtype::bf16, dtype::fp16, dtype::fp32}[trial % 3];
    const bool upcast = trial % 2 == 0;
    const dtype dst_t = upcast ? dtype::fp32 : src_t;
    const std::int64_t peers = 1 + rng() % 4;
    const std::int64_t peer_cols = (trial % 5 == 0 ? 13 : 8) * (1 + rng() % 12);  // some unaligned
    const std::int64_t cols = peers * peer_cols - (trial % 7 == 0 ? 3 : 0);
    const std::int64_t windows = 1 + rng() % 3, win_len = 1 + rng() % 9;
    const std::int64_t src_rows = windows * win_len + 4;
    remap_desc d = from_peer_blocks(src_t, dst_t, peer_cols, src_rows);
    d.windows = windows;
    d.win_len = win_len;
    d.cols = cols;
    d.dst_ld = cols + (trial % 4 == 1 ? 8 : 0);
    d.src_win_stride = win_len;
    d.valid_windows = windows - (trial % 3 == 2 ? 1 : 0);
    d.valid_len = win_len - std::int64_t(rng() % 2);
    d.shift = trial % 2;
    d.src_row_base = rng() % 3;
    const std::size_t src_bytes = std::size_t(peers * src_rows * peer_cols) * dtype_size(src_t);
    const std::size_t dst_bytes = std::size_t(windows * win_len * d.dst_ld) * dtype_size(dst_t);
    std::vector<char> src(src_bytes);
    for (std::size_t i = 0; i < src_bytes / dtype_size(src_t); ++i)
      store_from_float(src.data(), std::int64_t(i), src_t, gen::small_exact(rng()));
    device_tensor dsrc(src_bytes), ddst(dst_bytes);
    SB_CUDA(cudaMemcpy(dsrc.data(), src.data(), src_bytes, cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemset(ddst.data(), 0x5a, dst_bytes));  // poison: every element must be written
    std::vector<char> want(dst_bytes, 0x5a);
    remap_desc h = d;
    h.src = src.data();
    h.dst = want.data();
    remap_host(h);
    d.src = dsrc.data();
    d.dst = ddst.data();
    (kernels::remap_is_vectorized(d) ? vectorized : scalar)++;
    kernels::launch_remap(d, nullptr);
    EXPECT_EQ(to_host(ddst.data(), dst_bytes), want) << "trial " << trial;
  }
  EXPECT_GT(vectorized, 10);
  EXPECT_GT(scalar, 5);
}

// Rows long enough to be split into several column ranges per peer block (the vector kernel's
// 1-D grid), upcast and raw, zero rows and a shift included, from one buffer and from a peer table.
TEST(kernels_gpu, remap_long_rows_match_the_host_in_ranges) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(11);
  const std::int64_t peers = 3, peer_cols = 8 * 1100, rows = 7, src_rows = rows + 2;  // 1100 vectors: 3 ranges of upcast, 5 of raw 2-byte
  for (int c = 0; c < 8; ++c) {
    const dtype src_t = std::array{dtype::bf16, dtype::fp16, dtype::fp32, dtype::bf16}[c % 4];
    const dtype dst_t = c % 4 == 3 || c % 4 == 2 ? src_t : dtype::fp32;
    const bool table = c >= 4;
    remap_desc d = from_peer_blocks(src_t, dst_t, peer_cols, src_rows);
    d.win_len = rows;
    d.cols = peers * peer_cols;
    d.dst_ld = d.cols;
    d.valid_len = rows - 1;
    d.shift = 1;
    d.src_row_base = 1;
    const std::size_t es = dtype_size(src_t), block_bytes = std::size_t(src_rows * peer_cols) * es;
    const std::size_t dst_bytes = std::size_t(rows * d.dst_ld) * dtype_size(dst_t);
    std::vector<char> src(block_bytes * peers);
    for (std::size_t i = 0; i < src.size() / es; ++i) store_from_float(src.data(), std::int64_t(i), src_t, gen::small_exact(rng()));
    std::vector<char> want(dst_bytes, 0x5a);
    remap_desc h = d;
    h.src = src.data();
    h.dst = want.data();
    remap_host(h);
    device_tensor dsrc(src.size()), ddst(dst_bytes);
    SB_CUDA(cudaMemcpy(dsrc.data(), src.data(), src.size(), cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemset(ddst.data(), 0x5a, dst_bytes));
    d.dst = ddst.data();
    if (table) {  // peer_pull's form: each block its own pointer
      d.n_src_peers = int(peers);
      for (int q = 0; q < peers; ++q) d.src_peers[q] = static_cast<char*>(dsrc.data()) + q * block_bytes;
    } else {
      d.src = dsrc.data();
    }
    ASSERT_TRUE(kernels::remap_is_vectorized(d)) << c;
    kernels::launch_remap(d, nullptr);
    EXPECT_EQ(to_host(ddst.data(), dst_bytes), want) << "case " << c;
  }
}

TEST(kernels_gpu, generated_source_matches_the_host) {
  SB_REQUIRE_GPU();
  remap_desc d;
  d.src_generated = true;
  d.gen = {3, 500, 16};
  d.gen_col_base = 448;
  d.src_peer_cols = 64;
  d.src_ld = 64;
  d.dst_type = dtype::fp32;
  d.win_len = 20;
  d.cols = 64;
  d.dst_ld = 64;
  d.valid_len = 17;
  d.src_row_base = 5;
  const std::size_t bytes = 20 * 64 * 4;
  device_tensor dd(bytes);
  std::vector<char> want(bytes);
  remap_desc h = d;
  h.dst = want.data();
  remap_host(h);
  d.dst = dd.data();
  kernels::launch_remap(d, nullptr);
  EXPECT_EQ(to_host(dd.data(), bytes), want);
}

TEST(kernels_gpu, verifier_counts_and_finds_the_first_mismatch) {
  SB_REQUIRE_GPU();
  expected_spec e = spec_of(gen::source::logits, dtype::fp32, 256, 128);
  e.shift = 1;
  e.windows = 2;
  e.win_len = 128;
  e.win_tok_stride = 128;
  const std::size_t bytes = std::size_t(e.elements()) * 4;
  device_tensor d(bytes);
  kernels::launch_fill(d.data(), e, nullptr);
  memory_tracker t;
  device_buffer scratch(sizeof(kernels::verify_scratch), t);
  auto* s = static_cast<kernels::verify_scratch*>(scratch.data());
  kernels::launch_verify(d.data(), e, s, nullptr);
  kernels::verify_scratch h{};
  SB_CUDA(cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  EXPECT_EQ(h.count, 0u);
  const float bad[2] = {1e9f, -1e9f};
  SB_CUDA(cudaMemcpy(static_cast<float*>(d.data()) + 5000, bad, sizeof bad, cudaMemcpyHostToDevice));
  SB_CUDA(cudaMemcpy(static_cast<float*>(d.data()) + 30000, bad, sizeof(float), cudaMemcpyHostToDevice));
  kernels::launch_verify(d.data(), e, s, nullptr);
  SB_CUDA(cudaMemcpy(&h, s, sizeof h, cudaMemcpyDeviceToHost));
  EXPECT_EQ(h.count, 3u);
  EXPECT_EQ(h.first_index, 5000u);
}

TEST(kernels_gpu, launchers_reject_bad_descriptors_with_the_value) {
  SB_REQUIRE_GPU();
  remap_desc d;
  d.cols = 16;
  d.dst_ld = 8;
  d.src_peer_cols = 16;
  try {
    kernels::launch_remap(d, nullptr);
    FAIL();
  } catch (const runtime_error& e) {
    EXPECT_STREQ(e.what(), "launch_remap: dst_ld=8 < cols=16");
  }
}

// The consumer after pruned walks the peer blocks in order: blocks that do not tile [0, vd) are
// refused on the host, before any launch (the pointers are never dereferenced).
TEST(kernels_gpu, consumer_rejects_pruned_blocks_that_do_not_tile_the_draft_vocabulary) {
  auto fake = [](std::uintptr_t a) { return reinterpret_cast<void*>(a); };
  consumer_desc good;
  good.source = consumer_source::pruned;
  good.src = fake(0x10000);
  good.src_type = dtype::bf16;
  good.def.windows = 1;
  good.def.win_len = 4;
  good.vocab = 100;
  good.vd = 10;
  good.d2t = static_cast<const std::int32_t*>(fake(0x20000));
  good.target_p = static_cast<float*>(fake(0x30000));
  good.position_mask = static_cast<std::int32_t*>(fake(0x40000));
  good.n_peers = 2;
  good.peers[0] = {0, 0, 0, 6};
  good.peers[1] = {0, 0, 6, 4};
  auto message = [](const consumer_desc& d) -> std::string {
    try {
      kernels::launch_consume(d, nullptr);
    } catch (const runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  consumer_desc d = good;
  d.peers[1].k0 = 7;
  EXPECT_EQ(message(d), "consumer: pruned block 1 holds [7, +4) where 6 was next");
  d = good;
  d.peers[1].n = 3;
  EXPECT_EQ(message(d), "consumer: pruned blocks hold 9 draft columns, not vd=10");
  d = good;
  d.src_type = dtype::i32;
  EXPECT_EQ(message(d), "consumer: values of type i32 (bf16, fp16 or fp32)");
}

// The pruned sender's preconditions are checked on the host before anything reaches the device (so
// this runs without a GPU too); the pointers are never dereferenced.
TEST(kernels_gpu, prune_pack_rejects_bad_descriptors) {
  auto fake = [](std::uintptr_t a) { return reinterpret_cast<void*>(a); };
  prune_desc good;
  good.rows.src = fake(0x10000);
  good.rows.src_type = dtype::bf16;
  good.rows.src_ld = good.rows.cols = good.rows.src_peer_cols = 64;
  good.rows.win_len = good.rows.valid_len = 1;
  good.n_ids = 8;
  good.valid_cols = 64;
  good.ids = static_cast<const std::int32_t*>(fake(0x20000));
  good.values = fake(0x30000);
  good.pairs = static_cast<pruned_pair*>(fake(0x40000));
  auto message = [](prune_desc d) -> std::string {
    try {
      kernels::launch_prune_pack(d, nullptr);
    } catch (const runtime_error& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string null_msg = "launch_prune_pack: values, pairs or ids is null";
  prune_desc d = good;
  d.pairs = nullptr;
  EXPECT_EQ(message(d), null_msg);
  d = good;
  d.values = nullptr;
  EXPECT_EQ(message(d), null_msg);
  d = good;
  d.ids = nullptr;
  EXPECT_EQ(message(d), null_msg);
  d = good;
  d.rows.src = nullptr;
  EXPECT_EQ(message(d), "launch_prune_pack: src is null");
  d = good;
  d.pairs = static_cast<pruned_pair*>(fake(0x40004));
  EXPECT_EQ(message(d), "launch_prune_pack: pairs are not 8-byte aligned");
  for (dtype t : {dtype::i32, dtype::i64}) {
    d = good;
    d.rows.src_type = t;
    EXPECT_EQ(message(d), "launch_prune_pack: logits must be bf16, fp16 or fp32 (got " + std::string(to_string(t)) + ")");
  }
  d = good;
  d.rows.windows = 0;  // nothing to pack: not checked, nothing launched
  d.pairs = nullptr;
  EXPECT_EQ(message(d), "accepted");
}

// The layout kernel's choice (kernels/remap.cu): a host-side choice, so this runs without a GPU too;
// the pointers are never dereferenced. Upcasts take 4 loads in flight per thread under 128 MiB moved
// (usp/specforge's per-destination pack at DeepSeek-V3 4K tp 8: 519 rows x 16 160 columns, 50 MB)
// and 2 above (its 32K pack: 4 152 rows, 403 MB).
TEST(kernels_gpu, remap_picks_its_kernel_by_type_and_bytes) {
  auto desc = [](dtype from, dtype to, std::int64_t rows, std::int64_t cols) {
    remap_desc d;
    d.src = reinterpret_cast<const void*>(std::uintptr_t(0x10000));
    d.dst = reinterpret_cast<void*>(std::uintptr_t(0x20000));
    d.src_type = from;
    d.dst_type = to;
    d.src_ld = d.src_peer_cols = d.dst_ld = d.cols = cols;
    d.win_len = d.valid_len = rows;
    return d;
  };
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::fp32, 519, 16160))), "vector upcast, 4 loads");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::fp16, dtype::fp32, 519, 16160))), "vector upcast, 4 loads");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::fp32, 4152, 16160))), "vector upcast, 2 loads");
  // The bound: 128 MiB moved is 22 369 621.33 elements at 6 bytes each.
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::fp32, 1, 22369616))), "vector upcast, 4 loads");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::fp32, 1, 22369624))), "vector upcast, 2 loads");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::bf16, 519, 16160))), "vector");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::fp32, dtype::fp32, 4152, 16160))), "vector");
  EXPECT_EQ(std::string(kernels::remap_kernel(desc(dtype::bf16, dtype::fp32, 519, 16163))), "element by element");  // not whole vectors
  remap_desc g = desc(dtype::fp32, dtype::fp32, 519, 16160);
  g.src = nullptr;
  g.src_generated = true;
  EXPECT_EQ(std::string(kernels::remap_kernel(g)), "generated");
}

// The pruned sender's kernel per row length, type and draft columns per 16-byte vector (cpv), as
// kernels/prune_pack.cu's pick_pack_kernel documents them from the H200 sweeps (docs/kernels.md): a
// host-side choice, so this runs without a GPU too; the pointers are never dereferenced.
TEST(kernels_gpu, prune_pack_picks_its_kernel_by_row_bytes_type_and_density) {
  // No rows given: the same kernel on every card.
  auto pick = [](dtype t, std::int64_t cols, double cpv, std::uintptr_t src = 0x10000, const kernels::pack_card& card = {},
                 std::int64_t rows = 0) {
    prune_desc d;
    d.rows.src = reinterpret_cast<const void*>(src);
    d.rows.src_type = t;
    d.rows.src_ld = cols;
    d.rows.win_len = rows;
    d.valid_cols = cols;
    d.n_ids = std::int64_t(cpv * double(cols * std::int64_t(dtype_size(t)) / 16) + 0.5);
    return std::string(kernels::prune_pack_kernel(d, card));
  };
  struct row {
    dtype t;
    std::int64_t cols;  // DeepSeek-V3's shard at tp 8 / 4 / 2: 16 160, 32 320, 64 640 columns
    double cpv;
    const char* kernel;
  };
  const row table[] = {
      {dtype::bf16, 16160, 0.62, "split 64+64"},   {dtype::bf16, 16160, 2.0, "split 64+64"},
      {dtype::bf16, 16160, 3.5, "split 64+64"},    {dtype::bf16, 16160, 3.6, "split 128+128"},
      {dtype::fp16, 16160, 6.7, "split 128+128"},  {dtype::bf16, 32320, 1.2, "scan-then-gather"},
      {dtype::bf16, 32320, 1.3, "split 128+128"},  {dtype::bf16, 32320, 2.5, "split 128+128"},
      {dtype::bf16, 32320, 2.6, "scan-then-gather"}, {dtype::bf16, 64640, 1.2, "scan-then-gather"},
      {dtype::bf16, 64640, 1.3, "split 128+128"},  {dtype::bf16, 64640, 1.7, "split 128+128"},
      {dtype::bf16, 64640, 1.8, "split 64+64"},    {dtype::bf16, 64640, 2.5, "split 64+64"},
      {dtype::bf16, 64640, 3.2, "split 128+128"},  {dtype::bf16, 129280, 2.0, "scan-then-gather"},
      {dtype::fp32, 16160, 0.3, "split 128+128"},  {dtype::fp32, 16160, 2.25, "split 128+128"},
      {dtype::fp32, 16160, 2.3, "scan-then-gather"}, {dtype::fp32, 32320, 1.0, "scan-then-gather"},
  };
  for (const row& r : table)
    EXPECT_EQ(pick(r.t, r.cols, r.cpv), r.kernel) << to_string(r.t) << " " << r.cols << " columns, cpv " << r.cpv;
  EXPECT_EQ(pick(dtype::bf16, 16160, 2.0, 0x10008), "element by element");  // not 16-byte aligned

  // By card and rows: on an H100 (5 120-bit bus) 128 + 128 with a staggered first wave takes
  // 2-byte rows up to 48 KiB and 3.5 cpv between two and eight waves of 64 + 64 blocks (8 per SM);
  // the H200 keeps 64 + 64.
  const kernels::pack_card h100{5120, 132}, h200{6144, 132};
  auto pick_on = [&](const kernels::pack_card& card, dtype t, double cpv, std::int64_t rows) {
    return pick(t, 16160, cpv, 0x10000, card, rows);
  };
  struct by_rows {
    std::int64_t rows;
    const char* h100;
  };
  const by_rows rows_table[] = {{2112, "split 64+64"},
                                {2113, "split 128+128 staggered"},
                                {4096, "split 128+128 staggered"},
                                {4152, "split 128+128 staggered"},
                                {8448, "split 128+128 staggered"},
                                {8449, "split 64+64"},
                                {32768, "split 64+64"}};
  for (const by_rows& r : rows_table) {
    for (dtype t : {dtype::bf16, dtype::fp16}) {
      EXPECT_EQ(pick_on(h100, t, 2.0, r.rows), r.h100) << "H100, " << to_string(t) << ", " << r.rows << " rows";
      EXPECT_EQ(pick_on(h200, t, 2.0, r.rows), "split 64+64") << "H200, " << to_string(t) << ", " << r.rows << " rows";
    }
    EXPECT_EQ(pick_on(h100, dtype::bf16, 3.6, r.rows), "split 128+128") << r.rows << " rows, cpv 3.6";
    EXPECT_EQ(pick_on(h100, dtype::fp32, 1.0, r.rows), "split 128+128") << r.rows << " rows, fp32";
    EXPECT_EQ(pick_on(h200, dtype::fp32, 1.0, r.rows), "split 128+128") << r.rows << " rows, fp32";
  }
  // Twice the SMs: twice the rows per wave.
  EXPECT_EQ(pick_on({5120, 264}, dtype::bf16, 2.0, 4096), "split 64+64");

  // With the draft columns as 16-bit shard columns, an H100 (compute capability 9.0) takes the bulk
  // row for 2-byte rows of up to 36 KiB and 7 cpv over more than one wave of 64 + 64 blocks.
  auto pick16 = [](const kernels::pack_card& card, dtype t, std::int64_t cols, double cpv, std::int64_t rows) {
    prune_desc d;
    d.rows.src = reinterpret_cast<const void*>(std::uintptr_t(0x10000));
    d.rows.src_type = t;
    d.rows.src_ld = cols;
    d.rows.win_len = rows;
    d.valid_cols = cols;
    d.n_ids = std::int64_t(cpv * double(cols * std::int64_t(dtype_size(t)) / 16) + 0.5);
    d.cols16 = reinterpret_cast<const std::uint16_t*>(std::uintptr_t(0x20000));
    return std::string(kernels::prune_pack_kernel(d, card));
  };
  for (dtype t : {dtype::bf16, dtype::fp16}) {
    EXPECT_EQ(pick16(h100, t, 16160, 2.0, 1056), "split 64+64") << to_string(t);  // one wave
    EXPECT_EQ(pick16(h100, t, 16160, 2.0, 1057), "bulk row") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 16160, 2.0, 4096), "bulk row") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 16160, 2.0, 32768), "bulk row") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 16160, 0.5, 4096), "bulk row") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 16160, 7.0, 4096), "bulk row") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 16160, 7.1, 4096), "split 128+128") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 18432, 2.0, 4096), "bulk row") << to_string(t);  // 36 KiB
    EXPECT_EQ(pick16(h100, t, 18440, 2.0, 4096), "split 128+128 staggered") << to_string(t);
    EXPECT_EQ(pick16(h100, t, 32320, 2.0, 4096), "split 128+128") << to_string(t);  // tp 4
    EXPECT_EQ(pick16(h200, t, 16160, 2.0, 4096), "split 64+64") << to_string(t);
    EXPECT_EQ(pick16({5120, 132, 80}, t, 16160, 2.0, 4096), "split 128+128 staggered") << to_string(t);  // no bulk copies
  }
  EXPECT_EQ(pick16(h100, dtype::fp32, 16160, 1.0, 4096), "split 128+128");
}

// The stream gate (nvbench's blocking kernel): nothing behind it runs until the host opens it, and
// one never opened gives up and says so.
TEST(kernels_gpu, stream_gate_holds_the_stream_until_opened) {
  SB_REQUIRE_GPU();
  cuda_stream s = make_stream();
  stream_gate gate;
  device_tensor word(sizeof(int));
  gate.close(s.get());
  SB_CUDA(cudaMemsetAsync(word.data(), 7, sizeof(int), s.get()));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(cudaStreamQuery(s.get()), cudaErrorNotReady);
  gate.open();
  SB_CUDA(cudaStreamSynchronize(s.get()));
  EXPECT_NO_THROW(gate.check());
  EXPECT_EQ(to_host(word.data(), 1)[0], 7);

  stream_gate never_opened(0.01);
  never_opened.close(s.get());
  SB_CUDA(cudaStreamSynchronize(s.get()));
  try {
    never_opened.check();
    FAIL() << "a gate that timed out must say so";
  } catch (const runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not opened within 0.01 s"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kernels::launch_gate(nullptr, nullptr, 1.0, s.get()), runtime_error);
  int w[2] = {0, 0};
  EXPECT_THROW(kernels::launch_gate(w, w + 1, 0.0, s.get()), runtime_error);
}

TEST(gpu_handles, are_move_only) {
  static_assert(!std::is_copy_constructible_v<cuda_stream>);
  static_assert(!std::is_copy_constructible_v<cuda_event>);
  static_assert(!std::is_copy_constructible_v<nccl_comm>);
  static_assert(!std::is_copy_constructible_v<device_buffer>);
  static_assert(!std::is_copy_constructible_v<stream_gate>);
  static_assert(!std::is_copy_constructible_v<pinned_host>);
  static_assert(std::is_nothrow_move_constructible_v<cuda_stream>);
  SUCCEED();
}

// A host consumer descriptor over fp32 memory rows of ld floats, writing into hp and hpm.
consumer_desc memory_rows(const std::vector<float>& logits, std::int64_t ld, std::int64_t vocab, const std::vector<std::int32_t>& d2t,
                          const std::vector<std::int32_t>& lm, std::vector<float>& hp, std::vector<std::int32_t>& hpm) {
  consumer_desc h;
  h.source = consumer_source::memory;
  h.src = logits.data();
  h.src_ld = ld;
  h.vocab = vocab;
  h.d2t = d2t.data();
  h.vd = std::int64_t(d2t.size());
  h.loss_mask = lm.data();
  h.target_p = hp.data();
  h.position_mask = hpm.data();
  return h;
}

// The device side of a consumer comparison: host descriptor h's memory rows, draft columns and
// loss mask copied to the device, with device outputs. expect_host_bits runs the kernel and
// compares with h's outputs, which consume_host has filled.
struct device_consumer {
  device_tensor rows, d2t, mask, p, pm;
  consumer_desc g;
  device_consumer(const consumer_desc& h, const std::vector<float>& logits, const std::vector<std::int32_t>& d2t_h,
                  const std::vector<std::int32_t>& lm)
      : rows(logits.size() * 4), d2t(d2t_h.size() * 4), mask(lm.size() * 4), p(std::size_t(h.rows() * h.vd) * 4),
        pm(std::size_t(h.rows()) * 4), g(h) {
    SB_CUDA(cudaMemcpy(rows.data(), logits.data(), logits.size() * 4, cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemcpy(d2t.data(), d2t_h.data(), d2t_h.size() * 4, cudaMemcpyHostToDevice));
    SB_CUDA(cudaMemcpy(mask.data(), lm.data(), lm.size() * 4, cudaMemcpyHostToDevice));
    g.src = rows.data();
    g.d2t = static_cast<const std::int32_t*>(d2t.data());
    g.loss_mask = static_cast<const std::int32_t*>(mask.data());
    g.target_p = static_cast<float*>(p.data());
    g.position_mask = static_cast<std::int32_t*>(pm.data());
  }
  void expect_host_bits(const consumer_desc& h, const std::string& what) {
    kernels::launch_consume(g, nullptr);
    const auto bytes = [](const void* q, std::size_t n) {
      return std::vector<char>(static_cast<const char*>(q), static_cast<const char*>(q) + n);
    };
    const auto np = std::size_t(h.rows() * h.vd) * 4, nm = std::size_t(h.rows()) * 4;
    EXPECT_EQ(to_host(p.data(), np), bytes(h.target_p, np)) << what;
    EXPECT_EQ(to_host(pm.data(), nm), bytes(h.position_mask, nm)) << what;
  }
};

// The consumer stage: the kernel's block and the host's lanes give the same bits, from memory rows
// (fp32 and bf16, ties and zero rows included), from the generator, and from pruned blocks.
TEST(kernels_gpu, consumer_matches_the_host_bit_for_bit) {
  SB_REQUIRE_GPU();
  const std::int64_t V = 3000, ld = 3008, vd = 700;
  expected_spec def;  // 3 windows of 5 rows, tokens shifted by one, last row of each window zero
  def.kind = gen::source::logits;
  def.gen = {7, V, 5};
  def.windows = 3;
  def.win_len = 5;
  def.win_tok_stride = 5;
  def.valid_len = 5;
  def.shift = 1;
  const std::int64_t rows = def.windows * def.win_len;
  std::vector<std::int32_t> d2t;
  for (std::int64_t c = 0; c < V && std::int64_t(d2t.size()) < vd; c += 1 + (c * 7) % 6) d2t.push_back(std::int32_t(c));
  ASSERT_EQ(std::int64_t(d2t.size()), vd);
  std::vector<float> logits(std::size_t(rows * ld), 0.0f);
  for (std::int64_t i = 0; i < rows; ++i) {
    const std::int64_t t = expected_token(def, i / def.win_len, i % def.win_len);
    for (std::int64_t c = 0; c < V && t >= 0; ++c) logits[std::size_t(i * ld + c)] = gen::logit(def.gen, t, c);
  }
  std::vector<std::int32_t> lm(64);
  for (std::size_t t = 0; t < lm.size(); ++t) lm[t] = std::int32_t(gen::int_value(gen::source::loss_mask, def.gen, std::int64_t(t)));

  std::vector<float> hp(static_cast<std::size_t>(rows * vd));
  std::vector<std::int32_t> hpm(static_cast<std::size_t>(rows));
  consumer_desc h = memory_rows(logits, ld, V, d2t, lm, hp, hpm);
  h.def = def;
  consume_host(h);

  device_consumer dev(h, logits, d2t, lm);
  dev.expect_host_bits(h, "V=3000");

  // The device verifier, from the generator, accepts these outputs and finds a flipped one.
  device_tensor scratch(2 * sizeof(kernels::verify_scratch));
  consumer_desc v = dev.g;
  v.source = consumer_source::generated;
  v.loss_mask = nullptr;
  kernels::launch_verify_consumer(v, static_cast<kernels::verify_scratch*>(scratch.data()), nullptr);
  std::vector<char> sc = to_host(scratch.data(), 2 * sizeof(kernels::verify_scratch));
  const auto* vs = reinterpret_cast<const kernels::verify_scratch*>(sc.data());
  EXPECT_EQ(vs[0].count, 0u);
  EXPECT_EQ(vs[1].count, 0u);
  float bumped = std::nextafter(hp[123], 1.0f);
  SB_CUDA(cudaMemcpy(static_cast<float*>(dev.p.data()) + 123, &bumped, 4, cudaMemcpyHostToDevice));
  kernels::launch_verify_consumer(v, static_cast<kernels::verify_scratch*>(scratch.data()), nullptr);
  sc = to_host(scratch.data(), 2 * sizeof(kernels::verify_scratch));
  vs = reinterpret_cast<const kernels::verify_scratch*>(sc.data());
  EXPECT_EQ(vs[0].count, 1u);
  EXPECT_EQ(vs[0].first_index, 123u);
}

// The full-row consumer's one-pass kernel pushes each scan chunk's (4096 columns) draft columns
// right after the chunk: rows of several chunks, draft columns on both sides of the chunk edges,
// a chunk with none, columns in the scalar tail (V not a multiple of 4), and rows longer than its
// chunk table (the fallback kernel), all with the host's bits.
TEST(kernels_gpu, consumer_one_pass_rows_match_the_host_bit_for_bit) {
  SB_REQUIRE_GPU();
  struct shape {
    std::int64_t V, ld;
  };
  for (const shape sh : {shape{10003, 10004}, shape{8192, 8192}, shape{4100, 4100}, shape{262147, 262148}}) {
    const std::int64_t V = sh.V, ld = sh.ld, rows = 6;
    std::set<std::int32_t> cols;  // sorted, once each
    for (std::int64_t c : {0, 1, 4095, 4096, 4097, 8191, 8192}) cols.insert(std::int32_t(c));
    for (std::int64_t c = 4098; c < V; c += 1 + (c * 13) % 29) cols.insert(std::int32_t(c));
    for (std::int64_t c = V - 3; c < V; ++c) cols.insert(std::int32_t(c));  // the tail
    std::vector<std::int32_t> d2t;
    for (std::int32_t c : cols)  // V = 10003: chunk 1 (columns 4096-8191) has none
      if (c < V && (V != 10003 || c / 4096 != 1)) d2t.push_back(c);
    const auto vd = std::int64_t(d2t.size());
    std::mt19937 rng{std::uint32_t(V)};
    std::vector<float> logits(std::size_t(rows * ld), 0.0f);
    for (std::int64_t i = 0; i < rows; ++i)
      for (std::int64_t c = 0; c < V; ++c)  // ties (a small range), and the maximum in the tail for row 2
        logits[std::size_t(i * ld + c)] = i == 2 && c == V - 1 ? 99.0f : float(int(rng() % 64)) / 8.0f - (c % 7 == 0 ? 40.0f : 0.0f);
    std::vector<std::int32_t> lm(std::size_t(rows), 1);

    std::vector<float> hp(static_cast<std::size_t>(rows * vd));
    std::vector<std::int32_t> hpm(static_cast<std::size_t>(rows));
    consumer_desc h = memory_rows(logits, ld, V, d2t, lm, hp, hpm);
    h.def.windows = 1;
    h.def.win_len = rows;
    h.def.win_tok_stride = rows;
    h.def.valid_len = rows - 1;  // the last row's loss mask is 0
    consume_host(h);

    device_consumer dev(h, logits, d2t, lm);
    dev.expect_host_bits(h, "V=" + std::to_string(V));
  }
}

TEST(kernels_gpu, prune_pack_matches_the_host) {
  SB_REQUIRE_GPU();
  const std::int64_t T = 40, Vl = 512, base = 2048, V = 2403;  // the shard crosses the vocab end (a ragged tail)
  std::vector<std::int32_t> ids;
  for (std::int64_t c = base; c < base + Vl; c += 3) ids.push_back(std::int32_t(c));
  for (dtype t : {dtype::bf16, dtype::fp32}) {
    expected_spec in;
    in.kind = gen::source::logits;
    in.gen = {9, V, 8};
    in.type = t;
    in.win_len = T;
    in.valid_len = T;
    in.cols = Vl;
    in.col_base = base;
    const std::size_t es = dtype_size(t);
    std::vector<char> input(std::size_t(T * Vl) * es);
    fill_host(input.data(), in);
    prune_desc h;
    h.rows.src = input.data();
    h.rows.src_type = t;
    h.rows.src_ld = Vl;
    h.rows.src_peer_cols = Vl;
    h.rows.windows = 5;
    h.rows.valid_windows = 5;
    h.rows.win_len = 8;
    h.rows.src_win_stride = 8;
    h.rows.valid_len = 8;
    h.rows.shift = 1;
    h.ids = ids.data();
    h.n_ids = std::int64_t(ids.size());
    h.col_base = base;
    h.valid_cols = V - base;
    prune_case pc(h, input, ids);
    pc.expect_device_equal(std::string(to_string(t)));
    // From the generator (an emulated peer) as well.
    pc.dev.rows.src_generated = true;
    pc.dev.rows.gen = in.gen;
    pc.dev.rows.gen_col_base = base;
    pc.expect_device_equal(std::string(to_string(t)) + " generated");
  }
}

// The vectorised sender's chunk-maximum shortcut on long rows (tp 4's 64 KB of 2-byte types: several
// chunks per thread), many ties (small exact values), every 2- and 4-byte type, and an unaligned
// pitch (the generic kernel); one draft column in 7 (scan-then-gather) and in 4 (2-byte types:
// 128 + 128 side by side).
TEST(kernels_gpu, prune_pack_long_rows_and_ties_match_the_host) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(5);
  const std::int64_t T = 6, Vl = 16160 * 2 + 8, base = 16160 * 2 * 3;
  for (int c = 0; c < 4; ++c) {
    const dtype t = std::array{dtype::bf16, dtype::fp16, dtype::fp32, dtype::bf16}[c];
    const std::int64_t ld = c == 3 ? Vl + 1 : Vl;  // odd pitch: rows not 16-byte aligned
    const std::size_t es = dtype_size(t);
    std::vector<char> input(std::size_t(T * ld) * es);
    for (std::int64_t i = 0; i < T * ld; ++i) store_from_float(input.data(), i, t, gen::small_exact(rng()) * (i % 97 == 0 ? 4.0f : 1.0f));
    for (int step : {7, 4}) {
      std::vector<std::int32_t> ids;
      for (std::int64_t k = base + 5; k < base + Vl; k += step) ids.push_back(std::int32_t(k));
      prune_case pc(zero_last_row(input.data(), t, ld, Vl, T, ids, base), input, ids);
      const std::string kernel = c == 3 ? "element by element" : t == dtype::fp32 || step == 7 ? "scan-then-gather" : "split 128+128";
      const std::string what = std::string(to_string(t)) + " case " + std::to_string(c) + " step " + std::to_string(step);
      EXPECT_EQ(kernels::prune_pack_kernel(pc.dev), kernel) << what;
      pc.expect_device_equal(what);
    }
  }
}

// Rows of tp 2's DeepSeek-V3 length (126 KiB of bf16): one draft column in 8 (scan-then-gather), in
// 5 (1.6 per vector: 128 + 128), in 4 (the uniform vocabulary's density: 64 + 64 side by side) and
// in 2 (128 + 128).
TEST(kernels_gpu, prune_pack_tp2_rows_match_the_host) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(17);
  const std::int64_t T = 5, Vl = 64648, base = 64648;
  const dtype t = dtype::bf16;
  std::vector<char> input(std::size_t(T * Vl) * dtype_size(t));
  for (std::int64_t i = 0; i < T * Vl; ++i) store_from_float(input.data(), i, t, gen::small_exact(rng()) * (i % 101 == 0 ? 4.0f : 1.0f));
  for (int step : {8, 5, 4, 2}) {
    std::vector<std::int32_t> ids;
    for (std::int64_t c = 1; c < Vl - 3; c += step) ids.push_back(std::int32_t(base + c));
    prune_case pc(zero_last_row(input.data(), t, Vl, Vl, T, ids, base), input, ids);
    const std::string what = "step " + std::to_string(step);
    EXPECT_EQ(kernels::prune_pack_kernel(pc.dev), std::string(step == 8 ? "scan-then-gather" : step == 4 ? "split 64+64" : "split 128+128")) << what;
    pc.expect_device_equal(what);
  }
}

// Rows of tp 8's DeepSeek-V3 length (plus a ragged tail) with a uniform draft vocabulary (one column
// in four: scanners and gatherers side by side, 64 + 64 for 2-byte types, 128 + 128 for fp32) and
// with a dense one (every column: 128 + 128 for 2-byte types, the 1024-thread scan-then-gather for
// fp32): every type, ties, a zero row, the tail's columns, several chunks per scanner.
TEST(kernels_gpu, prune_pack_split_and_dense_draft_match_the_host) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(11);
  const std::int64_t T = 9, Vl = 16168, base = 16168 * 5;
  for (dtype t : {dtype::bf16, dtype::fp16, dtype::fp32}) {
    const std::size_t es = dtype_size(t);
    std::vector<char> input(std::size_t(T * Vl) * es);
    for (std::int64_t i = 0; i < T * Vl; ++i) store_from_float(input.data(), i, t, gen::small_exact(rng()) * (i % 89 == 0 ? 4.0f : 1.0f));
    for (bool dense : {false, true}) {
      std::vector<std::int32_t> ids;
      for (std::int64_t c = dense ? 0 : 1; c < Vl - 3; c += dense ? 1 : 4) ids.push_back(std::int32_t(base + c));
      prune_case pc(zero_last_row(input.data(), t, Vl, Vl, T, ids, base), input, ids);
      const std::string what = std::string(to_string(t)) + (dense ? " dense" : " uniform");
      const char* kernel = t == dtype::fp32 ? (dense ? "scan-then-gather" : "split 128+128") : (dense ? "split 128+128" : "split 64+64");
      EXPECT_EQ(kernels::prune_pack_kernel(pc.dev), std::string(kernel)) << what;
      pc.expect_device_equal(what);
    }
  }
}

// The H100's staggered 128 + 128 (pick_pack_kernel: two to eight waves of 8 rows per SM), run on
// any GPU as on H100-like cards of one to three SMs, where 37 and 61 rows make that many waves:
// the first wave's blocks sleep before their rows, which must change nothing but the time. Rows of
// 16 163 columns (a ragged tail), a zero row, ties, a uniform and a low-skewed draft vocabulary.
TEST(kernels_gpu, prune_pack_staggered_first_wave_matches_the_host) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(29);
  const std::int64_t Vl = 16168, base = 16168 * 2;
  for (dtype t : {dtype::bf16, dtype::fp16}) {
    for (const std::int64_t T : {37, 61}) {
      std::vector<char> input(std::size_t(T * Vl) * dtype_size(t));
      for (std::int64_t i = 0; i < T * Vl; ++i) store_from_float(input.data(), i, t, gen::small_exact(rng()) * (i % 97 == 0 ? 4.0f : 1.0f));
      for (const bool skewed : {false, true}) {
        std::vector<std::int32_t> ids;
        for (std::int64_t c = 0; c < Vl - 3; c += skewed ? (c < 3000 ? 1 : 9) : 4) ids.push_back(std::int32_t(base + c));
        prune_case pc(zero_last_row(input.data(), t, Vl, Vl, T, ids, base), input, ids);
        const std::string what = std::string(to_string(t)) + " " + std::to_string(T) + " rows" + (skewed ? " skewed" : " uniform");
        for (const int sms : {1, 2, 3}) {
          const kernels::pack_card card{5120, sms};
          const bool staggered = T > 16 * sms && T <= 64 * sms;
          EXPECT_EQ(std::string(kernels::prune_pack_kernel(pc.dev, card)), staggered ? "split 128+128 staggered" : "split 64+64")
              << what << ", " << sms << " SMs";
          pc.expect_device_equal_on(card, what + ", " + std::to_string(sms) + " SMs");
        }
      }
    }
  }
}

// The H100's bulk row (a block per row, the row by one bulk copy into shared memory, the argmax in
// two passes), run on any sm_90 GPU as on H100-like cards of one to three SMs, where 37 and 61 rows
// are more than one wave: rows of 16 163 columns (a ragged tail read from global memory), a zero
// row, ties (small exact values, -0 and +0 among them), a uniform, a low-skewed and a sparse draft
// vocabulary, every 2-byte type.
TEST(kernels_gpu, prune_pack_bulk_row_matches_the_host) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(31);
  const std::int64_t Vl = 16168, base = 16168 * 3;
  for (dtype t : {dtype::bf16, dtype::fp16}) {
    for (const std::int64_t T : {37, 61}) {
      std::vector<char> input(std::size_t(T * Vl) * dtype_size(t));
      for (std::int64_t i = 0; i < T * Vl; ++i) {
        const float x = gen::small_exact(rng()) * (i % 97 == 0 ? 4.0f : 1.0f);
        store_from_float(input.data(), i, t, i % 13 == 5 ? -0.0f : x);
      }
      for (const int kind : {0, 1, 2}) {  // uniform, skewed, sparse
        std::vector<std::int32_t> ids;
        for (std::int64_t c = kind == 2 ? 7 : 0; c < Vl - 3; c += kind == 0 ? 4 : kind == 1 ? (c < 3000 ? 1 : 9) : 29)
          ids.push_back(std::int32_t(base + c));
        prune_case pc(zero_last_row(input.data(), t, Vl, Vl, T, ids, base), input, ids);
        pc.dev.cols16 = pc.cols16;
        const std::string what = std::string(to_string(t)) + " " + std::to_string(T) + " rows, draft kind " + std::to_string(kind);
        for (const int sms : {1, 2, 3}) {
          const kernels::pack_card card{5120, sms};
          EXPECT_EQ(std::string(kernels::prune_pack_kernel(pc.dev, card)), "bulk row") << what << ", " << sms << " SMs";
          pc.expect_device_equal_on(card, what + ", " + std::to_string(sms) + " SMs");
        }
      }
    }
  }
}

// Several destinations' packs in one launch (the sender's rows for every destination: windows,
// shifts and zero rows differ per destination), a second shard that starts a new launch, and an
// unaligned one on its own: each equal to prune_pack_host.
TEST(kernels_gpu, prune_pack_many_matches_the_host_per_destination) {
  SB_REQUIRE_GPU();
  std::mt19937 rng(3);
  const std::int64_t T = 64, Vl = 1024, base = 3 * Vl;
  const dtype t = dtype::bf16;
  const std::size_t es = dtype_size(t);
  std::vector<char> input(std::size_t(T * (Vl + 1)) * es);
  for (std::size_t i = 0; i < input.size() / es; ++i) store_from_float(input.data(), std::int64_t(i), t, gen::small_exact(rng()));
  std::vector<std::int32_t> ids;
  for (std::int64_t k = base + 1; k < base + Vl; k += 5) ids.push_back(std::int32_t(k));
  device_tensor di(input.size()), dids(ids.size() * 4);
  SB_CUDA(cudaMemcpy(di.data(), input.data(), input.size(), cudaMemcpyHostToDevice));
  SB_CUDA(cudaMemcpy(dids.data(), ids.data(), ids.size() * 4, cudaMemcpyHostToDevice));
  const int n = 7;
  std::vector<prune_desc> host(n), dev(n);
  std::vector<std::vector<char>> values(n);
  std::vector<std::vector<pruned_pair>> pairs(n);
  std::vector<std::unique_ptr<device_tensor>> dv, dp;
  for (int k = 0; k < n; ++k) {
    prune_desc h;
    h.rows.src = input.data();
    h.rows.src_type = t;
    h.rows.src_ld = k == 6 ? Vl + 1 : Vl;  // the last: an odd pitch, so not 16-byte aligned
    h.rows.src_peer_cols = Vl;
    h.rows.windows = 1 + k % 2;
    h.rows.valid_windows = h.rows.windows - (k == 3 ? 1 : 0);
    h.rows.win_len = 5 + k;
    h.rows.src_win_stride = 20;
    h.rows.valid_len = h.rows.win_len - k % 3;
    h.rows.shift = k % 2;
    h.rows.src_row_base = k;
    h.ids = ids.data() + (k == 5 ? 3 : 0);  // the sixth: other draft columns, a launch of its own
    h.n_ids = std::int64_t(ids.size()) - (k == 5 ? 3 : 0);
    h.col_base = base;
    h.valid_cols = Vl - 2;
    const std::int64_t rows = h.rows.windows * h.rows.win_len;
    values[k].assign(std::size_t(rows * h.n_ids) * es, 0);
    pairs[k].resize(std::size_t(rows));
    h.values = values[k].data();
    h.pairs = pairs[k].data();
    prune_pack_host(h);
    host[k] = h;
    dv.push_back(std::make_unique<device_tensor>(values[k].size()));
    dp.push_back(std::make_unique<device_tensor>(pairs[k].size() * sizeof(pruned_pair)));
    prune_desc g = h;
    g.rows.src = di.data();
    g.ids = static_cast<const std::int32_t*>(dids.data()) + (h.ids - ids.data());
    g.values = dv.back()->data();
    g.pairs = static_cast<pruned_pair*>(dp.back()->data());
    dev[k] = g;
  }
  kernels::launch_prune_pack_many(dev.data(), n, nullptr);
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(to_host(dv[std::size_t(k)]->data(), values[k].size()), values[k]) << "destination " << k;
    EXPECT_EQ(to_host(dp[std::size_t(k)]->data(), pairs[k].size() * sizeof(pruned_pair)), bytes_of(pairs[k])) << "destination " << k;
  }
  // Again with the ids as 16-bit shard columns, as on a one-SM H100: the aligned destinations take
  // the bulk row, more than 8 rows to a launch (a block per row over every destination's rows; 205
  // draft columns a row, so the rows' values start at every 2-byte offset within 16 bytes).
  std::vector<std::uint16_t> c16((ids.size() + 7) / 8 * 8, 0);  // whole 16-byte vectors
  for (std::size_t k = 0; k < ids.size(); ++k) c16[k] = std::uint16_t(ids[k] - base);
  device_tensor dc16(c16.size() * 2);
  SB_CUDA(cudaMemcpy(dc16.data(), c16.data(), c16.size() * 2, cudaMemcpyHostToDevice));
  const kernels::pack_card one_sm{5120, 1};
  for (int k = 0; k < n; ++k) {
    dev[std::size_t(k)].cols16 = static_cast<const std::uint16_t*>(dc16.data()) + (host[std::size_t(k)].ids - ids.data());
    const std::int64_t rows = host[std::size_t(k)].rows.windows * host[std::size_t(k)].rows.win_len;
    if (k < 6 && rows > 8) {  // on its own; in the launch, destinations 0-4 together have 49 rows
      EXPECT_EQ(std::string(kernels::prune_pack_kernel(dev[std::size_t(k)], one_sm)), "bulk row") << "destination " << k;
    }
    SB_CUDA(cudaMemset(dv[std::size_t(k)]->data(), 0xab, values[k].size()));
    SB_CUDA(cudaMemset(dp[std::size_t(k)]->data(), 0xab, pairs[k].size() * sizeof(pruned_pair)));
  }
  kernels::launch_prune_pack_many(dev.data(), n, nullptr, one_sm);
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(to_host(dv[std::size_t(k)]->data(), values[k].size()), values[k]) << "bulk row, destination " << k;
    EXPECT_EQ(to_host(dp[std::size_t(k)]->data(), pairs[k].size() * sizeof(pruned_pair)), bytes_of(pairs[k]))
        << "bulk row, destination " << k;
  }
}

// usp's align in one launch: a 16-byte row copy, narrow integer slices and a generated arange,
// each equal to its own launch_remap / host result.
TEST(kernels_gpu, remap_many_matches_the_host) {
  SB_REQUIRE_GPU();
  const std::int64_t T = 96, H = 192, L = 40;
  expected_spec hid = spec_of(gen::source::hidden, dtype::bf16, T, H);
  expected_spec ids = spec_of(gen::source::input_ids, dtype::i32, T, 1);
  std::vector<char> h_hid(std::size_t(T * H) * 2), h_ids(std::size_t(T) * 4);
  fill_host(h_hid.data(), hid);
  fill_host(h_ids.data(), ids);
  device_tensor d_hid(h_hid.size()), d_ids(h_ids.size()), o_hid(std::size_t(L * H) * 2), o_ids(std::size_t(L) * 4),
      o_pos(std::size_t(L) * 8);
  SB_CUDA(cudaMemcpy(d_hid.data(), h_hid.data(), h_hid.size(), cudaMemcpyHostToDevice));
  SB_CUDA(cudaMemcpy(d_ids.data(), h_ids.data(), h_ids.size(), cudaMemcpyHostToDevice));
  auto slice = [&](const void* src, void* dst, dtype t, std::int64_t cols, std::int64_t shift) {
    remap_desc d;
    d.src = src;
    d.src_type = d.dst_type = t;
    d.src_ld = d.dst_ld = d.src_peer_cols = d.cols = cols;
    d.dst = dst;
    d.win_len = L;
    d.src_row_base = 50;
    d.valid_len = 30;  // rows past the sample end are zero
    d.shift = shift;
    return d;
  };
  remap_desc pos = slice(nullptr, o_pos.data(), dtype::i64, 1, 0);
  pos.src_generated = true;
  pos.gen_kind = gen::source::position;
  pos.valid_len = L;
  std::vector<remap_desc> dev = {slice(d_hid.data(), o_hid.data(), dtype::bf16, H, 0),
                                 slice(d_ids.data(), o_ids.data(), dtype::i32, 1, 1), pos};
  kernels::launch_remap_many(dev.data(), int(dev.size()), nullptr);
  std::vector<char> r_hid(o_hid.buf.bytes()), r_ids(o_ids.buf.bytes()), r_pos(o_pos.buf.bytes());
  std::vector<remap_desc> host = {slice(h_hid.data(), r_hid.data(), dtype::bf16, H, 0),
                                  slice(h_ids.data(), r_ids.data(), dtype::i32, 1, 1), pos};
  host[2].dst = r_pos.data();
  for (const auto& d : host) remap_host(d);
  EXPECT_EQ(to_host(o_hid.data(), r_hid.size()), r_hid);
  EXPECT_EQ(to_host(o_ids.data(), r_ids.size()), r_ids);
  EXPECT_EQ(to_host(o_pos.data(), r_pos.size()), r_pos);
  EXPECT_EQ(reinterpret_cast<const std::int64_t*>(r_pos.data())[7], 57);  // the arange from row base 50
}

}  // namespace sb
