// The YAML sweep config (docs/config.md) and its expansion into points.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/shape.h"

namespace sb {

struct sp_layout {
  int ulysses = 1;
  int ring = 1;
  bool operator==(const sp_layout&) const = default;
};

struct sweep_axes {
  std::vector<dtype> dtypes{dtype::bf16};
  std::vector<int> tp{1};
  std::vector<sp_layout> sp{sp_layout{}};
  std::vector<std::int64_t> batch{1};
  std::vector<std::int64_t> seq{1024};
  std::vector<std::int64_t> vocab{32000};
  std::vector<std::int64_t> hidden{4096};
  std::vector<std::int64_t> ttt{7};
  std::vector<std::int64_t> vocab_pad{64};
  std::vector<t2d_kind> t2d{t2d_kind::uniform};  // applies only with a consumer stage
};

// warmup_ms's range, for the config file and the --warmup-ms flag alike.
inline constexpr double kMaxWarmupMs = 60000;
inline bool valid_warmup_ms(double ms) { return ms >= 0 && ms <= kMaxWarmupMs; }  // NaN is not

// iters' and warmup's upper bound (config and flags): a typo's extra digits fail at once instead of
// holding a nightly job for hours.
inline constexpr std::int64_t kMaxIterations = 1000000;

// The index of the first entry equal to an earlier one, if any: a list axis (paths, variants,
// dtype, a sweep axis) that names a value twice would run and record the same point twice.
template <class T>
std::optional<std::size_t> first_repeat(const std::vector<T>& v) {
  for (std::size_t k = 1; k < v.size(); ++k)
    for (std::size_t m = 0; m < k; ++m)
      if (v[k] == v[m]) return k;
  return std::nullopt;
}

struct run_config {
  std::string name = "cli";
  std::string backend = "auto";
  std::string emulate = "all";  // local backend: all ranks, or one rank at full size (`one`)
  std::uint64_t seed = 1;
  int iters = 20;
  int warmup = 5;
  double warmup_ms = 0;  // and at least this long (GPU time of the warm-up iterations); 0: the count alone
  std::vector<path_kind> paths{path_kind::baseline, path_kind::batch, path_kind::usp};
  std::vector<variant_kind> variants{variant_kind::specforge, variant_kind::fused};
  consumer_kind consumer = consumer_kind::none;  // the trainer's stage after each path
  std::int64_t draft_vocab = 32000;
  sweep_axes sweep;
};

// Throws config_error ("<file>: ...") for unreadable or malformed YAML, unknown keys, wrong types,
// unknown path/variant/dtype names and non-positive sizes.
run_config load_config(const std::string& file);
run_config parse_config(const std::string& yaml_text, const std::string& origin);

// The whole of a text file the user named (what: "config", "results"): config_error "<file>: is a
// directory, not a <what> file" or "<file>: cannot read the <what> file" instead of a stream's
// exception or an empty read.
std::string read_text_file(const std::string& file, const char* what);

struct planned_point {
  path_kind path;
  variant_kind variant;
  shape shp;
};

// The cartesian product, in the order the engine runs it: per shape, baseline first (so sharded
// points can be cross-checked against its output), then batch, then usp per sp layout. The sp and
// ttt axes apply to usp only; baseline and batch points are not repeated for them.
std::vector<planned_point> expand(const run_config& c);

}  // namespace sb
