/* The arithmetic of the formulas: int64, checked or not, or double.
 *
 * Every formula is written once, over the number type bs_num, in functions that take
 * `int *ovf` and a compile-time constant `ck`.  In int64 (the default) with ck = 1 each
 * operation ORs its overflow into *ovf (nothing ever wraps unnoticed); with ck = 0 it is
 * plain arithmetic, which the kernel only runs on rows proven not to overflow
 * (bs_evaluate.h).  A translation unit that defines BS_NUMBERS_ARE_DOUBLES compiles the
 * same formulas in double precision (bs_stage.c): exact while every value stays an
 * integer below 2^53, which that unit checks, and four rows to an AVX2 instruction,
 * where x86 has no vector int64 multiply.  BS_INLINE forces inlining so that `ck` is a
 * constant in the body.
 */
#ifndef BERTSIZE_CHECKED_H
#define BERTSIZE_CHECKED_H

#include <stdint.h>

#if defined(BS_NUMBERS_ARE_DOUBLES)
typedef double bs_num;
#else
typedef int64_t bs_num;
#endif

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

#if defined(BS_NUMBERS_ARE_DOUBLES)
static inline double bs_add_num(double a, double b, int *ovf, const int ck) { (void)ovf, (void)ck; return a + b; }
static inline double bs_mul_num(double a, double b, int *ovf, const int ck) { (void)ovf, (void)ck; return a * b; }
/* a where cond holds, else b: bitwise, which vectorises where a branch on a
 * loop-invariant plan flag keeps the compiler from vectorising across rows */
static inline double bs_choose(int64_t cond, double a, double b) {
    union { double value; int64_t bits; } x = {a}, y = {b}, z;
    const int64_t mask = -(int64_t)(cond != 0);
    z.bits = (x.bits & mask) | (y.bits & ~mask);
    return z.value;
}
#else
#define bs_add_num bs_add
#define bs_mul_num bs_mul
/* a where cond holds, else b, branch-free (as above) */
static inline int64_t bs_choose(int64_t cond, int64_t a, int64_t b) {
    const int64_t mask = -(int64_t)(cond != 0);
    return (a & mask) | (b & ~mask);
}
#endif

/* a / b rounded up, for a >= 0 and b > 0 */
static inline int64_t bs_ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

static inline bs_num bs_max(bs_num a, bs_num b) { return a > b ? a : b; }

/* Formula shorthand, for functions with `int *ovf` and `const int ck` in scope. */
#define ADD(a, b) bs_add_num((a), (b), ovf, ck)
#define ADD3(a, b, c) ADD(ADD((a), (b)), (c))
#define MUL(a, b) bs_mul_num((a), (b), ovf, ck)
#define MUL3(a, b, c) MUL(MUL((a), (b)), (c))
#define MUL4(a, b, c, d) MUL(MUL3((a), (b), (c)), (d))
/* `value` where `cond` holds, else 0; `a` or `b` by `cond`.  Checked arithmetic evaluates
 * only the operand chosen (a term the model lacks must not flag an overflow); unchecked
 * arithmetic evaluates both and chooses without a branch (bs_choose). */
#define WHEN(cond, value) PICK(cond, value, 0)
#define PICK(cond, a, b) (ck ? ((cond) ? (a) : (b)) : bs_choose((cond), (a), (b)))

#endif
