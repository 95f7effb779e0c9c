#pragma once
#include <fmt/format.h>

#include <exception>
#include <system_error>
#include <thread>

namespace sb {

template <class Fn>
void run_ranks(thread_group& group, Fn&& fn) {
  std::vector<std::exception_ptr> errors(group.size());
  std::vector<std::thread> threads;
  threads.reserve(group.size());
  for (int r = 0; r < group.size(); ++r) {
    try {
      threads.emplace_back([&, r] {
        try {
          fn(r);
        } catch (...) {
          errors[r] = std::current_exception();
          group.abort();
        }
      });
    } catch (const std::system_error& e) {
      // The machine has no thread left for rank r: release the ranks already running (they may
      // wait for it in a barrier) and join them before reporting it.
      group.abort();
      for (auto& t : threads) t.join();
      throw runtime_error(fmt::format("cannot start a thread for rank {} of {}: {}", r, group.size(), e.what()));
    }
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
