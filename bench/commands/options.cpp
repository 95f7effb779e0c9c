#include "bench/commands/options.h"

#include <map>

#include "harness/core/error.h"

namespace sb {

std::size_t parse_size(const std::string& text, const char* flag) {
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(text, &pos);
  } catch (const std::exception&) {
    throw_config(fmt::format("{} must be a size like 80GiB (got '{}')", flag, text));
  }
  const std::string unit = text.substr(pos);
  const std::map<std::string, double> units{{"", 1},      {"B", 1},          {"KiB", 1024.0}, {"MiB", 1048576.0},
                                            {"GiB", 1073741824.0}, {"kB", 1e3}, {"MB", 1e6},  {"GB", 1e9}};
  auto it = units.find(unit);
  // NaN fails the first test, inf and sizes past 2^63 bytes the second.
  if (it == units.end() || !(v >= 0) || !(v * it->second < 9.2e18))
    throw_config(fmt::format("{} must be a size like 80GiB (got '{}')", flag, text));
  return std::size_t(v * it->second);
}

void add_shape_flags(CLI::App* app, cli_flags& f) {
  app->add_option("--config", f.config, "YAML sweep config (configs/*.yaml)");
  app->add_option("--paths", f.paths, "comma list of baseline,batch,usp");
  app->add_option("--variants", f.variants, "comma list of specforge,fused,peer_pull,pruned");
  app->add_option("--consumer", f.consumer, "stage after each path: none or target_p (softmax over the draft vocab + position_mask)");
  app->add_option("--draft-vocab", f.draft_vocab, "Vd, draft vocabulary size for --consumer (default 32000)")->check(fits<std::int64_t>());
  app->add_option("--t2d", f.t2d, "comma list of draft vocabulary draws: uniform,skewed");
  app->add_option("--dtype", f.dtypes, "comma list of bf16,fp16,fp32 (the LM head's output dtype)");
  app->add_option("--tp", f.tp, "TP size P")->check(fits<int>());
  app->add_option("--sp-ulysses", f.sp_ulysses, "Ulysses size U (usp)")->check(fits<int>());
  app->add_option("--sp-ring", f.sp_ring, "Ring size R (usp)")->check(fits<int>());
  app->add_option("--batch", f.batch, "samples B in the TP group")->check(fits<std::int64_t>());
  app->add_option("--seq", f.seq, "sequence length S")->check(fits<std::int64_t>());
  app->add_option("--vocab", f.vocab, "vocab V")->check(fits<std::int64_t>());
  app->add_option("--vocab-pad", f.vocab_pad, "vocab padding multiple (SGLang: 64)")->check(fits<std::int64_t>());
  app->add_option("--hidden", f.hidden, "hidden size H")->check(fits<std::int64_t>());
  app->add_option("--ttt", f.ttt, "ttt_length (usp window overlap)")->check(fits<std::int64_t>());
  app->add_option("--seed", f.seed, "generator seed")->check(fits<std::uint64_t>());
}

// A flag's comma list. An empty item ("baseline,,batch", ",") is refused as a config's empty list
// is: it is a typo, and a list with nothing in it would run a sweep of no points and exit 0.
std::vector<std::string> split_list(const std::string& s, const char* flag) {
  std::vector<std::string> out(1);
  for (char ch : s) {
    if (ch == ',') out.emplace_back();
    else if (ch != ' ') out.back() += ch;
  }
  for (const auto& item : out)
    if (item.empty()) throw_config(fmt::format("{} '{}': an empty item in the comma list", flag, s));
  return out;
}

bool single_point(const cli_flags& f) {
  return f.tp || f.sp_ulysses || f.sp_ring || f.batch || f.seq || f.vocab || f.vocab_pad || f.hidden || f.ttt;
}

