// Runs CUDA kernels on the CPU, for tests, on one OS thread: each of a
// warp's 32 lanes is a fiber with its own stack. The lanes run in turn, each
// until its next shuffle or __syncwarp, and none passes that point until
// every lane has reached it, which is what warp-synchronous code relies on.
// Warps and blocks run one after another: kernels.cu never synchronises a
// whole block, and its warps' shared memory does not overlap, so one array
// serves as every block's shared memory. A warp whose lanes part around a
// shuffle (some finished, some waiting: undefined on a GPU with a full mask)
// stops the run with an error instead. Only what kernels.cu uses is here.
//
// The 32 fibers are made once and run lane after lane, warp after warp.
// They switch with _setjmp/_longjmp: glibc's swapcontext makes a system call
// (the signal mask) at every switch, which was three quarters of a run's
// time. Under the address sanitizer, which follows swapcontext but not a
// longjmp onto another stack, they switch with swapcontext.
#pragma once
#include <setjmp.h>
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define EMULATION_SWAPCONTEXT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMULATION_SWAPCONTEXT 1
#endif
#endif

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

struct Fiber {
    ucontext_t context;  // where it starts (and, under the sanitizer, where it is)
    jmp_buf resume;      // where it is, once started
    bool started = false;
};

// Leaves `from` for `to`: resumes `to` where it last left, or starts it.
inline void switch_fiber(Fiber& from, Fiber& to) {
#ifdef EMULATION_SWAPCONTEXT
    swapcontext(&from.context, &to.context);
#else
    if (_setjmp(from.resume) == 0) {
        from.started = true;  // it has a place to resume now
        if (to.started) _longjmp(to.resume, 1);
        to.started = true;
        setcontext(&to.context);
    }
#endif
}

struct Lane {
    Fiber fiber;
    bool done = false;
    bool waiting = false;  // stopped at a warp barrier this round
    std::vector<char> stack = std::vector<char>(STACK_BYTES);
};

inline Fiber scheduler;
inline Lane lanes[32];
inline int current = 0;
inline float exchange[32];
inline std::function<void()> kernel;

// Where a lane waits for the rest of its warp.
inline void warp_barrier() {
    lanes[current].waiting = true;
    switch_fiber(lanes[current].fiber, scheduler);
}

// A lane's fiber: the kernel for each warp it is given, never returning.
inline void lane_main() {
    for (;;) {
        kernel();
        lanes[current].done = true;
        switch_fiber(lanes[current].fiber, scheduler);
    }
}

// Runs one warp (its first thread `first_thread` of the block) to the end.
inline void run_warp(unsigned first_thread) {
    for (int l = 0; l < 32; l++) {
        Lane& lane = lanes[l];
        if (lane.fiber.context.uc_stack.ss_sp == nullptr) {  // its first warp
            getcontext(&lane.fiber.context);
            lane.fiber.context.uc_stack.ss_sp = lane.stack.data();
            lane.fiber.context.uc_stack.ss_size = lane.stack.size();
            lane.fiber.context.uc_link = nullptr;  // lane_main never returns
            makecontext(&lane.fiber.context, lane_main, 0);
        }
        lane.done = false;
    }
    for (;;) {
        int finished = 0, waited = 0;
        for (int l = 0; l < 32; l++) {
            if (lanes[l].done) continue;
            current = l;
            threadIdx = {first_thread + l, 0, 0};
            lanes[l].waiting = false;
            switch_fiber(scheduler, lanes[l].fiber);
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
