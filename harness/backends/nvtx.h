// NVTX markers for Nsight Systems (and shardbench's own --trace): one domain `shardbench`, ranges
// for run -> point -> path/variant -> iteration -> phase, coloured per phase, pushed by every rank's
// thread. Header-only NVTX3 costs nothing when no tool is attached; builds without the NVTX headers
// get no-op ranges.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#if SHARDBENCH_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace sb {

class nvtx_domain {
 public:
  nvtx_domain();
  ~nvtx_domain();
  nvtx_domain(const nvtx_domain&) = delete;
  nvtx_domain& operator=(const nvtx_domain&) = delete;
#if SHARDBENCH_HAVE_NVTX
  nvtxDomainHandle_t get() const { return m_domain; }

 private:
  nvtxDomainHandle_t m_domain = nullptr;
#endif
};

// ARGB colours: one per phase kind, so a timeline reads at a glance.
std::uint32_t nvtx_color(std::string_view phase);

class nvtx_range {
 public:
  nvtx_range(const nvtx_domain* d, const std::string& message, std::uint32_t argb);
  ~nvtx_range();
  nvtx_range(const nvtx_range&) = delete;
  nvtx_range& operator=(const nvtx_range&) = delete;

 private:
  const nvtx_domain* m_domain;
};

}  // namespace sb
