// The machine a run is on, as recorded with every result (harness/core/env_info.h).
#pragma once
#include <string>

#include "harness/core/env_info.h"

namespace sb {

env_info collect_env(const std::string& backend_description);

#if SHARDBENCH_HAVE_CUDA
void fill_gpu_env(env_info& e);  // harness/backends/gpu_env.cpp
#endif

}  // namespace sb
