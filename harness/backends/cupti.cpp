#include "harness/backends/cupti.h"

#include <cupti.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include "harness/core/error.h"

namespace sb {

namespace {

void check_cupti(CUptiResult r, const char* what) {
  if (r == CUPTI_SUCCESS) return;
  const char* msg = nullptr;
  cuptiGetResultString(r, &msg);
  throw runtime_error(fmt::format("CUPTI: {} failed: {}", what, msg ? msg : "unknown error"));
}

enum class rec_kind { kernel, memcpy, memset, marker_start, marker_end, api, alloc, release };

struct rec {
  rec_kind kind;
  std::uint64_t start = 0, end = 0;
  std::uint32_t stream = 0, corr = 0, thread = 0, id = 0;
  std::uint64_t bytes = 0;
  std::string name;
};

const char* copy_kind_name(std::uint8_t k) {
  switch (k) {
    case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: return "[memcpy HtoD]";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: return "[memcpy DtoH]";
    case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: return "[memcpy DtoD]";
    case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return "[memcpy PtoP]";
    default: return "[memcpy]";
  }
}

std::uint32_t this_thread_id() { return std::uint32_t(::syscall(SYS_gettid)); }

}  // namespace

namespace {
struct point_index;
}  // namespace

struct cupti_session::impl {
  bool keep_trace;
  std::mutex mu;
  std::vector<rec> records;
  std::map<std::uint32_t, int> thread_rank;
  nlohmann::json events = nlohmann::json::array();
  std::set<std::pair<int, std::uint64_t>> named;  // (pid, tid) already given a name
  std::uint64_t origin = 0;

  void add_trace_events(const std::vector<rec>& recs, const point_index& idx, const std::string& label);

  void take_buffer(std::uint8_t* buffer, std::size_t valid) {
    CUpti_Activity* a = nullptr;
    std::vector<rec> got;
    while (cuptiActivityGetNextRecord(buffer, valid, &a) == CUPTI_SUCCESS) {
      rec r{};
      switch (a->kind) {
        case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL:
        case CUPTI_ACTIVITY_KIND_KERNEL: {
          auto* k = reinterpret_cast<CUpti_ActivityKernel10*>(a);
          r = {rec_kind::kernel, k->start, k->end, k->streamId, k->correlationId, 0, 0, 0, k->name ? k->name : "?"};
          break;
        }
        case CUPTI_ACTIVITY_KIND_MEMCPY: {
          auto* m = reinterpret_cast<CUpti_ActivityMemcpy6*>(a);
          r = {rec_kind::memcpy, m->start, m->end, m->streamId, m->correlationId, 0, 0, m->bytes, copy_kind_name(m->copyKind)};
          break;
        }
        case CUPTI_ACTIVITY_KIND_MEMSET: {
          auto* m = reinterpret_cast<CUpti_ActivityMemset4*>(a);
          r = {rec_kind::memset, m->start, m->end, m->streamId, m->correlationId, 0, 0, m->bytes, "[memset]"};
          break;
        }
        case CUPTI_ACTIVITY_KIND_MARKER: {
          auto* m = reinterpret_cast<CUpti_ActivityMarker2*>(a);
          const bool start = m->flags & CUPTI_ACTIVITY_FLAG_MARKER_START;
          const bool end = m->flags & CUPTI_ACTIVITY_FLAG_MARKER_END;
          if (!start && !end) continue;
          r.kind = start ? rec_kind::marker_start : rec_kind::marker_end;
          r.start = m->timestamp;
          r.id = m->id;
          r.thread = m->objectId.pt.threadId;
          if (m->name) r.name = m->name;
          break;
        }
        case CUPTI_ACTIVITY_KIND_RUNTIME:
        case CUPTI_ACTIVITY_KIND_DRIVER: {
          auto* api = reinterpret_cast<CUpti_ActivityAPI*>(a);
          r = {rec_kind::api, api->start, api->end, 0, api->correlationId, api->threadId, 0, 0, {}};
          break;
        }
        case CUPTI_ACTIVITY_KIND_MEMORY2: {
          auto* m = reinterpret_cast<CUpti_ActivityMemory4*>(a);
          const bool alloc = m->memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_ALLOCATION;
          const bool release = m->memoryOperationType == CUPTI_ACTIVITY_MEMORY_OPERATION_TYPE_RELEASE;
          if (!alloc && !release) continue;
          r = {alloc ? rec_kind::alloc : rec_kind::release, m->timestamp, m->timestamp, m->streamId, m->correlationId, 0, 0, m->bytes, {}};
          break;
        }
        default: continue;
      }
      got.push_back(std::move(r));
    }
    std::lock_guard lock(mu);
    records.insert(records.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
  }
};

namespace {

// CUPTI's buffer callbacks carry no user pointer, so the session that owns the records is reached
// through this one process-wide hook (a process has one CUPTI, hence at most one session).
std::mutex g_hook_mutex;
cupti_session::impl* g_hook = nullptr;

constexpr std::size_t kBufferBytes = std::size_t(8) << 20;

void CUPTIAPI buffer_requested(std::uint8_t** buffer, std::size_t* size, std::size_t* max_records) {
  *buffer = static_cast<std::uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, std::uint32_t, std::uint8_t* buffer, std::size_t, std::size_t valid) {
  {
    std::lock_guard lock(g_hook_mutex);
    if (g_hook && valid) g_hook->take_buffer(buffer, valid);
  }
  std::free(buffer);
}

constexpr CUpti_ActivityKind kKinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_MEMCPY,
                                         CUPTI_ACTIVITY_KIND_MEMSET,            CUPTI_ACTIVITY_KIND_MEMORY2,
                                         CUPTI_ACTIVITY_KIND_MARKER,            CUPTI_ACTIVITY_KIND_RUNTIME,
                                         CUPTI_ACTIVITY_KIND_DRIVER};

// Ranges the engine opens around the phases; a phase is any other range.
bool is_phase(const std::string& name, const std::string& label) {
  return !(name.rfind("iteration ", 0) == 0 || name.rfind("warmup ", 0) == 0 || name.rfind("run ", 0) == 0 ||
           name == label || name.find('/') != std::string::npos);
}

struct range {
  std::uint64_t start, end;
  std::string name;
};

}  // namespace

cupti_session::cupti_session(bool keep_trace) : m(std::make_unique<impl>()) {
  m->keep_trace = keep_trace;
  {
    std::lock_guard lock(g_hook_mutex);
    if (g_hook) throw_runtime("CUPTI: a session is already active in this process");
    g_hook = m.get();
  }
  // NVTX ranges reach CUPTI only through NVTX's injection hook, read at the process's first NVTX
  // call: point it at the CUPTI library this process already loaded (unless the user set one).
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&cuptiActivityEnable), &info) && info.dli_fname)
    setenv("NVTX_INJECTION64_PATH", info.dli_fname, 0);
  try {
    check_cupti(cuptiSetThreadIdType(CUPTI_ACTIVITY_THREAD_ID_TYPE_SYSTEM), "cuptiSetThreadIdType");
    check_cupti(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed), "cuptiActivityRegisterCallbacks");
    for (auto k : kKinds) check_cupti(cuptiActivityEnable(k), "cuptiActivityEnable");
  } catch (...) {
    std::lock_guard lock(g_hook_mutex);
    g_hook = nullptr;
    throw;
  }
}

