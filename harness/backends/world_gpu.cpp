// Worlds on GPUs: `local` (all ranks as threads on GPU 0, or one rank with generated peers), and
// `nccl` (threads driving all local GPUs through ncclCommInitAll, or one process per GPU under
// mpirun with the NCCL id broadcast over MPI).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <vector>

#include "harness/core/error.h"
#include "harness/backends/gpu_backend.h"
#include "harness/backends/mpi_session.h"
#include "harness/backends/world.h"

#if SHARDBENCH_HAVE_MPI
#include <mpi.h>
#endif

namespace sb {

namespace {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

gpu_rank_setup base_setup(const world_options& o, gpu_mode mode, int rank, int size, int device) {
  gpu_rank_setup s;
  s.mode = mode;
  s.rank = rank;
  s.size = size;
  s.device = device;
  s.memory_cap = o.memory_cap;
  s.timeout_s = o.timeout_s;
  s.cupti = o.cupti;
  s.a2a = o.a2a;
  s.gate = o.gate;
  return s;
}

class local_world final : public world {
 public:
  local_world(const world_options& o, int ranks) : m_o(o), m_ranks(ranks) {}
  int size() const override { return m_ranks; }
  void run(const std::function<void(rank_backend&)>& fn) override {
    if (m_o.emulate == emulate_mode::one) {
      gpu_backend c(base_setup(m_o, gpu_mode::local_one, m_o.emulated_rank, m_ranks, 0));
      fn(c);
      return;
    }
    thread_group group(m_ranks);
    run_ranks(group, [&](int r) {
      gpu_rank_setup s = base_setup(m_o, gpu_mode::local_all, r, m_ranks, 0);
      s.group = &group;
      gpu_backend c(s);
      fn(c);
    });
  }

 private:
  world_options m_o;
  int m_ranks;
};

// One process, one thread per GPU.
class nccl_thread_world final : public world {
 public:
  nccl_thread_world(const world_options& o, int ranks) : m_o(o), m_ranks(ranks) {
    const int have = device_count();
    if (have < ranks)
      throw_config(fmt::format("the nccl backend needs one GPU per rank: tp={} but {} GPU(s) present "
                               "(use --backend local to emulate the ranks on one GPU)", ranks, have));
    std::vector<ncclComm_t> raw(static_cast<std::size_t>(ranks));
    std::vector<int> devs(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) devs[std::size_t(r)] = r;
    SB_NCCL(ncclCommInitAll(raw.data(), ranks, devs.data()));
    for (auto c : raw) m_comms.emplace_back(c);
  }
  int size() const override { return m_ranks; }
  void run(const std::function<void(rank_backend&)>& fn) override {
    thread_group group(m_ranks);
    run_ranks(group, [&](int r) {
      gpu_rank_setup s = base_setup(m_o, gpu_mode::nccl, r, m_ranks, r);
      s.group = &group;
      s.comm = m_comms[std::size_t(r)].get();
      gpu_backend c(s);
      fn(c);
    });
  }

 private:
  world_options m_o;
  int m_ranks;
  std::vector<nccl_comm> m_comms;
};

#if SHARDBENCH_HAVE_MPI
// One process per GPU under mpirun: this process is one rank.
class nccl_mpi_world final : public world {
 public:
  nccl_mpi_world(const world_options& o, int ranks) : m_o(o), m_ranks(ranks) {
    int world_size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &m_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (world_size != ranks)
      throw_config(fmt::format("under mpirun, tp must equal the number of processes (tp={}, processes={})", ranks,
                               world_size));
    const int have = device_count();
    if (have == 0) throw_config("the nccl backend needs a GPU in every process");
    const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    m_device = (local ? std::atoi(local) : m_rank) % have;
    SB_CUDA(cudaSetDevice(m_device));
    ncclUniqueId id;
    if (m_rank == 0) SB_NCCL(ncclGetUniqueId(&id));
    MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    ncclComm_t c;
    SB_NCCL(ncclCommInitRank(&c, ranks, id, m_rank));
    m_comm = nccl_comm(c);
  }
  int size() const override { return m_ranks; }
  void run(const std::function<void(rank_backend&)>& fn) override {
    gpu_rank_setup s = base_setup(m_o, gpu_mode::nccl, m_rank, m_ranks, m_device);
    s.comm = m_comm.get();
    gpu_backend c(s);
    fn(c);
  }

