/* The parameter tensors of a model, for the costs that are per tensor (Adafactor and
 * 8-bit AdamW state, int8 / int4 weights; see bs_states.h).  Integers only. */
#ifndef BERTSIZE_TENSORS_H
#define BERTSIZE_TENSORS_H

#include "bs_dims.h"

/* cols == 0 marks a vector of `rows` elements. */
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
    if (p->hh_linears) {                                /* pooler / dense / discriminator H -> H */
        k = bs_push(t, k, H, H, p->hh_linears, 1);
        k = bs_push(t, k, H, 0, p->hh_linears, 0);
    }
    if (p->mlm) {
        k = bs_push(t, k, d->W, H, 1, 1);
        k = bs_push(t, k, d->W, 0, 3, 0);               /* bias, LayerNorm weight, bias */
        k = bs_push(t, k, d->V, 0, 1, 0);               /* decoder bias (weight tied) */
    }
    if (p->head_outputs) {                              /* classifiers H -> out */
        k = bs_push(t, k, p->head_outputs, H, 1, 1);
        k = bs_push(t, k, p->head_outputs, 0, 1, 0);
    }
    return k;
}

/* Per-tensor costs: Adafactor / 8-bit AdamW state (training) or int8 / int4 weights. */
BS_INLINE int64_t bs_per_tensor_bytes(const bs_options *o, const bs_plan *p, const bs_dims *d, int64_t params,
                                      int *ovf, const int ck) {
    bs_tensor t[BS_MAX_TENSOR_KINDS];
    const int count = bs_tensors(p, d, t, ovf, ck);
    int64_t total = 0, linear_elements = 0;
    for (int k = 0; k < count; ++k) {
        const int64_t n = t[k].cols ? MUL(t[k].rows, t[k].cols) : t[k].rows;
        int64_t bytes;
        if (o->training && o->optimizer == BS_ADAFACTOR)
            bytes = MUL(4, t[k].cols ? ADD(t[k].rows, t[k].cols) : t[k].rows);
        else if (o->training)  /* 8-bit AdamW */
            bytes = n >= 4096 ? ADD(MUL(2, n), MUL(8, bs_ceil_div(n, 256))) : MUL(8, n);
        else if (!t[k].linear)
            continue;
        else if (o->precision == BS_INT8)
            bytes = ADD(n, MUL(4, t[k].rows));
        else
            bytes = ADD(bs_ceil_div(n, 2), MUL(4, bs_ceil_div(n, 64)));
        if (!o->training) linear_elements = ADD(linear_elements, MUL(t[k].count, n));
        total = ADD(total, MUL(t[k].count, bytes));
    }
    if (!o->training) total = ADD(total, MUL(2, params - linear_elements));  /* the rest in fp16 */
    return total;
}

#endif
