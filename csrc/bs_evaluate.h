/* One configuration: check a row, compute the selected metrics; and the per-block bound
 * that lets the kernel skip overflow checks where they cannot fire. */
#ifndef BERTSIZE_EVALUATE_H
#define BERTSIZE_EVALUATE_H

#include <stddef.h>

#include "bs_flops.h"
#include "bs_latency.h"
#include "bs_memory.h"
#include "bs_params.h"
#include "bs_states.h"

/* Why a row is invalid: the code is field * BS_N_REASONS + reason. */
enum bs_reason {
    BS_OK,
    BS_NOT_POSITIVE,        /* a size below 1 */
    BS_HEADS_DIVIDE,        /* heads does not divide hidden */
    BS_NOT_ZERO,            /* DistilBERT has no token-type table */
    BS_NEGATIVE,            /* below 0 */
    BS_NOT_FACTORISED,      /* embedding != hidden outside ALBERT / ELECTRA */
    BS_TOO_LONG,            /* seq_len beyond the position table */
    BS_N_REASONS
};

/* Whether a divides b, for a, b >= 1.  Below 2^53 through a double quotient: x86's
 * integer division is not pipelined and cost a sixth of the row loop, the double one is.
 * Exact: k = trunc(fl(b / a)) satisfies k * a == b only if a divides b, and when it does
 * b / a is an integer below 2^53, which the division returns exactly. */
static inline int bs_divides(int64_t a, int64_t b) {
    if (((uint64_t)(a | b) >> 53) == 0) return (int64_t)((double)b / (double)a) * a == b;
    return b % a == 0;
}

static inline int bs_reject(int field, int reason) { return field * BS_N_REASONS + reason; }

/* 0 when the row describes a model HF can build and run, else the first problem. */
BS_INLINE int bs_check_row(const bs_plan *p, const bs_row *r) {
    const int64_t *f = r->f;
    static const int positive[] = {BS_LAYERS, BS_HIDDEN, BS_HEADS, BS_INTERMEDIATE, BS_VOCAB,
                                   BS_MAX_POSITIONS, BS_BATCH, BS_SEQ_LEN};
    /* one branch for the common case, then find the culprit */
    const int any_bad = (f[BS_LAYERS] < 1) | (f[BS_HIDDEN] < 1) | (f[BS_HEADS] < 1) | (f[BS_INTERMEDIATE] < 1) |
                        (f[BS_VOCAB] < 1) | (f[BS_MAX_POSITIONS] < 1) | (f[BS_BATCH] < 1) | (f[BS_SEQ_LEN] < 1);
    if (any_bad)
        for (unsigned k = 0; k < sizeof positive / sizeof positive[0]; ++k)
            if (f[positive[k]] < 1) return bs_reject(positive[k], BS_NOT_POSITIVE);
    if (!bs_divides(f[BS_HEADS], f[BS_HIDDEN])) return bs_reject(BS_HEADS, BS_HEADS_DIVIDE);
    if (p->family == BS_DISTILBERT) {
        if (f[BS_TYPE_VOCAB] != 0) return bs_reject(BS_TYPE_VOCAB, BS_NOT_ZERO);
    } else if (f[BS_TYPE_VOCAB] < 1) {
        return bs_reject(BS_TYPE_VOCAB, BS_NOT_POSITIVE);
    }
    const int64_t embedding = f[BS_EMBEDDING];
    if (embedding < 0) return bs_reject(BS_EMBEDDING, BS_NEGATIVE);
    if (embedding && embedding != f[BS_HIDDEN] && !p->factorised) return bs_reject(BS_EMBEDDING, BS_NOT_FACTORISED);
    if (p->albert && f[BS_HIDDEN_GROUPS] < 1) return bs_reject(BS_HIDDEN_GROUPS, BS_NOT_POSITIVE);
    if (f[BS_SEQ_LEN] > f[BS_MAX_POSITIONS] - p->position_offset) return bs_reject(BS_SEQ_LEN, BS_TOO_LONG);
    return BS_OK;
}

/* Computes the metrics selected by `mask` into out[metric].  With ck = 1, flags[m] is
 * set for every metric that overflows int64 or is built from one that does (macs_fwd
 * and flops_bwd from flops_fwd; model states from params; peak from states and
 * activations).  With ck = 0 the arithmetic is unchecked: only for rows bounded by
 * bs_block_is_safe.  Metric m goes to out[m * stride]: the kernel writes a row straight
 * into its staging buffer (one row of the buffer per metric). */
