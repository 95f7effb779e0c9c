// One measured point's shape and topology, validated in one place (DeepEP's self-checking Config).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/dtype.h"

namespace sb {

enum class path_kind : std::uint8_t { baseline, batch, usp };
enum class variant_kind : std::uint8_t { specforge, fused, peer_pull, pruned };
// What runs after the path: nothing, or the EAGLE3 trainer's target_p / position_mask.
enum class consumer_kind : std::uint8_t { none, target_p };
// How the draft vocabulary t2d is drawn: uniformly, or crowded into low token ids as frequency-ranked
// vocabularies are (so rank 0's shard holds more of it).
enum class t2d_kind : std::uint8_t { uniform, skewed };

std::string_view to_string(path_kind p);
std::string_view to_string(variant_kind v);
path_kind parse_path(std::string_view s);        // throws config_error
variant_kind parse_variant(std::string_view s);  // throws config_error
std::string_view to_string(consumer_kind c);
std::string_view to_string(t2d_kind t);
consumer_kind parse_consumer(std::string_view s);  // throws config_error
t2d_kind parse_t2d(std::string_view s);            // throws config_error

struct shape {
  dtype type = dtype::bf16;  // w: the LM head's output dtype
  int tp = 1;                // P
  int sp_ulysses = 1;        // U
  int sp_ring = 1;           // R
  std::int64_t batch = 1;    // B
  std::int64_t seq = 1024;   // S
  std::int64_t vocab = 32000;
  std::int64_t vocab_pad = 64;  // SGLang pads the vocab to a multiple of this
  std::int64_t hidden = 4096;   // H (the draft consumes 3H)
  std::int64_t ttt = 7;
  std::uint64_t seed = 1;
  consumer_kind consumer = consumer_kind::none;
  std::int64_t draft_vocab = 32000;  // Vd, the draft model's vocabulary (DeepSeek-V3's EAGLE3: 32 000)
  t2d_kind t2d = t2d_kind::uniform;

  int sp() const { return sp_ulysses * sp_ring; }
  std::int64_t tokens() const { return batch * seq; }
  std::int64_t vocab_padded() const { return (vocab + vocab_pad - 1) / vocab_pad * vocab_pad; }
  std::int64_t vocab_local() const { return vocab_padded() / tp; }
  std::int64_t hidden3() const { return 3 * hidden; }
  bool has_consumer() const { return consumer != consumer_kind::none; }
  std::string label() const;  // compact, for tables and NVTX: "tp8 sp8x1 b1 s32768 v129280 bf16"
};

// Throws config_error naming the broken rule. Rules common to all paths, then the path's own.
void validate(const shape& s, path_kind p, variant_kind v);

}  // namespace sb
