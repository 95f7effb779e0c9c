// The `pruned` variant of batch and usp: each rank sends each destination only its own draft
// columns (t2d ∩ its vocab shard, at the LM head's dtype) of the destination's rows, plus its local
// (max, argmax) per row; the destination forms the global argmax and target_p straight from what
// arrives, without ever holding full-vocab logits. Rows are packed already shifted, so the
// receiver's row i is the full paths' output row i and the consumer's result is bit for bit theirs.
#pragma once
#include "bench/path.h"

namespace sb {

// The output rows a rank receives (its full-vocab output's definition: batch or usp).
using output_rows_fn = expected_spec (*)(const shape& s, int rank);

// Adds input, send and receive buffers (pack in step 0, exchange in step 1) and the byte counts;
// the caller then adds the consumer stage over "recv" (add_consumer, given the same d2t: drawn once
// per plan), which runs in a later step.
void plan_pruned(path_plan& p, const shape& s, int rank, output_rows_fn rows_of, const std::vector<std::int32_t>& d2t);
void run_pruned(rank_context& ctx, output_rows_fn rows_of);

}  // namespace sb
