// The one header through which host code reaches the CUDA kernels (DeepEP's kernels/api.cuh idea).
// One params struct per kernel, shared with the CPU backend (harness/core/layout_ops.h), so both compute
// the same elements. Launchers check their preconditions and throw sb::runtime_error naming the
// offending value; they launch on the given stream and never synchronise.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "harness/core/consumer_ops.h"
#include "harness/core/layout_ops.h"

namespace sb::kernels {

// remap_desc (harness/core/layout_ops.h): pack, unpack/reorder, slice+upcast, shift, aligned slices, and
// generated peer blocks. Uses 16-byte vector loads and stores when every row start and peer block
// is 8-element aligned, and a scalar kernel otherwise (or for a generated source).
void launch_remap(const remap_desc& d, cudaStream_t stream);

// Several re-layouts in one launch (small tensors: one launch instead of n); same elements as n
// launch_remap calls on disjoint outputs.
void launch_remap_many(const remap_desc* ds, int n, cudaStream_t stream);

// Writes a tensor's definition (expected_spec) into dst: inputs, and the position-id arange.
void launch_fill(void* dst, const expected_spec& e, cudaStream_t stream);

// Device-side verification: counts the elements that differ from the definition and finds the
// first one, without copying the tensor to the host. `scratch` is two device words (count, first
// index); read them after the stream has finished.
struct verify_scratch {
  unsigned long long count;
  unsigned long long first_index;  // ULLONG_MAX when there is no mismatch
};
void launch_verify(const void* data, const expected_spec& e, verify_scratch* scratch, cudaStream_t stream);

// The consumer stage (harness/core/consumer_ops.h): target_p and position_mask of every row.
void launch_consume(const consumer_desc& d, cudaStream_t stream);
// Recomputes the consumer stage from d's source (normally `generated`: the rows' definition) and
// compares with the target_p / position_mask d points at; scratch[0] counts target_p mismatches,
// scratch[1] position_mask ones.
void launch_verify_consumer(const consumer_desc& d, verify_scratch* scratch, cudaStream_t stream);
// The pruned sender: draft columns and local (max, argmax) of every row.
void launch_prune_pack(const prune_desc& d, cudaStream_t stream);
// The sender's packs for several destinations (same elements as n launch_prune_pack calls): one
// launch for those that read the same aligned shard with the same draft columns.
void launch_prune_pack_many(const prune_desc* ds, int n, cudaStream_t stream);
struct pack_card;
// The same, choosing its kernel as on a card like `card` (tests run the H100's choice on any GPU).
void launch_prune_pack_many(const prune_desc* ds, int n, cudaStream_t stream, const pack_card& card);

// Holds `stream` until the host stores a non-zero int at `open` (host memory mapped to the device,
// e.g. cudaHostAlloc(cudaHostAllocMapped)), so the work queued behind it runs back to back however
// slowly the host enqueues it (nvbench's blocking kernel); after timeout_s it gives up and stores 1
// at `timed_out` (mapped too), and the queued work then ran at the host's pace.
void launch_gate(const int* open, int* timed_out, double timeout_s, cudaStream_t stream);

// What the pruned sender's choice of kernel reads of the card (kernels/consumer.cu,
// pick_pack_kernel): its memory bus width in bits (H100 5 120, H200 6 144), its SM count and its
// compute capability (major·10 + minor; the bulk-copy kernel needs 90).
struct pack_card {
  int bus_bits = 6144;
  int sms = 132;
  int cc = 90;
};
pack_card current_pack_card();  // the current device's

// Which of the pruned sender's kernels launch_prune_pack takes for d's rows (for tests and reports):
// "split 64+64", "split 128+128", "split 128+128 staggered" (its first wave's blocks start at
// staggered times), "bulk row" (a block per row, the row by one bulk copy into shared memory),
// "scan-then-gather" or "element by element"; on the current device, or on a card like `card`.
const char* prune_pack_kernel(const prune_desc& d);
const char* prune_pack_kernel(const prune_desc& d, const pack_card& card);

// Whether launch_remap takes the vectorised path for this descriptor (for tests and reports).
bool remap_is_vectorized(const remap_desc& d);

// The kernel launch_remap runs for d: "vector" (a same-type move), "vector upcast, 4 loads" (a
// bf16/fp16 -> fp32 upcast moving under 128 MiB), "vector upcast, 2 loads" (a longer one),
// "generated" or "element by element".
const char* remap_kernel(const remap_desc& d);

}  // namespace sb::kernels
