/* Parameter counts and the parameter tensor list of the HF classes. */
#ifndef BERTSIZE_PARAMS_H
#define BERTSIZE_PARAMS_H

#include "bs_checked.h"
#include "bs_shape.h"

/* Closed form: embeddings + weight sets x layer + pooler + head. */
static inline int64_t bs_params(const bs_options *o, const bs_shape *d, int *ovf) {
    const int64_t H = d->H, E = d->E, W = d->W, C = d->C, I = d->I;
    const int64_t H2 = CK_MUL(H, H);
    /* word, position and token-type tables, LayerNorm; ALBERT / ELECTRA projection */
    int64_t total = CK_ADD(CK_MUL(CK_ADD(CK_ADD(d->V, d->P), d->T), E), CK_MUL(2, E));
    if (d->proj) total = CK_ADD(total, CK_ADD(CK_MUL(E, H), H));
    /* per layer: q, k, v, o 4(H^2 + H); two LayerNorms 4H; FFN 2HI + I + H */
    const int64_t layer = CK_ADD(CK_ADD(CK_MUL(4, H2), CK_MUL3(2, H, I)), CK_ADD(CK_MUL(9, H), I));
    total = CK_ADD(total, CK_MUL(d->sets, layer));
    if (d->pooler) total = CK_ADD(total, CK_ADD(H2, H));
    if (d->mlm) /* transform dense H x W + bias, LayerNorm 2W, decoder bias V (weight tied) */
        total = CK_ADD(total, CK_ADD(CK_MUL(H, W), CK_ADD(CK_MUL(3, W), d->V)));
    if (o->head == BS_PRETRAINING) {
        if (o->family == BS_BERT)        /* next-sentence classifier H -> 2 */
            total = CK_ADD(total, CK_ADD(CK_MUL(2, H), 2));
        else if (o->family == BS_ALBERT) /* sentence-order classifier H -> C */
            total = CK_ADD(total, CK_ADD(CK_MUL(C, H), C));
        else                             /* ELECTRA discriminator: H -> H -> 1 */
            total = CK_ADD(total, CK_ADD(H2, CK_ADD(CK_MUL(2, H), 1)));
    } else if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        if (o->family != BS_BERT && o->family != BS_ALBERT) /* dense H -> H before out_proj */
            total = CK_ADD(total, CK_ADD(H2, H));
        total = CK_ADD(total, CK_ADD(CK_MUL(C, H), C));
    }
    return total;
}

/* The parameter tensors, for optimizers and formats whose cost is per tensor.
 * cols == 0 marks a vector of `rows` elements. */
typedef struct {
    int64_t rows, cols;
    int64_t count;       /* tensors of this shape */
    int64_t used_count;  /* of which some layer runs (ALBERT groups beyond the layers do not) */
    int linear;          /* an nn.Linear weight */
} bs_tensor;

#define BS_MAX_TENSOR_KINDS 32

static inline int bs_push(bs_tensor *t, int k, int64_t rows, int64_t cols, int64_t count, int64_t used, int linear) {
    t[k].rows = rows;
    t[k].cols = cols;
    t[k].count = count;
    t[k].used_count = used;
    t[k].linear = linear;
    return k + 1;
}

/* Fills `t` and returns how many entries it wrote. */
static inline int bs_tensors(const bs_options *o, const bs_shape *d, bs_tensor *t) {
    const int64_t H = d->H, E = d->E, S = d->sets, U = d->used_sets;
    int k = 0;
    k = bs_push(t, k, d->V, E, 1, 1, 0);
    k = bs_push(t, k, d->P, E, 1, 1, 0);
    if (d->T) k = bs_push(t, k, d->T, E, 1, 1, 0);
    k = bs_push(t, k, E, 0, 2, 2, 0);                       /* LayerNorm weight, bias */
    if (d->proj) {
        k = bs_push(t, k, H, E, 1, 1, 1);
        k = bs_push(t, k, H, 0, 1, 1, 0);
    }
    /* 4S and 9S cannot overflow where the parameter count itself does not. */
    k = bs_push(t, k, H, H, 4 * S, 4 * U, 1);               /* q, k, v, o */
    k = bs_push(t, k, H, 0, 9 * S, 9 * U, 0);               /* 4 + 1 biases, 2 LayerNorms */
    k = bs_push(t, k, d->I, H, S, U, 1);                    /* FFN up (out, in) */
    k = bs_push(t, k, H, d->I, S, U, 1);                    /* FFN down */
    k = bs_push(t, k, d->I, 0, S, U, 0);                    /* FFN up bias */
    if (d->pooler) {
        k = bs_push(t, k, H, H, 1, 1, 1);
        k = bs_push(t, k, H, 0, 1, 1, 0);
    }
    if (d->mlm) {
        k = bs_push(t, k, d->W, H, 1, 1, 1);
        k = bs_push(t, k, d->W, 0, 3, 3, 0);                /* bias, LayerNorm weight, bias */
        k = bs_push(t, k, d->V, 0, 1, 1, 0);                /* decoder bias (weight tied) */
    }
    if (o->head == BS_PRETRAINING) {
        const int64_t out = o->family == BS_BERT ? 2 : (o->family == BS_ALBERT ? d->C : 1);
        if (o->family == BS_ELECTRA) {
            k = bs_push(t, k, H, H, 1, 1, 1);
            k = bs_push(t, k, H, 0, 1, 1, 0);
        }
        k = bs_push(t, k, out, H, 1, 1, 1);
        k = bs_push(t, k, out, 0, 1, 1, 0);
    } else if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        if (o->family != BS_BERT && o->family != BS_ALBERT) {
            k = bs_push(t, k, H, H, 1, 1, 1);
            k = bs_push(t, k, H, 0, 1, 1, 0);
        }
        k = bs_push(t, k, d->C, H, 1, 1, 1);
        k = bs_push(t, k, d->C, 0, 1, 1, 0);
    }
    return k;
}

#endif
