#include "bench/stages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "bench/interrupt.h"
#include "harness/core/error.h"
#include "harness/report/npy.h"

namespace sb {

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

std::size_t buffer_index(const std::vector<buffer_spec>& bufs, std::string_view name) {
  for (std::size_t i = 0; i < bufs.size(); ++i)
    if (bufs[i].name == name) return i;
  throw_runtime(fmt::format("plan has no buffer '{}'", name));
}

}  // namespace

std::string describe_mismatch(const point& pt, int rank, const std::string& buf, const mismatch_report& m) {
  return fmt::format("{}/{} rank {} buffer '{}': {} mismatches, first at flat index {}: expected {} got {}",
                     to_string(pt.path), to_string(pt.variant), rank, buf, m.count, m.first_index, m.expected,
                     m.actual);
}

std::optional<rank_arena> allocate(rank_backend& c, const path_plan& plan, std::string& oom_reason) {
  rank_arena a;
  a.layout = plan_arena(plan.buffers);
  try {
    a.memory = c.allocate(a.layout.size);
  } catch (const oom_error& e) {
    oom_reason = e.what();
  }
  if (c.sum_over_ranks(oom_reason.empty() ? 0 : 1) > 0) return std::nullopt;  // every rank stops
  for (std::size_t i = 0; i < plan.buffers.size(); ++i)
    a.ptrs[plan.buffers[i].name] = static_cast<char*>(a.memory->data()) + a.layout.offsets[i];
  return a;
}

void fill_inputs(rank_backend& c, const path_plan& plan, const rank_arena& a, const engine_options& o) {
  for (const auto& b : plan.buffers) {
    void* dst = a.ptrs.at(b.name);
    if (b.upload) {
      c.upload(dst, b.upload->data(), b.upload->size());
      continue;
    }
    if (!b.fill) continue;
    std::optional<std::vector<char>> given;
    if (o.input_override) given = o.input_override(c.rank(), b.name);
    if (!given) {
      c.fill(dst, *b.fill);
      continue;
    }
    if (given->size() != b.bytes())
      throw_runtime(fmt::format("input '{}' of rank {}: {} bytes given, {} expected", b.name, c.rank(), given->size(), b.bytes()));
    c.upload(dst, given->data(), b.bytes());
  }
}

void open_peer_buffers(rank_backend& c, const path_plan& plan, const rank_arena& a, rank_context& ctx) {
  for (const auto& name : plan.peer_shared)
    ctx.set_peers(name, c.open_peers(a.memory->data(), a.layout.offsets[buffer_index(plan.buffers, name)]));
}

// Whether a signal asked the run to stop, agreed by every rank (a host reduction): no rank leaves
// while a peer waits for it in a collective. Throws `interrupted` when it did.
void stop_if_asked(rank_backend& c, const engine_options& o, const point& pt) {
  if (!o.interrupt) return;
  const int sig = int(c.max_over_ranks(double(o.interrupt->load())));
  if (sig) throw interrupted(sig, "interrupted during " + pt.label());
}

int warm_up_path(rank_backend& c, const engine_options& o, const point& pt, const path& p, rank_context& ctx) {
  return warm_up(c, o, [&](int i) {
    stop_if_asked(c, o, pt);
    nvtx_range it(o.nvtx, fmt::format("warmup {}", i), nvtx_color("iteration"));
    c.iteration_begin(iteration_kind::warmup);
    p.run(ctx);
    return c.iteration_end().total_us;
  });
}

std::vector<iteration_times> time_path(rank_backend& c, const engine_options& o, const point& pt, const path& p,
                                       rank_context& ctx) {
  std::vector<iteration_times> its;
  its.reserve(std::size_t(o.iters));
  for (int i = 0; i < o.iters; ++i) {
    stop_if_asked(c, o, pt);
    if (o.cold) c.flush_cache();
    c.barrier();  // every rank starts the iteration together
    nvtx_range it(o.nvtx, fmt::format("iteration {}", i), nvtx_color("iteration"));
    c.reset_sent();
    c.iteration_begin(iteration_kind::timed);
    p.run(ctx);
    its.push_back(c.iteration_end());
  }
  return its;
}

