#include "tests/support/golden_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace sb {

void PrintTo(const golden_case& c, std::ostream* os) { *os << c.name; }

namespace golden {

namespace {

// Every file of tests/golden, named as the embedded ones are (relative to it), read once.
const std::vector<golden_file>& disk_files() {
  static const std::vector<std::pair<std::string, std::string>> contents = [] {
    const std::filesystem::path root = std::string(SB_TEST_DATA_DIR) + "/golden";
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      std::ifstream f(e.path(), std::ios::binary);
      std::ostringstream bytes;
      bytes << f.rdbuf();
      out.emplace_back(std::filesystem::relative(e.path(), root).generic_string(), bytes.str());
    }
    return out;
  }();
  static const std::vector<golden_file> files = [] {
    std::vector<golden_file> out;
    for (const auto& [name, bytes] : contents) out.push_back({name, bytes});
    return out;
  }();
  return files;
}

}  // namespace

std::vector<golden_case> load_cases() { return golden_cases(disk_files()); }

void check_case(const golden_case& gc, backend_kind backend) {
  engine_options o;
  o.warmup = 1;  // a second iteration over the same buffers: no output may rely on fresh memory
  o.world.backend = backend;
  golden_replay replay(o, disk_files());
  for (dtype t : {dtype::bf16, dtype::fp16, dtype::fp32})
    for (variant_kind v : {variant_kind::specforge, variant_kind::fused})
      for (path_kind p : {path_kind::baseline, gc.path})
        EXPECT_EQ(replay.run(gc, p, v, t), "")
            << gc.name << " " << to_string(p) << "/" << to_string(v) << " " << to_string(t);
}

}  // namespace golden
}  // namespace sb
