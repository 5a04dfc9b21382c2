/* Streaming (non-temporal) stores for the kernel's output arrays.
 *
 * The kernel writes each row's metrics once and never reads them back, so caching them
 * only costs a read of every output line before it is overwritten (write-allocate):
 * with ten outputs that is 80 extra bytes per row.  Non-temporal stores skip that read
 * (benchmarks/README.md has the measurement).  Without SSE2, or for a misaligned
 * destination, plain memcpy. */
#ifndef BERTSIZE_STREAM_H
#define BERTSIZE_STREAM_H

#include <stdint.h>
#include <string.h>

/* Rows per stage.  The kernel writes each output array BS_STAGE rows at a time from an
 * L1-resident buffer, instead of every array one value each per row: large numpy arrays
 * start at the same offset within a 4 KiB page, so many interleaved store streams all
 * map to the same L1 sets and evict each other.  64 rows of a program's slots as doubles
 * (bs_stage.c) and of its staged outputs stay in L1. */
#define BS_STAGE 128
/* Each output's row of the staging buffer is BS_STAGE + 8 values long (576 bytes), which
 * puts the rows of different outputs in different cache sets. */
#define BS_STAGE_STRIDE 136

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
