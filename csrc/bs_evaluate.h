/* One configuration: validate a row, then compute the requested metrics. */
#ifndef BERTSIZE_EVALUATE_H
#define BERTSIZE_EVALUATE_H

#include "bs_flops.h"
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

static inline int bs_reject(int field, int reason) { return field * BS_N_REASONS + reason; }

/* 0 when the row describes a model HF can build and run, else the first problem. */
static inline int bs_check_row(const bs_options *o, const bs_row *r) {
    static const int positive[] = {BS_LAYERS, BS_HIDDEN, BS_HEADS, BS_INTERMEDIATE, BS_VOCAB,
                                   BS_MAX_POSITIONS, BS_BATCH, BS_SEQ_LEN};
    for (unsigned k = 0; k < sizeof positive / sizeof positive[0]; ++k)
        if (r->f[positive[k]] < 1) return bs_reject(positive[k], BS_NOT_POSITIVE);
    if (r->f[BS_HIDDEN] % r->f[BS_HEADS]) return bs_reject(BS_HEADS, BS_HEADS_DIVIDE);
    if (o->family == BS_DISTILBERT) {
        if (r->f[BS_TYPE_VOCAB] != 0) return bs_reject(BS_TYPE_VOCAB, BS_NOT_ZERO);
    } else if (r->f[BS_TYPE_VOCAB] < 1) {
        return bs_reject(BS_TYPE_VOCAB, BS_NOT_POSITIVE);
    }
    const int64_t embedding = r->f[BS_EMBEDDING];
    if (embedding < 0) return bs_reject(BS_EMBEDDING, BS_NEGATIVE);
    if (embedding && embedding != r->f[BS_HIDDEN] && o->family != BS_ALBERT && o->family != BS_ELECTRA)
        return bs_reject(BS_EMBEDDING, BS_NOT_FACTORISED);
    if (o->family == BS_ALBERT && r->f[BS_HIDDEN_GROUPS] < 1) return bs_reject(BS_HIDDEN_GROUPS, BS_NOT_POSITIVE);
    /* RoBERTa numbers positions from padding_idx + 1 = 2 */
    const int64_t offset = (o->family == BS_ROBERTA || o->family == BS_XLM_ROBERTA) ? 2 : 0;
    if (r->f[BS_SEQ_LEN] > r->f[BS_MAX_POSITIONS] - offset) return bs_reject(BS_SEQ_LEN, BS_TOO_LONG);
    return BS_OK;
}

#define BS_BIT(metric) (1u << (metric))
#define BS_NEEDS_PARAMS (BS_BIT(BS_PARAMS) | BS_BIT(BS_WEIGHT_BYTES) | BS_BIT(BS_GRAD_BYTES) | \
                         BS_BIT(BS_OPTIMIZER_BYTES) | BS_BIT(BS_PEAK_BYTES))
#define BS_NEEDS_STATES (BS_BIT(BS_WEIGHT_BYTES) | BS_BIT(BS_GRAD_BYTES) | BS_BIT(BS_OPTIMIZER_BYTES) | \
                         BS_BIT(BS_PEAK_BYTES))
#define BS_NEEDS_FLOPS (BS_BIT(BS_FLOPS_FWD) | BS_BIT(BS_FLOPS_BWD) | BS_BIT(BS_MACS_FWD))
#define BS_NEEDS_ACTIVATIONS (BS_BIT(BS_ACTIVATION_BYTES) | BS_BIT(BS_PEAK_BYTES))

/* Computes the metrics selected by `mask` into out[metric] (others untouched).
 * Returns 0, or 1 + the first selected metric that overflows int64. */
static inline int bs_evaluate(const bs_options *o, const bs_row *r, unsigned mask, int64_t *out) {
    bs_shape d;
    bs_shape_of(o, r, &d);
    int ovf[BS_N_METRICS] = {0};
    if (mask & BS_NEEDS_PARAMS) out[BS_PARAMS] = bs_params(o, &d, &ovf[BS_PARAMS]);
    if (mask & BS_NEEDS_FLOPS) {
        const int64_t forward = bs_flops_fwd(o, &d, &ovf[BS_FLOPS_FWD]);
        out[BS_FLOPS_FWD] = forward;
        out[BS_MACS_FWD] = forward / 2;
        ovf[BS_MACS_FWD] = ovf[BS_FLOPS_BWD] = ovf[BS_FLOPS_FWD];
        out[BS_FLOPS_BWD] = bs_flops_bwd(o, &d, forward, &ovf[BS_FLOPS_BWD]);
    }
    if (mask & BS_BIT(BS_ELEMENTWISE_FLOPS_FWD))
        out[BS_ELEMENTWISE_FLOPS_FWD] = bs_elementwise_flops(o, &d, &ovf[BS_ELEMENTWISE_FLOPS_FWD]);
    int64_t transient = 0;
    if (mask & BS_NEEDS_ACTIVATIONS) {
        int *flag = &ovf[BS_ACTIVATION_BYTES];
        if (o->training)
            out[BS_ACTIVATION_BYTES] = bs_saved_bytes(o, &d, &transient, flag);
        else
            out[BS_ACTIVATION_BYTES] = bs_mul(bs_compute_bytes(o), bs_live_elements(o, &d, flag), flag);
    }
    if (mask & BS_NEEDS_STATES) {
        bs_states states;
        int flag = ovf[BS_PARAMS];
        bs_model_states(o, &d, out[BS_PARAMS], &states, &flag);
        out[BS_WEIGHT_BYTES] = states.weights;
        out[BS_GRAD_BYTES] = states.grads;
        out[BS_OPTIMIZER_BYTES] = states.optimizer;
        ovf[BS_WEIGHT_BYTES] = ovf[BS_GRAD_BYTES] = ovf[BS_OPTIMIZER_BYTES] = flag;
        if (mask & BS_BIT(BS_PEAK_BYTES)) {
            int peak_flag = flag | ovf[BS_ACTIVATION_BYTES];
            int64_t peak = bs_add(states.weights, out[BS_ACTIVATION_BYTES], &peak_flag);
            if (o->training) {
                peak = bs_add(peak, bs_add(states.grads, states.optimizer, &peak_flag), &peak_flag);
                peak = bs_add(peak, transient, &peak_flag);
            }
            out[BS_PEAK_BYTES] = peak;
            ovf[BS_PEAK_BYTES] = peak_flag;
        }
    }
    for (int m = 0; m < BS_N_METRICS; ++m)
        if ((mask & BS_BIT(m)) && ovf[m]) return m + 1;
    return 0;
}

#endif
