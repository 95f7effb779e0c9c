// Memory model: every buffer a path holds, with the steps it is live in, and the per-rank tracker.
//
// A path lists its buffers with lifetimes (the steps between which it is alive, as PyTorch frees a
// tensor once nothing refers to it). The analytic peak is the largest sum of live buffers over the
// steps; the arena places buffers with disjoint lifetimes at shared offsets, and its size is what is
// actually allocated (and tracked). The two are computed independently, so a layout that wastes
// memory shows up as tracked > predicted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/dtype.h"
#include "harness/core/layout_ops.h"

namespace sb {

struct buffer_spec {
  std::string name;
  dtype type = dtype::fp32;
  std::int64_t elements = 0;
  int first_step = 0;  // alive from the start of this step...
  int last_step = 0;   // ...to the end of this one (inclusive)
  std::optional<expected_spec> fill;   // an input: the engine fills it with this definition
  std::optional<expected_spec> check;  // an output: verified against this definition
  std::shared_ptr<const std::vector<char>> upload;  // an input given as bytes (the draft vocabulary)
  std::vector<std::int64_t> dims;      // its shape: the plan lists it, dumps write it
  bool dump = false;                   // written by `run --dump`

  bool is_input() const { return fill.has_value() || upload != nullptr; }
  std::size_t bytes() const { return std::size_t(elements) * dtype_size(type); }
};

// Inputs (buffers with `fill`) persist across iterations, so they must be live at every step;
// throws runtime_error naming the buffer otherwise (a path bug: a later step would overwrite it).
void check_lifetimes(const std::vector<buffer_spec>& buffers);

// Largest sum of bytes of buffers alive at the same step.
std::size_t peak_live_bytes(const std::vector<buffer_spec>& buffers);

struct arena_layout {
  std::vector<std::size_t> offsets;  // one per buffer, kArenaAlign-aligned
  std::size_t size = 0;
};
inline constexpr std::size_t kArenaAlign = 256;  // cudaMalloc's alignment; keeps 16-byte vector access legal
arena_layout plan_arena(const std::vector<buffer_spec>& buffers);

// Per-rank bytes held through the allocator: current and peak. Single-threaded per rank.
class memory_tracker {
 public:
  void on_alloc(std::size_t bytes);
  void on_free(std::size_t bytes);
  void reset_peak() { m_peak = m_current; }
  std::size_t current() const { return m_current; }
  std::size_t peak() const { return m_peak; }

 private:
  std::size_t m_current = 0;
  std::size_t m_peak = 0;
};

}  // namespace sb
