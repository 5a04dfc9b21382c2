/* int64 arithmetic, checked or not.
 *
 * Every formula is written once, in functions that take `int *ovf` and a compile-time
 * constant `ck`.  Called with ck = 1 each operation ORs its overflow into *ovf (nothing
 * ever wraps unnoticed); with ck = 0 it is plain arithmetic, which the compiler can
 * share between metrics.  The kernel only runs ck = 0 on rows proven not to overflow
 * (bs_evaluate.h).  BS_INLINE forces inlining so that `ck` is a constant in the body.
 */
#ifndef BERTSIZE_CHECKED_H
#define BERTSIZE_CHECKED_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define BS_INLINE static inline __attribute__((always_inline))
/* Kept out of line: the checked paths are rare, and inlining them into the row loop
 * would crowd its registers. */
#define BS_OUT_OF_LINE static __attribute__((noinline))
static inline int64_t bs_add(int64_t a, int64_t b, int *ovf, const int ck) {
    if (!ck) return (int64_t)((uint64_t)a + (uint64_t)b);
    int64_t r;
    *ovf |= __builtin_add_overflow(a, b, &r);
    return r;
}
static inline int64_t bs_mul(int64_t a, int64_t b, int *ovf, const int ck) {
    if (!ck) return (int64_t)((uint64_t)a * (uint64_t)b);
    int64_t r;
    *ovf |= __builtin_mul_overflow(a, b, &r);
    return r;
}
#else
#define BS_INLINE static inline
#define BS_OUT_OF_LINE static
/* Portable fallback; every operand in bertsize is >= 0. */
static inline int64_t bs_add(int64_t a, int64_t b, int *ovf, const int ck) {
    if (ck && b > INT64_MAX - a) { *ovf = 1; return 0; }
    return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t bs_mul(int64_t a, int64_t b, int *ovf, const int ck) {
    if (ck && a != 0 && b > INT64_MAX / a) { *ovf = 1; return 0; }
    return (int64_t)((uint64_t)a * (uint64_t)b);
}
#endif

static inline int64_t bs_max(int64_t a, int64_t b) { return a > b ? a : b; }
/* a / b rounded up, for a >= 0 and b > 0 */
static inline int64_t bs_ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* Formula shorthand, for functions with `int *ovf` and `const int ck` in scope. */
#define ADD(a, b) bs_add((a), (b), ovf, ck)
#define ADD3(a, b, c) ADD(ADD((a), (b)), (c))
#define MUL(a, b) bs_mul((a), (b), ovf, ck)
#define MUL3(a, b, c) MUL(MUL((a), (b)), (c))
#define MUL4(a, b, c, d) MUL(MUL3((a), (b), (c)), (d))

#endif