namespace {

// The shape flags against the documented bounds (docs/cli.md), before anything is planned.
void check_flag_limits(const cli_flags& f) {
  auto in_range = [](const auto& flag, std::int64_t low, std::int64_t max, const char* name) {
    if (flag) require_in_range(std::int64_t(*flag), low, max, name);
  };
  in_range(f.tp, 1, kMaxTp, "--tp");
  in_range(f.sp_ulysses, 1, kMaxSp, "--sp-ulysses");
  in_range(f.sp_ring, 1, kMaxSp, "--sp-ring");
  in_range(f.batch, 1, kMaxBatch, "--batch");
  in_range(f.seq, 1, kMaxSeq, "--seq");
  in_range(f.vocab, 1, kMaxVocab, "--vocab");
  in_range(f.vocab_pad, 1, kMaxVocabPad, "--vocab-pad");
  in_range(f.hidden, 1, kMaxHidden, "--hidden");
  in_range(f.ttt, 0, kMaxTtt, "--ttt");
  in_range(f.draft_vocab, 1, kMaxVocab, "--draft-vocab");
}

// A flag that sets an axis no asked-for point uses is refused, as the config's key would be.
void check_flags_used(const run_config& c, const cli_flags& f) {
  auto used = [&](bool given, given_axes axes, const char* flag) {
    if (given) require_used_axes(c, axes, flag);
  };
  used(f.sp_ulysses || f.sp_ring, {.sp = true}, f.sp_ulysses ? "--sp-ulysses" : "--sp-ring");
  used(bool(f.ttt), {.ttt = true}, "--ttt");
  used(bool(f.batch), {.batch = true}, "--batch");
  used(!f.t2d.empty(), {.t2d = true}, "--t2d");
  used(bool(f.draft_vocab), {.draft_vocab = true}, "--draft-vocab");
}

}  // namespace

run_config resolve_config(const cli_flags& f) {
  check_flag_limits(f);
  run_config c = f.config.empty() ? run_config{} : load_config(f.config);
  if (!f.backend.empty()) c.backend = f.backend;
  if (!f.emulate.empty()) c.emulate = f.emulate;
  if (f.seed) c.seed = *f.seed;
  if (f.iters) c.iters = *f.iters;
  if (f.warmup) c.warmup = *f.warmup;
  if (f.warmup_ms) c.warmup_ms = *f.warmup_ms;
  if (c.iters <= 0 || c.iters > kMaxIterations)
    throw_config(fmt::format("iters must be between 1 and {} (got {})", kMaxIterations, c.iters));
  if (c.warmup < 0 || c.warmup > kMaxIterations)
    throw_config(fmt::format("warmup must be between 0 and {} (got {})", kMaxIterations, c.warmup));
  if (!valid_warmup_ms(c.warmup_ms))
    throw_config(fmt::format("warmup-ms must be between 0 and {} (got {})", kMaxWarmupMs, c.warmup_ms));
  if (!f.paths.empty()) {
    c.paths.clear();
    for (const auto& p : split_list(f.paths, "--paths")) c.paths.push_back(parse_path(p));
  }
  if (!f.variants.empty()) {
    c.variants.clear();
    for (const auto& v : split_list(f.variants, "--variants")) c.variants.push_back(parse_variant(v));
  }
  if (!f.consumer.empty()) c.consumer = parse_consumer(f.consumer);
  if (f.draft_vocab) c.draft_vocab = *f.draft_vocab;
  if (!f.t2d.empty()) {
    c.sweep.t2d.clear();
    for (const auto& t : split_list(f.t2d, "--t2d")) c.sweep.t2d.push_back(parse_t2d(t));
  }
  if (!f.dtypes.empty()) {
    c.sweep.dtypes.clear();
    for (const auto& d : split_list(f.dtypes, "--dtype")) c.sweep.dtypes.push_back(parse_dtype(d));
  }
  auto distinct = [](const auto& list, const char* flag) {
    if (first_repeat(list)) throw_config(fmt::format("{} lists the same value twice", flag));
  };
  distinct(c.paths, "--paths");
  distinct(c.variants, "--variants");
  distinct(c.sweep.t2d, "--t2d");
  distinct(c.sweep.dtypes, "--dtype");
  if (single_point(f)) {
    sweep_axes& a = c.sweep;
    auto pick = [](auto& axis, const auto& flag) {
      if (flag) axis = {static_cast<typename std::decay_t<decltype(axis)>::value_type>(*flag)};
      else axis.resize(1);
    };
    pick(a.tp, f.tp);
    pick(a.batch, f.batch);
    pick(a.seq, f.seq);
    pick(a.vocab, f.vocab);
    pick(a.vocab_pad, f.vocab_pad);
    pick(a.hidden, f.hidden);
    pick(a.ttt, f.ttt);
    sp_layout sp = a.sp.front();
    if (f.sp_ulysses) sp.ulysses = *f.sp_ulysses;
    if (f.sp_ring) sp.ring = *f.sp_ring;
    a.sp = {sp};
  }
  check_flags_used(c, f);
  count_points(c);
  return c;
}

