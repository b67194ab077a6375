// A CUDA driver that runs on the CPU, for .ci/cuda-on-cpu: built as
// libcuda.so.1 and put first on LD_LIBRARY_PATH, it lets the real
// `--features cuda` binary run its GPU encoder (src/model/gpu/encoder.rs:
// cudarc's allocations, copies, events, module loading and launches) on a
// machine without a GPU. "Device memory" is host memory; every stream runs
// each call as it is made; a launch runs kernels.cu, compiled for the CPU
// with emulation.h, under the name the encoder asked for. Only what calltone
// and candle call is here; .ci/cuda-on-cpu generates the rest of the
// binary's imports as stubs that name themselves and fail.
//
// It checks what a GPU would leave undefined: every copy stays inside one
// live allocation, every pointer a kernel is handed points into one, a
// launch's grid is one-dimensional and its shared memory fits, and a module
// is a fatbin (calltone's), not PTX text (candle's, which needs the
// driver's compiler: a fall back to candle is then a failure to see), with
// machine code for the GPU.
//
// Environment: CALLTONE_CPU_CUDA_ARCH, the GPU's architecture (default 90);
// CALLTONE_CPU_CUDA_TRACE, a line on standard error for each launch, copy
// back, wait and allocation; CALLTONE_CPU_CUDA_FAIL_LAUNCH=N, the Nth launch
// fails.
#include "emulation.h"
#include "kernels.cu"

#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// Every block's shared memory in turn (blocks run one at a time): 64 KiB of
// floats, more than the 48 KiB a kernel may ask for without opting in.
float scores_all[1 << 14];

