// Ranks as threads of one process: a barrier that can be aborted (so one rank's failure releases
// the others instead of hanging them), reductions, and a table through which ranks see each other's
// pointers. Used by the cpu and local backends and by the single-process nccl mode.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "harness/core/error.h"

namespace sb {

class thread_group {
 public:
  explicit thread_group(int size);
  int size() const { return m_size; }

  void barrier();  // throws runtime_error once the group is aborted
  void abort();    // wake every waiter; later barriers throw
  bool aborted() const;

  double max(int rank, double v);
  std::int64_t sum(int rank, std::int64_t v);

  // Slot per rank for pointers exchanged between barriers.
  void publish(int rank, const void* p) { m_slots[rank] = p; }
  const void* peer(int rank) const { return m_slots[rank]; }

 private:
  int m_size;
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  int m_waiting = 0;
  std::uint64_t m_generation = 0;
  bool m_aborted = false;
  std::vector<const void*> m_slots;
  std::vector<double> m_doubles;
  std::vector<std::int64_t> m_ints;
};

// Runs fn(rank) on `size` threads; if any throws, aborts the group and rethrows the first error
// after every thread has finished.
template <class Fn>
void run_ranks(thread_group& group, Fn&& fn);

}  // namespace sb

#include "harness/backends/thread_group_impl.h"
