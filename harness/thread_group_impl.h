#pragma once
#include <exception>
#include <thread>

namespace sb {

template <class Fn>
void run_ranks(thread_group& group, Fn&& fn) {
  std::vector<std::exception_ptr> errors(group.size());
  std::vector<std::thread> threads;
  threads.reserve(group.size());
  for (int r = 0; r < group.size(); ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(r);
      } catch (...) {
        errors[r] = std::current_exception();
        group.abort();
      }
    });
  }
  for (auto& t : threads) t.join();
  // Prefer the root cause over the "group aborted" errors it triggered in the other ranks.
  std::exception_ptr first;
  for (auto& e : errors) {
    if (!e) continue;
    try {
      std::rethrow_exception(e);
    } catch (const group_aborted&) {
      if (!first) first = e;
      continue;
    } catch (...) {
      std::rethrow_exception(e);
    }
  }
  if (first) std::rethrow_exception(first);
}

}  // namespace sb
