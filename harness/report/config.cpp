#include "harness/report/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "harness/core/error.h"
#include "harness/core/backend_kind.h"

namespace sb {

namespace {

[[noreturn]] void fail(const std::string& origin, const YAML::Node& n, const std::string& msg) {
  if (n.Mark().line >= 0) throw_config(fmt::format("{}:{}: {}", origin, n.Mark().line + 1, msg));
  throw_config(fmt::format("{}: {}", origin, msg));
}

void reject_unknown_keys(const std::string& origin, const YAML::Node& map, const std::set<std::string>& known,
                         const std::string& where) {
  if (!map.IsMap()) fail(origin, map, where + " must be a mapping");
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) fail(origin, kv.first, fmt::format("a key in {} must be a name", where));
    auto key = kv.first.as<std::string>();
    // yaml-cpp keeps both entries of a repeated key and a lookup finds the first: the second would
    // be ignored in silence.
    if (!seen.insert(key).second) fail(origin, kv.first, fmt::format("key '{}' appears twice in {}", key, where));
    if (!known.count(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail(origin, kv.first, fmt::format("unknown key '{}' in {} (known: {})", key, where, list));
    }
  }
}

template <class T>
T scalar(const std::string& origin, const YAML::Node& n, const std::string& what) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(origin, n, fmt::format("{} has the wrong type", what));
  }
}

// A list, or one scalar standing for a list of one.
template <class T, class F>
std::vector<T> list_of(const std::string& origin, const YAML::Node& n, const std::string& what, F convert) {
  std::vector<T> out;
  if (n.IsSequence()) {
    for (const auto& e : n) out.push_back(convert(e));
  } else if (n.IsScalar() || n.IsMap()) {
    out.push_back(convert(n));
  }
  if (out.empty()) fail(origin, n, fmt::format("{} must list at least one value", what));
  if (const auto k = first_repeat(out)) fail(origin, n[*k], fmt::format("{} lists the same value twice", what));
  return out;
}

std::vector<std::int64_t> positive_list(const std::string& origin, const YAML::Node& n, const std::string& what,
                                        bool allow_zero = false,
                                        std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
  return list_of<std::int64_t>(origin, n, what, [&](const YAML::Node& e) {
    auto v = scalar<std::int64_t>(origin, e, what);
    if (v < 0 || (v == 0 && !allow_zero))
      fail(origin, e, fmt::format("{} must be {} (got {})", what, allow_zero ? "non-negative" : "positive", v));
    if (v > max) fail(origin, e, fmt::format("{} must be at most {} (got {})", what, max, v));
    return v;
  });
}

// One count (iters, warmup, draft_vocab): a list there would silently mean its first value.
std::int64_t one_count(const std::string& origin, const YAML::Node& n, const std::string& what, bool allow_zero,
                       std::int64_t max) {
  if (!n.IsScalar()) fail(origin, n, fmt::format("{} must be one number", what));
  return positive_list(origin, n, what, allow_zero, max).front();
}

// A name (path, variant, dtype, ...) read by parse: its error located at n. The scalar is read
// outside the try, so a wrong type is located once, not twice.
template <class F>
auto named(const std::string& origin, const YAML::Node& n, const std::string& what, F parse) {
  const auto name = scalar<std::string>(origin, n, what);
  try {
    return parse(name);
  } catch (const config_error& err) {
    fail(origin, n, err.what());
  }
}

sp_layout parse_sp(const std::string& origin, const YAML::Node& n) {
  reject_unknown_keys(origin, n, {"ulysses", "ring"}, "sweep.sp");
  std::int64_t u = 1, r = 1;
  if (n["ulysses"]) u = scalar<std::int64_t>(origin, n["ulysses"], "sp.ulysses");
  if (n["ring"]) r = scalar<std::int64_t>(origin, n["ring"], "sp.ring");
  if (u <= 0 || r <= 0 || u > kMaxSp || r > kMaxSp)
    fail(origin, n, fmt::format("sp.ulysses and sp.ring must be between 1 and {} (got {}x{})", kMaxSp, u, r));
  return {int(u), int(r)};
}

}  // namespace

