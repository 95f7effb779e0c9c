// Host/device portability for the few headers whose code runs both on the CPU backend and in CUDA
// kernels. Sharing the code (not copying it) is what keeps the backends bit-identical.
#pragma once
#if defined(__CUDACC__)
#define SB_HD __host__ __device__ __forceinline__
#else
#define SB_HD inline
#endif
// Unroll a fixed-count loop in device code (a host compiler unrolls as it sees fit).
#if defined(__CUDA_ARCH__)
#define SB_UNROLL _Pragma("unroll")
#else
#define SB_UNROLL
#endif
