/* The stage path of the evaluator: a program over BS_STAGE rows in doubles (bs_stage.h).
 *
 * Every loop below runs over the rows of one instruction and vectorises (gcc
 * -fopt-info-vec); target_clones builds an AVX2 version beside the portable one, which
 * the loader picks on a CPU that has it (GNU ifunc).
 */
#include "bs_stage.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
/* x86-64-v3: AVX2 and FMA (fused multiply-adds are exact here too: every value is an
 * integer below 2^53) */
#define BS_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
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

BS_VECTOR_CLONES void bs_column_range(const int64_t *column, ptrdiff_t count, int64_t *least, int64_t *largest) {
    int64_t low = column[0], high = column[0];
    for (ptrdiff_t i = 0; i < count; ++i) {
        low = column[i] < low ? column[i] : low;
        high = column[i] > high ? column[i] : high;
    }
    *least = low;
    *largest = high;
}

uint64_t bs_unproved(const bs_program *p, const int64_t *least, const int64_t *largest) {
    uint64_t rules = 0;
    for (int64_t c = 0; c < p->n_constraints && c < 64; ++c) {
        const bs_constraint *rule = &p->constraints[c];
        const int64_t f = rule->field, g = rule->other, k = rule->k;
        const int f_fixed = least[f] == largest[f], g_fixed = g < 0 || least[g] == largest[g];
        int proved;
        switch (rule->kind) {
        case BS_AT_LEAST: proved = least[f] >= k; break;
        case BS_EQUALS: proved = f_fixed && least[f] == k; break;
        case BS_DIVIDES: proved = 0; break;
        case BS_ZERO_OR_EQUAL: proved = (f_fixed && least[f] == 0) || (f_fixed && g_fixed && least[f] == least[g]); break;
        case BS_MULTIPLE:
            proved = f_fixed && g_fixed && least[g] >= 0 && least[g] <= INT64_MAX / k && least[f] == k * least[g];
            break;
        case BS_DIVISIBLE: proved = f_fixed && least[f] % k == 0; break;
        default: proved = least[g] >= INT64_MIN + k && largest[f] <= least[g] - k; break; /* BS_WITHIN */
        }
        if (!proved) rules |= (uint64_t)1 << c;
    }
    return rules;
}

BS_VECTOR_CLONES int bs_stage_valid(const bs_program *p, const int64_t *const *columns, uint64_t rules,
                                    ptrdiff_t count) {
    int64_t bad = 0;
    for (int64_t c = 0; c < p->n_constraints && c < 64; ++c) {
        if (!(rules >> c & 1)) continue;
        const bs_constraint *rule = &p->constraints[c];
        const int64_t *BS_RESTRICT f = columns[rule->field];
        const int64_t *BS_RESTRICT g = columns[rule->other >= 0 ? rule->other : rule->field];
        const int64_t k = rule->k;
        switch (rule->kind) {
        case BS_AT_LEAST:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] < k;
            break;
        case BS_EQUALS:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] != k;
            break;
        case BS_ZERO_OR_EQUAL:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= (f[i] != 0) & (f[i] != g[i]);
            break;
        case BS_WITHIN:
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] > g[i] - k;
            break;
        case BS_MULTIPLE: {  /* fields in [0, 2^52) and k <= 2^11 (validity.py): k * g cannot overflow */
            for (ptrdiff_t i = 0; i < count; ++i) bad |= f[i] != k * g[i];
            break;
        }
        case BS_DIVISIBLE: {  /* fields in [0, 2^52), k >= 1: the exact double quotient, as BS_DIVIDES */
            const double x = bs_to_double(k);
            for (ptrdiff_t i = 0; i < count; ++i) {
                const double y = bs_to_double(f[i]);
                bad |= __builtin_floor(y / x) * x != y;
            }
            break;
        }
        default:  /* BS_DIVIDES, fields in [0, 2^52): q * f == g for the rounded quotient */
            for (ptrdiff_t i = 0; i < count; ++i) {
                const double x = bs_to_double(f[i]), y = bs_to_double(g[i]);
                const double q = __builtin_floor(y / x);
                bad |= (x < 1) | (q * x != y);
            }
            break;
        }
    }
    return bad == 0;
}

/* The body of bs_stage_doubles, inlined twice: for a whole stage (count the constant
 * BS_STAGE, so that every loop has a known trip count and no remainder) and for the
 * last, partial one. */
