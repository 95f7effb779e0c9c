#include "harness/backends/cpu_backend.h"

#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

#include "harness/core/error.h"
#include "harness/core/host_ops.h"

namespace sb {

namespace {

void* host_alloc(std::size_t bytes) {
  if (!bytes) return nullptr;
  // 256-byte aligned like cudaMalloc, so the same arena offsets are valid on every backend.
  void* p = std::aligned_alloc(kArenaAlign, (bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign);
  if (!p) throw oom_error(fmt::format("host allocation of {} bytes failed", bytes));
  return p;
}

class host_buffer final : public tracked_buffer {
 public:
  host_buffer(std::size_t bytes, memory_tracker& t) : tracked_buffer(host_alloc(bytes), bytes, t) {}
  ~host_buffer() override { std::free(data()); }
};

double us_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

}  // namespace

cpu_backend::cpu_backend(int rank, thread_group& group, std::size_t cap)
    : m_rank(rank), m_group(group), m_cap(cap) {}

std::unique_ptr<buffer> cpu_backend::allocate(std::size_t bytes) {
  if (m_cap && m_tracker.current() + bytes > m_cap)
    throw oom_error(fmt::format("allocation of {} bytes exceeds the memory cap of {} bytes", bytes, m_cap));
  return std::make_unique<host_buffer>(bytes, m_tracker);
}

void cpu_backend::remap(const remap_desc& d) { remap_host(d); }
void cpu_backend::fill(void* dst, const expected_spec& spec) { fill_host(dst, spec); }
void cpu_backend::zero(void* dst, std::size_t bytes) { std::memset(dst, 0, bytes); }
void cpu_backend::upload(void* dst, const void* host, std::size_t bytes) { std::memcpy(dst, host, bytes); }
void cpu_backend::download(void* host, const void* src, std::size_t bytes) { std::memcpy(host, src, bytes); }

void cpu_backend::consume(const consumer_desc& d) { consume_host(d); }
void cpu_backend::prune_pack(const prune_desc& d) { prune_pack_host(d); }

// Threads share the address space: a peer's buffer is simply its address.
std::vector<const void*> cpu_backend::open_peers(void* base, std::size_t offset) {
  m_group.publish(m_rank, static_cast<char*>(base) + offset);
  m_group.barrier();
  std::vector<const void*> out;
  for (int q = 0; q < size(); ++q) out.push_back(m_group.peer(q));
  m_group.barrier();
  return out;
}

// The peers' shards are read in place; the barriers order those reads after their writers and
// before anyone overwrites them.
void cpu_backend::pull(const remap_desc& d) {
  m_group.barrier();
  remap_host(d);
  m_group.barrier();
}

// Every rank publishes its send buffer, then pulls each peer's block into its own receive buffer.
// The second barrier keeps a send buffer alive and unchanged until every peer has read it.
void cpu_backend::do_all_gather(const void* send, void* recv, std::size_t bytes, const peer_model&) {
  m_group.publish(m_rank, send);
  m_group.barrier();
  for (int q = 0; q < size(); ++q)
    if (bytes) std::memcpy(static_cast<char*>(recv) + std::size_t(q) * bytes, m_group.peer(q), bytes);
  m_group.barrier();
}

void cpu_backend::do_all_to_all(const a2a_args& args, const peer_model&) {
  m_group.publish(m_rank, &args);
  m_group.barrier();
  for (int q = 0; q < size(); ++q) {
    const auto& peer = *static_cast<const a2a_args*>(m_group.peer(q));
    const chunk& in = peer.send_chunks[m_rank];
    const chunk& out = args.recv_chunks[q];
    if (in.bytes != out.bytes)
      throw_runtime(fmt::format("all_to_all size mismatch: rank {} sends {} bytes to rank {}, which expects {}", q,
                                in.bytes, m_rank, out.bytes));
    if (in.bytes)
      std::memcpy(static_cast<char*>(args.recv) + out.offset, static_cast<const char*>(peer.send) + in.offset, in.bytes);
  }
  m_group.barrier();
}

void cpu_backend::iteration_begin(iteration_kind) {
  m_times = {};
  m_iter_start = clock::now();
}

void cpu_backend::phase_begin(std::string_view name) {
  m_phase = name;
  m_phase_start = clock::now();
}

void cpu_backend::phase_end() { m_times.phases_us.emplace_back(m_phase, us_between(m_phase_start, clock::now())); }

iteration_times cpu_backend::iteration_end() {
  m_times.total_us = us_between(m_iter_start, clock::now());
  return m_times;
}

mismatch_report cpu_backend::verify(const void* data, const expected_spec& spec) { return verify_host(data, spec); }
consumer_mismatch cpu_backend::verify_consumer(const consumer_desc& d) { return verify_consumer_host(d); }

}  // namespace sb
