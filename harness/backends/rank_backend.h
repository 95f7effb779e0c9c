// What a path may ask of its backend, per rank: the rank backend. A path is written once against
// it; `cpu` (threads as ranks, host buffers), `local` (all ranks on one GPU) and `nccl` (real GPUs)
// implement it, and the counting backend (bench/traffic.cpp) stands in for one to count bytes. Only
// the backend differs, so a path's logic cannot drift. It has four roles, one interface each: the
// rank's memory, the operations that run on it, the rank group, and the clock that times them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/backend_kind.h"
#include "harness/core/consumer_ops.h"
#include "harness/core/layout_ops.h"
#include "harness/core/memory.h"
#include "harness/core/mismatch.h"

namespace sb {

// How an all-to-all is issued: one collective call (ncclAlltoAll) or the grouped point-to-point
// list that SpecForge's list all-to-all becomes (ncclSend/ncclRecv in a group).
enum class a2a_impl : std::uint8_t { collective, send_recv };

struct chunk {
  std::size_t offset = 0;  // bytes from the buffer start
  std::size_t bytes = 0;
};

struct a2a_args {
  const void* send = nullptr;
  void* recv = nullptr;
  std::vector<chunk> send_chunks;  // [P]: what goes to each peer
  std::vector<chunk> recv_chunks;  // [P]: where each peer's data lands
  a2a_impl impl = a2a_impl::collective;
};

// What peer q contributes to this rank's receive buffer, as one layout operation on q's *generated*
// input shard (dst already pointing into the receive buffer): a re-layout, or the pruned sender.
// Lets a backend that emulates absent peers (local `one`) produce exactly the bytes they would have
// sent. Real backends ignore it.
struct peer_contribution {
  peer_contribution(const remap_desc& r) : remap(r) {}  // NOLINT: lambdas return either form
  peer_contribution(const prune_desc& p) : pruned(true), prune(p) {}  // NOLINT
  remap_desc remap{};
  bool pruned = false;
  prune_desc prune{};
};
using peer_model = std::function<peer_contribution(int peer)>;

// Owns one allocation of the backend's memory (host or device), reported to the rank's tracker.
class buffer {
 public:
  virtual ~buffer() = default;
  virtual void* data() = 0;
  virtual std::size_t bytes() const = 0;
};

// The tracker bookkeeping every backend's buffer shares: counted from construction (after the
// subclass's allocation succeeded) to destruction (after the subclass has freed it).
class tracked_buffer : public buffer {
 public:
  tracked_buffer(const tracked_buffer&) = delete;
  tracked_buffer& operator=(const tracked_buffer&) = delete;
  void* data() final { return m_data; }
  std::size_t bytes() const final { return m_bytes; }

 protected:
  tracked_buffer(void* data, std::size_t bytes, memory_tracker& t) : m_data(data), m_bytes(bytes), m_tracker(t) {
    m_tracker.on_alloc(bytes);
  }
  ~tracked_buffer() override { m_tracker.on_free(m_bytes); }

