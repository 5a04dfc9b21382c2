/* The kernel's formulas over doubles, a stage of rows at a time (see bs_stage.h).
 *
 * Why the results are exact.  Every field is an integer in [0, 2^52) and so is every
 * metric value the stage keeps (both checked here).  Every formula is a sum of products
 * of sizes and non-negative plan coefficients, combined with max and with choices
 * between such sums; so each intermediate value is at most the metric it is part of
 * (rounding is monotone: a value that rounded would make the metric at least 2^53), or
 * is multiplied by a zero coefficient or not chosen, which discards it exactly.  One
 * subtraction: under full recomputation, recomputing a layer holds its saved bytes
 * minus its input; the input is at most half of them (bs_plan.h: a_H >= 2x >= 2 r_input),
 * and the difference is a term of the peak, below 2^52, so the minuend is below 2^53.
 * Below 2^53 integers and their sums, products and halves are exact doubles (and every
 * product of a few sizes below 2^52 is finite, so a discarded one is never inf or NaN).
 *
 * Why it is fast: a double multiply is one vector instruction for four rows, an int64
 * multiply on x86 before AVX-512 an emulation of several.  target_clones builds an AVX2
 * version beside the portable one, and the loader picks it on a CPU that has AVX2 (GNU
 * ifunc); each loop below vectorises in it (gcc -fopt-info-vec).
 */
#define BS_NUMBERS_ARE_DOUBLES 1

#include "bs_stage.h"

#include <string.h>

#include "bs_flops.h"
#include "bs_memory.h"
#include "bs_states.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define BS_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef BS_VECTOR_CLONES
#define BS_VECTOR_CLONES
#endif

/* Exact conversions for integers in [0, 2^52): an integer x's bits under the exponent of
 * 2^52 make the double 2^52 + x.  SSE and AVX2 have no int64 <-> double vector
 * conversions; these vectorise. */
#define BS_2_52 0x1p52
#define BS_2_52_BITS INT64_C(0x4330000000000000)
#define BS_AT_LEAST_2_52 (~((INT64_C(1) << 52) - 1))  /* bits set in 2^52 or more, or a negative */

static inline double bs_to_double(int64_t x) {
    union { int64_t bits; double value; } u = {.bits = x | BS_2_52_BITS};
    return u.value - BS_2_52;
}

static inline int64_t bs_to_int(double x) {
    union { double value; int64_t bits; } u = {.value = x + BS_2_52};
    return u.bits - BS_2_52_BITS;
}

/* Non-zero when the row (fields in [0, 2^52) as doubles) may fail bs_check_row.  The
 * same conditions, branch-free, in 64-bit lanes throughout (mixed widths do not
 * vectorise).  Heads divides hidden as in bs_divides: r * heads == hidden for an integer
 * r near hidden / heads only if heads divides hidden (a product that rounds is at least
 * 2^53); r is rounded by adding and subtracting 2^52 (a vector trunc needs SSE4.1). */
static inline int64_t bs_may_fail(const bs_plan *p, const double *f) {
    const double embedding = f[BS_EMBEDDING], hidden = f[BS_HIDDEN], heads = f[BS_HEADS];
    int64_t bad = (f[BS_LAYERS] < 1) | (hidden < 1) | (heads < 1) | (f[BS_INTERMEDIATE] < 1) | (f[BS_VOCAB] < 1) |
                  (f[BS_MAX_POSITIONS] < 1) | (f[BS_BATCH] < 1) | (f[BS_SEQ_LEN] < 1);
    const int64_t distilbert = p->family == BS_DISTILBERT;  /* no token types */
    bad |= (distilbert & (f[BS_TYPE_VOCAB] != 0)) | (!distilbert & (f[BS_TYPE_VOCAB] < 1));
    bad |= (int64_t)!p->factorised & (embedding != 0) & (embedding != hidden);
    bad |= (int64_t)p->albert & (f[BS_HIDDEN_GROUPS] < 1);
    bad |= f[BS_SEQ_LEN] > f[BS_MAX_POSITIONS] - (double)p->position_offset;
    const double quotient = (hidden / heads + BS_2_52) - BS_2_52;
    return bad | (quotient * heads != hidden);
}

int bs_stage_constants(const bs_row *template_row, const int64_t *const *columns, bs_stage_fields *fields) {
    for (int k = 0; k < BS_N_FIELDS; ++k) {
        if (columns[k] != NULL) continue;
        if (template_row->f[k] & BS_AT_LEAST_2_52) return 0;
        for (int i = 0; i < BS_STAGE; ++i) fields->f[k][i] = bs_to_double(template_row->f[k]);
    }
    return 1;
}

/* The metric loops of a stage whose fields are valid doubles in `field`: the values
 * kept to out (as bs_evaluate_stage_in_doubles), and bits of 2^52 or more in any of them
 * (then the caller discards them). */
