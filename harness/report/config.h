// The YAML sweep config (docs/cli.md, "Config") and its expansion into points.
#pragma once
#include <algorithm>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/shape.h"

namespace sb {

struct sp_layout {
  int ulysses = 1;
  int ring = 1;
  auto operator<=>(const sp_layout&) const = default;
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
// The most points one run expands to, checked on the axes' sizes before anything is expanded.
inline constexpr std::int64_t kMaxSweepPoints = 100000;

// The index of the first entry equal to an earlier one, if any: a list axis (paths, variants,
// dtype, a sweep axis) that names a value twice would run and record the same point twice.
// O(n log n): a list of millions is answered in a moment, not minutes.
template <class T>
std::optional<std::size_t> first_repeat(const std::vector<T>& v) {
  std::vector<std::size_t> order(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::optional<std::size_t> first;
  for (std::size_t k = 1; k < order.size(); ++k)  // equal values sit together, in their list order
    if (!(v[order[k - 1]] < v[order[k]]) && (!first || order[k] < *first)) first = order[k];
  return first;
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

// The resolved config as it is recorded with the results (its `config` member).
nlohmann::json to_json(const run_config& c);

struct planned_point {
  path_kind path;
  variant_kind variant;
  shape shp;
};

// The number of points expand() makes, from the axes' sizes (without expanding): config_error when
// it is over kMaxSweepPoints.
std::int64_t count_points(const run_config& c);

// The cartesian product, in the order the engine runs it: per shape, baseline first (so sharded
// points can be cross-checked against its output), then batch, then usp per sp layout. The sp and
// ttt axes apply to usp only, the batch axis to baseline and batch only: usp trains one sample per
// draft data-parallel group, B = P/sp, as SpecForge enforces. No point is repeated for an axis that
// does not apply to it.
std::vector<planned_point> expand(const run_config& c);

// The rules of a run's axes as a whole: every axis given must apply to some path (sp and ttt to usp,
// batch to baseline or batch, t2d and draft_vocab to a consumer stage), and the sweep must be within
// kMaxSweepPoints. `given` names the axes the user set (flags or config keys); config_error otherwise.
struct given_axes {
  bool sp = false, ttt = false, batch = false, t2d = false, draft_vocab = false;
};
void require_used_axes(const run_config& c, const given_axes& given, const char* where);

}  // namespace sb
