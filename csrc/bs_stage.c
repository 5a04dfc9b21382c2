/* The stage path of the evaluator: a program over BS_STAGE rows in doubles (bs_stage.h).
 *
 * Every loop below runs over the rows of one instruction and vectorises (gcc
 * -fopt-info-vec); target_clones builds an AVX2 version beside the portable one, which
 * the loader picks on a CPU that has it (GNU ifunc).
 */
#include "bs_stage.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define BS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef BS_VECTOR_CLONES
#define BS_VECTOR_CLONES
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BS_RESTRICT __restrict__
#else
#define BS_RESTRICT
#endif

/* Exact conversions for integers in [0, 2^52): an integer x's bits under the exponent of
 * 2^52 make the double 2^52 + x.  AVX2 has no int64 <-> double vector conversions; these
 * vectorise. */
#define BS_2_52 0x1p52
#define BS_2_52_BITS INT64_C(0x4330000000000000)

static inline double bs_to_double(int64_t x) {
    union { int64_t bits; double value; } u = {.bits = x | BS_2_52_BITS};
    return u.value - BS_2_52;
}

static inline int64_t bs_to_int(double x) {
    union { double value; int64_t bits; } u = {.value = x + BS_2_52};
    return u.bits - BS_2_52_BITS;
}

BS_VECTOR_CLONES int bs_stage_valid(const bs_program *p, const int64_t *const *columns, const int64_t *row,
                                    ptrdiff_t count) {
    int64_t bad = 0;
    for (int64_t c = 0; c < p->n_constraints; ++c) {
        const bs_constraint *rule = &p->constraints[c];
        const int64_t *f = columns[rule->field], *g = rule->other >= 0 ? columns[rule->other] : NULL;
        if (f == NULL && g == NULL) continue;  /* the same for every row: checked once per call */
        const int64_t f0 = row[rule->field], g0 = rule->other >= 0 ? row[rule->other] : 0, k = rule->k;
        switch (rule->kind) {
        case BS_AT_LEAST:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] < k;
            break;
        case BS_EQUALS:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] != k;
            break;
        case BS_ZERO_OR_EQUAL:
            for (ptrdiff_t i = 0; i < count; ++i) {
                const int64_t x = f ? f[i] : f0, y = g ? g[i] : g0;
                bad |= (x != 0) & (x != y);
            }
            break;
        case BS_WITHIN:
            for (ptrdiff_t i = 0; i < count; ++i) {
                const int64_t x = f ? f[i] : f0, y = g ? g[i] : g0;
                bad |= x > y - k;
            }
            break;
        default:  /* BS_DIVIDES, fields in [0, 2^52): q * f == g for the rounded quotient */
            for (ptrdiff_t i = 0; i < count; ++i) {
                const double x = bs_to_double(f ? f[i] : f0), y = bs_to_double(g ? g[i] : g0);
                const double q = __builtin_floor(y / x);
                bad |= (x < 1) | (q * x != y);
            }
            break;
        }
    }
    return bad == 0;
}

