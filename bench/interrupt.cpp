#include "bench/interrupt.h"

#include <unistd.h>

namespace sb {

namespace {
std::atomic<int> g_taken{0};  // written by the handler only (lock-free: safe in a signal handler)

extern "C" void on_signal(int sig) {
  int none = 0;
  if (!g_taken.compare_exchange_strong(none, sig)) _exit(128 + sig);  // the second signal: at once
}
}  // namespace

interrupt_watch::interrupt_watch() {
  g_taken.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &m_old_int);
  sigaction(SIGTERM, &sa, &m_old_term);
}

interrupt_watch::~interrupt_watch() {
  sigaction(SIGINT, &m_old_int, nullptr);
  sigaction(SIGTERM, &m_old_term, nullptr);
}

const std::atomic<int>& interrupt_watch::taken() const { return g_taken; }

const char* interrupt_watch::name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal"; }

}  // namespace sb