cupti_session::~cupti_session() {
  cuptiActivityFlushAll(1);
  for (auto k : kKinds) cuptiActivityDisable(k);
  std::lock_guard lock(g_hook_mutex);
  g_hook = nullptr;
}

void cupti_session::register_rank(int rank) {
  std::lock_guard lock(m->mu);
  m->thread_rank[this_thread_id()] = rank;
}

void cupti_session::begin_point() {
  cuptiActivityFlushAll(1);
  std::lock_guard lock(m->mu);
  m->records.clear();
}

namespace {

// One point's records, indexed: NVTX ranges per thread, which thread launched each correlated GPU
// operation and when, and the allocations and releases in time order.
struct point_index {
  std::map<std::uint32_t, std::vector<range>> ranges;
  std::map<std::uint32_t, std::pair<std::uint32_t, std::uint64_t>> launch;  // corr -> (thread, time)
  std::vector<std::pair<std::uint64_t, std::int64_t>> memory;

  explicit point_index(const std::vector<rec>& recs) {
    std::map<std::uint32_t, rec> open;
    for (const rec& r : recs) {
      if (r.kind == rec_kind::marker_start) open[r.id] = r;
      if (r.kind == rec_kind::marker_end && open.count(r.id)) {
        const rec& s = open[r.id];
        ranges[s.thread].push_back({s.start, r.start, s.name});
        open.erase(r.id);
      }
      if (r.kind == rec_kind::api) launch[r.corr] = {r.thread, r.start};
      if (r.kind == rec_kind::alloc) memory.emplace_back(r.start, std::int64_t(r.bytes));
      if (r.kind == rec_kind::release) memory.emplace_back(r.start, -std::int64_t(r.bytes));
    }
    std::sort(memory.begin(), memory.end());
  }

  std::size_t alloc_peak() const {
    std::int64_t live = 0, peak = 0;
    for (auto [t, b] : memory) peak = std::max(peak, live += b);
    return std::size_t(peak);
  }

  const range* innermost(std::uint32_t thread, std::uint64_t t) const {
    auto it = ranges.find(thread);
    if (it == ranges.end()) return nullptr;
    const range* best = nullptr;
    for (const range& r : it->second)
      if (r.start <= t && t <= r.end && (!best || r.end - r.start < best->end - best->start)) best = &r;
    return best;
  }