BS_VECTOR_CLONES void bs_stage_doubles(const bs_program *p, const int64_t *const *columns, const int64_t *row,
                                       ptrdiff_t count, bs_stage_slots slots, int64_t *out, ptrdiff_t stride,
                                       const bs_device *dev, double *latency) {
    double *const v = slots.v;
    const int64_t end = dev ? p->n_instr : p->latency_start;
    ptrdiff_t i;
#define SLOT(s) (v + (s) * BS_STAGE_STRIDE)
    for (int64_t n = 0; n < end; ++n) {
        const bs_instr *in = &p->instr[n];
        double *BS_RESTRICT d = SLOT(in->dst);
        const double *BS_RESTRICT a = SLOT(in->a);
        const double *BS_RESTRICT b = SLOT(in->b);
        switch (in->op) {
        case BS_FIELD: {
            const int64_t *column = columns[in->a];
            if (column) {
                for (i = 0; i < count; ++i) d[i] = bs_to_double(column[i]);
            } else {
                const double value = (double)row[in->a];
                for (i = 0; i < count; ++i) d[i] = value;
            }
            break;
        }
        case BS_CONST: {
            const double value = (double)in->k;
            for (i = 0; i < count; ++i) d[i] = value;
            break;
        }
        case BS_MUL:
            for (i = 0; i < count; ++i) d[i] = a[i] * b[i];
            break;
        case BS_LINEAR: {
            const double constant = (double)in->k;
            const bs_term *t = &p->terms[in->a];
            if (in->b == 0) {
                for (i = 0; i < count; ++i) d[i] = constant;
                break;
            }
            const double c0 = (double)t[0].coeff;
            const double *BS_RESTRICT s0 = SLOT(t[0].slot);
            for (i = 0; i < count; ++i) d[i] = constant + c0 * s0[i];
            for (int64_t k = 1; k < in->b; ++k) {
                const double ck = (double)t[k].coeff;
                const double *BS_RESTRICT sk = SLOT(t[k].slot);
                for (i = 0; i < count; ++i) d[i] += ck * sk[i];
            }
            break;
        }
        case BS_MAX:
            for (i = 0; i < count; ++i) d[i] = a[i] > b[i] ? a[i] : b[i];
            break;
        case BS_MIN:
            for (i = 0; i < count; ++i) d[i] = a[i] < b[i] ? a[i] : b[i];
            break;
        case BS_WHERE: {
            const double *BS_RESTRICT c = SLOT(in->c);
            for (i = 0; i < count; ++i) d[i] = c[i] != 0 ? a[i] : b[i];
            break;
        }
        case BS_EQ:
            for (i = 0; i < count; ++i) d[i] = a[i] == b[i];
            break;
        case BS_NE:
            for (i = 0; i < count; ++i) d[i] = a[i] != b[i];
            break;
        case BS_GE:
            for (i = 0; i < count; ++i) d[i] = a[i] >= b[i];
            break;
        case BS_GT:
            for (i = 0; i < count; ++i) d[i] = a[i] > b[i];
            break;
        case BS_CEIL_DIV: case BS_FLOOR_DIV: {
            /* the quotient of exact integers below 2^53, corrected to the exact floor (the
             * rounded division may land on the integer above) */
            const double k = (double)in->k, up = in->op == BS_CEIL_DIV ? k - 1 : 0;
            for (i = 0; i < count; ++i) {
                const double x = a[i] + up;
                double q = __builtin_floor(x / k);
                q -= q * k > x;
                d[i] = q;
            }
            break;
        }
        default:  /* BS_MINUS */
            for (i = 0; i < count; ++i) d[i] = a[i] - (double)in->k;
            break;
        }
    }
    for (int64_t k = 0; k < p->n_outputs; ++k) {
        const double *BS_RESTRICT s = SLOT(p->outputs[k]);
        int64_t *BS_RESTRICT o = out + k * stride;
        for (i = 0; i < count; ++i) o[i] = bs_to_int(s[i]);
    }
    if (latency) {
        const double flops_rate = dev->flops_per_second, byte_rate = dev->bytes_per_second;
        const double act = dev->activation_bytes, overhead = dev->overhead;
        for (i = 0; i < count; ++i) latency[i] = 0;
        for (int64_t t = 0; t < p->n_latency; ++t) {
            const bs_latency_term *term = &p->latency[t];
            const double factor = p->latency_factor[t];
            const double *BS_RESTRICT f = SLOT(term->flops), *BS_RESTRICT e = SLOT(term->elements);
            const double *BS_RESTRICT r = SLOT(term->raw), *BS_RESTRICT n = SLOT(term->repeats);
            for (i = 0; i < count; ++i) {
                const double compute = f[i] / flops_rate, memory = (act * e[i] + factor * r[i]) / byte_rate;
                latency[i] += n[i] * ((compute > memory ? compute : memory) + overhead);
            }
        }
    }
#undef SLOT
}
