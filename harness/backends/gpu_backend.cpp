#include "harness/backends/gpu_backend.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#if SHARDBENCH_HAVE_MPI
#include <mpi.h>
#endif

#include "harness/backends/cupti.h"
#include "harness/core/error.h"
#include "harness/core/host_ops.h"

namespace sb {

// ---- handles ---------------------------------------------------------------------------------

cuda_stream make_stream() {
  cudaStream_t s;
  SB_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return cuda_stream(s);
}

cuda_event make_event() {
  cudaEvent_t e;
  SB_CUDA(cudaEventCreate(&e));
  return cuda_event(e);
}

namespace {
void* device_alloc(std::size_t bytes) {
  void* p = nullptr;
  if (bytes) SB_CUDA(cudaMalloc(&p, bytes));
  return p;
}
}  // namespace

device_buffer::device_buffer(std::size_t bytes, memory_tracker& t) : tracked_buffer(device_alloc(bytes), bytes, t) {}

device_buffer::~device_buffer() {
  if (data()) SB_CUDA_NOTHROW(cudaFree(data()));
}

stream_gate::stream_gate(double timeout_s) : m_timeout_s(timeout_s) {
  void* p = nullptr;
  SB_CUDA(cudaHostAlloc(&p, 2 * sizeof(int), cudaHostAllocMapped));
  m_host = pinned_host(p);
  static_cast<int*>(p)[0] = static_cast<int*>(p)[1] = 0;
  void* dev = nullptr;
  SB_CUDA(cudaHostGetDevicePointer(&dev, p, 0));
  m_device_words = static_cast<int*>(dev);
}

void stream_gate::close(cudaStream_t s) {
  word(0).store(0, std::memory_order_release);
  word(1).store(0, std::memory_order_release);
  kernels::launch_gate(m_device_words, m_device_words + 1, m_timeout_s, s);
}

void stream_gate::open() { word(0).store(1, std::memory_order_release); }

bool stream_gate::timed_out() const { return word(1).load(std::memory_order_acquire) != 0; }

void stream_gate::check() const {
  if (timed_out())
    throw runtime_error(fmt::format("the stream gate was not opened within {} s: the work behind it ran at the host's pace",
                                    m_timeout_s));
}

void check_nccl(ncclResult_t r, const char* expr, const char* file, int line) {
  if (r == ncclSuccess || r == ncclInProgress) return;
  throw runtime_error(fmt::format("NCCL error {} ({}) in {} at {}:{}", int(r), ncclGetErrorString(r), expr, file, line));
}

// ---- the rank backend ----------------------------------------------------------------------------

namespace {
// How many operations (launches, copies, event records and waits) a timed iteration may queue
// behind its gate before the gate opens anyway. CUDA blocks the host in a launch once the
// stream's queue of pending work is full; with the gate closed nothing drains it, and the host
// would sit there until the gate timed out. The queue's depth is not documented (it is on the order
// of a thousand operations); this stays well below it, and the iteration says it opened early.
constexpr int kGateQueueOps = 256;
}  // namespace

gpu_backend::gpu_backend(const gpu_rank_setup& s) : m_s(s) {
  SB_CUDA(cudaSetDevice(m_s.device));
  m_stream = make_stream();
  m_ready = make_event();
  m_done = make_event();
  m_verify_scratch = std::make_unique<device_buffer>(2 * sizeof(kernels::verify_scratch), m_scratch_tracker);
  // Allocated here, not at its first use inside an iteration, where a gate may hold the stream.
  if (m_s.mode == gpu_mode::nccl) m_barrier_word = std::make_unique<device_buffer>(sizeof(float), m_scratch_tracker);
  if (m_s.gate) {
    m_gate = std::make_unique<stream_gate>(std::min(m_s.timeout_s, 3600.0));  // the gate kernel's limit
    // Through the gate once, open, so its kernel is loaded now: CUDA loads a kernel at its first
    // launch by default, and loading can synchronise the context, which would wait on another
    // rank's gate (local, all ranks on one GPU) while that rank waits on this one.
    m_gate->close(stream());
    m_gate->open();
    SB_CUDA(cudaStreamSynchronize(stream()));
  }
  if (m_s.cupti) m_s.cupti->register_rank(m_s.rank);
}

gpu_backend::~gpu_backend() {
  if (m_gate_closed) m_gate->open();  // an iteration that threw: let its queued work drain
  SB_CUDA_NOTHROW(cudaStreamSynchronize(m_stream.get()));
  for (void* p : m_ipc_opened) SB_CUDA_NOTHROW(cudaIpcCloseMemHandle(p));
}

std::unique_ptr<buffer> gpu_backend::allocate(std::size_t bytes) {
  if (m_s.memory_cap && m_tracker.current() + bytes > m_s.memory_cap)
    throw oom_error(fmt::format("allocation of {} bytes exceeds the memory cap of {} bytes", bytes, m_s.memory_cap));
  return std::make_unique<device_buffer>(bytes, m_tracker);
}

std::size_t gpu_backend::device_used_bytes() const {
  std::size_t free = 0, total = 0;
  SB_CUDA(cudaMemGetInfo(&free, &total));
  return total - free;
}

void gpu_backend::remap(const remap_desc& d) {
  queued(1);
  kernels::launch_remap(d, stream());
}
void gpu_backend::remap_many(const std::vector<remap_desc>& ds) {
  queued(int(ds.size()));  // at most one launch each
  kernels::launch_remap_many(ds.data(), int(ds.size()), stream());
}
void gpu_backend::consume(const consumer_desc& d) {
  queued(1);
  kernels::launch_consume(d, stream());
}
void gpu_backend::prune_pack(const prune_desc& d) {
  queued(1);
  kernels::launch_prune_pack(d, stream());
}
void gpu_backend::prune_pack_many(const std::vector<prune_desc>& ds) {
  queued(int(ds.size()));  // at most one launch each
  kernels::launch_prune_pack_many(ds.data(), int(ds.size()), stream());
}
void gpu_backend::fill(void* dst, const expected_spec& spec) {
  queued(1);
  kernels::launch_fill(dst, spec, stream());
}
void gpu_backend::zero(void* dst, std::size_t bytes) {
  queued(1);
  SB_CUDA(cudaMemsetAsync(dst, 0, bytes, stream()));
}

// Copies to or from pageable host memory can block the host until the stream reaches them.
void gpu_backend::upload(void* dst, const void* host, std::size_t bytes) {
  open_gate(launch_gate::host_wait);
  SB_CUDA(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, stream()));
  wait();
}

