// calltone's GPU kernels: everything the encoder computes besides its
// matrix multiplies (cuBLAS does those). Compiled by build.rs with nvcc into
// one fatbin for the GPU architectures the build names (machine code for
// each, plus PTX for the oldest so a newer GPU can still load it), so a
// fresh process loads them without the driver compiling anything.
//
// Rows are ragged: a batch is its sequences' tokens back to back, no
// padding. `tok_seq[t]` is token t's sequence in the batch, `seq_start[s]`
// its first token (`seq_start[seqs]` = tokens). Activations are T (bf16,
// f16 or f32); every sum is f32; embeddings, biases and norm parameters are
// f32.
//
// Each kernel is instantiated for the three element types under an
// unmangled name, `<kernel>_<type>` (attention also by head width), which
// src/model/gpu/encoder.rs loads by name with the argument order below.

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

// Hidden widths up to 1024 (32 columns per lane): BERT-base and smaller.
#define MAX_PER_LANE 32
#define FULL_WARP 0xffffffffu

__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_f(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T> __device__ __forceinline__ T from_f(float v);
template <> __device__ __forceinline__ float from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __half from_f<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(FULL_WARP, v, m);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int m = 16; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_WARP, v, m));
    return v;
}

// The global index of this thread's warp, and its lane.
__device__ __forceinline__ long long warp_index() {
    return ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
}
__device__ __forceinline__ int lane_index() { return threadIdx.x % 32; }

// Layer norm of one row a warp holds, lane l owning columns l, l+32, ...
// (`per_lane` of them, all in `v`), written to `out` as T. Two passes over
// registers: the mean, then the variance about it (as the CPU path does).
template <typename T>
__device__ __forceinline__ void normalise_to(float (&v)[MAX_PER_LANE], int per_lane, int hidden,
                                             const float* gamma, const float* beta, float eps,
                                             T* out) {
    const int lane = lane_index();
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++)
        if (i < per_lane) s += v[i];
    const float mean = warp_sum(s) / hidden;
    float q = 0.f;
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++)
        if (i < per_lane) q += (v[i] - mean) * (v[i] - mean);
    const float inv = rsqrtf(warp_sum(q) / hidden + eps);
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) {
        if (i < per_lane) {
            const int c = lane + 32 * i;
            out[c] = from_f<T>((v[i] - mean) * inv * gamma[c] + beta[c]);
        }
    }
}

// out[t] = norm(word[ids[t]] + position[offset + t's position] + token_type),
// one warp per token. `token_type` may be null (DistilBERT has none).
template <typename T>
__device__ void embed(const uint32_t* ids, const int32_t* tok_seq, const int32_t* seq_start,
                      int tokens, const float* word, const float* position,
                      const float* token_type, int position_offset, const float* gamma,
                      const float* beta, float eps, int hidden, T* out) {
    const long long t = warp_index();
    if (t >= tokens) return;  // the whole warp leaves together
    const int lane = lane_index(), per_lane = hidden / 32;
    const int pos = (int)t - seq_start[tok_seq[t]] + position_offset;
    const float* w = word + (size_t)ids[t] * hidden;
    const float* p = position + (size_t)pos * hidden;
    float v[MAX_PER_LANE];
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) {
        if (i < per_lane) {
            const int c = lane + 32 * i;
            v[i] = w[c] + p[c] + (token_type ? token_type[c] : 0.f);
        }
    }
    normalise_to(v, per_lane, hidden, gamma, beta, eps, out + (size_t)t * hidden);
}

// x[t] = norm(x[t] + y[t] + bias): the residual after a projection (cuBLAS
// wrote y without its bias), one warp per token.
template <typename T>
__device__ void add_norm(T* x, const T* y, const float* bias, int tokens, const float* gamma,
                         const float* beta, float eps, int hidden) {
    const long long t = warp_index();
    if (t >= tokens) return;
    const int lane = lane_index(), per_lane = hidden / 32;
    T* row = x + (size_t)t * hidden;
    const T* add = y + (size_t)t * hidden;
    float v[MAX_PER_LANE];
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) {
        if (i < per_lane) {
            const int c = lane + 32 * i;
            v[i] = to_f(row[c]) + to_f(add[c]) + bias[c];
        }
    }
    normalise_to(v, per_lane, hidden, gamma, beta, eps, row);
}

// y = act(y + bias) over `[rows, width]`: the feed-forward's first
// projection. act 0: exact GELU (erf), 1: ReLU.
template <typename T>
__device__ void bias_act(T* y, const float* bias, long long n, int width, int act) {
    const long long step = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        float v = to_f(y[i]) + bias[i % width];
        v = act == 0 ? 0.5f * v * (1.f + erff(v * 0.70710678118654752f)) : fmaxf(v, 0.f);
        y[i] = from_f<T>(v);
    }
}

