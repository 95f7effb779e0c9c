#include "harness/core/error.h"

namespace sb {
void throw_config(const std::string& msg) { throw config_error(msg); }
void throw_runtime(const std::string& msg) { throw runtime_error(msg); }
}  // namespace sb
