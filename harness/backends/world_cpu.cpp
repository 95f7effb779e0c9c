// The cpu world, and backend selection for builds with or without CUDA.
#include <fmt/format.h>

#include "harness/backends/cpu_backend.h"
#include "harness/core/error.h"
#include "harness/backends/mpi_session.h"
#include "harness/backends/world.h"

namespace sb {

std::string_view to_string(launch_gate g) {
  switch (g) {
    case launch_gate::off: return "off";
    case launch_gate::whole: return "whole";
    case launch_gate::host_wait: return "host_wait";
    case launch_gate::queue_depth: return "queue_depth";
  }
  return "?";
}

namespace {
class cpu_world final : public world {
 public:
  cpu_world(int ranks, std::size_t cap) : m_group(ranks), m_cap(cap) {}
  int size() const override { return m_group.size(); }
  void run(const std::function<void(rank_backend&)>& fn) override {
    run_ranks(m_group, [&](int r) {
      cpu_backend c(r, m_group, m_cap);
      fn(c);
    });
  }

 private:
  thread_group m_group;
  std::size_t m_cap;
};
}  // namespace

#if SHARDBENCH_HAVE_CUDA
std::unique_ptr<world> make_gpu_world(const world_options& o, int ranks);
bool gpu_backend_available(backend_kind b, std::string* why_not);
#endif

std::unique_ptr<world> make_world(const world_options& o, int ranks) {
  if (o.backend == backend_kind::cpu) return std::make_unique<cpu_world>(ranks, o.memory_cap);
#if SHARDBENCH_HAVE_CUDA
  return make_gpu_world(o, ranks);
#else
  throw_config(fmt::format("backend '{}' needs a build with CUDA (this one has none)", to_string(o.backend)));
#endif
}

bool backend_available(backend_kind b, std::string* why_not) {
  if (b == backend_kind::cpu) return true;
#if SHARDBENCH_HAVE_CUDA
  return gpu_backend_available(b, why_not);
#else
  if (why_not) *why_not = "this build has no CUDA";
  return false;
#endif
}

backend_kind auto_backend() {
  if (launched_under_mpi() && backend_available(backend_kind::nccl)) return backend_kind::nccl;
  if (backend_available(backend_kind::local)) return backend_kind::local;
  return backend_kind::cpu;
}

#if !SHARDBENCH_HAVE_CUDA
std::size_t gpu_memory_bytes() { return 0; }
std::vector<double> time_d2d_copy(std::size_t, int) { throw_config("a device-to-device copy needs a build with CUDA"); }
#endif

backend_kind parse_backend(std::string_view s) {
  require_backend_name(s);
  if (s == "auto") return auto_backend();
  const backend_kind b = s == "cpu" ? backend_kind::cpu : s == "local" ? backend_kind::local : backend_kind::nccl;
  std::string why;
  if (!backend_available(b, &why)) throw_config(fmt::format("backend '{}' is not available: {}", s, why));
  return b;
}

}  // namespace sb