// Self-attention over ragged sequences, one warp per (token, head): the
// token's query against its own sequence's keys only, so nothing is masked.
// `qkv` is `[tokens, 3·hidden]` as cuBLAS wrote it (queries, keys, values
// side by side, heads contiguous inside each, no bias yet: added here).
// Lane j takes keys j, j+32, ...; the scores live in shared memory
// (`max_len` floats per warp, sized at launch); then lane d sums values'
// column d (DH/32 columns a lane), so value rows are read coalesced.
template <typename T, int DH>
__device__ void attention(const T* qkv, const float* qkv_bias, const int32_t* tok_seq,
                          const int32_t* seq_start, int tokens, int heads, float scale,
                          int max_len, T* ctx) {
    extern __shared__ float scores_all[];
    const long long task = warp_index();
    if (task >= (long long)tokens * heads) return;
    const int lane = lane_index();
    const int t = (int)(task / heads), h = (int)(task % heads);
    const int hidden = heads * DH, stride = 3 * hidden;
    const int seq = tok_seq[t];
    const int start = seq_start[seq], len = seq_start[seq + 1] - start;
    float* scores = scores_all + (threadIdx.x / 32) * max_len;

    // The scaled query (every lane holds all of it: one broadcast read), and
    // its product with the keys' bias, shared by every key.
    const T* qrow = qkv + (size_t)t * stride + h * DH;
    const float* qb = qkv_bias + h * DH;
    const float* kb = qkv_bias + hidden + h * DH;
    float q[DH];
    float q_kb = 0.f;
#pragma unroll
    for (int d = 0; d < DH; d++) {
        q[d] = (to_f(qrow[d]) + qb[d]) * scale;
        q_kb += q[d] * kb[d];
    }
    float best = -INFINITY;
    for (int j = lane; j < len; j += 32) {
        const T* krow = qkv + (size_t)(start + j) * stride + hidden + h * DH;
        float s = q_kb;
#pragma unroll
        for (int d = 0; d < DH; d++) s += q[d] * to_f(krow[d]);
        scores[j] = s;
        best = fmaxf(best, s);
    }
    best = warp_max(best);
    float total = 0.f;
    for (int j = lane; j < len; j += 32) {
        const float e = expf(scores[j] - best);
        scores[j] = e;
        total += e;
    }
    total = warp_sum(total);
    __syncwarp();  // every lane reads every lane's probabilities below
    const float inv = 1.f / total;
    const float* vb = qkv_bias + 2 * hidden + h * DH;
#pragma unroll
    for (int i = 0; i < DH / 32; i++) {
        const int d = lane + 32 * i;
        const T* vcol = qkv + (size_t)start * stride + 2 * hidden + h * DH + d;
        float acc = 0.f;
        for (int j = 0; j < len; j++) acc += scores[j] * to_f(vcol[(size_t)j * stride]);
        // The probabilities sum to one, so the values' bias adds once.
        ctx[(size_t)t * hidden + h * DH + d] = from_f<T>(acc * inv + vb[d]);
    }
}

// Each sequence's first token and mean token, as f32 `[seqs, hidden]`
// (what the heads read), one block per sequence.
template <typename T>
__device__ void pool(const T* x, const int32_t* seq_start, int seqs, int hidden, float* first,
                     float* mean) {
    const int s = blockIdx.x;
    if (s >= seqs) return;
    const int start = seq_start[s], len = seq_start[s + 1] - start;
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) {
        float acc = 0.f;
        for (int j = 0; j < len; j++) acc += to_f(x[(size_t)(start + j) * hidden + c]);
        first[(size_t)s * hidden + c] = to_f(x[(size_t)start * hidden + c]);
        mean[(size_t)s * hidden + c] = acc / len;
    }
}

#define INSTANTIATE(T, NAME)                                                                     \
    extern "C" __global__ void embed_##NAME(                                                     \
        const uint32_t* ids, const int32_t* tok_seq, const int32_t* seq_start, int tokens,       \
        const float* word, const float* position, const float* token_type, int position_offset, \
        const float* gamma, const float* beta, float eps, int hidden, T* out) {                  \
        embed<T>(ids, tok_seq, seq_start, tokens, word, position, token_type, position_offset,   \
                 gamma, beta, eps, hidden, out);                                                 \
    }                                                                                            \
    extern "C" __global__ void add_norm_##NAME(T* x, const T* y, const float* bias, int tokens,  \
                                               const float* gamma, const float* beta, float eps, \
                                               int hidden) {                                     \
        add_norm<T>(x, y, bias, tokens, gamma, beta, eps, hidden);                               \
    }                                                                                            \
    extern "C" __global__ void bias_act_##NAME(T* y, const float* bias, long long n, int width,  \
                                               int act) {                                        \
        bias_act<T>(y, bias, n, width, act);                                                     \
    }                                                                                            \
    extern "C" __global__ void attention32_##NAME(                                               \
        const T* qkv, const float* qkv_bias, const int32_t* tok_seq, const int32_t* seq_start,   \
        int tokens, int heads, float scale, int max_len, T* ctx) {                               \
        attention<T, 32>(qkv, qkv_bias, tok_seq, seq_start, tokens, heads, scale, max_len, ctx); \
    }                                                                                            \
    extern "C" __global__ void attention64_##NAME(                                               \
        const T* qkv, const float* qkv_bias, const int32_t* tok_seq, const int32_t* seq_start,   \
        int tokens, int heads, float scale, int max_len, T* ctx) {                               \
        attention<T, 64>(qkv, qkv_bias, tok_seq, seq_start, tokens, heads, scale, max_len, ctx); \
    }                                                                                            \
    extern "C" __global__ void pool_##NAME(const T* x, const int32_t* seq_start, int seqs,       \
                                           int hidden, float* first, float* mean) {              \
        pool<T>(x, seq_start, seqs, hidden, first, mean);                                        \
    }

INSTANTIATE(__nv_bfloat16, bf16)
INSTANTIATE(__half, f16)
INSTANTIATE(float, f32)
