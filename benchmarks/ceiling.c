/* The benchmark's ceiling: bench_kernel.py's one design space, in a C loop that knows
 * everything the kernel learns only at run time.
 *
 * It does the work the kernel's fast path does for these rows -- six int64 columns in,
 * ten int64 metrics out, every field and value checked below 2^52 (the exactness bound
 * of csrc/bs_stage.c), every row checked valid, doubles four rows to an AVX2
 * instruction, a staging buffer written out with streaming stores, OpenMP over blocks of
 * rows -- but for one plan only (BertForMaskedLM, bf16 mixed-precision training, AdamW,
 * CUDA, eager attention, dropout on), with the constant fields (vocab, max_positions,
 * type_vocab) and every plan coefficient folded in at compile time, and the metrics
 * written as the closed form of bench_kernel.numpy_closed_form, sharing its products.
 * A yardstick: what a loop that leaves nothing to run time reaches on this machine for
 * this question.
 *
 * Not part of bertsize: bench_kernel.py compiles it with the C compiler at hand and
 * checks that it returns the kernel's numbers before it prints a rate.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define STAGE 64
#define STRIDE 72                                      /* as csrc/bs_stream.h */
#define BLOCK 2048
#define AT_LEAST_2_52 (~((INT64_C(1) << 52) - 1))      /* bits set in 2^52 or more, or a negative */

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

/* exact conversions for integers in [0, 2^52), as csrc/bs_stage.c */
static inline double to_double(int64_t x) {
    union { int64_t bits; double value; } u = {.bits = x | INT64_C(0x4330000000000000)};
    return u.value - 0x1p52;
}

static inline int64_t to_int(double x) {
    union { double value; int64_t bits; } u = {.value = x + 0x1p52};
    return u.bits - INT64_C(0x4330000000000000);
}

static void stream_copy(int64_t *dst, const int64_t *src, ptrdiff_t count) {
#if defined(__SSE2__)
    if (((uintptr_t)dst & 15) == 0) {
        ptrdiff_t k = 0;
        for (; k + 2 <= count; k += 2)
            _mm_stream_si128((__m128i *)(dst + k), _mm_load_si128((const __m128i *)(src + k)));
        if (k < count) dst[k] = src[k];
        return;
    }
#endif
    memcpy(dst, src, (size_t)count * sizeof(int64_t));
}

typedef struct { double f[6][STRIDE]; } __attribute__((aligned(32))) stage_fields;
typedef struct { int64_t v[10 * STRIDE]; } __attribute__((aligned(32))) stage_metrics;

/* Rows [0, count) of the columns (layers, heads, hidden, intermediate, batch, seq_len)
 * into the staging buffer; 0 if a row is invalid or a value reaches 2^52. */
VECTOR_CLONES static int stage(const int64_t *const *columns, ptrdiff_t count, double V, double P, double T,
                               stage_fields *fields, stage_metrics *out) {
    int64_t beyond = 0;
    for (int k = 0; k < 6; ++k)
        for (ptrdiff_t i = 0; i < count; ++i) {
            beyond |= columns[k][i] & AT_LEAST_2_52;
            fields->f[k][i] = to_double(columns[k][i]);
        }
    for (ptrdiff_t i = 0; i < count; ++i) {
        const double L = fields->f[0][i], A = fields->f[1][i], H = fields->f[2][i];
        const double I = fields->f[3][i], b = fields->f[4][i], s = fields->f[5][i];
        const double quotient = (H / A + 0x1p52) - 0x1p52;  /* heads divides hidden */
        beyond |= (L < 1) | (A < 1) | (H < 1) | (I < 1) | (b < 1) | (s < 1) | (s > P) | (quotient * A != H);
    }
    if (beyond) return 0;
    for (ptrdiff_t i = 0; i < count; ++i) {
        const double L = fields->f[0][i], A = fields->f[1][i], H = fields->f[2][i];
        const double I = fields->f[3][i], b = fields->f[4][i], s = fields->f[5][i];
        const double n = b * s, nH = n * H, nI = n * I, S = n * A * s;
        const double params = (V + P + T + 5) * H + L * (H * (4 * H + 2 * I + 9) + I) + H * H + V;
        const double flops = 2 * nH * (L * (4 * H + 2 * s + 2 * I) + H + V);
        const double elementwise = 23 * nH + L * (23 * nH + 6 * nI + 7 * S) + n * V;
        const double activations = 11 * nH + L * (18 * nH + 4 * nI + 5 * S) + 4 * n * V + 4;
        const double metrics[10] = {params,     flops,      2 * flops,   0.5 * flops, elementwise,
                                    2 * params, 2 * params, 12 * params, activations, 16 * params + activations};
        for (int m = 0; m < 10; ++m) {
            const int64_t bits = to_int(metrics[m]);
            beyond |= bits & AT_LEAST_2_52;
            out->v[m * STRIDE + i] = bits;
        }
    }
    return beyond == 0;
}

/* Whether a constant field is a size in [1, 2^52), where it is an exact double. */
static int valid_constant(double x) { return x >= 1 && x < 0x1p52 && x == (double)(int64_t)x; }

/* All n rows with `threads` OpenMP threads; returns the number of stages that failed a
 * check (0 for the benchmark's data; the kernel would take those to its int64 path), or
 * -1 if vocab V, max_positions P or type_vocab T is not a size below 2^52. */
int64_t bench_ceiling(const int64_t *const *columns, int64_t n, int64_t *const *outs, int threads, double V,
                      double P, double T) {
    if (!valid_constant(V) || !valid_constant(P) || !valid_constant(T)) return -1;
    int64_t failed = 0;
    (void)threads;  /* (unused where the compiler ignores the pragma) */
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : failed)
    for (int64_t block = 0; block < (n + BLOCK - 1) / BLOCK; ++block) {
        stage_fields fields;
        stage_metrics staged;
        const int64_t *rows[6];
        const int64_t stop = (block + 1) * BLOCK < n ? (block + 1) * BLOCK : n;
        for (int64_t start = block * BLOCK; start < stop; start += STAGE) {
            const int64_t count = start + STAGE < stop ? STAGE : stop - start;
            for (int k = 0; k < 6; ++k) rows[k] = columns[k] + start;
            if (!stage(rows, count, V, P, T, &fields, &staged)) {
                ++failed;
                continue;
            }
            for (int m = 0; m < 10; ++m) stream_copy(&outs[m][start], &staged.v[m * STRIDE], count);
        }
#if defined(__SSE2__)
        _mm_sfence();
#endif
    }
    return failed;
}
