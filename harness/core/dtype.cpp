#include "harness/core/dtype.h"

#include "harness/core/error.h"

namespace sb {

std::string_view to_string(dtype t) {
  switch (t) {
    case dtype::bf16: return "bf16";
    case dtype::fp16: return "fp16";
    case dtype::fp32: return "fp32";
    case dtype::i32: return "i32";
    case dtype::i64: return "i64";
  }
  return "?";
}

dtype parse_dtype(std::string_view s) {
  if (s == "bf16") return dtype::bf16;
  if (s == "fp16") return dtype::fp16;
  if (s == "fp32") return dtype::fp32;
  throw_config("unknown dtype '" + std::string(s) + "' (expected one of: bf16, fp16, fp32)");
}

bool is_float(dtype t) { return t == dtype::bf16 || t == dtype::fp16 || t == dtype::fp32; }

}  // namespace sb
