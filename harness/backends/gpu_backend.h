// The GPU backends. One rank backend class serves `local` (all ranks as threads on one GPU, peer
// traffic as device copies between their buffers; or one real rank whose peers are generated) and
// `nccl` (real collectives): buffers, kernels and timing are the same, only the collectives differ.
#pragma once
#include <string>
#include <vector>

#include "harness/backends/rank_backend.h"
#include "harness/backends/gpu_handles.h"
#include "harness/backends/thread_group.h"
#include "harness/backends/world.h"
#include "kernels/api.cuh"

namespace sb {

enum class gpu_mode : std::uint8_t { local_all, local_one, nccl };

struct gpu_rank_setup {
  gpu_mode mode = gpu_mode::local_all;
  int rank = 0;
  int size = 1;
  int device = 0;
  thread_group* group = nullptr;  // ranks as threads (local_all, single-process nccl); null under MPI
  ncclComm_t comm = nullptr;      // nccl only; owned by the world
  std::size_t memory_cap = 0;
  double timeout_s = 300;
  cupti_session* cupti = nullptr;
  std::optional<a2a_impl> a2a;  // overrides the path's choice of all-to-all form (nccl)
  bool gate = false;            // timed iterations queued behind a stream gate (launch_gate)
};

class gpu_backend final : public rank_backend {
 public:
  explicit gpu_backend(const gpu_rank_setup& s);
  ~gpu_backend() override;

  backend_kind kind() const override { return m_s.mode == gpu_mode::nccl ? backend_kind::nccl : backend_kind::local; }
  int rank() const override { return m_s.rank; }
  int size() const override { return m_s.size; }
  std::string timing_domain() const override { return "cuda events on the rank's stream"; }
  bool emulates_peers() const override { return m_s.mode == gpu_mode::local_one; }

  std::unique_ptr<buffer> allocate(std::size_t bytes) override;
  memory_tracker& tracker() override { return m_tracker; }
  std::size_t device_used_bytes() const override;

  void remap(const remap_desc& d) override;
  void remap_many(const std::vector<remap_desc>& ds) override;
  void fill(void* dst, const expected_spec& spec) override;
  void zero(void* dst, std::size_t bytes) override;
  void upload(void* dst, const void* host, std::size_t bytes) override;
  void download(void* host, const void* src, std::size_t bytes) override;

  void consume(const consumer_desc& d) override;
  void prune_pack(const prune_desc& d) override;
  void prune_pack_many(const std::vector<prune_desc>& ds) override;
  std::vector<const void*> open_peers(void* base, std::size_t offset) override;
  void close_peers() override;
  void pull(const remap_desc& d) override;

  void host_sync() override { wait(); }

  void barrier() override;
  double max_over_ranks(double v) override;
  std::int64_t sum_over_ranks(std::int64_t v) override;

  void flush_cache() override;
  void iteration_begin(iteration_kind k) override;
  void phase_begin(std::string_view name) override;
  void phase_end() override;
  iteration_times iteration_end() override;

  mismatch_report verify(const void* data, const expected_spec& spec) override;
  consumer_mismatch verify_consumer(const consumer_desc& d) override;

 protected:
  void do_all_gather(const void* send, void* recv, std::size_t bytes_per_rank, const peer_model& peers) override;
  void do_all_to_all(const a2a_args& args, const peer_model& peers) override;

  cudaStream_t stream() const { return m_stream.get(); }

 private:
  // A verify kernel's count and first index, plus the element found there (data holds type t).
  mismatch_report read_mismatch(const kernels::verify_scratch& s, const void* data, dtype t);
  // What a rank shows its peers during a local collective: its buffers and the events that order
  // the copies across the ranks' streams.
  struct exchange {
    const void* send = nullptr;
    const a2a_args* a2a = nullptr;
    cudaEvent_t ready = nullptr;  // the send buffer is complete
    cudaEvent_t done = nullptr;   // this rank has finished reading its peers' buffers
  };
  void local_exchange(const std::function<void(const std::vector<exchange>&)>& copies, const void* send,
                      const a2a_args* a2a);
  void emulate_peers(const peer_model& peers);
  void stream_barrier();  // nccl: every rank's stream reaches this point before any goes on
  void wait();  // stream synchronise; under nccl, bounded by the timeout with ncclCommAbort
  // --gate: lets the held stream run, recording why (a no-op when no gate holds it). Every call
  // that blocks the host opens it first, or the host would wait on work held behind its own gate.
  void open_gate(launch_gate why);
  void queued(int ops);  // counts the operations a call queued; opens the gate at the budget
  cudaEvent_t event_at(std::size_t i);

  gpu_rank_setup m_s;
  memory_tracker m_tracker;
  cuda_stream m_stream;
  cuda_event m_ready, m_done;
  std::vector<cuda_event> m_events;  // timing events, reused across iterations
  std::size_t m_next_event = 0;
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> m_phases;
  std::string m_phase;
  std::size_t m_phase_start = 0;
  std::unique_ptr<device_buffer> m_verify_scratch;
  std::unique_ptr<device_buffer> m_flush;  // twice the L2 size, written to evict it (--cold)
  memory_tracker m_scratch_tracker;  // keeps the verifier's two words out of the point's figures
  exchange m_exchange;
  std::unique_ptr<device_buffer> m_barrier_word;  // nccl stream barrier's all-reduce operand
  std::unique_ptr<stream_gate> m_gate;            // --gate
  bool m_gate_closed = false;                     // the gate holds the stream now
  launch_gate m_gate_state = launch_gate::off;    // this iteration's, so far
  int m_gate_queued = 0;                          // operations queued behind the gate
  std::vector<void*> m_ipc_opened;                // peers' buffers mapped through CUDA IPC
};

}  // namespace sb