namespace {

using CUresult = int;
constexpr CUresult SUCCESS = 0, INVALID_VALUE = 1, NOT_INITIALIZED = 3, INVALID_DEVICE = 101,
                   INVALID_IMAGE = 200, INVALID_HANDLE = 400, NOT_FOUND = 500,
                   LAUNCH_FAILED = 719, NOT_SUPPORTED = 801;

std::mutex lock;  // one call at a time: the emulation's state is global
bool initialised = false;
std::map<uintptr_t, size_t> allocations;  // base → bytes
char context_token, module_token;
void* current_context = nullptr;

bool tracing() {
    static const bool on = std::getenv("CALLTONE_CPU_CUDA_TRACE") != nullptr;
    return on;
}

// The GPU's architecture as sm_XY: CALLTONE_CPU_CUDA_ARCH, else 90 (H100,
// H200), one every default build carries machine code for.
int device_arch() {
    static const int arch = [] {
        const char* v = std::getenv("CALLTONE_CPU_CUDA_ARCH");
        return v != nullptr && std::atoi(v) >= 10 ? std::atoi(v) : 90;
    }();
    return arch;
}

CUresult fail(CUresult code, const char* what, const std::string& detail) {
    std::fprintf(stderr, "calltone's CPU CUDA: %s: %s\n", what, detail.c_str());
    return code;
}

// Whether [p, p + bytes) lies inside one live allocation.
bool inside(uintptr_t p, size_t bytes) {
    auto it = allocations.upper_bound(p);
    if (it == allocations.begin()) return false;
    --it;
    return p >= it->first && p - it->first + bytes <= it->second;
}

std::string hex(uintptr_t p) {
    char s[32];
    std::snprintf(s, sizeof s, "%#lx", (unsigned long)p);
    return s;
}

// The kernels by the name the encoder loads them with: each launch reads
// its arguments out of cuLaunchKernel's parameter array by the kernel's own
// parameter types, and refuses a pointer outside every allocation.
using Invoker = CUresult (*)(unsigned grid, unsigned block, void** params);

template <typename... A, size_t... I>
CUresult invoke(void (*kernel)(A...), unsigned grid, unsigned block, void** params,
                std::index_sequence<I...>) {
    std::tuple<std::remove_cv_t<A>...> args{*static_cast<std::remove_cv_t<A>*>(params[I])...};
    bool ok = true;
    auto check = [&](auto value, size_t index) {
        if constexpr (std::is_pointer_v<decltype(value)>) {
            if (value != nullptr && !inside(uintptr_t(value), 1)) {
                fail(INVALID_VALUE, "launch",
                     "argument " + std::to_string(index) + " (" + hex(uintptr_t(value)) +
                         ") points into no allocation");
                ok = false;
            }
        }
    };
    (check(std::get<I>(args), I), ...);
    if (!ok) return LAUNCH_FAILED;
    launch(grid, block, [&] { kernel(std::get<I>(args)...); });
    return SUCCESS;
}

template <typename... A>
CUresult invoke(void (*kernel)(A...), unsigned grid, unsigned block, void** params) {
    return invoke(kernel, grid, block, params, std::index_sequence_for<A...>{});
}

#define KERNEL(NAME) \
    {#NAME, [](unsigned g, unsigned b, void** p) { return invoke(&NAME, g, b, p); }}
#define KERNELS_OF(T)                                                                    \
    KERNEL(embed_##T), KERNEL(add_norm_##T), KERNEL(bias_act_##T), KERNEL(attention32_##T), \
        KERNEL(attention64_##T), KERNEL(pool_##T)

const std::map<std::string, Invoker> kernels = {KERNELS_OF(f32), KERNELS_OF(f16),
                                                KERNELS_OF(bf16)};

}  // namespace

// For libcublas.cpp: the same check on its operands.
extern "C" int calltone_cpu_cuda_inside(uintptr_t p, size_t bytes) {
    std::lock_guard<std::mutex> g(lock);
    return inside(p, bytes);
}

extern "C" {

CUresult cuInit(unsigned) {
    std::lock_guard<std::mutex> g(lock);
    initialised = true;
    return SUCCESS;
}

CUresult cuDeviceGet(int* device, int ordinal) {
    if (!initialised) return NOT_INITIALIZED;
    if (ordinal != 0) return INVALID_DEVICE;
    *device = 0;
    return SUCCESS;
}

// An H100's figures (the architecture: `device_arch`); what nothing reads
// is 0.
CUresult cuDeviceGetAttribute(int* value, int attribute, int device) {
    if (device != 0) return INVALID_DEVICE;
    switch (attribute) {
        case 1: *value = 1024; break;          // max threads per block
        case 2: case 3: *value = 1024; break;  // max block x, y
        case 4: *value = 64; break;            // max block z
        case 5: *value = 2147483647; break;    // max grid x
        case 6: case 7: *value = 65535; break;
        case 8: *value = 48 * 1024; break;     // shared memory per block
        case 10: *value = 32; break;           // warp size
        case 16: *value = 132; break;          // multiprocessors
        case 75: *value = device_arch() / 10; break;  // compute capability major
        case 76: *value = device_arch() % 10; break;  // minor
        case 115: *value = 1; break;           // memory pools supported
        default: *value = 0;
    }
    if (tracing()) std::fprintf(stderr, "cpu cuda: attribute %d = %d\n", attribute, *value);
    return SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(void** context, int device) {
    if (device != 0) return INVALID_DEVICE;
    *context = &context_token;
    return SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(int) { return SUCCESS; }
CUresult cuCtxDestroy_v2(void*) { return SUCCESS; }

CUresult cuCtxSetCurrent(void* context) {
    std::lock_guard<std::mutex> g(lock);
    current_context = context;
    return SUCCESS;
}

CUresult cuCtxGetCurrent(void** context) {
    std::lock_guard<std::mutex> g(lock);
    *context = current_context;
    return SUCCESS;
}

// Streams and events: every call has finished when it returns.
CUresult cuStreamSynchronize(void*) {
    if (tracing()) std::fprintf(stderr, "cpu cuda: the host waits for the stream\n");
    return SUCCESS;
}
CUresult cuStreamDestroy_v2(void*) { return SUCCESS; }
CUresult cuStreamWaitEvent(void*, void*, unsigned) { return SUCCESS; }

CUresult cuStreamIsCapturing(void*, int* status) {
    *status = 0;  // CU_STREAM_CAPTURE_STATUS_NONE
    return SUCCESS;
}

CUresult cuEventCreate(void** event, unsigned) {
    *event = new char;
    return SUCCESS;
}

CUresult cuEventRecord(void*, void*) { return SUCCESS; }

CUresult cuEventDestroy_v2(void* event) {
    delete static_cast<char*>(event);
    return SUCCESS;
}

CUresult cuMemAlloc_v2(uintptr_t* pointer, size_t bytes) {
    if (bytes == 0) return INVALID_VALUE;
    // 256-byte aligned, as cudaMalloc's, and exactly `bytes` long: under the
    // address sanitizer a kernel reading past its buffer stops the run.
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
    std::lock_guard<std::mutex> g(lock);
    allocations[uintptr_t(p)] = bytes;
    *pointer = uintptr_t(p);
    if (tracing()) std::fprintf(stderr, "cpu cuda: alloc %zu bytes at %s\n", bytes, hex(*pointer).c_str());
    return SUCCESS;
}

CUresult cuMemAllocAsync(uintptr_t* pointer, size_t bytes, void*) {
    return cuMemAlloc_v2(pointer, bytes);
}

CUresult cuMemFree_v2(uintptr_t pointer) {
    std::lock_guard<std::mutex> g(lock);
    if (allocations.erase(pointer) != 1)
        return fail(INVALID_VALUE, "free", hex(pointer) + " is not an allocation");
    std::free(reinterpret_cast<void*>(pointer));
    return SUCCESS;
}

CUresult cuMemFreeAsync(uintptr_t pointer, void*) { return cuMemFree_v2(pointer); }

static CUresult copy(void* to, const void* from, size_t bytes, bool to_device, bool from_device) {
    std::lock_guard<std::mutex> g(lock);
    if (to_device && !inside(uintptr_t(to), bytes))
        return fail(INVALID_VALUE, "copy", std::to_string(bytes) + " bytes to " +
                                               hex(uintptr_t(to)) + ": past its allocation");
    if (from_device && !inside(uintptr_t(from), bytes))
        return fail(INVALID_VALUE, "copy", std::to_string(bytes) + " bytes from " +
                                               hex(uintptr_t(from)) + ": past its allocation");
    std::memcpy(to, from, bytes);
    return SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(uintptr_t to, const void* from, size_t bytes, void*) {
    return copy(reinterpret_cast<void*>(to), from, bytes, true, false);
}

CUresult cuMemcpyDtoHAsync_v2(void* to, uintptr_t from, size_t bytes, void*) {
    if (tracing()) std::fprintf(stderr, "cpu cuda: copy %zu bytes to the host\n", bytes);
    return copy(to, reinterpret_cast<const void*>(from), bytes, false, true);
}

CUresult cuMemcpyDtoDAsync_v2(uintptr_t to, uintptr_t from, size_t bytes, void*) {
    return copy(reinterpret_cast<void*>(to), reinterpret_cast<const void*>(from), bytes, true,
                true);
}

CUresult cuMemsetD8Async(uintptr_t to, unsigned char value, size_t bytes, void*) {
    std::lock_guard<std::mutex> g(lock);
    if (!inside(to, bytes))
        return fail(INVALID_VALUE, "memset", std::to_string(bytes) + " bytes at " + hex(to) +
                                                 ": past its allocation");
    std::memset(reinterpret_cast<void*>(to), value, bytes);
    return SUCCESS;
}

// A module is calltone's fatbin (candle's PTX would need the driver's
// compiler, which is not here), and it must carry machine code this GPU
// runs, as a driver would pick it: built for the same major version and a
// minor one no newer than the GPU's. Otherwise a driver would compile the
// PTX at load, which is what the fatbin is there to avoid.
CUresult cuModuleLoadData(void** module, const void* image) {
    const auto* bytes = static_cast<const unsigned char*>(image);
    uint32_t magic;
    std::memcpy(&magic, bytes, 4);
    if (magic != 0xBA55ED50u)  // a fatbin's header
        return fail(INVALID_IMAGE, "loading a module",
                    "not a fatbin (PTX text? only calltone's compiled kernels run here)");
    // The header: magic, version (u16), its size (u16), the entries' size
    // (u64). Each entry: kind (u16: 1 PTX, 2 machine code), version (u16),
    // its header's size (u32), its payload's (u64), ..., the architecture
    // (u32 at byte 28) — as cuobjdump lists them for build.rs's fatbin.
    uint16_t header;
    uint64_t entries;
    std::memcpy(&header, bytes + 6, 2);
    std::memcpy(&entries, bytes + 8, 8);
    std::string code, ptx;
    bool runs = false;
    for (uint64_t at = header; at + 32 <= header + entries;) {
        uint16_t kind;
        uint32_t entry_header, arch;
        uint64_t payload;
        std::memcpy(&kind, bytes + at, 2);
        std::memcpy(&entry_header, bytes + at + 4, 4);
        std::memcpy(&payload, bytes + at + 8, 8);
        std::memcpy(&arch, bytes + at + 28, 4);
        if (entry_header < 32) return fail(INVALID_IMAGE, "loading a module", "a broken fatbin");
        (kind == 2 ? code : ptx) += " sm_" + std::to_string(arch);
        runs |= kind == 2 && int(arch) / 10 == device_arch() / 10 && int(arch) <= device_arch();
        at += entry_header + payload;
    }
    const std::string listing = "machine code for" + code + "; PTX for" + ptx;
    if (!runs)
        return fail(INVALID_IMAGE, "loading a module",
                    "no machine code for sm_" + std::to_string(device_arch()) + " (" + listing +
                        "): a driver would compile PTX at load");
    if (tracing())
        std::fprintf(stderr, "cpu cuda: module runs on sm_%d without compiling (%s)\n",
                     device_arch(), listing.c_str());
    *module = &module_token;
    return SUCCESS;
}

CUresult cuModuleUnload(void*) { return SUCCESS; }

CUresult cuModuleGetFunction(void** function, void* module, const char* name) {
    if (module != &module_token) return INVALID_HANDLE;
    auto it = kernels.find(name);
    if (it == kernels.end()) return fail(NOT_FOUND, "finding a kernel", name);
    *function = const_cast<void*>(static_cast<const void*>(&*it));
    return SUCCESS;
}

CUresult cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, void*, void** params,
                        void** extra) {
    const auto& kernel = *static_cast<const std::pair<const std::string, Invoker>*>(function);
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || extra != nullptr)
        return fail(INVALID_VALUE, kernel.first.c_str(), "not a one-dimensional launch");
    if (bx == 0 || bx > 1024 || bx % 32 != 0 || gx == 0)
        return fail(INVALID_VALUE, kernel.first.c_str(),
                    "blocks of " + std::to_string(bx) + " threads, grid " + std::to_string(gx));
    if (shared > 48 * 1024 || shared > sizeof scores_all)
        return fail(INVALID_VALUE, kernel.first.c_str(),
                    std::to_string(shared) + " bytes of shared memory");
    std::lock_guard<std::mutex> g(lock);
    // CALLTONE_CPU_CUDA_FAIL_LAUNCH=N: the Nth launch fails, as a GPU that
    // faults mid-run would report it.
    static long launches = 0;
    static const long fail_at = [] {
        const char* v = std::getenv("CALLTONE_CPU_CUDA_FAIL_LAUNCH");
        return v != nullptr ? std::atol(v) : 0L;
    }();
    if (++launches == fail_at)
        return fail(LAUNCH_FAILED, kernel.first.c_str(),
                    "launch " + std::to_string(launches) + " fails (CALLTONE_CPU_CUDA_FAIL_LAUNCH)");
    if (tracing())
        std::fprintf(stderr, "cpu cuda: %s grid %u block %u shared %u\n", kernel.first.c_str(),
                     gx, bx, shared);
    return kernel.second(gx, bx, params);
}

CUresult cuGetErrorString(CUresult error, const char** text) {
    switch (error) {
        case SUCCESS: *text = "no error"; break;
        case INVALID_VALUE: *text = "invalid argument"; break;
        case INVALID_IMAGE: *text = "device kernel image is invalid"; break;
        case NOT_FOUND: *text = "named symbol not found"; break;
        case LAUNCH_FAILED: *text = "unspecified launch failure"; break;
        case NOT_SUPPORTED: *text = "operation not supported"; break;
        default: *text = "not emulated by calltone's CPU CUDA";
    }
    return SUCCESS;
}

}  // extern "C"
