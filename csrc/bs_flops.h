/* FLOPs of one forward: matmuls (2 per multiply-accumulate) and elementwise work. */
#ifndef BERTSIZE_FLOPS_H
#define BERTSIZE_FLOPS_H

#include "bs_dims.h"

/* Matmul FLOPs of one layer: q, k, v, o 8nH^2; q.k^T and p.v 4nsH; FFN 4nHI. */
BS_INLINE bs_num bs_layer_flops(const bs_dims *d, int *ovf, const int ck) {
    const bs_num n = MUL(d->b, d->s);
    return MUL4(2, n, d->H, ADD3(MUL(4, d->H), MUL(2, d->s), MUL(2, d->I)));
}

/* L layers; per token: projection E -> H, MLM transform H -> W and decoder W -> V,
 * discriminator H -> H -> 1; per sequence: pooler / dense H -> H and classifier H -> out. */
BS_INLINE bs_num bs_flops_fwd(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const bs_num H = d->H, n = MUL(d->b, d->s);
    bs_num per_token = WHEN(d->proj, MUL(d->E, H));
    per_token = ADD(per_token, WHEN(p->mlm, MUL(d->W, ADD(H, d->V))));
    per_token = ADD(per_token, WHEN(p->discriminator, MUL(H, ADD(H, 1))));
    bs_num total = MUL(d->L, bs_layer_flops(d, ovf, ck));
    total = ADD(total, MUL3(2, n, per_token));
    return ADD(total, MUL4(2, d->b, H, ADD(MUL(p->f_seq_H, H), p->f_seq_1)));
}

/* Backward: 2 x forward (input and weight gradients) plus what recomputation repeats:
 * every layer (full) or the eager attention core 4nsH per layer (selective). */
BS_INLINE bs_num bs_training_bwd_flops(const bs_plan *p, const bs_dims *d, bs_num forward, int *ovf, const int ck) {
    bs_num total = MUL(2, forward);
    total = ADD(total, WHEN(p->recompute_full, MUL(d->L, bs_layer_flops(d, ovf, ck))));
    return ADD(total, WHEN(p->recompute_core, MUL(d->L, MUL4(4, MUL(d->b, d->s), d->s, d->H))));
}

/* 0 in inference (and then nothing of the training formula may flag an overflow). */
BS_INLINE bs_num bs_flops_bwd(const bs_plan *p, const bs_dims *d, bs_num forward, int *ovf, const int ck) {
    return WHEN(p->training, bs_training_bwd_flops(p, d, forward, ovf, ck));
}

BS_INLINE bs_num bs_elementwise_flops(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const bs_num H = d->H, b = d->b, n = MUL(b, d->s), nH = MUL(n, H);
    const bs_num scores = MUL4(b, d->A, d->s, d->s);
    bs_num total = ADD3(MUL3(p->e_E, n, d->E), MUL(p->e_H, nH), WHEN(d->proj, nH));
    const bs_num layer = ADD3(MUL(p->e_lH, nH), MUL3(p->e_lI, n, d->I), MUL(p->e_S, scores));
    total = ADD(total, MUL(d->L, layer));
    total = ADD(total, WHEN(p->mlm, ADD(MUL3(p->e_W, n, d->W), MUL(n, d->V))));
    return ADD(total, ADD3(MUL3(p->e_bH, b, H), MUL(p->e_b, b), MUL(p->e_n, n)));
}

#endif
