// Stand-in for CUDA's cuda_fp16.h when kernels.cu is compiled for the CPU:
// the compiler's own IEEE half (_Float16), which converts to nearest even.
#pragma once

struct __half {
    _Float16 v;
};

inline float __half2float(__half h) { return float(h.v); }
inline __half __float2half_rn(float f) { return {_Float16(f)}; }