 private:
  world_options m_o;
  int m_ranks;
  int m_rank = 0;
  int m_device = 0;
  nccl_comm m_comm;
};
#endif

}  // namespace

std::size_t gpu_memory_bytes() {
  if (device_count() == 0) return 0;
  cudaDeviceProp p{};
  SB_CUDA(cudaGetDeviceProperties(&p, 0));
  return p.totalGlobalMem;
}

std::vector<double> time_d2d_copy(std::size_t bytes, int iters) {
  if (device_count() == 0) throw_config("a device-to-device copy needs a GPU");
  SB_CUDA(cudaSetDevice(0));
  int l2 = 0;
  SB_CUDA(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, 0));
  // Enough source/destination pairs that a copy's source is not in L2 from the copies before it
  // (a 22 MB copy repeated on one pair would partly run from L2).
  const std::size_t pairs = std::clamp<std::size_t>((2 * std::size_t(l2) + bytes - 1) / std::max<std::size_t>(bytes, 1), 1, 64);
  memory_tracker t;
  std::vector<std::unique_ptr<device_buffer>> src, dst;
  for (std::size_t p = 0; p < pairs; ++p) {
    src.push_back(std::make_unique<device_buffer>(bytes, t));
    dst.push_back(std::make_unique<device_buffer>(bytes, t));
    SB_CUDA(cudaMemset(src.back()->data(), 1, bytes));
  }
  cuda_stream s = make_stream();
  cuda_event a = make_event(), b = make_event();
  std::size_t next = 0;
  stream_gate gate;
  auto batch_us = [&](int n) {  // n copies back to back, between one pair of events
    // Queued behind the gate: a host stall while enqueuing (a lent H100 once showed 25 MB copies at
    // 0.18 of their rate) must not read as a slow copy; the kernels it is compared with are timed
    // by CUPTI, on the GPU alone.
    gate.close(s.get());
    SB_CUDA(cudaEventRecord(a.get(), s.get()));
    for (int k = 0; k < n; ++k, next = (next + 1) % pairs)
      SB_CUDA(cudaMemcpyAsync(dst[next]->data(), src[next]->data(), bytes, cudaMemcpyDeviceToDevice, s.get()));
    SB_CUDA(cudaEventRecord(b.get(), s.get()));
    gate.open();
    SB_CUDA(cudaEventSynchronize(b.get()));
    gate.check();
    float ms = 0;
    SB_CUDA(cudaEventElapsedTime(&ms, a.get(), b.get()));
    return double(ms) * 1000.0;
  };
  double warm_us = 0, one_us = 0;
  for (int i = 0; i < 3 || (warm_us < kD2dWarmupMs * 1000.0 && i < 2000); ++i) warm_us += (one_us = batch_us(1));
  // Each sample spans >= kD2dSampleUs of copies, so the launch and event latency (several µs, which
  // the kernels' CUPTI durations do not contain) is spread over the batch.
  const int n = int(std::clamp(std::ceil(kD2dSampleUs / std::max(one_us, 1e-3)), 1.0, 256.0));
  std::vector<double> us;
  for (int i = 0; i < iters; ++i) us.push_back(batch_us(n) / n);
  return us;
}

bool gpu_backend_available(backend_kind b, std::string* why_not) {
  if (device_count() > 0) return true;
  if (why_not) *why_not = fmt::format("no CUDA device is visible ({} needs a GPU)", to_string(b));
  return false;
}

std::unique_ptr<world> make_gpu_world(const world_options& o, int ranks) {
  if (o.backend == backend_kind::local) return std::make_unique<local_world>(o, ranks);
  if (launched_under_mpi()) {
#if SHARDBENCH_HAVE_MPI
    return std::make_unique<nccl_mpi_world>(o, ranks);
#else
    throw_config("launched under mpirun, but this build has no MPI");
#endif
  }
  return std::make_unique<nccl_thread_world>(o, ranks);
}

}  // namespace sb
