// Builds without CUDA have no CUPTI: --cupti is refused before a session is made.
#include "harness/backends/cupti.h"

#include "harness/core/error.h"

namespace sb {

struct cupti_session::impl {};
cupti_session::cupti_session(bool) { throw_config("--cupti needs a build with CUDA (this one has none)"); }
cupti_session::~cupti_session() = default;
void cupti_session::register_rank(int) {}
void cupti_session::begin_point() {}
std::vector<kernel_stat> cupti_session::end_point(const std::string&, int, std::size_t*) { return {}; }
std::string cupti_session::trace_json() const { return {}; }

}  // namespace sb
