#include "bench/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "bench/interrupt.h"
#include "bench/invariants.h"
#include "harness/core/bandwidth.h"
#include "harness/backends/cupti.h"
#include "harness/core/error.h"
#include "harness/core/host_ops.h"
#include "harness/core/layout.h"
#include "harness/report/npy.h"

namespace sb {

namespace {

// Every rank's plan of a point (run_point hands each rank its own, so no plan is made twice).
std::vector<path_plan> plan_ranks(const path& p, const shape& s) {
  std::vector<path_plan> plans;
  plans.reserve(std::size_t(s.tp));
  for (int r = 0; r < s.tp; ++r) plans.push_back(p.plan(s, r));
  return plans;
}

point_plan combine_plans(const std::vector<path_plan>& plans) {
  point_plan out;
  for (std::size_t r = 0; r < plans.size(); ++r) {
    const path_plan& pl = plans[r];
    std::size_t peak = peak_live_bytes(pl.buffers);
    if (r == 0 || peak > out.peak_bytes) {
      out.peak_bytes = peak;
      out.buffers = pl.buffers;
      out.steps = pl.steps;
    }
    out.bytes_sent = std::max(out.bytes_sent, pl.bytes_sent);
    out.bytes_sent_all_ranks += pl.bytes_sent;
    out.op_bytes = std::max(out.op_bytes, pl.op_bytes);
    out.useful_bytes = std::max(out.useful_bytes, pl.useful_bytes);
    out.collective = pl.collective;
  }
  return out;
}

}  // namespace

point_plan plan_point(const point& pt) { return combine_plans(plan_ranks(*make_path(pt.path, pt.variant), pt.shp)); }

namespace {

// bf16 has no numpy dtype: dumps hold it as float32 (exact, every bf16 value is an fp32 value).
npy_array to_npy(const std::vector<char>& bytes, dtype t, std::vector<std::int64_t> dims) {
  npy_array a;
  a.shape = std::move(dims);
  switch (t) {
    case dtype::bf16: {
      a.descr = "<f4";
      std::int64_t n = std::int64_t(bytes.size() / 2);
      a.data.resize(std::size_t(n) * 4);
      for (std::int64_t i = 0; i < n; ++i) {
        float v = load_as_float(bytes.data(), i, dtype::bf16);
        std::memcpy(a.data.data() + i * 4, &v, 4);
      }
      return a;
    }
    case dtype::fp16: a.descr = "<f2"; break;
    case dtype::fp32: a.descr = "<f4"; break;
    case dtype::i32: a.descr = "<i4"; break;
    case dtype::i64: a.descr = "<i8"; break;
  }
  a.data = bytes;
  return a;
}

std::vector<char> download(rank_backend& c, const void* p, std::size_t bytes) {
  std::vector<char> h(bytes);
  if (bytes) c.download(h.data(), p, bytes);
  return h;
}

// Test hook: changes one element in the middle of the first non-empty checked buffer, or of
// target_p when no buffer is checked by definition (pruned batch: its outputs are the consumer's).
void inject_mismatch(rank_backend& c, const std::vector<buffer_spec>& bufs, const std::map<std::string, void*, std::less<>>& ptrs) {
  const bool any_checked = std::any_of(bufs.begin(), bufs.end(), [](const buffer_spec& b) { return b.check && b.elements; });
  for (const auto& b : bufs) {
    if (b.elements == 0 || (any_checked ? !b.check : b.name != "target_p")) continue;
    const std::size_t es = dtype_size(b.type);
    char* p = static_cast<char*>(ptrs.at(b.name)) + std::size_t(b.elements / 2) * es;
    std::vector<char> v = download(c, p, es);
    double x = load_as_double(v.data(), 0, b.type) + 1.0;
    if (b.type == dtype::i32) *reinterpret_cast<std::int32_t*>(v.data()) = std::int32_t(x);
    else if (b.type == dtype::i64) *reinterpret_cast<std::int64_t*>(v.data()) = std::int64_t(x);
    else store_from_float(v.data(), 0, b.type, float(x));
    c.upload(p, v.data(), es);
    return;
  }
}

std::string describe_mismatch(const point& pt, int rank, const std::string& buf, const mismatch_report& m) {
  return fmt::format("{}/{} rank {} buffer '{}': {} mismatches, first at flat index {}: expected {} got {}",
                     to_string(pt.path), to_string(pt.variant), rank, buf, m.count, m.first_index, m.expected,
                     m.actual);
}

std::size_t buffer_index(const std::vector<buffer_spec>& bufs, std::string_view name) {
  for (std::size_t i = 0; i < bufs.size(); ++i)
    if (bufs[i].name == name) return i;
  throw_runtime(fmt::format("plan has no buffer '{}'", name));
}

// Whether a signal asked the run to stop, agreed by every rank (a host reduction): no rank leaves
// while a peer waits for it in a collective. Throws `interrupted` when it did.
void stop_if_asked(rank_backend& c, const engine_options& o, const point& pt) {
  if (!o.interrupt) return;
  const int sig = int(c.max_over_ranks(double(o.interrupt->load())));
  if (sig) throw interrupted(sig, "interrupted during " + pt.label());
}

// Runs the warm-up: o.warmup iterations and, when o.warmup_ms > 0, more until the warm-up has
// taken that much GPU time. A fixed count of short iterations can leave the GPU short of its
// working clocks: on an H200 the first usp point after a DeepSeek-V3 32K batch point (three
// warm-up iterations of ~6 ms) ran every kernel 4-6 % slower than the same point later in the
// sweep, and as fast once forty iterations warmed it up (docs/kernels.md). Every rank goes
// on while the slowest rank's warm-up is short of the time, so all run the same number of
// collectives. With --gate at least one runs: CUDA loads a kernel at its first launch by default,
// and loading can synchronise the context, which behind a closed gate would wait until the gate
// gave up; after a warm-up iteration every kernel of the path is loaded. `once(i)` runs warm-up
// iteration i and returns its time in µs; returns the iterations run.
template <class F>
int warm_up(rank_backend& c, const engine_options& o, F&& once) {
  constexpr int kMaxWarmup = 1000000;
  int n = 0;
  double us = 0;
  for (; n < std::max(o.warmup, o.world.gate ? 1 : 0); ++n) us += once(n);
  if (o.warmup_ms <= 0) return n;
  while (n < kMaxWarmup && c.max_over_ranks(us) < o.warmup_ms * 1000.0) us += once(n++);
  return n;
}

// A point's launch gate: `whole` only where every timed iteration was queued whole before it ran,
// else the first way one opened early (the path waited on the host, or the queue's budget ran out).
launch_gate point_gate(const std::vector<iteration_times>& its) {
  for (const auto& it : its)
    if (it.gate != launch_gate::whole) return it.gate;
  return its.empty() ? launch_gate::off : launch_gate::whole;
}

struct rank_record {
  std::string first_mismatch;
  rank_buffers outputs;
};

}  // namespace

point_outcome run_point(const point& pt, const engine_options& o, world* shared) {
  auto p = make_path(pt.path, pt.variant);
  std::unique_ptr<world> own;
  world* w = shared;
  if (!w) {
    own = make_world(o.world, pt.shp.tp);
    w = own.get();
  }
  point_outcome out;
  point_result& res = out.result;
  res.pt = pt;
  res.iters = o.iters;
  res.warmup = o.warmup;
  res.warmup_ms = o.warmup_ms;
  const std::vector<path_plan> plans = plan_ranks(*p, pt.shp);
  const point_plan all_plans = combine_plans(plans);
  res.bytes_sent_all_ranks = all_plans.bytes_sent_all_ranks;
  res.backend = std::string(to_string(o.world.backend));
  if (o.world.backend == backend_kind::local)
    res.backend += o.world.emulate == emulate_mode::one ? "(one)" : "(all)";
  std::vector<rank_record> records(std::size_t(pt.shp.tp));
  std::vector<std::optional<std::size_t>> sent(std::size_t(pt.shp.tp));  // per rank; unknown for emulated peers
  if (o.world.cupti) o.world.cupti->begin_point();
  std::mutex mu;  // guards res for the rank threads

  w->run([&](rank_backend& c) {
    const int rank = c.rank();
    nvtx_range point_range(o.nvtx, pt.shp.label(), nvtx_color("point"));
    nvtx_range path_range(o.nvtx, fmt::format("{}/{}", to_string(pt.path), to_string(pt.variant)), nvtx_color("point"));
    const path_plan& plan = plans[std::size_t(rank)];
    const arena_layout layout = plan_arena(plan.buffers);
    const std::size_t device_before = c.device_used_bytes();
    c.tracker().reset_peak();

    std::unique_ptr<buffer> arena;
    std::string oom_reason;
    try {
      arena = c.allocate(layout.size);
    } catch (const oom_error& e) {
      oom_reason = e.what();
    }
    if (c.sum_over_ranks(oom_reason.empty() ? 0 : 1) > 0) {
      std::lock_guard lock(mu);
      res.status = "oom";
      if (!oom_reason.empty() && res.reason.empty()) res.reason = fmt::format("rank {}: {}", rank, oom_reason);
      return;
    }
    std::map<std::string, void*, std::less<>> ptrs;
    for (std::size_t i = 0; i < plan.buffers.size(); ++i)
      ptrs[plan.buffers[i].name] = static_cast<char*>(arena->data()) + layout.offsets[i];

    for (const auto& b : plan.buffers) {
      if (b.upload) {
        c.upload(ptrs[b.name], b.upload->data(), b.upload->size());
        continue;
      }
      if (!b.fill) continue;
      std::optional<std::vector<char>> given;
      if (o.input_override) given = o.input_override(rank, b.name);
      if (given) {
        if (given->size() != b.bytes())
          throw_runtime(fmt::format("input '{}' of rank {}: {} bytes given, {} expected", b.name, rank, given->size(), b.bytes()));
        c.upload(ptrs[b.name], given->data(), b.bytes());
      } else {
        c.fill(ptrs[b.name], *b.fill);
      }
    }

    rank_context ctx(pt.shp, c, ptrs, o.nvtx, &plan);
    for (const auto& name : plan.peer_shared) {  // peer_pull: every rank's address of the buffer
      ctx.set_peers(name, c.open_peers(arena->data(), layout.offsets[buffer_index(plan.buffers, name)]));
    }
    const int warmed = warm_up(c, o, [&](int i) {
      stop_if_asked(c, o, pt);
      nvtx_range it(o.nvtx, fmt::format("warmup {}", i), nvtx_color("iteration"));
      c.iteration_begin(iteration_kind::warmup);
      p->run(ctx);
      return c.iteration_end().total_us;
    });
    {
      std::lock_guard lock(mu);
      res.warmup = warmed;  // the same on every rank
    }
    // A fixed count, the same on every rank: ranks never decide on their own how often to run a
    // collective (that would hang the others).
    std::vector<iteration_times> its;
    its.reserve(std::size_t(o.iters));
    for (int i = 0; i < o.iters; ++i) {
      stop_if_asked(c, o, pt);
      if (o.cold) c.flush_cache();
      c.barrier();  // every rank starts the iteration together
      nvtx_range it(o.nvtx, fmt::format("iteration {}", i), nvtx_color("iteration"));
      c.reset_sent();
      c.iteration_begin(iteration_kind::timed);
      p->run(ctx);
      its.push_back(c.iteration_end());
    }
    // The iteration's time is the slowest rank's (a collective finishes when its last rank does).
    std::vector<double> totals;
    std::map<std::string, std::vector<double>> phase_samples;
    std::vector<std::string> phase_order;
    for (const auto& it : its) {
      totals.push_back(c.max_over_ranks(it.total_us));
      for (const auto& [name, us] : it.phases_us) {
        if (!phase_samples.count(name)) phase_order.push_back(name);
        phase_samples[name].push_back(c.max_over_ranks(us));
      }
    }

    // What each rank handed to its collectives in the last iteration, known on every rank (one
    // reduction per rank: the processes of an MPI world see only their own).
    const std::size_t my_sent = c.sent_bytes();
    const bool summary_rank = rank == (c.emulates_peers() ? o.world.emulated_rank : 0);
    for (int q = 0; q < pt.shp.tp; ++q) {
      const std::int64_t v = c.sum_over_ranks(q == rank ? std::int64_t(my_sent) : 0);
      if (summary_rank && (!c.emulates_peers() || q == rank)) sent[std::size_t(q)] = std::size_t(v);
    }
    if (o.inject_mismatch && rank == 0) inject_mismatch(c, plan.buffers, ptrs);
    std::int64_t local_mismatches = 0;
    rank_record& rec = records[std::size_t(rank)];
    for (const auto& b : plan.buffers) {
      if (!b.check) continue;
      if (o.verify_definition) {
        mismatch_report m = c.verify(ptrs[b.name], *b.check);
        local_mismatches += m.count;
        if (m.count && rec.first_mismatch.empty()) rec.first_mismatch = describe_mismatch(pt, rank, b.name, m);
      }
      if (o.keep_outputs) rec.outputs[b.name] = download(c, ptrs[b.name], b.bytes());
    }
    if (plan.consumer_rows) {
      if (o.verify_definition) {
        consumer_desc ref = consumer_over(pt.shp, ctx, *plan.consumer_rows);
        ref.source = consumer_source::generated;  // recompute from the rows' definition
        ref.loss_mask = nullptr;                   // and the loss mask's
        const consumer_mismatch m = c.verify_consumer(ref);
        local_mismatches += m.target_p.count + m.position_mask.count;
        if (m.target_p.count && rec.first_mismatch.empty())
          rec.first_mismatch = describe_mismatch(pt, rank, "target_p", m.target_p);
        if (m.position_mask.count && rec.first_mismatch.empty())
          rec.first_mismatch = describe_mismatch(pt, rank, "position_mask", m.position_mask);
      }
      if (o.keep_outputs)
        for (const char* name : {"target_p", "position_mask"})
          rec.outputs[name] = download(c, ptrs[name], plan.buffers[buffer_index(plan.buffers, name)].bytes());
    }
    c.close_peers();
    if (!o.dump_dir.empty()) {
      for (const auto& b : plan.buffers) {
        if (!b.dump) continue;
        write_npy(fmt::format("{}/{}_{}_{}_r{}_{}.npy", o.dump_dir, to_string(pt.path), to_string(pt.variant),
                              to_string(pt.shp.type), rank, b.name),
                  to_npy(download(c, ptrs[b.name], b.bytes()), b.type, b.dims));
      }
    }
    const std::int64_t mismatches = c.sum_over_ranks(local_mismatches);
    const double predicted = c.max_over_ranks(double(peak_live_bytes(plan.buffers)));
    std::size_t input_bytes = 0;
    for (const auto& b : plan.buffers)
      if (b.is_input()) input_bytes += b.bytes();
    const double inputs = c.max_over_ranks(double(input_bytes));
    const double tracked = c.max_over_ranks(double(c.tracker().peak()));
    const std::size_t device_after = c.device_used_bytes();
    const double device = c.max_over_ranks(double(device_after > device_before ? device_after - device_before : 0));

    std::lock_guard lock(mu);
    if (rank != (c.emulates_peers() ? o.world.emulated_rank : 0)) return;  // one rank writes the summary
    res.timing_domain = c.timing_domain();
    res.launch_gate = std::string(to_string(point_gate(its)));
    res.collective = plan.collective;
    // Bytes come from every rank's plan (as the max over ranks), so that a backend running one rank
    // of many (local `one`) reports the busiest rank, not the one it happens to run.
    res.bytes_sent = all_plans.bytes_sent;
    res.op_bytes = all_plans.op_bytes;
    res.useful_bytes = all_plans.useful_bytes;
    res.mismatches = mismatches;
    res.verified = o.verify_definition && mismatches == 0;
    res.time_us = summarize(totals);
    for (const auto& name : phase_order) {
      res.phases_us.emplace_back(name, summarize(phase_samples[name]).median);
      res.phase_samples_us.emplace_back(name, phase_samples[name]);
    }
    res.memory = {std::size_t(predicted), std::size_t(tracked), std::size_t(device), std::size_t(inputs)};
    if (c.kind() == backend_kind::nccl) {  // only real links give link bandwidth
      res.algbw_gbps = algbw_gbps(res.op_bytes, res.time_us.median);
      res.busbw_gbps = busbw_gbps(res.op_bytes, res.time_us.median, pt.shp.tp);
    }
    res.effective_gbps = algbw_gbps(res.useful_bytes, res.time_us.median);
  });

  if (o.world.cupti)
    res.kernels = o.world.cupti->end_point(pt.shp.label(), o.iters, &res.cupti_alloc_peak_bytes);
  for (auto& rec : records) {
    if (!rec.first_mismatch.empty() && res.first_mismatch.empty()) res.first_mismatch = rec.first_mismatch;
    if (o.keep_outputs) out.outputs.push_back(std::move(rec.outputs));
  }
  if (res.status == "ok") {
    // Independent of the layout functions the paths and their definitions share: a bug there passes
    // the bitwise verification above, not these.
    const std::vector<std::string> broken = check_invariants(pt, plans, sent);
    if (!broken.empty() && res.first_mismatch.empty())
      res.first_mismatch = fmt::format("{}: invariant: {}", pt.label(), broken.front());
    res.mismatches += std::int64_t(broken.size());
    res.verified = res.verified && broken.empty();
  }
  if (res.status == "ok" && res.mismatches > 0) {
    res.status = "mismatch";
    res.reason = res.first_mismatch;
  }
  return out;
}

std::vector<double> time_raw_collective(world& w, collective_kind k, std::size_t op_bytes, const engine_options& o) {
  if (o.world.backend == backend_kind::local)
    throw_config("raw collectives need every rank real: the nccl backend (or cpu, host threads)");
  const int P = w.size();
  const std::size_t chunk_bytes = op_bytes / std::size_t(P);  // per rank (gather) or per peer (all-to-all)
  std::vector<double> samples;
  std::string oom;  // rank 0's account when a rank could not allocate
  w.run([&](rank_backend& c) {
    std::unique_ptr<buffer> send, recv;
    std::string mine;
    try {
      send = c.allocate(k == collective_kind::all_gather ? chunk_bytes : chunk_bytes * std::size_t(P));
      recv = c.allocate(chunk_bytes * std::size_t(P));
    } catch (const oom_error& e) {
      mine = e.what();
    }
    if (c.sum_over_ranks(mine.empty() ? 0 : 1) > 0) {  // every rank stops, or the others would wait in the collective
      if (c.rank() == 0) oom = mine.empty() ? "another rank ran out of memory" : mine;
      return;
    }
    c.zero(send->data(), send->bytes());
    a2a_args a{send->data(), recv->data(), {}, {}, a2a_impl::collective};
    for (int q = 0; q < P; ++q) {
      a.send_chunks.push_back({std::size_t(q) * chunk_bytes, chunk_bytes});
      a.recv_chunks.push_back({std::size_t(q) * chunk_bytes, chunk_bytes});
    }
    const peer_model no_peers = [](int) -> peer_contribution { throw_runtime("a raw collective has no emulated peers"); };
    auto op = [&] {
      c.phase_begin("collective");
      if (k == collective_kind::all_gather) c.all_gather(send->data(), recv->data(), chunk_bytes, no_peers);
      else c.all_to_all(a, no_peers);
      c.phase_end();
    };
    warm_up(c, o, [&](int) {
      c.iteration_begin(iteration_kind::warmup);
      op();
      return c.iteration_end().total_us;
    });
    std::vector<double> times;
    for (int i = 0; i < o.iters; ++i) {
      c.barrier();
      c.iteration_begin(iteration_kind::timed);
      op();
      times.push_back(c.max_over_ranks(c.iteration_end().total_us));
    }
    if (c.rank() == 0) samples = std::move(times);
  });
  if (!oom.empty()) throw oom_error(oom);
  return samples;
}

world& world_cache::get(int ranks) {
  auto& w = m_worlds[ranks];
  if (!w) w = make_world(m_o, ranks);
  return *w;
}

namespace {

// The baseline's output of a shape (rank 0's, identical on every rank), kept while points of the
// same shape run. Only for shapes whose output fits the cross-check limit.
class baseline_cache {
 public:
  const rank_buffers* get(const shape& s, const engine_options& o, world_cache& worlds) {
    shape b = s;
    b.sp_ulysses = b.sp_ring = 1;
    if (std::size_t(b.tokens() * b.vocab) * 4 > o.cross_check_limit) return nullptr;
    std::string key = fmt::format("{} seed{} pad{}", b.label(), b.seed, b.vocab_pad);
    if (key != m_key) {
      engine_options bo = o;
      bo.iters = 1;
      bo.warmup = 0;
      bo.warmup_ms = 0;
      bo.keep_outputs = true;
      bo.dump_dir.clear();
      bo.inject_mismatch = false;
      point_outcome r = run_point(point{path_kind::baseline, variant_kind::fused, b}, bo, &worlds.get(b.tp));
      // Identical on every rank: take the one that ran (local `one` runs a single rank).
      auto ran = std::find_if(r.outputs.begin(), r.outputs.end(), [](const rank_buffers& rb) { return rb.count("output") > 0; });
      if (r.result.status != "ok" || ran == r.outputs.end()) return nullptr;
      m_key = key;
      m_output = std::move(*ran);
    }
    return &m_output;
  }