BS_INLINE void bs_metrics(const bs_options *o, const bs_plan *p, const bs_row *r, unsigned mask, int64_t *out,
                          ptrdiff_t stride, int *flags, const int ck) {
    bs_dims d;
    bs_dims_of(p, r, o->num_labels, &d);
    int *ovf;
    if (mask & BS_NEEDS_PARAMS) {
        ovf = &flags[BS_PARAMS];
        out[BS_PARAMS * stride] = bs_params(p, &d, ovf, ck);
    }
    if (mask & BS_NEEDS_FLOPS) {
        ovf = &flags[BS_FLOPS_FWD];
        const int64_t forward = bs_flops_fwd(p, &d, ovf, ck);
        out[BS_FLOPS_FWD * stride] = forward;
        out[BS_MACS_FWD * stride] = forward / 2;
        flags[BS_FLOPS_BWD] = flags[BS_MACS_FWD] = flags[BS_FLOPS_FWD];
        out[BS_FLOPS_BWD * stride] = bs_flops_bwd(p, &d, forward, &flags[BS_FLOPS_BWD], ck);
    }
    if (mask & BS_BIT(BS_ELEMENTWISE_FLOPS_FWD))
        out[BS_ELEMENTWISE_FLOPS_FWD * stride] = bs_elementwise_flops(p, &d, &flags[BS_ELEMENTWISE_FLOPS_FWD], ck);
    int64_t transient = 0;
    if (mask & BS_NEEDS_ACTIVATIONS) {
        ovf = &flags[BS_ACTIVATION_BYTES];
        out[BS_ACTIVATION_BYTES * stride] = p->training ? bs_saved_bytes(p, &d, &transient, ovf, ck)
                                               : MUL(p->bytes, bs_live_elements(p, &d, ovf, ck));
    }
    if (mask & BS_NEEDS_STATES) {
        bs_states states;
        int state_flag = flags[BS_PARAMS];
        bs_model_states(o, p, &d, out[BS_PARAMS * stride], &states, &state_flag, ck);
        out[BS_WEIGHT_BYTES * stride] = states.weights;
        out[BS_GRAD_BYTES * stride] = states.grads;
        out[BS_OPTIMIZER_BYTES * stride] = states.optimizer;
        flags[BS_WEIGHT_BYTES] = flags[BS_GRAD_BYTES] = flags[BS_OPTIMIZER_BYTES] = state_flag;
        if (mask & BS_BIT(BS_PEAK_BYTES)) {
            int peak_flag = state_flag | flags[BS_ACTIVATION_BYTES];
            out[BS_PEAK_BYTES * stride] = bs_peak(p, &states, out[BS_ACTIVATION_BYTES * stride], transient,
                                                  &peak_flag, ck);
            flags[BS_PEAK_BYTES] = peak_flag;
        }
    }
}

/* Checked evaluation: 0, or 1 + the first selected metric that overflows int64. */
BS_OUT_OF_LINE int bs_evaluate(const bs_options *o, const bs_plan *p, const bs_row *r, unsigned mask, int64_t *out) {
    int flags[BS_N_METRICS] = {0};
    bs_metrics(o, p, r, mask, out, 1, flags, 1);
    for (int m = 0; m < BS_N_METRICS; ++m)
        if ((mask & BS_BIT(m)) && flags[m]) return m + 1;
    return 0;
}

/* Unchecked evaluation, for rows a block bound covers; metric m to out[m * stride]. */
BS_INLINE void bs_evaluate_unchecked(const bs_options *o, const bs_plan *p, const bs_row *r, unsigned mask,
                                     int64_t *out, ptrdiff_t stride) {
    int flags[BS_N_METRICS];
    bs_metrics(o, p, r, mask, out, stride, flags, 0);
}

/* Roofline seconds of a configuration whose metrics (at least params and the model
 * states) are in metrics[m * stride]. */
BS_INLINE double bs_row_latency(const bs_options *o, const bs_plan *p, const bs_row *r, const bs_device *dev,
                                const int64_t *metrics, ptrdiff_t stride) {
    bs_dims d;
    bs_dims_of(p, r, o->num_labels, &d);
    const bs_states states = {metrics[BS_WEIGHT_BYTES * stride], metrics[BS_GRAD_BYTES * stride],
                              metrics[BS_OPTIMIZER_BYTES * stride]};
    return bs_latency(o, p, &d, dev, metrics[BS_PARAMS * stride], &states);
}

/* Whether every row of a block provably evaluates without overflow, given `corner`,
 * the block's column-wise maximum (embedding: the largest effective width).
 *
 * Every metric is a sum of products of sizes with non-negative coefficients, so each
 * term grows with every size and is at most the metric itself, except in three places,
 * where a row's metric is still bounded by a multiple of the corner's:
 *   - 8-bit AdamW keeps 8n bytes for a tensor of n < 4096 elements but 2n + 8n/256 from
 *     4096 on: f(n) <= 4 f(N) for n <= N;
 *   - an ELECTRA row with embedding != hidden has a projection the corner may lack; its
 *     terms (EH, nE, ...) are bounded by the corner's layer terms, at most doubling it;
 *   - under CPU autocast the residual stream is fp32 without a projection and 16-bit
 *     with one: a row's stream terms are at most twice the corner's.
 * These compound to at most 16 x, so a corner whose metrics stay below 2^59 bounds
 * every row of the block below 2^63. */
BS_OUT_OF_LINE int bs_block_is_safe(const bs_options *o, const bs_plan *p, const bs_row *corner, unsigned mask) {
    int64_t out[BS_N_METRICS];
    int flags[BS_N_METRICS] = {0};
    bs_metrics(o, p, corner, mask, out, 1, flags, 1);
    for (int m = 0; m < BS_N_METRICS; ++m)
        if ((mask & BS_BIT(m)) && (flags[m] || out[m] >= ((int64_t)1 << 59))) return 0;
    return 1;
}

#endif