  // Warm-up iterations (the engine's "warmup N" ranges) are left out of the breakdown, as they are
  // of the timed samples: a first iteration after an idle GPU can run at its idle clocks.
  bool in_warmup(std::uint32_t thread, std::uint64_t t) const {
    auto it = ranges.find(thread);
    if (it == ranges.end()) return false;
    for (const range& r : it->second)
      if (r.start <= t && t <= r.end && r.name.rfind("warmup ", 0) == 0) return true;
    return false;
  }
};

bool is_gpu_work(const rec& r) {
  return r.kind == rec_kind::kernel || r.kind == rec_kind::memcpy || r.kind == rec_kind::memset;
}

// Each GPU operation charged to the innermost phase range open on its launching thread, per iteration.
std::vector<kernel_stat> kernel_breakdown(const std::vector<rec>& recs, const point_index& idx,
                                          const std::string& label, int iterations) {
  std::map<std::pair<std::string, std::string>, kernel_stat> stats;
  for (const rec& r : recs) {
    auto it = idx.launch.find(r.corr);
    if (!is_gpu_work(r) || it == idx.launch.end()) continue;
    const auto [thread, at] = it->second;
    const range* in = idx.innermost(thread, at);
    if (!in || !is_phase(in->name, label) || idx.in_warmup(thread, at)) continue;
    kernel_stat& k = stats[{in->name, r.name}];
    k.phase = in->name;
    k.name = r.name;
    k.calls += 1;
    k.total_us += double(r.end - r.start) * 1e-3;
  }
  std::vector<kernel_stat> out;
  const double n = iterations > 0 ? double(iterations) : 1.0;
  for (auto& [key, k] : stats) {
    k.calls /= n;
    k.total_us /= n;
    out.push_back(k);
  }
  return out;
}

}  // namespace

// The point's GPU operations on one track per (rank, stream), its NVTX ranges on one per host thread.
void cupti_session::impl::add_trace_events(const std::vector<rec>& recs, const point_index& idx, const std::string& label) {
  auto rank_of = [&](std::uint32_t thread) {
    auto it = thread_rank.find(thread);
    return it == thread_rank.end() ? -1 : it->second;
  };
  auto name_track = [&](int pid, std::uint64_t tid, const std::string& name) {
    if (!named.insert({pid, tid}).second) return false;
    events.push_back({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
    return true;
  };
  for (const rec& r : recs) {
    if (!is_gpu_work(r)) continue;
    auto it = idx.launch.find(r.corr);
    const int pid = rank_of(it == idx.launch.end() ? 0 : it->second.first);
    if (!origin) origin = r.start;
    name_track(pid, r.stream, fmt::format("stream {}", r.stream));
    events.push_back({{"ph", "X"}, {"cat", r.kind == rec_kind::kernel ? "kernel" : "copy"}, {"name", r.name},
                      {"pid", pid}, {"tid", std::uint64_t(r.stream)}, {"ts", double(r.start - origin) * 1e-3},
                      {"dur", double(r.end - r.start) * 1e-3}, {"args", {{"bytes", r.bytes}, {"point", label}}}});
  }
  for (const auto& [thread, rs] : idx.ranges) {
    const int pid = rank_of(thread);
    const std::uint64_t tid = 1000000 + thread;
    if (name_track(pid, tid, fmt::format("host thread {} (NVTX)", thread)))
      events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", pid},
                        {"args", {{"name", pid < 0 ? std::string("host") : fmt::format("rank {}", pid)}}}});
    for (const range& r : rs) {
      if (!origin) origin = r.start;
      events.push_back({{"ph", "X"}, {"cat", "nvtx"}, {"name", r.name}, {"pid", pid}, {"tid", tid},
                        {"ts", double(std::int64_t(r.start - origin)) * 1e-3}, {"dur", double(r.end - r.start) * 1e-3}});
    }
  }
}

std::vector<kernel_stat> cupti_session::end_point(const std::string& label, int iterations, std::size_t* alloc_peak) {
  check_cupti(cuptiActivityFlushAll(1), "cuptiActivityFlushAll");
  std::vector<rec> recs;
  {
    std::lock_guard lock(m->mu);
    recs.swap(m->records);
  }
  const point_index idx(recs);
  if (alloc_peak) *alloc_peak = idx.alloc_peak();
  if (m->keep_trace) m->add_trace_events(recs, idx, label);
  return kernel_breakdown(recs, idx, label, iterations);
}

std::string cupti_session::trace_json() const {
  nlohmann::json doc{{"traceEvents", m->events}, {"displayTimeUnit", "ns"},
                     {"otherData", {{"generator", "shardbench --cupti --trace"}}}};
  return doc.dump() + '\n';
}

}  // namespace sb
