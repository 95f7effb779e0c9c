// The CUDA/NCCL members of the error-check family (harness/core/error.h). Only GPU code includes this.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

#include "harness/core/error.h"

namespace sb {

class cuda_error : public runtime_error {
 public:
  cuda_error(const std::string& what, cudaError_t code) : runtime_error(what), m_code(code) {}
  cudaError_t code() const { return m_code; }

 private:
  cudaError_t m_code;
};

// Throws cuda_error (oom_error for cudaErrorMemoryAllocation, so the engine can record `oom`).
void check_cuda(cudaError_t err, const char* expr, const char* file, int line);
// For destructors: reports and continues, never throws.
void warn_cuda(cudaError_t err, const char* expr, const char* file, int line) noexcept;

}  // namespace sb

#define SB_CUDA(expr) ::sb::check_cuda((expr), #expr, __FILE__, __LINE__)
#define SB_CUDA_NOTHROW(expr) ::sb::warn_cuda((expr), #expr, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define SB_CUDA_LAUNCH() SB_CUDA(cudaGetLastError())
