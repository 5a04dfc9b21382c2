/* Model states: per-rank bytes of weights, gradients and optimizer state.
 *
 * Training on CUDA follows the ZeRO paper (Rajbhandari et al. 2020, section 3.1): fp32
 * 4 + 4 bytes per parameter; mixed precision 2 + 2 plus a 4-byte fp32 master copy in the
 * optimizer.  Training on CPU runs fp32 parameters under autocast: 4 + 4, no master copy,
 * and autocast's 16-bit copy of every matmul weight that runs.  Optimizer state, per
 * tensor of n elements: Adam(W) 8n; SGD 0; SGD with momentum 4n; Adafactor 4(r + c) for
 * an r x c matrix and 4n for a vector; 8-bit AdamW (bitsandbytes) 2n + 8 ceil(n / 256)
 * when n >= 4096, else 8n.  ZeRO stages 1 / 2 / 3 divide optimizer / + gradients /
 * + weights over the data-parallel ranks, rounding up.  Inference: fp32 4, fp16 / bf16
 * 2 bytes per parameter; int8 Linear weights 1 byte + an fp32 scale per output row, int4
 * (NF4) half a byte + an fp32 absmax per 64, everything else fp16.
 */
#ifndef BERTSIZE_STATES_H
#define BERTSIZE_STATES_H

#include "bs_params.h"

typedef struct {
    int64_t weights, grads, optimizer;
} bs_states;

BS_INLINE int64_t bs_partition(const bs_options *o, int64_t bytes, int from_stage) {
    return o->zero_stage >= from_stage ? bs_ceil_div(bytes, o->data_parallel) : bytes;
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

/* Elements autocast casts to 16 bits and keeps: every matmul weight that runs. */
BS_INLINE int64_t bs_autocast_copies(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const int64_t H = d->H, H2 = MUL(H, H);
    int64_t total = MUL(d->used_sets, ADD(MUL(4, H2), MUL3(2, H, d->I)));
    if (d->proj) total = ADD(total, MUL(d->E, H));
    total = ADD3(total, MUL(p->l_H2, H2), MUL(p->l_H, H));
    if (p->mlm) total = ADD3(total, MUL(d->W, H), MUL(d->V, d->E));  /* transform, tied decoder */
    return total;
}

BS_INLINE void bs_model_states(const bs_options *o, const bs_plan *p, const bs_dims *d, int64_t params,
                               bs_states *out, int *ovf, const int ck) {
    const int mixed = o->precision == BS_FP16 || o->precision == BS_BF16;
    if (!o->training) {
        int64_t weights;
        if (p->per_tensor) weights = bs_per_tensor_bytes(o, p, d, params, ovf, ck);
        else weights = MUL(o->precision == BS_FP32 ? 4 : 2, params);
        out->weights = bs_partition(o, weights, 3);
        out->grads = out->optimizer = 0;
        return;
    }
    int64_t weights, grads, optimizer;
    if (mixed && !p->cpu_mixed) {
        weights = grads = MUL(2, params);
        optimizer = MUL(4, params);  /* fp32 master copy */
    } else {
        weights = grads = MUL(4, params);
        optimizer = 0;
        if (p->cpu_mixed) weights = ADD(weights, MUL(2, bs_autocast_copies(p, d, ovf, ck)));
    }
    switch (o->optimizer) {
    case BS_ADAMW:
    case BS_ADAM:
        optimizer = ADD(optimizer, MUL(8, params));
        break;
    case BS_SGD_MOMENTUM:
        optimizer = ADD(optimizer, MUL(4, params));
        break;
    case BS_SGD:
        break;
    default:
        optimizer = ADD(optimizer, bs_per_tensor_bytes(o, p, d, params, ovf, ck));
    }
    out->weights = bs_partition(o, weights, 3);
    out->grads = bs_partition(o, grads, 2);
    out->optimizer = bs_partition(o, optimizer, 1);
}

#endif
