// cuBLAS on the CPU, for .ci/cuda-on-cpu, built as libcublas.so.13 beside
// libcuda.cpp: the GEMM entry points cudarc's `Gemm` uses (cublasSgemm for
// f32; cublasGemmEx for bf16 and f16 with f32 sums; the strided batched
// form for candle's matmul), computed as
// cuBLAS documents them, column-major C = α·op(A)·op(B) + β·C, with sums in
// f32. Each operand must lie inside one device allocation, as its shape and
// leading dimension say.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" int calltone_cpu_cuda_inside(uintptr_t p, size_t bytes);

namespace {

using Status = int;
constexpr Status SUCCESS = 0, INVALID_VALUE = 7, NOT_SUPPORTED = 15;
constexpr int OP_N = 0, OP_T = 1;
constexpr int R_32F = 0, R_16F = 2, R_16BF = 14;
constexpr int COMPUTE_32F = 68, COMPUTE_32F_PEDANTIC = 69, COMPUTE_32F_FAST_16F = 74, COMPUTE_32F_FAST_16BF = 75,
              COMPUTE_32F_FAST_TF32 = 77;

char handle_token;

Status fail(Status code, const std::string& detail) {
    std::fprintf(stderr, "calltone's CPU cuBLAS: %s\n", detail.c_str());
    return code;
}

float load(const void* p, int type, size_t i) {
    switch (type) {
        case R_16F: return __half2float(static_cast<const __half*>(p)[i]);
        case R_16BF: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        default: return static_cast<const float*>(p)[i];
    }
}

void store(void* p, int type, size_t i, float v) {
    switch (type) {
        case R_16F: static_cast<__half*>(p)[i] = __float2half_rn(v); break;
        case R_16BF: static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v); break;
        default: static_cast<float*>(p)[i] = v;
    }
}

size_t width(int type) { return type == R_32F ? 4 : 2; }

// op(X) as `rows` × `inner`, row-major, from column-major X with leading
// dimension ld: X is rows × inner as stored (OP_N) or inner × rows (OP_T).
Status gather(const void* x, int type, int op, int rows, int inner, int ld, const char* name,
              std::vector<float>& out) {
    if (op != OP_N && op != OP_T) return fail(NOT_SUPPORTED, "conjugate transposes");
    const int stored_rows = op == OP_N ? rows : inner, stored_cols = op == OP_N ? inner : rows;
    if (ld < stored_rows || stored_rows <= 0 || stored_cols <= 0)
        return fail(INVALID_VALUE, std::string(name) + ": leading dimension " +
                                       std::to_string(ld) + " for " +
                                       std::to_string(stored_rows) + " rows");
    const size_t extent = (size_t(stored_cols) - 1) * ld + stored_rows;
    if (!calltone_cpu_cuda_inside(uintptr_t(x), extent * width(type)))
        return fail(INVALID_VALUE, std::string(name) + " reaches past its allocation");
    out.assign(size_t(rows) * inner, 0.0f);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < inner; c++) {
            // Element (r, c) of op(X): X(r, c) stored, or X(c, r) transposed.
            const size_t at = op == OP_N ? size_t(c) * ld + r : size_t(r) * ld + c;
            out[size_t(r) * inner + c] = load(x, type, at);
        }
    return SUCCESS;
}

