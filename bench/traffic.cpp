#include "bench/traffic.h"

#include <algorithm>

#include "harness/core/error.h"

namespace sb {

namespace {

// Counts instead of moving. Buffers are fake addresses (never dereferenced).
class counting_backend final : public rank_backend {
 public:
  counting_backend(int rank, int size) : m_rank(rank), m_size(size) {}
  backend_kind kind() const override { return backend_kind::cpu; }
  int rank() const override { return m_rank; }
  int size() const override { return m_size; }
  std::string timing_domain() const override { return "none (counting)"; }
  std::unique_ptr<buffer> allocate(std::size_t) override { throw_runtime("counting backend allocates nothing"); }
  memory_tracker& tracker() override { return m_tracker; }

  void remap(const remap_desc& d) override {
    const double rows = double(d.windows * d.win_len);
    double valid = 0;  // rows read from the source
    for (std::int64_t w = 0; w < d.windows; ++w)
      if (w < d.valid_windows) valid += double(std::clamp<std::int64_t>(d.valid_len - d.shift, 0, d.win_len));
    const double read = d.src_generated ? 0.0 : valid * double(d.cols) * double(dtype_size(d.src_type));
    add_local(read + rows * double(d.cols) * double(dtype_size(d.dst_type)));
  }
  void consume(const consumer_desc& d) override {
    // Reads the full row for the argmax and the draft columns twice (max/sum, then the
    // probabilities); writes target_p and position_mask.
    const double rows = double(d.rows());
    const double row = d.source == consumer_source::pruned ? 0.0 : double(d.vocab) * double(dtype_size(d.src_type));
    add_local(rows * (row + 2.0 * double(d.vd) * double(dtype_size(d.src_type)) + double(d.vd) * 4.0 + 4.0));
  }
  void prune_pack(const prune_desc& d) override {
    const double rows = double(d.rows.windows * d.rows.win_len), es = double(dtype_size(d.rows.src_type));
    add_local(rows * (double(d.valid_cols) * es + double(d.n_ids) * es + 8.0));
  }
  std::vector<const void*> open_peers(void* base, std::size_t offset) override {
    return std::vector<const void*>(std::size_t(m_size), static_cast<char*>(base) + offset);
  }
  void pull(const remap_desc& d) override {
    // Peer blocks cross the links, the rank's own block is a local read; every output byte is written.
    const double rows = double(d.windows * d.win_len), blocks = double((d.cols + d.src_peer_cols - 1) / d.src_peer_cols);
    const double block_bytes = rows * double(std::min(d.cols, d.src_peer_cols)) * double(dtype_size(d.src_type));
    add_local(block_bytes + rows * double(d.cols) * double(dtype_size(d.dst_type)));
    add_link(block_bytes * std::max(0.0, blocks - 1.0));
  }
  void fill(void*, const expected_spec& e) override { add_local(double(e.elements()) * double(dtype_size(e.type))); }
  void zero(void*, std::size_t bytes) override { add_local(double(bytes)); }
  void upload(void*, const void*, std::size_t) override {}
  void download(void*, const void*, std::size_t) override {}
  void do_all_gather(const void*, void*, std::size_t bytes, const peer_model&) override {
    add_local(2.0 * double(bytes));  // its own block, copied into place
    add_link(double(bytes) * double(m_size - 1));  // sent and received alike
  }
  void do_all_to_all(const a2a_args& a, const peer_model&) override {
    double sent = 0, received = 0;
    for (int d = 0; d < m_size; ++d) {
      if (d == m_rank) {
        add_local(2.0 * double(a.send_chunks[std::size_t(d)].bytes));
        continue;
      }
      sent += double(a.send_chunks[std::size_t(d)].bytes);
      received += double(a.recv_chunks[std::size_t(d)].bytes);
    }
    add_link(std::max(sent, received));  // full-duplex links: the larger direction bounds the time
  }
  void host_sync() override {}
  void barrier() override {}
  double max_over_ranks(double v) override { return v; }
  std::int64_t sum_over_ranks(std::int64_t v) override { return v; }
  void iteration_begin(iteration_kind) override {}
  void phase_begin(std::string_view name) override { m_phase = name; }
  void phase_end() override { m_phase.clear(); }
  iteration_times iteration_end() override { return {}; }
  mismatch_report verify(const void*, const expected_spec&) override { return {}; }
  consumer_mismatch verify_consumer(const consumer_desc&) override { return {}; }

  std::map<std::string, phase_traffic> traffic;

 private:
  void add_local(double b) { traffic[m_phase].local_bytes += b; }
  void add_link(double b) {
    traffic[m_phase].link_bytes += b;
    traffic[m_phase].collective = true;
  }
  int m_rank, m_size;
  memory_tracker m_tracker;
  std::string m_phase;
};

}  // namespace

std::map<std::string, phase_traffic> path_traffic(const point& pt) {
  auto p = make_path(pt.path, pt.variant);
  std::map<std::string, phase_traffic> worst;
  double worst_total = -1;
  for (int r = 0; r < pt.shp.tp; ++r) {
    path_plan plan = p->plan(pt.shp, r);
    std::map<std::string, void*, std::less<>> fake;
    std::uintptr_t addr = 4096;
    for (const auto& b : plan.buffers) {
      fake[b.name] = reinterpret_cast<void*>(addr);
      addr += (b.bytes() + kArenaAlign) / kArenaAlign * kArenaAlign;
    }
    counting_backend c(r, pt.shp.tp);
    rank_context ctx(pt.shp, c, fake, nullptr, &plan);
    for (const auto& name : plan.peer_shared) ctx.set_peers(name, c.open_peers(fake.at(name), 0));
    p->run(ctx);
    double total = 0;
    for (const auto& [_, t] : c.traffic) total += t.local_bytes + t.link_bytes;
    if (total > worst_total) {
      worst_total = total;
      worst = c.traffic;
    }
  }
  return worst;
}

}  // namespace sb