void gpu_backend::download(void* host, const void* src, std::size_t bytes) {
  open_gate(launch_gate::host_wait);
  SB_CUDA(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, stream()));
  wait();
}

void gpu_backend::open_gate(launch_gate why) {
  if (!m_gate_closed) return;
  m_gate->open();
  m_gate_closed = false;
  m_gate_state = why;
}

void gpu_backend::queued(int ops) {
  if (m_gate_closed && (m_gate_queued += ops) > kGateQueueOps) open_gate(launch_gate::queue_depth);
}

void gpu_backend::wait() {
  open_gate(launch_gate::host_wait);
  if (m_s.mode != gpu_mode::nccl) {
    SB_CUDA(cudaStreamSynchronize(stream()));
    return;
  }
  // A hung collective never completes: poll, watch NCCL's async errors, and give up after the
  // timeout (the world aborts the communicators when the failure unwinds it).
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    cudaError_t e = cudaStreamQuery(stream());
    if (e == cudaSuccess) return;
    if (e != cudaErrorNotReady) SB_CUDA(e);
    ncclResult_t async = ncclSuccess;
    SB_NCCL(ncclCommGetAsyncError(m_s.comm, &async));
    SB_NCCL(async);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > m_s.timeout_s)
      throw runtime_error(fmt::format("rank {}: a collective made no progress within {:.0f} s (--timeout); aborting the communicators",
                                      m_s.rank, m_s.timeout_s));
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

// ---- collectives -----------------------------------------------------------------------------