 private:
  std::string m_key;
  rank_buffers m_output;  // "output", and with a consumer stage "target_p" and "position_mask"
};

// Baseline row index holding token t (its output row s of sample b holds token b·S + s + 1).
std::int64_t baseline_row_of(std::int64_t t) { return t - 1; }

void record_mismatch(point_result& res, int rank, const char* buf, const mismatch_report& m) {
  res.status = "mismatch";
  res.mismatches += m.count;
  res.first_mismatch = "against the baseline's output: " + describe_mismatch(res.pt, rank, buf, m);
  res.reason = res.first_mismatch;
}

// Every rank's logits output against the matching slice of the baseline's output F [B, S, V]
// (output token t, column c is F[t-1, c]), and its consumer outputs against the baseline's rows of
// the same tokens, bitwise. Only real comparisons count: a point with nothing to compare is not
// cross-checked.
void cross_check(point_outcome& out, const rank_buffers& baseline) {
  point_result& res = out.result;
  const shape& s = res.pt.shp;
  bool compared = false;
  for (std::size_t r = 0; r < out.outputs.size(); ++r) {
    const rank_buffers& mine = out.outputs[r];
    const expected_spec e = res.pt.path == path_kind::batch ? batch_output_spec(s, int(r)) : usp_output_spec(s, int(r));
    auto it = mine.find("output");
    auto base = baseline.find("output");
    if (it != mine.end() && base != baseline.end()) {
      const float* F = reinterpret_cast<const float*>(base->second.data());
      auto ref = [&](std::int64_t t, std::int64_t c) { return c < s.vocab ? double(F[baseline_row_of(t) * s.vocab + c]) : 0.0; };
      mismatch_report m = verify_host_with(it->second.data(), e, ref);
      if (m.count) return record_mismatch(res, int(r), "output", m);
      compared = true;
    }
    auto tp = mine.find("target_p"), pm = mine.find("position_mask");
    auto btp = baseline.find("target_p"), bpm = baseline.find("position_mask");
    if (tp == mine.end() || btp == baseline.end() || pm == mine.end() || bpm == baseline.end()) continue;
    const float* P = reinterpret_cast<const float*>(tp->second.data());
    const float* BP = reinterpret_cast<const float*>(btp->second.data());
    const auto* M = reinterpret_cast<const std::int32_t*>(pm->second.data());
    const auto* BM = reinterpret_cast<const std::int32_t*>(bpm->second.data());
    const std::int64_t vd = s.draft_vocab;
    for (std::int64_t i = 0; i < e.windows * e.win_len; ++i) {
      const std::int64_t t = expected_token(e, i / e.win_len, i % e.win_len);
      if (t < 0) continue;  // a zero row: no baseline row holds it
      const std::int64_t b = baseline_row_of(t);
      if (std::memcmp(P + i * vd, BP + b * vd, std::size_t(vd) * 4) != 0) {
        std::int64_t k = 0;
        while (P[i * vd + k] == BP[b * vd + k]) ++k;
        return record_mismatch(res, int(r), "target_p", {1, i * vd + k, BP[b * vd + k], P[i * vd + k]});
      }
      if (M[i] != BM[b]) return record_mismatch(res, int(r), "position_mask", {1, i, double(BM[b]), double(M[i])});
    }
    compared = true;
  }
  res.cross_checked = compared;
}

}  // namespace

namespace {
point_result run_checked(const point& pt, const engine_options& o, world_cache& worlds, baseline_cache& cache) {
  point_result res;
  res.pt = pt;
  try {
    validate(pt);
  } catch (const config_error& e) {
    res.status = "skipped";
    res.reason = e.what();
    return res;
  }
  const rank_buffers* baseline = nullptr;
  if (pt.path != path_kind::baseline && o.verify_definition) baseline = cache.get(pt.shp, o, worlds);
  engine_options po = o;
  po.keep_outputs = o.keep_outputs || baseline != nullptr;
  point_outcome out = run_point(pt, po, &worlds.get(pt.shp.tp));
  if (baseline && out.result.status == "ok") cross_check(out, *baseline);
  return out.result;
}
}  // namespace

point_result run_checked_point(const point& pt, const engine_options& o, world_cache& worlds) {
  baseline_cache cache;
  return run_checked(pt, o, worlds, cache);
}

std::vector<point_result> run_points(const std::vector<point>& pts, const engine_options& o,
                                     const std::function<void(const point_result&)>& on_result) {
  std::vector<point_result> results;
  baseline_cache cache;
  world_cache worlds(o.world);
  for (const point& pt : pts) {
    results.push_back(run_checked(pt, o, worlds, cache));
    if (on_result) on_result(results.back());
  }
  return results;
}

}  // namespace sb