std::vector<point> to_points(const std::vector<planned_point>& planned) {
  std::vector<point> pts;
  for (const auto& p : planned) pts.push_back({p.path, p.variant, p.shp});
  return pts;
}

// A point that breaks a rule is skipped with its rule beside points that can run (the path ×
// variant lists of a config at one shape: baseline has no peer_pull). When none can, the first
// rule is a usage error: a sweep of skips alone would exit 0 having measured nothing, which a
// nightly job reads as a pass. One point given by shape flags is not a sweep: a rule its shape
// breaks for any path asked for is a usage error.
void require_a_valid_point(const std::vector<point>& pts, bool one_shape) {
  if (one_shape)
    for (const auto& p : pts) validate_shape(p.shp, p.path);
  std::string first;
  for (const auto& p : pts) {
    try {
      validate(p);
      return;
    } catch (const config_error& e) {
      if (first.empty()) first = e.what();
    }
  }
  if (!first.empty()) throw_config(first);
}

// The engine's options from the resolved config and the run flags (shared by run and bench).
engine_options make_engine_options(const run_config& c, const cli_flags& f) {
  engine_options o;
  o.iters = c.iters;
  o.warmup = c.warmup;
  o.warmup_ms = c.warmup_ms;
  o.world.backend = parse_backend(c.backend);
  if (c.emulate == "one")
    o.world.emulate = emulate_mode::one;
  else if (c.emulate != "all")
    throw_config(fmt::format("unknown --emulate '{}' (expected all or one)", c.emulate));
  if (o.world.emulate == emulate_mode::one && o.world.backend != backend_kind::local)
    throw_config("--emulate one needs the local backend");
  if (f.emulated_rank && o.world.emulate != emulate_mode::one) throw_config("--emulated-rank needs --emulate one");
  o.world.emulated_rank = f.emulated_rank.value_or(0);
  if (!(f.timeout_s > 0)) throw_config(fmt::format("--timeout must be positive (got {})", f.timeout_s));  // NaN too
  if (f.timeout_s > 1e7) throw_config(fmt::format("--timeout must be at most 10000000 seconds (got {})", f.timeout_s));
  o.world.timeout_s = f.timeout_s;
  if (!(f.memory_cap_gib >= 0)) throw_config("--memory-cap must be non-negative");
  if (f.memory_cap_gib > 4294967296.0) throw_config(fmt::format("--memory-cap must be at most 4294967296 GiB (got {})", f.memory_cap_gib));
  o.world.memory_cap = std::size_t(f.memory_cap_gib * double(std::size_t(1) << 30));
  o.inject_mismatch = f.inject_mismatch;
  o.cold = f.cold;
  if (f.gate && o.world.backend == backend_kind::cpu)
    throw_config("--gate holds a GPU stream behind a gate kernel: it needs the local or nccl backend");
  o.world.gate = f.gate;
  if (f.a2a == "alltoall")
    o.world.a2a = a2a_impl::collective;
  else if (f.a2a == "sendrecv")
    o.world.a2a = a2a_impl::send_recv;
  else if (f.a2a != "auto")
    throw_config(fmt::format("unknown --a2a '{}' (expected auto, alltoall or sendrecv)", f.a2a));
  return o;
}

std::vector<point> resolve_points(const run_config& c, const engine_options& o, bool one_shape) {
  std::vector<point> pts = to_points(expand(c));
  require_a_valid_point(pts, one_shape);
  for (const auto& p : pts)
    if (o.world.emulate == emulate_mode::one && (o.world.emulated_rank < 0 || o.world.emulated_rank >= p.shp.tp))
      throw_config(fmt::format("--emulated-rank must be in [0, tp) (got {}, tp={})", o.world.emulated_rank, p.shp.tp));
  return pts;
}

std::string describe_backend(const engine_options& o) {
  std::string d(to_string(o.world.backend));
  if (o.world.backend == backend_kind::cpu) d += " (times are host wall-clock times of CPU threads)";
  if (o.world.backend == backend_kind::local)
    d += o.world.emulate == emulate_mode::one ? " (one rank emulated on one GPU; peers generated)"
                                              : " (all ranks emulated on one GPU; not link bandwidth)";
  return d;
}

}  // namespace sb
