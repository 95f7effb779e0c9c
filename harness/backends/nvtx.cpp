#include "harness/backends/nvtx.h"

namespace sb {

#if SHARDBENCH_HAVE_NVTX
nvtx_domain::nvtx_domain() : m_domain(nvtxDomainCreateA("shardbench")) {}
nvtx_domain::~nvtx_domain() { nvtxDomainDestroy(m_domain); }

nvtx_range::nvtx_range(const nvtx_domain* d, const std::string& message, std::uint32_t argb) : m_domain(d) {
  if (!m_domain) return;
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.colorType = NVTX_COLOR_ARGB;
  a.color = argb;
  a.messageType = NVTX_MESSAGE_TYPE_ASCII;
  a.message.ascii = message.c_str();
  nvtxDomainRangePushEx(m_domain->get(), &a);
}
nvtx_range::~nvtx_range() {
  if (m_domain) nvtxDomainRangePop(m_domain->get());
}
#else
nvtx_domain::nvtx_domain() = default;
nvtx_domain::~nvtx_domain() = default;
nvtx_range::nvtx_range(const nvtx_domain* d, const std::string&, std::uint32_t) : m_domain(d) {}
nvtx_range::~nvtx_range() = default;
#endif

std::uint32_t nvtx_color(std::string_view phase) {
  if (phase == "comm") return 0xff76b900;                       // NVIDIA green: the collective
  if (phase == "unpack" || phase == "pack") return 0xff1f77b4;  // blue: the fused kernels
  if (phase == "align") return 0xff9467bd;                      // purple: usp aligned tensors
  if (phase == "iteration") return 0xff7f7f7f;
  if (phase == "point") return 0xff17becf;
  if (phase == "run") return 0xff444444;
  return 0xffff7f0e;  // orange: the specforge variants' extra copies (reorder, shift, zero, ...)
}

}  // namespace sb
