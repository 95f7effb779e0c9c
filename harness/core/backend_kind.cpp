#include "harness/core/backend_kind.h"

#include <fmt/format.h>

#include "harness/core/error.h"

namespace sb {

std::string_view to_string(backend_kind b) {
  switch (b) {
    case backend_kind::cpu: return "cpu";
    case backend_kind::local: return "local";
    case backend_kind::nccl: return "nccl";
  }
  return "?";
}

void require_backend_name(std::string_view s) {
  if (s != "auto" && s != "cpu" && s != "local" && s != "nccl")
    throw_config(fmt::format("unknown backend '{}' (expected one of: auto, cpu, local, nccl)", s));
}

}  // namespace sb