run_config parse_config(const std::string& text, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw_config(fmt::format("{}:{}: malformed YAML: {}", origin, e.mark.line + 1, e.msg));
  }
  run_config c;
  if (!root || root.IsNull()) throw_config(origin + ": empty config");
  reject_unknown_keys(origin, root,
                      {"name", "backend", "emulate", "seed", "iters", "warmup", "warmup_ms", "paths", "variants", "consumer",
                       "draft_vocab", "sweep"},
                      "the config");
  if (root["name"]) c.name = scalar<std::string>(origin, root["name"], "name");
  if (root["backend"]) {
    // The name here, with its line; whether this machine has that backend is the run's question
    // (plan and frontier --predict-only take a config written for another machine).
    c.backend = named(origin, root["backend"], "backend", [](const std::string& x) {
      require_backend_name(x);
      return x;
    });
  }
  if (root["emulate"]) {
    c.emulate = scalar<std::string>(origin, root["emulate"], "emulate");
    if (c.emulate != "all" && c.emulate != "one")
      fail(origin, root["emulate"], fmt::format("unknown emulate '{}' (expected all or one)", c.emulate));
  }
  if (root["seed"]) c.seed = scalar<std::uint64_t>(origin, root["seed"], "seed");
  if (root["iters"]) c.iters = int(one_count(origin, root["iters"], "iters", false, kMaxIterations));
  if (root["warmup"]) c.warmup = int(one_count(origin, root["warmup"], "warmup", true, kMaxIterations));
  if (root["warmup_ms"]) {
    c.warmup_ms = scalar<double>(origin, root["warmup_ms"], "warmup_ms");
    if (!valid_warmup_ms(c.warmup_ms))
      fail(origin, root["warmup_ms"], fmt::format("warmup_ms must be between 0 and {} (got {})", kMaxWarmupMs, c.warmup_ms));
  }
  if (root["paths"])
    c.paths = list_of<path_kind>(origin, root["paths"], "paths", [&](const YAML::Node& e) {
      return named(origin, e, "paths", [](const std::string& x) { return parse_path(x); });
    });
  if (root["variants"])
    c.variants = list_of<variant_kind>(origin, root["variants"], "variants", [&](const YAML::Node& e) {
      return named(origin, e, "variants", [](const std::string& x) { return parse_variant(x); });
    });
  if (root["consumer"]) {
    c.consumer = named(origin, root["consumer"], "consumer", [](const std::string& x) { return parse_consumer(x); });
  }
  if (root["draft_vocab"])
    c.draft_vocab = one_count(origin, root["draft_vocab"], "draft_vocab", false, kMaxVocab);
  if (const YAML::Node sw = root["sweep"]) {
    reject_unknown_keys(origin, sw, {"dtype", "tp", "sp", "batch", "seq", "vocab", "hidden", "ttt", "vocab_pad", "t2d"},
                        "sweep");
    sweep_axes& a = c.sweep;
    if (sw["dtype"])
      a.dtypes = list_of<dtype>(origin, sw["dtype"], "dtype", [&](const YAML::Node& e) {
        return named(origin, e, "dtype", [](const std::string& x) { return parse_dtype(x); });
      });
    if (sw["tp"]) {
      a.tp.clear();
      for (auto v : positive_list(origin, sw["tp"], "tp", false, kMaxTp)) a.tp.push_back(int(v));
    }
    if (sw["sp"]) a.sp = list_of<sp_layout>(origin, sw["sp"], "sp", [&](const YAML::Node& e) { return parse_sp(origin, e); });
    if (sw["batch"]) a.batch = positive_list(origin, sw["batch"], "batch", false, kMaxBatch);
    if (sw["seq"]) a.seq = positive_list(origin, sw["seq"], "seq", false, kMaxSeq);
    if (sw["vocab"]) a.vocab = positive_list(origin, sw["vocab"], "vocab", false, kMaxVocab);
    if (sw["hidden"]) a.hidden = positive_list(origin, sw["hidden"], "hidden", false, kMaxHidden);
    if (sw["ttt"]) a.ttt = positive_list(origin, sw["ttt"], "ttt", true, kMaxTtt);
    if (sw["vocab_pad"]) a.vocab_pad = positive_list(origin, sw["vocab_pad"], "vocab_pad", false, kMaxVocabPad);
    if (sw["t2d"])
      a.t2d = list_of<t2d_kind>(origin, sw["t2d"], "t2d", [&](const YAML::Node& e) {
        return named(origin, e, "t2d", [](const std::string& x) { return parse_t2d(x); });
      });
  }
  const YAML::Node sw = root["sweep"];
  const given_axes given{sw && sw["sp"], sw && sw["ttt"], sw && sw["batch"], sw && sw["t2d"], bool(root["draft_vocab"])};
  require_used_axes(c, given, origin.c_str());
  return c;
}

std::string read_text_file(const std::string& file, const char* what) {
  // A directory opens as an ifstream on Linux; reading it reads nothing (an "empty config") or
  // throws basic_filebuf's own words, by how it is read.
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) throw_config(fmt::format("{}: is a directory, not a {} file", file, what));
  std::ifstream f(file);
  if (!f) throw_config(fmt::format("{}: cannot read the {} file", file, what));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

run_config load_config(const std::string& file) { return parse_config(read_text_file(file, "config"), file); }

