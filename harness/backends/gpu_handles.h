// Move-only RAII owners of CUDA and NCCL handles (nvbench's style): nothing leaks on an exception,
// and destructors never throw.
#pragma once
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <atomic>
#include <utility>

#include "harness/backends/rank_backend.h"
#include "kernels/cuda_check.h"

namespace sb {

template <class Handle, class Deleter>
class unique_handle {
 public:
  unique_handle() = default;
  explicit unique_handle(Handle h) : m_h(h) {}
  unique_handle(unique_handle&& o) noexcept : m_h(std::exchange(o.m_h, Handle{})) {}
  unique_handle& operator=(unique_handle&& o) noexcept {
    if (this != &o) {
      reset();
      m_h = std::exchange(o.m_h, Handle{});
    }
    return *this;
  }
  unique_handle(const unique_handle&) = delete;
  unique_handle& operator=(const unique_handle&) = delete;
  ~unique_handle() { reset(); }
  Handle get() const { return m_h; }
  Handle release() { return std::exchange(m_h, Handle{}); }
  void reset() {
    if (m_h) Deleter{}(m_h);
    m_h = Handle{};
  }

 private:
  Handle m_h{};
};

struct stream_deleter {
  void operator()(cudaStream_t s) const noexcept { SB_CUDA_NOTHROW(cudaStreamDestroy(s)); }
};
struct event_deleter {
  void operator()(cudaEvent_t e) const noexcept { SB_CUDA_NOTHROW(cudaEventDestroy(e)); }
};
struct nccl_deleter {
  // Destroying a communicator that may have a hung operation would block: abort instead (it also
  // frees the resources). ncclCommAbort is safe on a healthy communicator too.
  void operator()(ncclComm_t c) const noexcept { ncclCommAbort(c); }
};

struct pinned_host_deleter {
  void operator()(void* p) const noexcept { SB_CUDA_NOTHROW(cudaFreeHost(p)); }
};

using cuda_stream = unique_handle<cudaStream_t, stream_deleter>;
using pinned_host = unique_handle<void*, pinned_host_deleter>;  // cudaHostAlloc's memory
using cuda_event = unique_handle<cudaEvent_t, event_deleter>;
using nccl_comm = unique_handle<ncclComm_t, nccl_deleter>;

cuda_stream make_stream();
cuda_event make_event();  // timing enabled

// One cudaMalloc, reported to the rank's tracker; cudaErrorMemoryAllocation becomes oom_error.
class device_buffer final : public tracked_buffer {
 public:
  device_buffer(std::size_t bytes, memory_tracker& t);  // throws (cudaMalloc's error) before counting
  ~device_buffer() override;
};

// nvbench's blocking kernel: close() queues a gate on a stream, open() lets it through, so the
// work queued between them runs back to back on the GPU however slowly the host enqueued it (a
// host that stalls mid-enqueue would otherwise be timed as slow copies). Open it before waiting on
// anything behind it; check() after that wait throws if the gate had given up (after timeout_s).
class stream_gate {
 public:
  explicit stream_gate(double timeout_s = 10.0);
  stream_gate(const stream_gate&) = delete;
  stream_gate& operator=(const stream_gate&) = delete;
  void close(cudaStream_t s);
  void open();
  bool timed_out() const;  // the gate gave up waiting: what followed it ran at the host's pace
  void check() const;      // throws when timed_out()
  double timeout_s() const { return m_timeout_s; }

 private:
  // m_host's host-mapped words, [0] open and [1] timed out, as the host addresses them.
  std::atomic_ref<int> word(int k) const { return std::atomic_ref<int>(static_cast<int*>(m_host.get())[k]); }

  double m_timeout_s;
  pinned_host m_host;
  int* m_device_words = nullptr;  // the same words as the device addresses them
};

void check_nccl(ncclResult_t r, const char* expr, const char* file, int line);

}  // namespace sb

#define SB_NCCL(expr) ::sb::check_nccl((expr), #expr, __FILE__, __LINE__)
