// The stream gate (nvbench's blocking kernel): holds a stream until the host opens it, so work
// queued behind it runs back to back whatever the host's enqueue rate.
#include "kernels/cuda_check.h"
#include "harness/core/error.h"
#include "kernels/api.cuh"

namespace sb::kernels {

namespace {
__device__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void gate_kernel(const volatile int* open, int* timed_out, unsigned long long timeout_ns) {
  const unsigned long long start = global_ns();
  while (!*open) {
    if (global_ns() - start > timeout_ns) {
      *timed_out = 1;  // the host never opened it: what follows ran at its enqueue rate
      return;
    }
  }
}
}  // namespace

void launch_gate(const int* open, int* timed_out, double timeout_s, cudaStream_t stream) {
  if (!open || !timed_out) throw_runtime("launch_gate: the flag words must be host-mapped, not null");
  if (!(timeout_s > 0) || timeout_s > 3600) throw_runtime("launch_gate: timeout must be in (0, 3600] s");
  gate_kernel<<<1, 1, 0, stream>>>(open, timed_out, static_cast<unsigned long long>(timeout_s * 1e9));
  SB_CUDA_LAUNCH();
}

}  // namespace sb::kernels
