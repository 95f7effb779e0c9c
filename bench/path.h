// One interface for the three paths (nccl-tests' one-plugin-per-collective idea). A path declares
// its buffers (with lifetimes, inputs and the definitions its outputs must meet) and moves data
// through its rank's backend. It never times or prints: the engine times, printers print.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/backends/rank_backend.h"
#include "harness/core/memory.h"
#include "harness/backends/nvtx.h"
#include "harness/core/point.h"
#include "harness/core/shape.h"
#include "harness/core/t2d.h"

namespace sb {

struct path_plan {
  std::vector<buffer_spec> buffers;
  std::vector<std::string> steps;  // what each step does, by index (buffer_spec::first_step/last_step)
  collective_kind collective = collective_kind::all_gather;
  std::size_t bytes_sent = 0;    // bytes leaving this rank per iteration
  std::size_t op_bytes = 0;      // nccl-tests' size S_op of the collective actually issued
  std::size_t useful_bytes = 0;  // bytes from peers the output needs, at the LM head's dtype
  // The consumer stage's rows (their logits' definition), when the shape has one: the engine
  // verifies target_p and position_mask against it.
  std::optional<expected_spec> consumer_rows;
  std::vector<draft_share> draft;        // per rank: its draft columns (consumer stage only)
  std::vector<std::string> peer_shared;  // buffers whose peers' copies the path reads in place
};

// What a path sees of its rank: the shape, its backend and its buffers by name.
class rank_context {
 public:
  rank_context(const shape& s, rank_backend& comm, std::map<std::string, void*, std::less<>> buffers,
               const nvtx_domain* nvtx = nullptr, const path_plan* plan = nullptr)
      : m_shape(s), m_comm(comm), m_buffers(std::move(buffers)), m_nvtx(nvtx), m_plan(plan) {}

  const shape& shp() const { return m_shape; }
  rank_backend& backend() { return m_comm; }
  int rank() const { return m_comm.rank(); }
  void* buf(std::string_view name) const;  // throws runtime_error for a name the plan lacks
  const path_plan& plan() const;            // the plan the buffers follow (throws if none was given)
  // Every rank's address of a buffer listed in plan().peer_shared (set up by the engine).
  const std::vector<const void*>& peers(std::string_view name) const;
  void set_peers(const std::string& name, std::vector<const void*> p) { m_peers[name] = std::move(p); }

  // Marks a phase for the engine's timers and the NVTX timeline.
  class phase_scope {
   public:
    phase_scope(rank_backend& c, const nvtx_domain* d, std::string_view name)
        : m_comm(c), m_range(d, std::string(name), nvtx_color(name)) {
      m_comm.phase_begin(name);
    }
    ~phase_scope() { m_comm.phase_end(); }
    phase_scope(const phase_scope&) = delete;
    phase_scope& operator=(const phase_scope&) = delete;

   private:
    rank_backend& m_comm;
    nvtx_range m_range;
  };
  phase_scope phase(std::string_view name) { return phase_scope(m_comm, m_nvtx, name); }

 private:
  const shape& m_shape;
  rank_backend& m_comm;
  std::map<std::string, void*, std::less<>> m_buffers;
  const nvtx_domain* m_nvtx;
  const path_plan* m_plan;
  std::map<std::string, std::vector<const void*>, std::less<>> m_peers;
};

class path {
 public:
  virtual ~path() = default;
  virtual path_kind kind() const = 0;
  virtual variant_kind variant() const = 0;
  virtual path_plan plan(const shape& s, int rank) const = 0;
  virtual void run(rank_context& ctx) const = 0;  // data movement only
};

std::unique_ptr<path> make_path(path_kind p, variant_kind v);

// ---- helpers shared by the paths -------------------------------------------------------------
// A buffer of shape `dims` (its elements are their product), alive from step first_step to last_step.
buffer_spec make_buffer(std::string name, dtype t, std::vector<std::int64_t> dims, int first_step, int last_step);
// The shape of a tensor of one window (the usp aligned tensors, the global inputs): [rows, cols],
// or [rows] for a tensor of one column (ids, masks, positions).
std::vector<std::int64_t> dims_of(const expected_spec& e);
buffer_spec input_logits_buffer(const shape& s, int rank, int last_step);  // "input", filled by g
// A plain dense 2-D re-layout: rows × cols from src (leading dim src_ld) to dst (leading dim dst_ld).
remap_desc dense_copy(const void* src, dtype st, std::int64_t src_ld, void* dst, dtype dt, std::int64_t dst_ld,
                      std::int64_t rows, std::int64_t cols);
// Splits the rows into `windows` windows (samples) of `win_len` rows, `src_stride` rows apart in the
// source, and shifts each one token left: row j takes source row j+1 while j+1 < valid_len, else 0
// (SpecForge's padding(target, left=False)).
void shift_windows(remap_desc& d, std::int64_t windows, std::int64_t win_len, std::int64_t src_stride,
                   std::int64_t valid_len);
// Peer q's input shard as the generator makes it (for peer models): element (r, v) = L_q[r, v].
remap_desc generated_shard(const shape& s, int q, dtype out_type);
// Turns d's source into peer q's generated shard (same addressing as its memory shard).
void generate_from_peer(remap_desc& d, const shape& s, int q);
// The row mapping that reads output rows `out` (an output definition: windows of win_len rows,
// tokens from tok_base, shifted) from a [T, cols] tensor of all tokens.
void rows_like(remap_desc& d, const expected_spec& out);
// The full-vocab output [rows, Vp] fp32 read in place from every rank's input shard (peer_pull).
remap_desc pull_desc(const shape& s, const rank_context& ctx, const expected_spec& out);
// The peer_pull variant's whole exchange, as its own phase: `out` read in place from every shard.
void run_pull(rank_context& ctx, const expected_spec& out);

// ---- the consumer stage (shape::consumer) ----------------------------------------------------
// Adds d2t and the global loss mask (inputs), target_p and position_mask (outputs) in a step after
// every other, keeps `logits` (the path's output, may be empty for pruned) alive until then, and
// records the rows' definition for the verifier.
void add_consumer(path_plan& p, const shape& s, const std::string& logits, const expected_spec& rows,
                  const std::vector<std::int32_t>* d2t = nullptr);  // make_d2t(s) when not given
// The consumer's descriptor over the rank's buffers, with the source left for the caller.
consumer_desc consumer_over(const shape& s, const rank_context& ctx, const expected_spec& rows);
// Runs the consumer stage (its own phase) on a full-vocab fp32 output of row length `ld`.
void run_consumer(rank_context& ctx, const std::string& logits, std::int64_t ld, const expected_spec& rows);

}  // namespace sb
