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
    bs_num weights, grads, optimizer;
} bs_states;

/* Elements autocast casts to 16 bits and keeps: every matmul weight that runs. */
BS_INLINE bs_num bs_autocast_copies(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const bs_num H = d->H, H2 = MUL(H, H);
    bs_num total = MUL(d->used_sets, ADD(MUL(4, H2), MUL3(2, H, d->I)));
    total = ADD(total, WHEN(d->proj, MUL(d->E, H)));
    total = ADD3(total, MUL(p->hh_linears, H2), MUL(p->head_outputs, H));
    total = ADD(total, WHEN(p->mlm, ADD(MUL(d->W, H), MUL(d->V, d->E))));  /* transform, tied decoder */
    return total;
}

/* The states of one replica, before ZeRO partitions them (coefficients: bs_plan.h).
 * `per_tensor` is bs_per_tensor_bytes() where the plan has per-tensor costs, else 0
 * (bs_tensors.h: integer formulas, which the double-precision stages leave out). */
BS_INLINE void bs_replica_states(const bs_plan *p, const bs_dims *d, bs_num params, bs_num per_tensor,
                                 bs_states *out, int *ovf, const int ck) {
    const bs_num copies = WHEN(p->cpu_mixed, bs_autocast_copies(p, d, ovf, ck));
    out->weights = ADD3(MUL(p->s_wP, params), MUL(p->s_wK, copies), MUL(p->s_wT, per_tensor));
    out->grads = MUL(p->s_gP, params);
    out->optimizer = ADD(MUL(p->s_oP, params), MUL(p->s_oT, per_tensor));
}

/* Peak bytes: the model states and the activations, plus in training what recomputing
 * one layer holds at once (`transient`). */
BS_INLINE bs_num bs_peak(const bs_plan *p, const bs_states *states, bs_num activations, bs_num transient, int *ovf,
                         const int ck) {
    const bs_num peak = ADD(states->weights, activations);
    return PICK(p->training, ADD(peak, ADD3(states->grads, states->optimizer, transient)), peak);
}

/* ZeRO's partitioning of one replica's states in place: integer divisions, in either
 * arithmetic. */
BS_INLINE int64_t bs_partition(const bs_options *o, int64_t bytes, int from_stage) {
    return o->zero_stage >= from_stage ? bs_ceil_div(bytes, o->data_parallel) : bytes;
}

BS_INLINE void bs_partition_states(const bs_options *o, int64_t *weights, int64_t *grads, int64_t *optimizer) {
    *weights = bs_partition(o, *weights, 3);
    *grads = bs_partition(o, *grads, 2);
    *optimizer = bs_partition(o, *optimizer, 1);
}

#if !defined(BS_NUMBERS_ARE_DOUBLES)  /* per-tensor costs are integer formulas */
#include "bs_tensors.h"

BS_INLINE void bs_model_states(const bs_options *o, const bs_plan *p, const bs_dims *d, int64_t params,
                               bs_states *out, int *ovf, const int ck) {
    const int64_t per_tensor = p->per_tensor ? bs_per_tensor_bytes(o, p, d, params, ovf, ck) : 0;
    bs_replica_states(p, d, params, per_tensor, out, ovf, ck);
    bs_partition_states(o, &out->weights, &out->grads, &out->optimizer);
}
#endif

#endif
