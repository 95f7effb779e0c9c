#include "bench/self_test.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "bench/golden_data.h"
#include "harness/core/error.h"
#include "harness/report/npy.h"

namespace sb {

namespace {

std::string_view bytes_of(const std::vector<golden_file>& files, const std::string& name) {
  auto it = std::find_if(files.begin(), files.end(), [&](const golden_file& f) { return f.name == name; });
  if (it == files.end()) throw_runtime("no golden file " + name);
  return it->bytes;
}

}  // namespace

std::vector<golden_case> golden_cases(const std::vector<golden_file>& files) {
  std::vector<golden_case> out;
  for (const auto& c : nlohmann::json::parse(bytes_of(files, "cases.json"))) {
    golden_case g;
    g.name = c.at("name");
    g.path = parse_path(c.at("path").get<std::string>());
    shape& s = g.shp;
    s.type = dtype::fp32;  // the cases' values are exact in every dtype; replays pick theirs
    s.tp = c.at("tp");
    s.batch = c.at("batch");
    s.seq = c.at("seq");
    s.vocab = c.at("vocab");
    s.vocab_pad = c.at("vocab_pad");
    s.sp_ulysses = c.at("sp_ulysses");
    s.sp_ring = c.at("sp_ring");
    s.ttt = c.at("ttt");
    s.hidden = 4;  // their hidden states are [B·S, 12] = 3H
    out.push_back(g);
  }
  return out;
}

namespace {

npy_array golden(const std::vector<golden_file>& files, const golden_case& g, const std::string& file) {
  const std::string name = g.name + "/" + file;
  return parse_npy(bytes_of(files, name), name);
}

// The buffer (dtype t) against the golden array, element by element, exactly: "" or the first
// difference.
std::string differs(const std::vector<char>& got, dtype t, const npy_array& want) {
  const std::int64_t n = std::int64_t(got.size() / dtype_size(t));
  if (n != want.elements()) return fmt::format("has {} elements where SpecForge's has {}", n, want.elements());
  for (std::int64_t i = 0; i < n; ++i) {
    const double w = want.descr == "<i8" ? double(reinterpret_cast<const std::int64_t*>(want.data.data())[i])
                                         : double(reinterpret_cast<const float*>(want.data.data())[i]);
    const double a = load_as_double(got.data(), i, t);
    if (!matches(w, a)) return fmt::format("differs from SpecForge's at flat index {}: expected {} got {}", i, w, a);
  }
  return {};
}

// A float32 array as a buffer of dtype t (exact: the cases' values fit every dtype).
std::vector<char> converted(const npy_array& a, dtype t) {
  std::vector<char> out(std::size_t(a.elements()) * dtype_size(t));
  const float* src = reinterpret_cast<const float*>(a.data.data());
  for (std::int64_t i = 0; i < a.elements(); ++i) store_from_float(out.data(), i, t, src[i]);
  return out;
}

engine_options replay_options(const engine_options& o) {
  engine_options r;
  r.iters = 1;
  r.warmup = o.warmup;
  r.world.backend = o.world.backend == backend_kind::cpu ? backend_kind::cpu : backend_kind::local;
  r.world.timeout_s = o.world.timeout_s;
  r.verify_definition = false;  // the inputs are the case's, not the generator's
  r.keep_outputs = true;
  r.interrupt = o.interrupt;
  return r;
}

}  // namespace

golden_replay::golden_replay(const engine_options& o, const std::vector<golden_file>& files)
    : m_o(replay_options(o)), m_files(files), m_worlds(m_o.world) {}

std::string golden_replay::run(const golden_case& g, path_kind p, variant_kind v, dtype t) {
  shape s = g.shp;
  s.type = t;
  if (p != path_kind::usp) s.sp_ulysses = s.sp_ring = 1;  // the baseline of a usp case: the same tokens
  engine_options o = m_o;
  o.input_override = [this, &g, t](int rank, const std::string& name) -> std::optional<std::vector<char>> {
    if (name == "input") return converted(golden(m_files, g, fmt::format("input_r{}.npy", rank)), t);
    if (name == "hidden_global") return converted(golden(m_files, g, "hidden_global.npy"), dtype::bf16);
    return std::nullopt;
  };
  point_outcome out = run_point({p, v, s}, o, &m_worlds.get(s.tp));
  const std::string path(to_string(p));
  for (int r = 0; r < s.tp && r < int(out.outputs.size()); ++r) {
    const rank_buffers& b = out.outputs[std::size_t(r)];
    std::vector<std::pair<std::string, std::pair<dtype, std::string>>> checks{{"output", {dtype::fp32, fmt::format("{}_r{}.npy", path, r)}}};
    if (p == path_kind::usp) {
      checks.push_back({"hidden", {dtype::bf16, fmt::format("usp_hidden_r{}.npy", r)}});
      checks.push_back({"position_ids", {dtype::i64, fmt::format("usp_position_ids_r{}.npy", r)}});
    }
    for (const auto& [buf, want] : checks)
      if (std::string why = differs(b.at(buf), want.first, golden(m_files, g, want.second)); !why.empty())
        return fmt::format("rank {} {} {}", r, buf, why);
  }
  // The outputs are SpecForge's; what else the run found (its invariants) still counts.
  if (out.result.status != "ok") return fmt::format("{}: {}", out.result.status, out.result.reason);
  return {};
}

std::string golden_self_test(const std::vector<path_kind>& paths, const std::vector<variant_kind>& variants,
                             const engine_options& o, const std::vector<golden_file>& files) {
  engine_options once = o;
  once.warmup = 0;  // one iteration: the start-up check of the layout math, not of the buffers' reuse
  golden_replay replay(once, files);
  for (const golden_case& g : golden_cases(files)) {
    if (std::find(paths.begin(), paths.end(), g.path) == paths.end()) continue;
    for (variant_kind v : variants) {
      if (v == variant_kind::pruned) continue;
      if (std::string why = replay.run(g, g.path, v, dtype::fp32); !why.empty())
        return fmt::format("golden case {} ({}/{}): {}", g.name, to_string(g.path), to_string(v), why);
    }
  }
  return {};
}

}  // namespace sb