static inline __attribute__((always_inline)) void bs_stage_body(
        const bs_program *p, const int64_t *const *columns, const ptrdiff_t count, bs_stage_slots slots,
        int64_t *const *out, ptrdiff_t offset, const bs_device *dev, double *latency) {
    double *const v = slots.v;
    int64_t *BS_RESTRICT staged = (int64_t *)(v + p->n_slots * BS_STAGE_STRIDE);
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
            const int64_t *BS_RESTRICT column = columns[in->a];
            for (i = 0; i < count; ++i) d[i] = bs_to_double(column[i]);
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
            /* k + sum c_t s_t over the terms, four at a time: one pass over the rows per
             * four terms (each pass a store of d), not one per term */
            const bs_term *t = &p->terms[in->a];
            const int64_t terms = in->b;
            int64_t done = 0;
            if (terms == 0) {
                const double constant = (double)in->k;
                for (i = 0; i < count; ++i) d[i] = constant;
                break;
            }
            while (done < terms) {
                const int64_t n = terms - done < 4 ? terms - done : 4;
                const bs_term *u = t + done;
                const double c0 = (double)u[0].coeff, c1 = n > 1 ? (double)u[1].coeff : 0;
                const double c2 = n > 2 ? (double)u[2].coeff : 0, c3 = n > 3 ? (double)u[3].coeff : 0;
                const double *BS_RESTRICT s0 = SLOT(u[0].slot), *BS_RESTRICT s1 = SLOT(u[n > 1 ? 1 : 0].slot);
                const double *BS_RESTRICT s2 = SLOT(u[n > 2 ? 2 : 0].slot), *BS_RESTRICT s3 = SLOT(u[n > 3 ? 3 : 0].slot);
                const double *BS_RESTRICT base = done == 0 ? NULL : d;
                const double constant = (double)in->k;
                if (base == NULL) {
                    switch (n) {
                    case 1: for (i = 0; i < count; ++i) d[i] = constant + c0 * s0[i]; break;
                    case 2: for (i = 0; i < count; ++i) d[i] = constant + c0 * s0[i] + c1 * s1[i]; break;
                    case 3: for (i = 0; i < count; ++i) d[i] = constant + c0 * s0[i] + c1 * s1[i] + c2 * s2[i]; break;
                    default:
                        for (i = 0; i < count; ++i) d[i] = constant + c0 * s0[i] + c1 * s1[i] + c2 * s2[i] + c3 * s3[i];
                    }
                } else {
                    switch (n) {
                    case 1: for (i = 0; i < count; ++i) d[i] += c0 * s0[i]; break;
                    case 2: for (i = 0; i < count; ++i) d[i] += c0 * s0[i] + c1 * s1[i]; break;
                    case 3: for (i = 0; i < count; ++i) d[i] += c0 * s0[i] + c1 * s1[i] + c2 * s2[i]; break;
                    default: for (i = 0; i < count; ++i) d[i] += c0 * s0[i] + c1 * s1[i] + c2 * s2[i] + c3 * s3[i];
                    }
                }
                done += n;
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
        case BS_DIFFERENCE:
            for (i = 0; i < count; ++i) d[i] = a[i] - b[i];
            break;
        default:  /* BS_MINUS */
            for (i = 0; i < count; ++i) d[i] = a[i] - (double)in->k;
            break;
        }
    }
    for (int64_t k = 0; k < p->n_outputs; ++k) {
        const double *BS_RESTRICT s = SLOT(p->outputs[k]);
        /* converted in L1 (a vector loop), then streamed to the output array */
        for (i = 0; i < count; ++i) staged[i] = bs_to_int(s[i]);
        bs_stream_copy(out[k] + offset, staged, count);
    }
    if (latency) {
        const double compute_rate = dev->compute_rate, memory_rate = dev->memory_rate;
        const double element_bytes = dev->element_bytes, overhead = dev->overhead;
        for (i = 0; i < count; ++i) latency[i] = 0;
        for (int64_t t = 0; t < p->n_latency; ++t) {
            const bs_latency_term *term = &p->latency[t];
            const double factor = p->latency_factor[t];
            const double *BS_RESTRICT f = SLOT(term->work), *BS_RESTRICT e = SLOT(term->elements);
            const double *BS_RESTRICT r = SLOT(term->raw), *BS_RESTRICT n = SLOT(term->repeats);
            if (term->link) {  /* bytes between ranks */
                const double per_byte = factor / dev->link_rate;
                for (i = 0; i < count; ++i) latency[i] += n[i] * per_byte * r[i];
                continue;
            }
            for (i = 0; i < count; ++i) {
                const double compute = f[i] / compute_rate, memory = (element_bytes * e[i] + factor * r[i]) / memory_rate;
                latency[i] += n[i] * ((compute > memory ? compute : memory) + overhead);
            }
        }
    }
#undef SLOT
}

BS_VECTOR_CLONES void bs_stage_doubles(const bs_program *p, const int64_t *const *columns, ptrdiff_t count,
                                       bs_stage_slots slots, int64_t *const *out, ptrdiff_t offset,
                                       const bs_device *dev, double *latency) {
    if (count == BS_STAGE)
        bs_stage_body(p, columns, BS_STAGE, slots, out, offset, dev, latency);
    else
        bs_stage_body(p, columns, count, slots, out, offset, dev, latency);
}
