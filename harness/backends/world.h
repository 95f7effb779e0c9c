// The ranks of one measured point on one backend: creates one rank backend per local rank and
// runs a function on each (threads for cpu/local/single-process nccl, this process under MPI).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/backends/rank_backend.h"

namespace sb {

class cupti_session;

enum class emulate_mode : std::uint8_t { all, one };

struct world_options {
  backend_kind backend = backend_kind::cpu;
  emulate_mode emulate = emulate_mode::all;  // local only
  int emulated_rank = 0;                     // local `one`: which rank is real
  std::size_t memory_cap = 0;                // 0: none; else allocations past it are OOM
  double timeout_s = 300;                    // nccl: a collective making no progress this long aborts
  cupti_session* cupti = nullptr;            // --cupti: ranks register their threads with it
  std::optional<a2a_impl> a2a;               // --a2a: force ncclAlltoAll or grouped send/recv (nccl)
  bool gate = false;                         // --gate: queue each timed iteration behind a stream gate (GPU)
};

class world {
 public:
  virtual ~world() = default;
  virtual int size() const = 0;  // P, the ranks of the group
  // Runs fn on every rank this process drives; rethrows the first failure after all have stopped.
  virtual void run(const std::function<void(rank_backend&)>& fn) = 0;
};

std::unique_ptr<world> make_world(const world_options& o, int ranks);

// Which backends this build and machine can run, and `auto`'s choice (nccl under mpirun with GPUs,
// else local with a GPU, else cpu).
bool backend_available(backend_kind b, std::string* why_not = nullptr);
backend_kind auto_backend();
backend_kind parse_backend(std::string_view s);  // "auto" resolves; throws config_error
std::size_t gpu_memory_bytes();                   // total memory of GPU 0 (0 without one)
// Times device-to-device cudaMemcpyAsync of `bytes` on GPU 0: `iters` samples, each the time of a
// batch of back-to-back copies (>= kD2dSampleUs in all) over its count, in microseconds per copy —
// the copy-bandwidth reference kernels are held to. Copies rotate over enough buffer pairs that none
// reads its source from L2. Copies run first for at least kD2dWarmupMs, so the GPU's clocks have
// left their idle state (a cold start read up to 15 % slow on an H100). Each batch is queued behind
// a stream gate, so the host's enqueue rate is not timed. Throws without a GPU.
inline constexpr double kD2dWarmupMs = 50.0;
inline constexpr double kD2dSampleUs = 1000.0;
std::vector<double> time_d2d_copy(std::size_t bytes, int iters);

}  // namespace sb
