// The run's start-up self-test: the golden cases (bench/golden_data.h), outputs that SpecForge's and
// SGLang's own code computed from random shards, replayed through the paths on the run's backend.
// It checks the layout math against code that is not shardbench's: a bug in it that the run's
// bitwise verification cannot see (the data and its definition would share it) fails here.
#pragma once
#include <string>
#include <vector>

#include "bench/engine.h"
#include "bench/golden_data.h"

namespace sb {

// Replays every case of the paths asked for, with each variant asked for that has a logits output
// (pruned's are the consumer stage's), on o's backend (the GPU backends: `local`, every rank on one
// GPU, with the same kernels). Returns "" or the first difference, as one line.
std::string golden_self_test(const std::vector<path_kind>& paths, const std::vector<variant_kind>& variants,
                             const engine_options& o, const std::vector<golden_file>& files = golden_files());

}  // namespace sb
