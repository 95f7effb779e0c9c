// Bandwidth exactly as nccl-tests defines it (docs/bandwidth.md):
//   algbw = S_op / time, with S_op the collective's size in nccl-tests' terms
//           (all-gather: the whole gathered buffer, P·count·size; all-to-all: the whole send buffer),
//   busbw = algbw · (P-1)/P for both all-gather and all-to-all.
// GB/s here are 1e9 bytes per second, as nccl-tests prints them.
#pragma once
#include <cstddef>

namespace sb {

inline double algbw_gbps(std::size_t op_bytes, double time_us) {
  return time_us > 0 ? double(op_bytes) / (time_us * 1e-6) / 1e9 : 0.0;
}

inline double busbw_factor(int ranks) { return ranks > 0 ? double(ranks - 1) / double(ranks) : 0.0; }

inline double busbw_gbps(std::size_t op_bytes, double time_us, int ranks) {
  return algbw_gbps(op_bytes, time_us) * busbw_factor(ranks);
}

}  // namespace sb
