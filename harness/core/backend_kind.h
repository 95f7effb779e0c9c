// The backends a run can name (docs/cli.md): the names alone, which a config is checked against on
// any machine; whether this machine has one is the backends' question (harness/backends/world.h).
#pragma once
#include <cstdint>
#include <string_view>

namespace sb {

enum class backend_kind : std::uint8_t { cpu, local, nccl };
std::string_view to_string(backend_kind b);

// The name alone (auto, cpu, local or nccl), else config_error.
void require_backend_name(std::string_view s);

}  // namespace sb