void gpu_backend::local_exchange(const std::function<void(const std::vector<exchange>&)>& copies,
                                      const void* send, const a2a_args* a2a) {
  thread_group& g = *m_s.group;
  queued(2 + 3 * size());  // two records, two waits per peer and at most one copy from each
  SB_CUDA(cudaEventRecord(m_ready.get(), stream()));
  m_exchange = {send, a2a, m_ready.get(), m_done.get()};
  g.publish(m_s.rank, &m_exchange);
  g.barrier();
  std::vector<exchange> peers(static_cast<std::size_t>(size()));
  for (int q = 0; q < size(); ++q) peers[std::size_t(q)] = *static_cast<const exchange*>(g.peer(q));
  for (const auto& p : peers) SB_CUDA(cudaStreamWaitEvent(stream(), p.ready, 0));
  copies(peers);
  SB_CUDA(cudaEventRecord(m_done.get(), stream()));
  g.barrier();
  // No rank may overwrite a buffer a peer is still reading: wait for every peer's reads.
  for (const auto& p : peers) SB_CUDA(cudaStreamWaitEvent(stream(), p.done, 0));
  g.barrier();  // and no rank re-records its events before every peer has queued those waits
}

void gpu_backend::emulate_peers(const peer_model& peers) {
  queued(size() - 1);
  for (int q = 0; q < size(); ++q)
    if (q != m_s.rank) {
      const peer_contribution c = peers(q);
      if (c.pruned)
        kernels::launch_prune_pack(c.prune, stream());
      else
        kernels::launch_remap(c.remap, stream());
    }
}

// ---- peer_pull -------------------------------------------------------------------------------

namespace {
struct peer_address {
  const void* ptr;
  int device;
};
}  // namespace

std::vector<const void*> gpu_backend::open_peers(void* base, std::size_t offset) {
  const void* mine = static_cast<char*>(base) + offset;
  std::vector<const void*> out(std::size_t(size()), nullptr);
  out[std::size_t(m_s.rank)] = mine;
  if (m_s.mode == gpu_mode::local_one) return out;  // the peers are generated
  if (m_s.group) {  // ranks are threads: one address space, peer access between the devices
    peer_address me{mine, m_s.device};
    m_s.group->publish(m_s.rank, &me);
    m_s.group->barrier();
    for (int q = 0; q < size(); ++q) {
      const auto& p = *static_cast<const peer_address*>(m_s.group->peer(q));
      out[std::size_t(q)] = p.ptr;
      if (p.device == m_s.device) continue;
      int can = 0;
      SB_CUDA(cudaDeviceCanAccessPeer(&can, m_s.device, p.device));
      if (!can) throw_runtime(fmt::format("peer_pull: GPU {} cannot access GPU {} (no peer access)", m_s.device, p.device));
      cudaError_t e = cudaDeviceEnablePeerAccess(p.device, 0);
      if (e == cudaErrorPeerAccessAlreadyEnabled)
        (void)cudaGetLastError();  // forget the recorded error: already enabled is what we want
      else
        SB_CUDA(e);
    }
    m_s.group->barrier();
    return out;
  }
#if SHARDBENCH_HAVE_MPI
  // One process per GPU: export the allocation through CUDA IPC and exchange the handles over MPI.
  struct ipc_entry {
    cudaIpcMemHandle_t handle;
    unsigned long long offset;
  };
  ipc_entry me{};
  SB_CUDA(cudaIpcGetMemHandle(&me.handle, base));
  me.offset = offset;
  std::vector<ipc_entry> all(static_cast<std::size_t>(size()));
  MPI_Allgather(&me, sizeof me, MPI_BYTE, all.data(), sizeof me, MPI_BYTE, MPI_COMM_WORLD);
  for (int q = 0; q < size(); ++q) {
    if (q == m_s.rank) continue;
    void* p = nullptr;
    SB_CUDA(cudaIpcOpenMemHandle(&p, all[std::size_t(q)].handle, cudaIpcMemLazyEnablePeerAccess));
    m_ipc_opened.push_back(p);
    out[std::size_t(q)] = static_cast<char*>(p) + all[std::size_t(q)].offset;
  }
  return out;
#else
  throw_runtime("peer_pull across processes needs MPI (CUDA IPC handles are exchanged over it)");
#endif
}

