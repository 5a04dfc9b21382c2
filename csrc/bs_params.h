/* Parameters: sum(p.numel() for p in model.parameters()) of the HF class. */
#ifndef BERTSIZE_PARAMS_H
#define BERTSIZE_PARAMS_H

#include "bs_dims.h"

/* embeddings (V + P + T)E + 2E, projection EH + H, weight sets x (4H^2 + 2HI + 9H + I),
 * pooler and head p_H2 H^2 + p_H H + p_1, MLM head HW + 3W + V (decoder weight tied) */
BS_INLINE int64_t bs_params(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const int64_t H = d->H, E = d->E, W = d->W, H2 = MUL(H, H);
    int64_t total = ADD(MUL(ADD3(d->V, d->P, d->T), E), MUL(2, E));
    if (d->proj) total = ADD(total, ADD(MUL(E, H), H));
    const int64_t layer = ADD(ADD(MUL(4, H2), MUL3(2, H, d->I)), ADD(MUL(9, H), d->I));
    total = ADD(total, MUL(d->sets, layer));
    total = ADD(total, ADD3(MUL(p->p_H2, H2), MUL(p->p_H, H), p->p_1));
    if (p->mlm) total = ADD(total, ADD3(MUL(H, W), MUL(3, W), d->V));
    return total;
}

/* The parameter tensors, for costs that are per tensor (Adafactor, 8-bit AdamW, int8 /
 * int4 weights).  cols == 0 marks a vector of `rows` elements. */
typedef struct {
    int64_t rows, cols;
    int64_t count;       /* tensors of this shape */
    int linear;          /* an nn.Linear weight */
} bs_tensor;

#define BS_MAX_TENSOR_KINDS 32

BS_INLINE int bs_push(bs_tensor *t, int k, int64_t rows, int64_t cols, int64_t count, int linear) {
    t[k].rows = rows;
    t[k].cols = cols;
    t[k].count = count;
    t[k].linear = linear;
    return k + 1;
}

/* Fills `t` and returns how many entries it wrote. */
BS_INLINE int bs_tensors(const bs_plan *p, const bs_dims *d, bs_tensor *t, int *ovf, const int ck) {
    const int64_t H = d->H, E = d->E, S = d->sets;
    int k = 0;
    k = bs_push(t, k, d->V, E, 1, 0);
    k = bs_push(t, k, d->P, E, 1, 0);
    if (d->T) k = bs_push(t, k, d->T, E, 1, 0);
    k = bs_push(t, k, E, 0, 2, 0);                     /* LayerNorm weight, bias */
    if (d->proj) {
        k = bs_push(t, k, H, E, 1, 1);
        k = bs_push(t, k, H, 0, 1, 0);
    }
    k = bs_push(t, k, H, H, MUL(4, S), 1);              /* q, k, v, o */
    k = bs_push(t, k, H, 0, MUL(9, S), 0);              /* 5 biases, 2 LayerNorms */
    k = bs_push(t, k, d->I, H, S, 1);                   /* FFN up (out, in) */
    k = bs_push(t, k, H, d->I, S, 1);                   /* FFN down */
    k = bs_push(t, k, d->I, 0, S, 0);                   /* FFN up bias */
    if (p->l_H2) {                                      /* pooler / dense / discriminator H -> H */
        k = bs_push(t, k, H, H, p->l_H2, 1);
        k = bs_push(t, k, H, 0, p->l_H2, 0);
    }
    if (p->mlm) {
        k = bs_push(t, k, d->W, H, 1, 1);
        k = bs_push(t, k, d->W, 0, 3, 0);               /* bias, LayerNorm weight, bias */
        k = bs_push(t, k, d->V, 0, 1, 0);               /* decoder bias (weight tied) */
    }
    if (p->l_H) {                                       /* classifiers H -> out */
        const int64_t out = p->discriminator ? 1 : p->f_seq_1;
        k = bs_push(t, k, out, H, 1, 1);
        k = bs_push(t, k, out, 0, 1, 0);
    }
    return k;
}

#endif
