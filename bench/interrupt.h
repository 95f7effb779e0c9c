// SIGINT and SIGTERM during a run (docs/cli.md): the first asks the engine to stop, which abandons
// the point in flight at its next iteration (every rank at the same one) and ends the run with the
// finished points written; a second ends the process at once.
#pragma once
#include <atomic>
#include <csignal>
#include <string>

#include "harness/core/error.h"

namespace sb {

// The run was stopped by a signal; thrown by the engine, caught by the command.
class interrupted : public runtime_error {
 public:
  interrupted(int sig, const std::string& what) : runtime_error(what), m_sig(sig) {}
  int signal() const { return m_sig; }

 private:
  int m_sig;
};

// Installs the handlers for its lifetime (and restores the previous ones after). A signal handler
// may only touch state of static storage duration: the signal taken lives in one atomic of the
// implementation file, which this object is the only way to reach.
class interrupt_watch {
 public:
  interrupt_watch();
  ~interrupt_watch();
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

  const std::atomic<int>& taken() const;  // 0, or the signal taken
  static const char* name(int sig);       // "SIGINT", "SIGTERM"

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

}  // namespace sb