void gpu_backend::close_peers() {
  if (m_ipc_opened.empty()) return;
  wait();
  for (void* p : m_ipc_opened) SB_CUDA(cudaIpcCloseMemHandle(p));
  m_ipc_opened.clear();
  barrier();  // no rank frees its buffer while a peer still has it mapped
}

void gpu_backend::stream_barrier() {
  queued(1);
  // An all-reduce completes on a rank's stream only after every rank's stream has reached it.
  SB_NCCL(ncclAllReduce(m_barrier_word->data(), m_barrier_word->data(), 1, ncclFloat, ncclSum, m_s.comm, stream()));
}

void gpu_backend::pull(const remap_desc& d) {
  switch (m_s.mode) {
    case gpu_mode::nccl:
      stream_barrier();
      kernels::launch_remap(d, stream());
      stream_barrier();
      return;
    case gpu_mode::local_all:
      local_exchange([&](const std::vector<exchange>&) { kernels::launch_remap(d, stream()); }, nullptr, nullptr);
      return;
    case gpu_mode::local_one:
      // Only this rank exists: its own block is read in place, the peers' blocks are generated
      // (as the emulated collectives do), one launch per block.
      queued(size());
      for (int q = 0; q * d.src_peer_cols < d.cols; ++q) {
        remap_desc b = d;
        b.n_src_peers = 0;
        b.cols = std::min(d.src_peer_cols, d.cols - q * d.src_peer_cols);
        b.dst = static_cast<char*>(d.dst) + std::size_t(q * d.src_peer_cols) * dtype_size(d.dst_type);
        if (q == m_s.rank) {
          b.src = d.src_peers[q];
        } else {
          b.src_generated = true;
          b.gen_col_base = q * d.src_peer_cols;
        }
        kernels::launch_remap(b, stream());
      }
      return;
  }
}

void gpu_backend::do_all_gather(const void* send, void* recv, std::size_t bytes, const peer_model& peers) {
  char* out = static_cast<char*>(recv);
  switch (m_s.mode) {
    case gpu_mode::nccl:
      queued(1);
      SB_NCCL(ncclAllGather(send, recv, bytes, ncclInt8, m_s.comm, stream()));
      return;
    case gpu_mode::local_one:
      queued(1);
      if (bytes)
        SB_CUDA(cudaMemcpyAsync(out + std::size_t(m_s.rank) * bytes, send, bytes, cudaMemcpyDeviceToDevice, stream()));
      emulate_peers(peers);
      return;
    case gpu_mode::local_all:
      local_exchange(
          [&](const std::vector<exchange>& ps) {
            for (int q = 0; q < size(); ++q)
              if (bytes)
                SB_CUDA(cudaMemcpyAsync(out + std::size_t(q) * bytes, ps[std::size_t(q)].send, bytes,
                                        cudaMemcpyDeviceToDevice, stream()));
          },
          send, nullptr);
      return;
  }
}

namespace {
// ncclAlltoAll needs equal chunks laid back to back in both buffers.
bool uniform_layout(const a2a_args& a) {
  const std::size_t n = a.send_chunks.size();
  if (n == 0) return true;
  const std::size_t b = a.send_chunks[0].bytes;
  for (std::size_t d = 0; d < n; ++d)
    if (a.send_chunks[d].bytes != b || a.recv_chunks[d].bytes != b || a.send_chunks[d].offset != d * b ||
        a.recv_chunks[d].offset != d * b)
      return false;
  return true;
}
}  // namespace

