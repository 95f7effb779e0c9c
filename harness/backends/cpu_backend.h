// The `cpu` backend: ranks are threads of one process, buffers are host memory, and collectives
// really move the bytes between the ranks' buffers (each rank copies what its peers published), as
// NCCL would between GPUs. Times are host wall-clock times of the rank's thread.
#pragma once
#include <chrono>
#include <memory>

#include "harness/backends/rank_backend.h"
#include "harness/backends/thread_group.h"

namespace sb {

class cpu_backend final : public rank_backend {
 public:
  cpu_backend(int rank, thread_group& group, std::size_t memory_cap_bytes = 0);

  backend_kind kind() const override { return backend_kind::cpu; }
  int rank() const override { return m_rank; }
  int size() const override { return m_group.size(); }
  std::string timing_domain() const override { return "cpu wall clock (host threads as ranks)"; }

  std::unique_ptr<buffer> allocate(std::size_t bytes) override;
  memory_tracker& tracker() override { return m_tracker; }

  void remap(const remap_desc& d) override;
  void fill(void* dst, const expected_spec& spec) override;
  void zero(void* dst, std::size_t bytes) override;
  void upload(void* dst, const void* host, std::size_t bytes) override;
  void download(void* host, const void* src, std::size_t bytes) override;

  void consume(const consumer_desc& d) override;
  void prune_pack(const prune_desc& d) override;
  std::vector<const void*> open_peers(void* base, std::size_t offset) override;
  void pull(const remap_desc& d) override;

  void host_sync() override {}

  void barrier() override { m_group.barrier(); }
  double max_over_ranks(double v) override { return m_group.max(m_rank, v); }
  std::int64_t sum_over_ranks(std::int64_t v) override { return m_group.sum(m_rank, v); }

  void iteration_begin(iteration_kind k) override;
  void phase_begin(std::string_view name) override;
  void phase_end() override;
  iteration_times iteration_end() override;

  mismatch_report verify(const void* data, const expected_spec& spec) override;
  consumer_mismatch verify_consumer(const consumer_desc& d) override;

 protected:
  void do_all_gather(const void* send, void* recv, std::size_t bytes_per_rank, const peer_model& peers) override;
  void do_all_to_all(const a2a_args& args, const peer_model& peers) override;

 private:
  using clock = std::chrono::steady_clock;
  int m_rank;
  thread_group& m_group;
  std::size_t m_cap;
  memory_tracker m_tracker;
  clock::time_point m_iter_start, m_phase_start;
  std::string m_phase;
  iteration_times m_times;
};

}  // namespace sb