BS_INLINE int64_t bs_stage_metrics(const bs_options *options, const bs_plan *plan, double (*field)[BS_STAGE_STRIDE],
                                   ptrdiff_t count, unsigned mask, int64_t *out, ptrdiff_t stride) {
    /* local copies: stores to `out` cannot then change them, so they stay in registers */
    const bs_options o = *options;
    const bs_plan p = *plan;
    int unused = 0, *ovf = &unused;
    const int ck = 0;
    double activations[BS_STAGE], transient[BS_STAGE];
    int64_t beyond = 0;
    ptrdiff_t i;

    /* Each loop body declares its own row and dimensions, so that they live in vector
     * registers; `beyond` collects every value kept, to check them all at once. */
#define BS_DIMS_OF_ROW(i)                                               \
    double f[BS_N_FIELDS];                                              \
    for (int k = 0; k < BS_N_FIELDS; ++k) f[k] = field[k][(i)];         \
    bs_dims d;                                                          \
    bs_dims_of_fields(&p, f, o.num_labels, &d)
#define BS_KEEP(metric, i, value)                                       \
    do {                                                                \
        const int64_t bits = bs_to_int(value);                          \
        beyond |= bits & BS_AT_LEAST_2_52;                              \
        out[(metric) * stride + (i)] = bits;                            \
    } while (0)

    if (mask & BS_NEEDS_STATES) {  /* the states are built from the parameters */
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            const double params = bs_params(&p, &d, ovf, ck);
            BS_KEEP(BS_PARAMS, i, params);
            bs_states states;
            bs_replica_states(&p, &d, params, 0, &states, ovf, ck);
            BS_KEEP(BS_WEIGHT_BYTES, i, states.weights);
            BS_KEEP(BS_GRAD_BYTES, i, states.grads);
            BS_KEEP(BS_OPTIMIZER_BYTES, i, states.optimizer);
        }
    } else if (mask & BS_BIT(BS_PARAMS)) {
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            BS_KEEP(BS_PARAMS, i, bs_params(&p, &d, ovf, ck));
        }
    }
    if (mask & BS_NEEDS_FLOPS) {
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            const double forward = bs_flops_fwd(&p, &d, ovf, ck);
            BS_KEEP(BS_FLOPS_FWD, i, forward);
            BS_KEEP(BS_MACS_FWD, i, forward * 0.5);
            BS_KEEP(BS_FLOPS_BWD, i, bs_flops_bwd(&p, &d, forward, ovf, ck));
        }
    }
    if (mask & BS_BIT(BS_ELEMENTWISE_FLOPS_FWD)) {
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            BS_KEEP(BS_ELEMENTWISE_FLOPS_FWD, i, bs_elementwise_flops(&p, &d, ovf, ck));
        }
    }
    if ((mask & BS_NEEDS_ACTIVATIONS) && p.training) {
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            activations[i] = bs_saved_bytes(&p, &d, &transient[i], ovf, ck);
            BS_KEEP(BS_ACTIVATION_BYTES, i, activations[i]);
        }
    } else if (mask & BS_NEEDS_ACTIVATIONS) {
        for (i = 0; i < count; ++i) {
            BS_DIMS_OF_ROW(i);
            activations[i] = MUL((double)p.bytes, bs_live_elements(&p, &d, ovf, ck));
            transient[i] = 0;
            BS_KEEP(BS_ACTIVATION_BYTES, i, activations[i]);
        }
    }
    if (beyond) return beyond;
    if ((mask & BS_NEEDS_STATES) && o.zero_stage >= 1) {
        for (i = 0; i < count; ++i)  /* integer division: not vectorised */
            bs_partition_states(&o, &out[BS_WEIGHT_BYTES * stride + i], &out[BS_GRAD_BYTES * stride + i],
                                &out[BS_OPTIMIZER_BYTES * stride + i]);
    }
    if (mask & BS_BIT(BS_PEAK_BYTES)) {
        /* (transient is at most the peak: its minuend is below 2^53, see above) */
        for (i = 0; i < count; ++i) {
            const bs_states states = {bs_to_double(out[BS_WEIGHT_BYTES * stride + i]),
                                      bs_to_double(out[BS_GRAD_BYTES * stride + i]),
                                      bs_to_double(out[BS_OPTIMIZER_BYTES * stride + i])};
            BS_KEEP(BS_PEAK_BYTES, i, bs_peak(&p, &states, activations[i], transient[i], ovf, ck));
        }
    }
#undef BS_DIMS_OF_ROW
#undef BS_KEEP
    return beyond;
}

BS_VECTOR_CLONES int bs_evaluate_stage_in_doubles(const bs_options *options, const bs_plan *plan,
                                                  const int64_t *const *columns, ptrdiff_t count, unsigned mask,
                                                  bs_stage_fields *fields, int64_t *out, ptrdiff_t stride) {
    if (plan->per_tensor) return 0;
    const bs_plan p = *plan;
    double (*field)[BS_STAGE_STRIDE] = fields->f;
    int64_t beyond = 0;  /* bits of 2^52 or more in a field or value, or a row that may fail */
    ptrdiff_t i;

    for (int k = 0; k < BS_N_FIELDS; ++k) {
        const int64_t *column = columns[k];
        if (column == NULL) continue;  /* a constant, already in place */
        for (i = 0; i < count; ++i) {
            beyond |= column[i] & BS_AT_LEAST_2_52;
            field[k][i] = bs_to_double(column[i]);
        }
    }
    for (i = 0; i < count; ++i) {
        double f[BS_N_FIELDS];
        for (int k = 0; k < BS_N_FIELDS; ++k) f[k] = field[k][i];
        beyond |= bs_may_fail(&p, f);
    }
    if (beyond) return 0;

    /* Four copies of the metric loops, one for each value of the two plan flags that add
     * the most terms (an embedding projection is possible; the masked-LM head): in each
     * copy the compiler knows them and folds the choices on them away, which took a
     * fifth off the time per row here. */
    if (p.albert | p.electra) {
        if (p.mlm) beyond = bs_stage_metrics(options, &p, field, count, mask, out, stride);
        else beyond = bs_stage_metrics(options, &p, field, count, mask, out, stride);
    } else {
        if (p.mlm) beyond = bs_stage_metrics(options, &p, field, count, mask, out, stride);
        else beyond = bs_stage_metrics(options, &p, field, count, mask, out, stride);
    }
    return beyond == 0;
}
