// One measured point's shape and topology, validated in one place (DeepEP's self-checking Config).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "harness/core/dtype.h"

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

// Upper bounds on every axis (docs/cli.md), checked before anything is planned, allocated or
// expanded. They are far above any real model (DeepSeek-V3: tp 8, 128K context, vocab 129 280) and
// keep every derived size well inside the integers that hold it: ranks are threads or processes,
// a plan lists a buffer per rank, and column ids are int32.
inline constexpr std::int64_t kMaxTp = 1024;
inline constexpr std::int64_t kMaxSp = 1024;  // each of sp_ulysses and sp_ring
inline constexpr std::int64_t kMaxBatch = std::int64_t(1) << 20;
inline constexpr std::int64_t kMaxSeq = std::int64_t(1) << 24;
inline constexpr std::int64_t kMaxVocab = (std::int64_t(1) << 31) - 1;  // padded too: int32 column ids
inline constexpr std::int64_t kMaxVocabPad = std::int64_t(1) << 20;
inline constexpr std::int64_t kMaxHidden = std::int64_t(1) << 20;
inline constexpr std::int64_t kMaxTtt = std::int64_t(1) << 24;

// A value against its axis's bound: config_error "<what> must be between <low> and <max> (got v)".
void require_in_range(std::int64_t v, std::int64_t low, std::int64_t max, const char* what);

// The rules on the shape alone, for a path (sizes, divisibility, the usp layout); throws
// config_error naming the broken rule.
void validate_shape(const shape& s, path_kind p);
// The shape's rules, then whether the variant applies to the path and the shape's stage.
void validate(const shape& s, path_kind p, variant_kind v);
// Why variant v cannot run on path p with s's consumer and tp, whatever the sizes ("" when it can).
std::string variant_rule_broken(const shape& s, path_kind p, variant_kind v);

}  // namespace sb
