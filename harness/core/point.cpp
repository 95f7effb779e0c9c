#include "harness/core/point.h"

#include <fmt/format.h>

namespace sb {

std::string_view to_string(collective_kind c) { return c == collective_kind::all_gather ? "all_gather" : "all_to_all"; }

std::string point::label() const {
  return fmt::format("{}/{} {}", to_string(path), to_string(variant), shp.label());
}

}  // namespace sb