timed_samples slowest_rank(rank_backend& c, const std::vector<iteration_times>& its) {
  timed_samples out;
  for (const auto& it : its) {
    out.totals.push_back(c.max_over_ranks(it.total_us));
    for (const auto& [name, us] : it.phases_us) {
      auto at = std::find_if(out.phases.begin(), out.phases.end(), [&](const auto& ph) { return ph.first == name; });
      if (at == out.phases.end()) at = out.phases.insert(out.phases.end(), {name, {}});
      at->second.push_back(c.max_over_ranks(us));
    }
  }
  return out;
}

// A point's launch gate: `whole` only where every timed iteration was queued whole before it ran,
// else the first way one opened early (the path waited on the host, or the queue's budget ran out).
launch_gate point_gate(const std::vector<iteration_times>& its) {
  for (const auto& it : its)
    if (it.gate != launch_gate::whole) return it.gate;
  return its.empty() ? launch_gate::off : launch_gate::whole;
}

std::vector<std::optional<std::size_t>> sent_by_rank(rank_backend& c, int tp, bool summary_rank) {
  std::vector<std::optional<std::size_t>> sent(static_cast<std::size_t>(tp));
  const std::size_t mine = c.sent_bytes();
  for (int q = 0; q < tp; ++q) {
    const std::int64_t v = c.sum_over_ranks(q == c.rank() ? std::int64_t(mine) : 0);
    if (summary_rank && (!c.emulates_peers() || q == c.rank())) sent[std::size_t(q)] = std::size_t(v);
  }
  return sent;
}

rank_verdict verify_rank(rank_backend& c, const engine_options& o, const point& pt, const path_plan& plan, const rank_arena& a,
                         rank_context& ctx) {
  const int rank = c.rank();
  if (o.inject_mismatch && rank == 0) inject_mismatch(c, plan.buffers, a.ptrs);
  rank_verdict v;
  auto note = [&](const char* buf, const mismatch_report& m) {
    v.mismatches += m.count;
    if (m.count && v.first_mismatch.empty()) v.first_mismatch = describe_mismatch(pt, rank, buf, m);
  };
  for (const auto& b : plan.buffers) {
    if (!b.check) continue;
    if (o.verify_definition) note(b.name.c_str(), c.verify(a.ptrs.at(b.name), *b.check));
    if (o.keep_outputs) v.outputs[b.name] = download(c, a.ptrs.at(b.name), b.bytes());
  }
  if (!plan.consumer_rows) return v;
  if (o.verify_definition) {
    consumer_desc ref = consumer_over(pt.shp, ctx, *plan.consumer_rows);
    ref.source = consumer_source::generated;  // recompute from the rows' definition
    ref.loss_mask = nullptr;                   // and the loss mask's
    const consumer_mismatch m = c.verify_consumer(ref);
    note("target_p", m.target_p);
    note("position_mask", m.position_mask);
  }
  if (o.keep_outputs)
    for (const char* name : {"target_p", "position_mask"})
      v.outputs[name] = download(c, a.ptrs.at(name), plan.buffers[buffer_index(plan.buffers, name)].bytes());
  return v;
}

void dump_rank(rank_backend& c, const engine_options& o, const point& pt, const path_plan& plan, const rank_arena& a) {
  if (o.dump_dir.empty()) return;
  for (const auto& b : plan.buffers) {
    if (!b.dump) continue;
    write_npy(fmt::format("{}/{}_{}_{}_r{}_{}.npy", o.dump_dir, to_string(pt.path), to_string(pt.variant),
                          to_string(pt.shp.type), c.rank(), b.name),
              to_npy(download(c, a.ptrs.at(b.name), b.bytes()), b.type, b.dims));
  }
}

memory_figures memory_over_ranks(rank_backend& c, const path_plan& plan, std::size_t device_before) {
  std::size_t inputs = 0;
  for (const auto& b : plan.buffers)
    if (b.is_input()) inputs += b.bytes();
  const std::size_t device_after = c.device_used_bytes();
  memory_figures m;
  m.predicted_peak = std::size_t(c.max_over_ranks(double(peak_live_bytes(plan.buffers))));
  m.tracked_peak = std::size_t(c.max_over_ranks(double(c.tracker().peak())));
  m.device_peak = std::size_t(c.max_over_ranks(double(device_after > device_before ? device_after - device_before : 0)));
  m.inputs = std::size_t(c.max_over_ranks(double(inputs)));
  return m;
}

}  // namespace sb
