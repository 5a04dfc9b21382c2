/* Model states: per-rank bytes of weights, gradients and optimizer state.
 *
 * Training on CUDA follows the ZeRO paper (Rajbhandari et al. 2020, section 3.1): fp32
 * 4 + 4 bytes per parameter; mixed precision 2 + 2 plus a 4-byte fp32 master copy in the
 * optimizer.  Training on CPU runs fp32 parameters under autocast: 4 + 4, no master copy,
 * and autocast's 16-bit copy of every matmul weight it runs.  Optimizer state, per
 * tensor of n elements: Adam(W) 8n; SGD 0; SGD with momentum 4n; Adafactor 4(r + c) for
 * an r x c matrix and 4n for a vector; 8-bit AdamW (bitsandbytes) 2n + 8 ceil(n / 256)
 * when n >= 4096, else 8n.  ZeRO stages 1 / 2 / 3 divide optimizer / + gradients /
 * + weights over the data-parallel ranks, rounding up.
 */
#ifndef BERTSIZE_STATES_H
#define BERTSIZE_STATES_H

#include "bs_checked.h"
#include "bs_params.h"

typedef struct {
    int64_t weights, grads, optimizer;
} bs_states;

static inline int64_t bs_eight_bit_state(int64_t n, int *ovf) {
    return n >= 4096 ? CK_ADD(CK_MUL(2, n), CK_MUL(8, bs_ceil_div(n, 256))) : CK_MUL(8, n);
}

static inline int64_t bs_partition(const bs_options *o, int64_t bytes, int from_stage) {
    return o->zero_stage >= from_stage ? bs_ceil_div(bytes, o->data_parallel) : bytes;
}

/* Bytes of inference weights, for formats with per-tensor overheads (int8 / int4). */
static inline int64_t bs_quantised_weights(const bs_options *o, const bs_tensor *t, int count, int64_t params,
                                           int *ovf) {
    int64_t linear_elements = 0, total = 0;
    for (int k = 0; k < count; ++k) {
        if (!t[k].linear) continue;
        const int64_t n = CK_MUL(t[k].rows, t[k].cols);
        int64_t bytes;
        if (o->precision == BS_INT8) /* 1 byte per weight + an fp32 scale per output row */
            bytes = CK_ADD(n, CK_MUL(4, t[k].rows));
        else                         /* NF4: half a byte per weight + an fp32 absmax per 64 */
            bytes = CK_ADD(bs_ceil_div(n, 2), CK_MUL(4, bs_ceil_div(n, 64)));
        linear_elements = CK_ADD(linear_elements, CK_MUL(t[k].count, n));
        total = CK_ADD(total, CK_MUL(t[k].count, bytes));
    }
    /* everything else stays fp16 */
    return CK_ADD(total, CK_MUL(2, params - linear_elements));
}

static inline int64_t bs_optimizer_state(const bs_options *o, const bs_tensor *t, int count, int64_t params,
                                         int *ovf) {
    switch (o->optimizer) {
    case BS_ADAMW:
    case BS_ADAM:
        return CK_MUL(8, params);
    case BS_SGD:
        return 0;
    case BS_SGD_MOMENTUM:
        return CK_MUL(4, params);
    default:
        break;
    }
    int64_t total = 0;
    for (int k = 0; k < count; ++k) {
        int64_t bytes;
        if (o->optimizer == BS_ADAFACTOR) /* factored second moment: a row and a column vector */
            bytes = t[k].cols ? CK_MUL(4, CK_ADD(t[k].rows, t[k].cols)) : CK_MUL(4, t[k].rows);
        else
            bytes = bs_eight_bit_state(t[k].cols ? CK_MUL(t[k].rows, t[k].cols) : t[k].rows, ovf);
        total = CK_ADD(total, CK_MUL(t[k].count, bytes));
    }
    return total;
}

static inline void bs_model_states(const bs_options *o, const bs_shape *d, int64_t params, bs_states *out,
                                   int *ovf) {
    bs_tensor tensors[BS_MAX_TENSOR_KINDS];
    int count = 0;
    const int per_tensor = o->training ? (o->optimizer == BS_ADAFACTOR || o->optimizer == BS_ADAMW_8BIT)
                                       : (o->precision == BS_INT8 || o->precision == BS_INT4);
    const int mixed = o->precision == BS_FP16 || o->precision == BS_BF16;
    const int cpu = o->backend == BS_CPU;
    if (per_tensor || (o->training && cpu && mixed)) count = bs_tensors(o, d, tensors);
    if (!o->training) {
        int64_t weights;
        if (per_tensor) weights = bs_quantised_weights(o, tensors, count, params, ovf);
        else weights = CK_MUL(o->precision == BS_FP32 ? 4 : 2, params);
        out->weights = bs_partition(o, weights, 3);
        out->grads = out->optimizer = 0;
        return;
    }
    int64_t weights, grads, master = 0;
    if (mixed && !cpu) {
        weights = CK_MUL(2, params);
        grads = CK_MUL(2, params);
        master = CK_MUL(4, params);
    } else {
        weights = CK_MUL(4, params);
        grads = CK_MUL(4, params);
        if (mixed) { /* autocast's 16-bit copies of the matmul weights that run, and the tied decoder */
            int64_t copies = d->mlm ? CK_MUL(d->V, d->E) : 0;
            for (int k = 0; k < count; ++k)
                if (tensors[k].linear) copies = CK_ADD(copies, CK_MUL3(tensors[k].used_count, tensors[k].rows, tensors[k].cols));
            weights = CK_ADD(weights, CK_MUL(2, copies));
        }
    }
    const int64_t optimizer = CK_ADD(master, bs_optimizer_state(o, tensors, count, params, ovf));
    out->weights = bs_partition(o, weights, 3);
    out->grads = bs_partition(o, grads, 2);
    out->optimizer = bs_partition(o, optimizer, 1);
}

#endif
