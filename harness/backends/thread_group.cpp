#include "harness/backends/thread_group.h"

#include <algorithm>

namespace sb {

thread_group::thread_group(int size)
    : m_size(size), m_slots(std::size_t(size)), m_doubles(std::size_t(size)), m_ints(std::size_t(size)) {}

void thread_group::barrier() {
  std::unique_lock lock(m_mutex);
  if (m_aborted) throw group_aborted("rank group aborted after another rank failed");
  std::uint64_t gen = m_generation;
  if (++m_waiting == m_size) {
    m_waiting = 0;
    ++m_generation;
    m_cv.notify_all();
    return;
  }
  m_cv.wait(lock, [&] { return m_generation != gen || m_aborted; });
  if (m_generation == gen) throw group_aborted("rank group aborted after another rank failed");
}

void thread_group::abort() {
  std::lock_guard lock(m_mutex);
  m_aborted = true;
  m_cv.notify_all();
}

bool thread_group::aborted() const {
  std::lock_guard lock(m_mutex);
  return m_aborted;
}

double thread_group::max(int rank, double v) {
  m_doubles[rank] = v;
  barrier();
  double m = *std::max_element(m_doubles.begin(), m_doubles.end());
  barrier();  // nobody overwrites a slot before every rank has read them all
  return m;
}

std::int64_t thread_group::sum(int rank, std::int64_t v) {
  m_ints[rank] = v;
  barrier();
  std::int64_t s = 0;
  for (auto x : m_ints) s += x;
  barrier();
  return s;
}

}  // namespace sb
