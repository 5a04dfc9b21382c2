/* FLOPs of one forward: matmuls (2 per multiply-accumulate) and elementwise work. */
#ifndef BERTSIZE_FLOPS_H
#define BERTSIZE_FLOPS_H

#include "bs_dims.h"

/* Matmul FLOPs of one layer: q, k, v, o 8nH^2; q.k^T and p.v 4nsH; FFN 4nHI. */
BS_INLINE int64_t bs_layer_flops(const bs_dims *d, int *ovf, const int ck) {
    const int64_t n = MUL(d->b, d->s);
    return MUL4(2, n, d->H, ADD3(MUL(4, d->H), MUL(2, d->s), MUL(2, d->I)));
}

/* L layers; per token: projection E -> H, MLM transform H -> W and decoder W -> V,
 * discriminator H -> H -> 1; per sequence: pooler / dense H -> H and classifier H -> out. */
BS_INLINE int64_t bs_flops_fwd(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const int64_t H = d->H, n = MUL(d->b, d->s);
    int64_t per_token = 0;
    if (d->proj) per_token = MUL(d->E, H);
    if (p->mlm) per_token = ADD(per_token, MUL(d->W, ADD(H, d->V)));
    if (p->discriminator) per_token = ADD(per_token, MUL(H, ADD(H, 1)));
    int64_t total = MUL(d->L, bs_layer_flops(d, ovf, ck));
    total = ADD(total, MUL3(2, n, per_token));
    return ADD(total, MUL4(2, d->b, H, ADD(MUL(p->f_seq_H, H), p->f_seq_1)));
}

/* Backward: 2 x forward (input and weight gradients) plus what recomputation repeats:
 * every layer (full) or the eager attention core 4nsH per layer (selective). */
BS_INLINE int64_t bs_flops_bwd(const bs_plan *p, const bs_dims *d, int64_t forward, int *ovf, const int ck) {
    if (!p->training) return 0;
    int64_t total = MUL(2, forward);
    if (p->recompute_full) total = ADD(total, MUL(d->L, bs_layer_flops(d, ovf, ck)));
    if (p->recompute_core) total = ADD(total, MUL(d->L, MUL4(4, MUL(d->b, d->s), d->s, d->H)));
    return total;
}

BS_INLINE int64_t bs_elementwise_flops(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const int64_t H = d->H, b = d->b, n = MUL(b, d->s), nH = MUL(n, H);
    const int64_t scores = MUL4(b, d->A, d->s, d->s);
    int64_t total = ADD(MUL3(p->e_E, n, d->E), MUL(ADD(p->e_H, d->proj), nH));
    const int64_t layer = ADD3(MUL(p->e_lH, nH), MUL3(p->e_lI, n, d->I), MUL(p->e_S, scores));
    total = ADD(total, MUL(d->L, layer));
    if (p->mlm) total = ADD(total, ADD(MUL3(p->e_W, n, d->W), MUL(n, d->V)));
    return ADD(total, ADD3(MUL3(p->e_bH, b, H), MUL(p->e_b, b), MUL(p->e_n, n)));
}

#endif
