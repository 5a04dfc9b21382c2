/* Streaming (non-temporal) stores for the kernel's output arrays.
 *
 * The kernel writes each row's metrics once and never reads them back, so caching them
 * only costs a read of every output line before it is overwritten (write-allocate):
 * with ten outputs that is 80 extra bytes per row.  Non-temporal stores skip it; on
 * this project's 2-core machine they took a 6-in / 10-out copy loop from 9.9 to
 * 21.7 GB/s.  Without SSE2, or for a misaligned destination, plain memcpy. */
#ifndef BERTSIZE_STREAM_H
#define BERTSIZE_STREAM_H

#include <stdint.h>
#include <string.h>

#include "bs_types.h"

/* Rows per staged write.  The kernel writes each output array BS_STAGE rows at a time
 * from an L1-resident buffer, instead of ten arrays one value each per row: large numpy
 * arrays start at the same offset within a 4 KiB page, so ten interleaved store streams
 * all map to the same L1 sets and evict each other (it doubled the time per row here).
 * 64 rows: a stage's fields as doubles (bs_stage.c) and its staged metrics take 12 KiB,
 * which leaves L1 room for the input rows (at 256 rows they would not fit, though the
 * time per row measured the same here). */
#define BS_STAGE 64
/* Each metric's row of the buffer is BS_STAGE + 8 values long (576 bytes), which puts
 * the ten rows in different cache sets. */
#define BS_STAGE_STRIDE 72

#if defined(_MSC_VER)
typedef __declspec(align(16)) struct { int64_t v[BS_N_METRICS * BS_STAGE_STRIDE]; } bs_stage_buffer;
#else
typedef struct { int64_t v[BS_N_METRICS * BS_STAGE_STRIDE]; } __attribute__((aligned(16))) bs_stage_buffer;
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
/* dst[0:count] = src[0:count]; src must be 16-byte aligned */
static inline void bs_stream_copy(int64_t *dst, const int64_t *src, int64_t count) {
    if (((uintptr_t)dst & 15) != 0) {
        memcpy(dst, src, (size_t)count * sizeof(int64_t));
        return;
    }
    int64_t k = 0;
    for (; k + 2 <= count; k += 2)
        _mm_stream_si128((__m128i *)(dst + k), _mm_load_si128((const __m128i *)(src + k)));
    if (k < count) dst[k] = src[k];
}
/* Orders the streaming stores before the results are read (end of a thread's work). */
static inline void bs_stream_fence(void) { _mm_sfence(); }
#else
static inline void bs_stream_copy(int64_t *dst, const int64_t *src, int64_t count) {
    memcpy(dst, src, (size_t)count * sizeof(int64_t));
}
static inline void bs_stream_fence(void) {}
#endif

#endif
