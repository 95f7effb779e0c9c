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

// A golden case: its folder's name, its path (batch or usp) and its shape (fp32: the cases' values
// are exact in every dtype).
struct golden_case {
  std::string name;
  path_kind path;
  shape shp;
};

std::vector<golden_case> golden_cases(const std::vector<golden_file>& files = golden_files());

// Replays golden cases on one backend: `cpu`, else `local` (every rank on one GPU, the same kernels).
// The tests replay every dtype, variant and the baseline through it; the run's self-test, fp32 only.
class golden_replay {
 public:
  // o: the backend, timeout, interrupt flag and warm-up iterations to replay with. files (the cases'
  // inputs and outputs) must outlive the replay.
  golden_replay(const engine_options& o, const std::vector<golden_file>& files);
  // Case g through path p (g's own, or the baseline over the same tokens) and variant v, its inputs
  // in dtype t: "" or the first difference, as one line.
  std::string run(const golden_case& g, path_kind p, variant_kind v, dtype t);

 private:
  engine_options m_o;
  const std::vector<golden_file>& m_files;
  world_cache m_worlds;
};

// Replays every case of the paths asked for, with each variant asked for that has a logits output
// (pruned's are the consumer stage's), on o's backend (the GPU backends: `local`, every rank on one
// GPU, with the same kernels). Returns "" or the first difference, as one line.
std::string golden_self_test(const std::vector<path_kind>& paths, const std::vector<variant_kind>& variants,
                             const engine_options& o, const std::vector<golden_file>& files = golden_files());

}  // namespace sb
