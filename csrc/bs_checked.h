/* Checked int64 arithmetic: every operation ORs its overflow into *ovf instead of
 * wrapping silently.  A metric whose flag is set is reported, never returned. */
#ifndef BERTSIZE_CHECKED_H
#define BERTSIZE_CHECKED_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
static inline int64_t bs_add(int64_t a, int64_t b, int *ovf) {
    int64_t r;
    *ovf |= __builtin_add_overflow(a, b, &r);
    return r;
}
static inline int64_t bs_mul(int64_t a, int64_t b, int *ovf) {
    int64_t r;
    *ovf |= __builtin_mul_overflow(a, b, &r);
    return r;
}
#else
/* Portable fallback; every operand in bertsize is >= 0. */
static inline int64_t bs_add(int64_t a, int64_t b, int *ovf) {
    if (b > INT64_MAX - a) { *ovf = 1; return 0; }
    return a + b;
}
static inline int64_t bs_mul(int64_t a, int64_t b, int *ovf) {
    if (a != 0 && b > INT64_MAX / a) { *ovf = 1; return 0; }
    return a * b;
}
#endif

static inline int64_t bs_mul3(int64_t a, int64_t b, int64_t c, int *ovf) {
    return bs_mul(bs_mul(a, b, ovf), c, ovf);
}
static inline int64_t bs_mul4(int64_t a, int64_t b, int64_t c, int64_t d, int *ovf) {
    return bs_mul(bs_mul3(a, b, c, ovf), d, ovf);
}
static inline int64_t bs_max(int64_t a, int64_t b) { return a > b ? a : b; }
/* a / b rounded up, for a >= 0 and b > 0 */
static inline int64_t bs_ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* Formula shorthand: inside a function with an `int *ovf` in scope, these are the
 * checked operations (each ORs its overflow into *ovf). */
#define CK_ADD(a, b) bs_add((a), (b), ovf)
#define CK_MUL(a, b) bs_mul((a), (b), ovf)
#define CK_MUL3(a, b, c) bs_mul3((a), (b), (c), ovf)
#define CK_MUL4(a, b, c, e) bs_mul4((a), (b), (c), (e), ovf)

#endif
