// What the subcommands share (docs/cli.md): their flags, the exit codes, and what the flags resolve
// to: the run config, its points and the engine's options.
#pragma once
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "bench/engine.h"
#include "harness/report/config.h"

namespace sb {

inline constexpr int kExitOk = 0, kExitMismatch = 1, kExitConfig = 2, kExitRuntime = 3;
inline constexpr int kExitNothingVerified = 4;  // every point ran out of memory or was skipped

inline constexpr const char* kGateHelp =
    "queue each timed iteration behind a stream gate (nvbench's blocking kernel), so the host's launch latency is "
    "not timed up to the path's first host wait (results: launch_gate)";

// Flags shared by `run` and `plan`. Shape flags, when any is given, turn the config into one point.
struct cli_flags {
  std::string config, backend, out, dump, paths, variants, dtypes, emulate, consumer, t2d;
  std::optional<std::int64_t> draft_vocab;
  std::optional<int> tp, sp_ulysses, sp_ring, iters, warmup;
  std::optional<double> warmup_ms;
  std::optional<std::int64_t> batch, seq, vocab, vocab_pad, hidden, ttt;
  std::optional<std::uint64_t> seed;
  std::optional<int> emulated_rank;  // local --emulate one only; 0 when not given
  double timeout_s = 300;
  double memory_cap_gib = 0;
  bool inject_mismatch = false;
  bool json = false;
  bool cold = false;
  bool gate = false;
  bool cupti = false;
  std::string trace;
  std::string a2a = "auto";
  std::string budget, reserve;     // frontier: sizes like 80GiB, 141GB, 512MiB
  bool predict_only = false;
  bool kernels = false;
  bool collectives = false;
  std::int64_t seq_step = 1024, max_seq = std::int64_t(1) << 20;
  std::string calibrate, hold_out;  // plan --calibrate results.json [--hold-out SUBSTRING]
  double link_gbps = 0, inter_node_gbps = 0;
  int gpus_per_node = 8;
};

// "80GiB", "141GB", "512MiB", "1e9": bytes. Throws config_error naming the flag.
std::size_t parse_size(const std::string& text, const char* flag);

// A decimal integer past its option's type: CLI11 2.1 (Debian 12) saturates a 64-bit one to the
// type's maximum and runs on that, later versions refuse it in their own words. One rule, one
// message, on every version.
template <typename T>
CLI::Validator fits() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        // from_chars calls "-1" no unsigned number at all, and CLI11 2.1 would then wrap it to 2^64 - 1.
        if constexpr (!std::is_signed_v<T>)
          if (const std::size_t first = s.find_first_not_of(" \t"); first != std::string::npos && s[first] == '-')
            return fmt::format("{} is negative; it takes an unsigned {}-bit integer", s, 8 * sizeof(T));
        T v{};
        if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc::result_out_of_range) return {};
        return fmt::format("{} does not fit in {} {}-bit integer", s, std::is_signed_v<T> ? "a signed" : "an unsigned",
                           8 * sizeof(T));
      },
      "");
}

void add_shape_flags(CLI::App* app, cli_flags& f);
// A flag's comma list; an empty item is refused.
std::vector<std::string> split_list(const std::string& s, const char* flag);
// Whether shape flags make the config one point.
bool single_point(const cli_flags& f);
// The config file (or the defaults) with the flags applied on top, every bound and rule checked.
run_config resolve_config(const cli_flags& f);
std::vector<point> to_points(const std::vector<planned_point>& planned);
void require_a_valid_point(const std::vector<point>& pts, bool one_shape);
// The engine's options from the resolved config and the run flags (shared by run, bench, frontier).
engine_options make_engine_options(const run_config& c, const cli_flags& f);
std::vector<point> resolve_points(const run_config& c, const engine_options& o, bool one_shape);
std::string describe_backend(const engine_options& o);

}  // namespace sb
