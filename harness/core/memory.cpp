#include "harness/core/memory.h"

#include <algorithm>
#include <numeric>
#include <string>

#include "harness/core/error.h"

namespace sb {

void check_lifetimes(const std::vector<buffer_spec>& buffers) {
  int last = 0;
  for (const auto& b : buffers) last = std::max(last, b.last_step);
  for (const auto& b : buffers)
    if (b.is_input() && (b.first_step != 0 || b.last_step != last))
      throw runtime_error("plan error: input buffer '" + b.name + "' must be live at every step (0.." +
                          std::to_string(last) + ")");
}

std::size_t peak_live_bytes(const std::vector<buffer_spec>& buffers) {
  int last = 0;
  for (const auto& b : buffers) last = std::max(last, b.last_step);
  std::size_t peak = 0;
  for (int step = 0; step <= last; ++step) {
    std::size_t live = 0;
    for (const auto& b : buffers)
      if (b.first_step <= step && step <= b.last_step) live += b.bytes();
    peak = std::max(peak, live);
  }
  return peak;
}

namespace {
std::size_t align_up(std::size_t v) { return (v + kArenaAlign - 1) / kArenaAlign * kArenaAlign; }
bool overlap_in_time(const buffer_spec& a, const buffer_spec& b) {
  return a.first_step <= b.last_step && b.first_step <= a.last_step;
}
}  // namespace

// Greedy by size, largest first: each buffer takes the lowest offset that does not collide with an
// already placed buffer alive at the same time. Exact for the chains of copies our paths make.
arena_layout plan_arena(const std::vector<buffer_spec>& buffers) {
  check_lifetimes(buffers);
  std::vector<std::size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return buffers[a].bytes() > buffers[b].bytes(); });
  arena_layout out;
  out.offsets.assign(buffers.size(), 0);
  std::vector<std::size_t> placed;
  for (std::size_t i : order) {
    std::size_t size = align_up(buffers[i].bytes());
    std::size_t offset = 0;
    bool moved = true;
    while (moved) {  // slide past every live collision until none remains
      moved = false;
      for (std::size_t j : placed) {
        if (!overlap_in_time(buffers[i], buffers[j])) continue;
        std::size_t js = out.offsets[j], je = js + align_up(buffers[j].bytes());
        if (offset < je && js < offset + size) {
          offset = je;
          moved = true;
        }
      }
    }
    out.offsets[i] = offset;
    out.size = std::max(out.size, offset + size);
    placed.push_back(i);
  }
  return out;
}

void memory_tracker::on_alloc(std::size_t bytes) {
  m_current += bytes;
  m_peak = std::max(m_peak, m_current);
}

void memory_tracker::on_free(std::size_t bytes) { m_current -= std::min(bytes, m_current); }

}  // namespace sb