 private:
  void* m_data;
  std::size_t m_bytes;
  memory_tracker& m_tracker;
};

// Warm-up iterations bring up clocks, connections and lazy allocations; timed ones are measured.
enum class iteration_kind : std::uint8_t { warmup, timed };

// How much of a timed iteration the GPU ran only after the host had queued it (--gate, nvbench's
// blocking kernel): a stream gate holds the rank's stream from the iteration's start until the
// host opens it, so the host's launch latency, and any stall of the host while it launches, is not
// timed. The host must open it before it waits on the stream (or it would wait on itself), and
// before CUDA's launch queue fills (a full queue blocks the host in its next launch).
enum class launch_gate : std::uint8_t {
  off,          // no gate: the GPU ran each operation as the host launched it
  whole,        // the whole iteration was queued before any of it ran
  host_wait,    // queued up to the first host wait the path makes; the rest ran at the host's pace
  queue_depth,  // queued up to the launch-queue budget; the rest ran at the host's pace
};
std::string_view to_string(launch_gate g);

// Durations of one timed iteration, in microseconds.
struct iteration_times {
  double total_us = 0;
  std::vector<std::pair<std::string, double>> phases_us;  // in the order the phases ran
  launch_gate gate = launch_gate::off;
};

// The rank's memory: allocations counted by its tracker, and copies between it and the host.
class rank_memory {
 public:
  virtual ~rank_memory() = default;
  virtual std::unique_ptr<buffer> allocate(std::size_t bytes) = 0;  // throws oom_error
  virtual memory_tracker& tracker() = 0;
  virtual std::size_t device_used_bytes() const { return 0; }  // device-level (NCCL's buffers included)
  virtual void fill(void* dst, const expected_spec& spec) = 0;  // write a tensor's definition
  virtual void zero(void* dst, std::size_t bytes) = 0;
  virtual void upload(void* dst, const void* host, std::size_t bytes) = 0;
  virtual void download(void* host, const void* src, std::size_t bytes) = 0;
};

// The operations a path runs on its rank's memory (asynchronous on GPUs, in the rank's stream
// order), and their verification.
class rank_compute {
 public:
  virtual ~rank_compute() = default;
  virtual void remap(const remap_desc& d) = 0;
  // Several re-layouts with disjoint outputs, as one operation where the backend can (one launch).
  virtual void remap_many(const std::vector<remap_desc>& ds) {
    for (const auto& d : ds) remap(d);
  }
  // The consumer stage and the pruned sender (harness/core/consumer_ops.h).
  virtual void consume(const consumer_desc& d) = 0;
  virtual void prune_pack(const prune_desc& d) = 0;
  // The packs for every destination; the GPU backends launch those that share a shard at once.
  virtual void prune_pack_many(const std::vector<prune_desc>& ds) {
    for (const auto& d : ds) prune_pack(d);
  }
  virtual mismatch_report verify(const void* data, const expected_spec& spec) = 0;
  // The consumer's outputs (d.target_p, d.position_mask) against d's source recomputed, bitwise.
  virtual consumer_mismatch verify_consumer(const consumer_desc& d) = 0;
};

// The rank group: collectives, reading peers' buffers in place, and host-side coordination.
class rank_group {
 public:
  virtual ~rank_group() = default;
  virtual backend_kind kind() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual bool emulates_peers() const { return false; }  // local `one`: only this rank exists

  // Each counts what leaves this rank (sent_bytes(): the engine checks it against the plan), then
  // the backend moves the data.
  void all_gather(const void* send, void* recv, std::size_t bytes_per_rank, const peer_model& peers) {
    m_sent += bytes_per_rank * std::size_t(size() - 1);
    do_all_gather(send, recv, bytes_per_rank, peers);
  }
  void all_to_all(const a2a_args& args, const peer_model& peers) {
    for (int d = 0; d < int(args.send_chunks.size()); ++d)
      if (d != rank()) m_sent += args.send_chunks[std::size_t(d)].bytes;
    do_all_to_all(args, peers);
  }
  std::size_t sent_bytes() const { return m_sent; }  // since the last reset_sent()
  void reset_sent() { m_sent = 0; }
  virtual void host_sync() = 0;  // wait for this rank's queued work (a host sync a variant models)

  // peer_pull. open_peers is collective: every rank names the same buffer of its allocation (base +
  // offset); returns every rank's address of it (peer access or CUDA IPC; nullptr for a peer that
  // is only emulated), valid until close_peers(). pull is collective too: d reads the peers' shards
  // through d.src_peers and writes this rank's output in one kernel; it waits until every peer's
  // shard is complete before, and for every peer's reads of this rank's shard after (so no rank may
  // overwrite what a peer still reads).
  virtual std::vector<const void*> open_peers(void* base, std::size_t offset) = 0;
  virtual void close_peers() {}
  virtual void pull(const remap_desc& d) = 0;

  // Host-side coordination (the engine's).
  virtual void barrier() = 0;
  virtual double max_over_ranks(double v) = 0;
  virtual std::int64_t sum_over_ranks(std::int64_t v) = 0;

 protected:
  virtual void do_all_gather(const void* send, void* recv, std::size_t bytes_per_rank, const peer_model& peers) = 0;
  virtual void do_all_to_all(const a2a_args& args, const peer_model& peers) = 0;

 private:
  std::size_t m_sent = 0;
};

// The clock: the engine marks iterations, paths mark phases through rank_context.
class rank_clock {
 public:
  virtual ~rank_clock() = default;
  virtual std::string timing_domain() const = 0;  // "cpu wall clock", "cuda events", ...
  virtual void flush_cache() {}  // --cold: evict the last-level cache before an iteration (untimed)
  virtual void iteration_begin(iteration_kind k) = 0;
  virtual void phase_begin(std::string_view name) = 0;
  virtual void phase_end() = 0;
  virtual iteration_times iteration_end() = 0;  // waits for the iteration's work
};

// One rank of a backend: all four roles.
class rank_backend : public rank_memory, public rank_compute, public rank_group, public rank_clock {
 public:
  rank_backend() = default;
  rank_backend(const rank_backend&) = delete;
  rank_backend& operator=(const rank_backend&) = delete;
};

}  // namespace sb