namespace {
bool has(const std::vector<path_kind>& paths, path_kind p) { return std::find(paths.begin(), paths.end(), p) != paths.end(); }

// The t2d draws a point is repeated for: all of them with a consumer stage, else none to vary.
std::size_t t2d_count(const run_config& c) { return c.consumer != consumer_kind::none ? c.sweep.t2d.size() : 1; }

// Every point of one shape (dtype, tp, seq, vocab, pad, hidden): baseline and batch over the batch
// axis, then usp over the sp and ttt axes with B = P/sp.
void expand_shape(std::vector<planned_point>& out, const run_config& c, shape s) {
  const sweep_axes& a = c.sweep;
  auto emit = [&](path_kind p) {
    for (std::size_t t = 0; t < t2d_count(c); ++t)
      for (variant_kind v : c.variants) {
        s.t2d = a.t2d[t];
        out.push_back({p, v, s});
      }
  };
  s.ttt = a.ttt.front();
  for (auto batch : a.batch) {
    s.batch = batch;
    for (path_kind p : c.paths)
      if (p != path_kind::usp) emit(p);
  }
  if (!has(c.paths, path_kind::usp)) return;
  for (const sp_layout& sp : a.sp)
    for (auto ttt : a.ttt) {
      s.sp_ulysses = sp.ulysses;
      s.sp_ring = sp.ring;
      s.ttt = ttt;
      // One sample per draft dp group; where sp does not divide tp the point is skipped with that rule.
      s.batch = s.tp % s.sp() == 0 ? s.tp / s.sp() : 1;
      emit(path_kind::usp);
    }
}
}  // namespace

std::int64_t count_points(const run_config& c) {
  const sweep_axes& a = c.sweep;
  const bool usp = has(c.paths, path_kind::usp);
  const double others = double(c.paths.size() - (usp ? 1 : 0)) * double(a.batch.size());
  const double per_shape = (others + (usp ? double(a.sp.size()) * double(a.ttt.size()) : 0.0)) *
                           double(t2d_count(c)) * double(c.variants.size());
  const double n = per_shape * double(a.dtypes.size()) * double(a.tp.size()) * double(a.seq.size()) *
                   double(a.vocab.size()) * double(a.vocab_pad.size()) * double(a.hidden.size());
  if (n > double(kMaxSweepPoints))
    throw_config(fmt::format("the sweep has {:.0f} points; a run takes at most {} (split it into several runs)", n,
                             kMaxSweepPoints));
  return std::int64_t(n);
}

std::vector<planned_point> expand(const run_config& c) {
  std::vector<planned_point> out;
  out.reserve(std::size_t(count_points(c)));
  const sweep_axes& a = c.sweep;
  shape s;
  s.seed = c.seed;
  s.consumer = c.consumer;
  s.draft_vocab = c.draft_vocab;
  for (dtype t : a.dtypes)
    for (int tp : a.tp)
      for (auto seq : a.seq)
        for (auto vocab : a.vocab)
          for (auto pad : a.vocab_pad)
            for (auto hidden : a.hidden) {
              s.type = t;
              s.tp = tp;
              s.seq = seq;
              s.vocab = vocab;
              s.vocab_pad = pad;
              s.hidden = hidden;
              s.sp_ulysses = s.sp_ring = 1;
              expand_shape(out, c, s);
            }
  return out;
}

void require_used_axes(const run_config& c, const given_axes& given, const char* where) {
  auto refuse = [&](const char* what) { throw_config(fmt::format("{}: {}", where, what)); };
  const bool usp = has(c.paths, path_kind::usp);
  const bool flat = has(c.paths, path_kind::baseline) || has(c.paths, path_kind::batch);
  const bool consumer = c.consumer != consumer_kind::none;
  if (given.sp && !usp) refuse("sp applies to the usp path only, and no usp point is asked for");
  if (given.ttt && !usp) refuse("ttt applies to the usp path only, and no usp point is asked for");
  if (given.batch && !flat) refuse("batch applies to the baseline and batch paths only (usp takes B = P/sp)");
  if (given.t2d && !consumer) refuse("t2d applies with a consumer stage only (consumer target_p)");
  if (given.draft_vocab && !consumer) refuse("draft_vocab applies with a consumer stage only (consumer target_p)");
  count_points(c);
}

nlohmann::json to_json(const run_config& c) {
  nlohmann::json j{{"name", c.name}, {"backend", c.backend}, {"emulate", c.emulate}, {"seed", c.seed}, {"iters", c.iters}, {"warmup", c.warmup}, {"warmup_ms", c.warmup_ms}};
  for (auto p : c.paths) j["paths"].push_back(std::string(to_string(p)));
  for (auto v : c.variants) j["variants"].push_back(std::string(to_string(v)));
  j["consumer"] = std::string(to_string(c.consumer));
  j["draft_vocab"] = c.draft_vocab;
  auto& s = j["sweep"];
  for (auto t : c.sweep.t2d) s["t2d"].push_back(std::string(to_string(t)));
  for (auto d : c.sweep.dtypes) s["dtype"].push_back(std::string(to_string(d)));
  s["tp"] = c.sweep.tp;
  for (auto sp : c.sweep.sp) s["sp"].push_back({{"ulysses", sp.ulysses}, {"ring", sp.ring}});
  s["batch"] = c.sweep.batch;
  s["seq"] = c.sweep.seq;
  s["vocab"] = c.sweep.vocab;
  s["vocab_pad"] = c.sweep.vocab_pad;
  s["hidden"] = c.sweep.hidden;
  s["ttt"] = c.sweep.ttt;
  return j;
}

}  // namespace sb
