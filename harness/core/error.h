// One error family for the whole project. Every error the user can cause or meet maps to one
// exception type, and main() maps each type to one exit code (see docs/cli.md):
//   config_error -> 2, verification failures -> 1 (not an exception), runtime_error/cuda/nccl -> 3.
#pragma once
#include <stdexcept>
#include <string>

namespace sb {

// Bad config or usage: the message names the rule that was broken.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure of the machine or a library (CUDA, NCCL, MPI, files).
class runtime_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An allocation that did not fit: the engine records the point as `oom` and moves on.
class oom_error : public runtime_error {
 public:
  using runtime_error::runtime_error;
};

// Raised in the other ranks of a group when one rank failed; the root cause is reported instead.
class group_aborted : public runtime_error {
 public:
  using runtime_error::runtime_error;
};

[[noreturn]] void throw_config(const std::string& msg);
[[noreturn]] void throw_runtime(const std::string& msg);

// Precondition checks for public entry points (launchers, layout math).
#define SB_EXPECT(cond, msg)                    \
  do {                                          \
    if (!(cond)) ::sb::throw_config(msg);       \
  } while (0)

}  // namespace sb