void gpu_backend::do_all_to_all(const a2a_args& a, const peer_model& peers) {
  const char* send = static_cast<const char*>(a.send);
  char* recv = static_cast<char*>(a.recv);
  const std::size_t me = std::size_t(m_s.rank);
  switch (m_s.mode) {
    case gpu_mode::nccl:
      queued(2);  // NCCL's own records and waits, where a group spans streams
      // ncclAlltoAll when asked for (by the path, or --a2a) and the layout allows it.
      if (m_s.a2a.value_or(a.impl) == a2a_impl::collective && uniform_layout(a)) {
        SB_NCCL(ncclAlltoAll(a.send, a.recv, a.send_chunks.empty() ? 0 : a.send_chunks[0].bytes, ncclInt8, m_s.comm,
                             stream()));
        return;
      }
      SB_NCCL(ncclGroupStart());
      for (int d = 0; d < size(); ++d) {
        const chunk& s = a.send_chunks[std::size_t(d)];
        const chunk& r = a.recv_chunks[std::size_t(d)];
        if (s.bytes) SB_NCCL(ncclSend(send + s.offset, s.bytes, ncclInt8, d, m_s.comm, stream()));
        if (r.bytes) SB_NCCL(ncclRecv(recv + r.offset, r.bytes, ncclInt8, d, m_s.comm, stream()));
      }
      SB_NCCL(ncclGroupEnd());
      return;
    case gpu_mode::local_one:
      queued(1);
      if (a.send_chunks[me].bytes)
        SB_CUDA(cudaMemcpyAsync(recv + a.recv_chunks[me].offset, send + a.send_chunks[me].offset,
                                a.send_chunks[me].bytes, cudaMemcpyDeviceToDevice, stream()));
      emulate_peers(peers);
      return;
    case gpu_mode::local_all:
      local_exchange(
          [&](const std::vector<exchange>& ps) {
            for (int q = 0; q < size(); ++q) {
              const a2a_args& pa = *ps[std::size_t(q)].a2a;
              const chunk& in = pa.send_chunks[me];
              const chunk& out = a.recv_chunks[std::size_t(q)];
              if (in.bytes != out.bytes)
                throw_runtime(fmt::format("all_to_all size mismatch: rank {} sends {} bytes to rank {}, which expects {}",
                                          q, in.bytes, me, out.bytes));
              if (in.bytes)
                SB_CUDA(cudaMemcpyAsync(recv + out.offset, static_cast<const char*>(pa.send) + in.offset, in.bytes,
                                        cudaMemcpyDeviceToDevice, stream()));
            }
          },
          a.send, &a);
      return;
  }
}

// ---- host-side coordination ------------------------------------------------------------------

void gpu_backend::barrier() {
  open_gate(launch_gate::host_wait);  // a peer may be waiting on this rank's stream
  if (m_s.group) return m_s.group->barrier();
#if SHARDBENCH_HAVE_MPI
  if (m_s.mode == gpu_mode::nccl) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

double gpu_backend::max_over_ranks(double v) {
  if (m_s.group) return m_s.group->max(m_s.rank, v);
#if SHARDBENCH_HAVE_MPI
  if (m_s.mode == gpu_mode::nccl) {
    double out = v;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return out;
  }
#endif
  return v;  // local `one`: the only rank there is
}

std::int64_t gpu_backend::sum_over_ranks(std::int64_t v) {
  if (m_s.group) return m_s.group->sum(m_s.rank, v);
#if SHARDBENCH_HAVE_MPI
  if (m_s.mode == gpu_mode::nccl) {
    long long in = v, out = v;
    MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    return out;
  }
#endif
  return v;
}

// ---- timing ----------------------------------------------------------------------------------

cudaEvent_t gpu_backend::event_at(std::size_t i) {
  while (m_events.size() <= i) m_events.push_back(make_event());
  return m_events[i].get();
}

void gpu_backend::flush_cache() {
  if (!m_flush) {
    int l2 = 0;
    SB_CUDA(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, m_s.device));
    m_flush = std::make_unique<device_buffer>(std::size_t(l2) * 2, m_scratch_tracker);
  }
  SB_CUDA(cudaMemsetAsync(m_flush->data(), m_s.rank & 0xff, m_flush->bytes(), stream()));
}

void gpu_backend::iteration_begin(iteration_kind k) {
  m_phases.clear();
  m_next_event = 0;
  m_gate_state = launch_gate::off;
  // Warm-up iterations stay ungated: their first may set up NCCL's connections, and what that
  // does on the host is not this harness's to know.
  if (m_gate && k == iteration_kind::timed) {
    m_gate->close(stream());
    m_gate_closed = true;
    m_gate_state = launch_gate::whole;
    m_gate_queued = 0;
  }
  queued(1);
  SB_CUDA(cudaEventRecord(event_at(m_next_event++), stream()));
}

