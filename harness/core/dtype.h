// Element types. bf16/fp16 travel as raw 16-bit patterns on the host; conversions below are exact
// for every value the generators produce (at most 8 significant bits, exponent within fp16 range).
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "harness/core/hd.h"

namespace sb {

// bf16/fp16/fp32 are the sweep's `dtype` axis (the LM head's output); i32/i64 carry ids, masks and
// position ids of the usp aligned tensors.
enum class dtype : std::uint8_t { bf16, fp16, fp32, i32, i64 };

SB_HD std::size_t dtype_size(dtype t) {
  switch (t) {
    case dtype::bf16:
    case dtype::fp16: return 2;
    case dtype::fp32:
    case dtype::i32: return 4;
    case dtype::i64: return 8;
  }
  return 0;
}

std::string_view to_string(dtype t);
dtype parse_dtype(std::string_view s);  // throws config_error naming the accepted values
bool is_float(dtype t);

SB_HD float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
SB_HD std::uint32_t float_to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

SB_HD float bf16_to_float(std::uint16_t h) { return bits_to_float(std::uint32_t(h) << 16); }

// Round to nearest even; NaN stays NaN.
SB_HD std::uint16_t float_to_bf16(float f) {
  std::uint32_t u = float_to_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::uint16_t(u >> 16);
}

SB_HD float fp16_to_float(std::uint16_t h) {
  std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    if (man == 0) return bits_to_float(sign);
    // subnormal: value = man * 2^-24
    float v = float(man) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return bits_to_float(sign | 0x7f800000u | (man << 13));
  return bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

// Round to nearest even, overflow to inf, subnormals handled.
SB_HD std::uint16_t float_to_fp16(float f) {
  std::uint32_t u = float_to_bits(f);
  std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
  std::uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return std::uint16_t(sign | 0x7e00u);
  if (a >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // rounds to >= 65520 -> inf
  if (a < 0x38800000u) {                                        // below fp16's min normal 2^-14
    float v = bits_to_float(a) * 16777216.0f;                    // in units of 2^-24
    std::uint32_t m = std::uint32_t(v);
    float rem = v - float(m);
    if (rem > 0.5f || (rem == 0.5f && (m & 1u))) ++m;
    return std::uint16_t(sign | m);
  }
  std::uint32_t exp = (a >> 23) - 112u;
  std::uint32_t man = a & 0x7fffffu;
  std::uint32_t h = (exp << 10) | (man >> 13);
  std::uint32_t rest = man & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return std::uint16_t(sign | h);
}

// Loads element i of a float-typed buffer as fp32 (the upcast every path's output goes through).
SB_HD float load_as_float(const void* p, std::int64_t i, dtype t) {
  switch (t) {
    case dtype::bf16: return bf16_to_float(static_cast<const std::uint16_t*>(p)[i]);
    case dtype::fp16: return fp16_to_float(static_cast<const std::uint16_t*>(p)[i]);
    case dtype::fp32: return static_cast<const float*>(p)[i];
    default: return 0.0f;
  }
}

SB_HD void store_from_float(void* p, std::int64_t i, dtype t, float v) {
  switch (t) {
    case dtype::bf16: static_cast<std::uint16_t*>(p)[i] = float_to_bf16(v); break;
    case dtype::fp16: static_cast<std::uint16_t*>(p)[i] = float_to_fp16(v); break;
    case dtype::fp32: static_cast<float*>(p)[i] = v; break;
    default: break;
  }
}

}  // namespace sb
