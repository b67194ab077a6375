// Runs CUDA kernels on the CPU, for tests, on one OS thread: each GPU
// thread is a fiber (ucontext) with its own stack. A warp's 32 lanes run in
// turn, each until its next shuffle or __syncwarp, and none passes that
// point until every lane has reached it, which is what warp-synchronous
// code relies on. Warps and blocks run one after another: kernels.cu never
// synchronises a whole block, and its warps' shared memory does not
// overlap, so one array serves as every block's shared memory. A warp whose
// lanes part around a shuffle (some finished, some waiting: undefined on a
// GPU with a full mask) stops the run with an error instead. Only what
// kernels.cu uses is here.
#pragma once
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__

struct uint3 {
    unsigned x, y, z;
};

inline uint3 threadIdx, blockIdx, blockDim, gridDim;

namespace emulation {

constexpr size_t STACK_BYTES = 256 * 1024;

struct Lane {
    ucontext_t context;
    bool done = false;
    bool waiting = false;  // stopped at a warp barrier this round
    std::vector<char> stack = std::vector<char>(STACK_BYTES);
};

inline ucontext_t scheduler;
inline Lane lanes[32];
inline int current = 0;
inline float exchange[32];
inline std::function<void()> kernel;

// Where a lane waits for the rest of its warp.
inline void warp_barrier() {
    lanes[current].waiting = true;
    swapcontext(&lanes[current].context, &scheduler);
}

inline void lane_main() {
    kernel();
    lanes[current].done = true;  // then uc_link returns to the scheduler
}

// Runs one warp (its first thread `first_thread` of the block) to the end.
inline void run_warp(unsigned first_thread) {
    for (int l = 0; l < 32; l++) {
        Lane& lane = lanes[l];
        getcontext(&lane.context);
        lane.context.uc_stack.ss_sp = lane.stack.data();
        lane.context.uc_stack.ss_size = lane.stack.size();
        lane.context.uc_link = &scheduler;
        makecontext(&lane.context, lane_main, 0);
        lane.done = false;
    }
    for (;;) {
        int finished = 0, waited = 0;
        for (int l = 0; l < 32; l++) {
            if (lanes[l].done) continue;
            current = l;
            threadIdx = {first_thread + l, 0, 0};
            lanes[l].waiting = false;
            swapcontext(&scheduler, &lanes[l].context);
            if (lanes[l].waiting) waited++;
        }
        for (int l = 0; l < 32; l++) finished += lanes[l].done;
        if (finished == 32) return;
        if (waited != 32 - finished || finished != 0) {
            std::fprintf(stderr, "a warp's lanes parted around a shuffle or __syncwarp\n");
            std::exit(3);
        }
    }
}

}  // namespace emulation

inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
    const int lane = threadIdx.x % 32;
    emulation::exchange[lane] = v;
    emulation::warp_barrier();
    const float other = emulation::exchange[lane ^ lane_mask];
    emulation::warp_barrier();  // nobody overwrites before every lane has read
    return other;
}

inline void __syncwarp() { emulation::warp_barrier(); }

inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

// Runs `kernel` on `grid` blocks of `block` threads (a multiple of 32).
template <typename Kernel>
void launch(unsigned grid, unsigned block, Kernel kernel) {
    if (block % 32 != 0) {
        std::fprintf(stderr, "blocks of %u threads: not whole warps\n", block);
        std::exit(3);
    }
    gridDim = {grid, 1, 1};
    blockDim = {block, 1, 1};
    emulation::kernel = kernel;
    for (unsigned b = 0; b < grid; b++) {
        blockIdx = {b, 0, 0};
        for (unsigned w = 0; w < block / 32; w++) emulation::run_warp(w * 32);
    }
}
