// The golden cases (tests/golden: computed by SpecForge's and SGLang's own code), embedded in the
// binary at build time, so that every run can replay them wherever it is installed: cases.json,
// each case's input shards and its batch or usp outputs (the baseline's outputs are not replayed).
#pragma once
#include <string_view>
#include <vector>

namespace sb {

struct golden_file {
  std::string_view name;   // relative to tests/golden, e.g. "usp_tp2_b1_s16_v70_u2_r1_ttt3/usp_r0.npy"
  std::string_view bytes;  // the file as committed
};

const std::vector<golden_file>& golden_files();
std::string_view golden_file_bytes(std::string_view name);  // throws runtime_error when absent

}  // namespace sb