Status gemm(int transa, int transb, int m, int n, int k, float alpha, const void* a, int atype,
            int lda, const void* b, int btype, int ldb, float beta, void* c, int ctype,
            int ldc) {
    if (m <= 0 || n <= 0 || k <= 0) return fail(INVALID_VALUE, "an empty product");
    std::vector<float> opa, opbt;  // op(A) as m × k; op(B)ᵀ as n × k
    if (Status s = gather(a, atype, transa, m, k, lda, "A", opa)) return s;
    // op(B) is k × n; gathering op(B)ᵀ (n × k) flips its transpose.
    if (Status s = gather(b, btype, transb == OP_N ? OP_T : OP_N, n, k, ldb, "B", opbt)) return s;
    if (ldc < m) return fail(INVALID_VALUE, "C: leading dimension below its rows");
    if (!calltone_cpu_cuda_inside(uintptr_t(c), ((size_t(n) - 1) * ldc + m) * width(ctype)))
        return fail(INVALID_VALUE, "C reaches past its allocation");
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            const float* x = &opa[size_t(i) * k];
            const float* y = &opbt[size_t(j) * k];
            // Any order of the sums, as cuBLAS's own: vectorised.
            float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
            for (int p = 0; p < k; p++) sum += x[p] * y[p];
            const size_t at = size_t(j) * ldc + i;
            const float old = beta == 0.0f ? 0.0f : load(c, ctype, at);  // β = 0 ignores C
            store(c, ctype, at, alpha * sum + beta * old);
        }
    return SUCCESS;
}

}  // namespace

extern "C" {

Status cublasCreate_v2(void** handle) {
    *handle = &handle_token;
    return SUCCESS;
}

Status cublasDestroy_v2(void*) { return SUCCESS; }
Status cublasSetStream_v2(void*, void*) { return SUCCESS; }

Status cublasSgemm_v2(void*, int transa, int transb, int m, int n, int k, const float* alpha,
                      const float* a, int lda, const float* b, int ldb, const float* beta,
                      float* c, int ldc) {
    return gemm(transa, transb, m, n, k, *alpha, a, R_32F, lda, b, R_32F, ldb, *beta, c, R_32F,
                ldc);
}

Status cublasGemmEx(void* handle, int transa, int transb, int m, int n, int k,
                    const void* alpha, const void* a, int atype, int lda, const void* b,
                    int btype, int ldb, const void* beta, void* c, int ctype, int ldc,
                    int compute, int algo);

// candle's matrix multiply (bench's GPU ceiling): `batch` products, each
// operand `stride` elements after the last.
Status cublasGemmStridedBatchedEx(void* handle, int transa, int transb, int m, int n, int k,
                                  const void* alpha, const void* a, int atype, int lda,
                                  long long stride_a, const void* b, int btype, int ldb,
                                  long long stride_b, const void* beta, void* c, int ctype,
                                  int ldc, long long stride_c, int batch, int compute,
                                  int algo) {
    for (int i = 0; i < batch; i++) {
        const auto at = [&](const void* p, int type, long long stride) {
            return static_cast<const char*>(p) + i * stride * static_cast<long long>(width(type));
        };
        Status s = cublasGemmEx(handle, transa, transb, m, n, k, alpha, at(a, atype, stride_a),
                                atype, lda, at(b, btype, stride_b), btype, ldb, beta,
                                const_cast<char*>(at(c, ctype, stride_c)), ctype, ldc, compute,
                                algo);
        if (s != SUCCESS) return s;
    }
    return SUCCESS;
}

Status cublasGemmEx(void*, int transa, int transb, int m, int n, int k, const void* alpha,
                    const void* a, int atype, int lda, const void* b, int btype, int ldb,
                    const void* beta, void* c, int ctype, int ldc, int compute, int) {
    // The f32-sum compute types (plain, or allowing tensor-core inputs):
    // α and β are f32, and the sums here are f32 either way.
    if (compute != COMPUTE_32F && compute != COMPUTE_32F_PEDANTIC && compute != COMPUTE_32F_FAST_16F &&
        compute != COMPUTE_32F_FAST_16BF && compute != COMPUTE_32F_FAST_TF32)
        return fail(NOT_SUPPORTED, "compute type " + std::to_string(compute) + " (only 32F)");
    for (int t : {atype, btype, ctype})
        if (t != R_32F && t != R_16F && t != R_16BF)
            return fail(NOT_SUPPORTED, "data type " + std::to_string(t));
    return gemm(transa, transb, m, n, k, *static_cast<const float*>(alpha), a, atype, lda, b,
                btype, ldb, *static_cast<const float*>(beta), c, ctype, ldc);
}

}  // extern "C"