void gpu_backend::phase_begin(std::string_view name) {
  queued(1);
  m_phase = name;
  m_phase_start = m_next_event;
  SB_CUDA(cudaEventRecord(event_at(m_next_event++), stream()));
}

void gpu_backend::phase_end() {
  queued(1);
  SB_CUDA(cudaEventRecord(event_at(m_next_event), stream()));
  m_phases.push_back({m_phase, {m_phase_start, m_next_event}});
  ++m_next_event;
}

iteration_times gpu_backend::iteration_end() {
  const std::size_t end = m_next_event++;
  SB_CUDA(cudaEventRecord(event_at(end), stream()));
  open_gate(launch_gate::whole);  // all of it is queued
  wait();
  if (m_gate_state != launch_gate::off && m_gate->timed_out())
    throw runtime_error(fmt::format("rank {}: --gate: the stream gate was not opened within {:.0f} s, so the iteration "
                                    "ran at the host's pace (a wait on the stream that does not open it first?)",
                                    m_s.rank, m_gate->timeout_s()));
  auto elapsed_us = [&](std::size_t a, std::size_t b) {
    float ms = 0;
    SB_CUDA(cudaEventElapsedTime(&ms, m_events[a].get(), m_events[b].get()));
    return double(ms) * 1000.0;
  };
  iteration_times t;
  t.total_us = elapsed_us(0, end);
  for (const auto& [name, span] : m_phases) t.phases_us.emplace_back(name, elapsed_us(span.first, span.second));
  t.gate = m_gate_state;
  return t;
}

// ---- verification ----------------------------------------------------------------------------

mismatch_report gpu_backend::verify(const void* data, const expected_spec& spec) {
  auto* scratch = static_cast<kernels::verify_scratch*>(m_verify_scratch->data());
  kernels::launch_verify(data, spec, scratch, stream());
  kernels::verify_scratch host{};
  download(&host, scratch, sizeof host);
  mismatch_report rep = read_mismatch(host, data, spec.type);
  if (rep.count) rep.expected = expected_value(spec, rep.first_index);
  return rep;
}

mismatch_report gpu_backend::read_mismatch(const kernels::verify_scratch& s, const void* data, dtype t) {
  mismatch_report r;
  r.count = std::int64_t(s.count);
  if (r.count == 0) return r;
  r.first_index = std::int64_t(s.first_index);
  std::vector<char> v(dtype_size(t));
  download(v.data(), static_cast<const char*>(data) + std::size_t(r.first_index) * v.size(), v.size());
  r.actual = load_as_double(v.data(), 0, t);
  return r;
}

consumer_mismatch gpu_backend::verify_consumer(const consumer_desc& d) {
  auto* scratch = static_cast<kernels::verify_scratch*>(m_verify_scratch->data());
  kernels::launch_verify_consumer(d, scratch, stream());
  kernels::verify_scratch host[2]{};
  download(host, scratch, sizeof host);
  consumer_mismatch m{read_mismatch(host[0], d.target_p, dtype::fp32), read_mismatch(host[1], d.position_mask, dtype::i32)};
  if ((m.target_p.count || m.position_mask.count) && d.source == consumer_source::generated && !d.loss_mask) {
    // The expected values: the host replays the same lanes over the rows' definition (it needs only
    // the draft columns from the device).
    std::vector<std::int32_t> d2t(static_cast<std::size_t>(d.vd));
    download(d2t.data(), d.d2t, d2t.size() * sizeof(std::int32_t));
    consumer_desc h = d;
    h.d2t = d2t.data();
    std::vector<float> row(d2t.size());
    if (m.target_p.count) {
      consumer_row_host(h, m.target_p.first_index / d.vd, row.data());
      m.target_p.expected = row[std::size_t(m.target_p.first_index % d.vd)];
    }
    if (m.position_mask.count) m.position_mask.expected = consumer_row_host(h, m.position_mask.first_index, row.data());
  }
  return m;
}

}  // namespace sb
