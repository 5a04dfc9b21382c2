/* Activation memory: bytes saved for backward (training) and the largest live set
 * (inference).
 *
 * Training, backend "cuda": Korthikanti et al. 2022 -- every tensor in the compute
 * precision, 1-byte dropout masks, LayerNorm statistics not counted.  Backend "cpu":
 * what PyTorch saves on CPU -- dropout keeps its noise in the input's dtype, LayerNorm
 * its mean and rstd, torch.matmul contiguous copies of q, k and v, and under autocast
 * embeddings and residual sums stay fp32 while every Linear saves a 16-bit cast of an
 * fp32 input.  The coefficients are derived in bs_plan.h.
 */
#ifndef BERTSIZE_MEMORY_H
#define BERTSIZE_MEMORY_H

#include "bs_dims.h"

/* pair[v] for v in {0, 1}, as a choice: a row-dependent index into the plan would be a
 * gather, which keeps the compiler from vectorising the stage loops (bs_stage.c). */
#define VARIANT(pair, v) PICK((v), (bs_num)(pair)[1], (bs_num)(pair)[0])

/* Saved bytes of one layer (`transient`: what recomputing one layer needs). */
BS_INLINE bs_num bs_layer_saved(const bs_plan *p, const bs_dims *d, bs_num *transient, int *ovf, const int ck) {
    const int64_t v = d->proj;
    const bs_num n = MUL(d->b, d->s), nH = MUL(n, d->H);
    bs_num total = ADD(MUL(VARIANT(p->a_H, v), nH), MUL3(p->a_I, n, d->I));
    total = ADD(total, ADD(MUL(p->a_A, MUL(n, d->A)), MUL(p->a_n, n)));
    const bs_num scores = WHEN(p->a_S || p->sel_S, MUL4(d->b, d->A, d->s, d->s));
    total = ADD(total, MUL(p->a_S, scores));
    /* full recomputation: only the layer input survives the forward */
    *transient = PICK(p->recompute_full, total - MUL(VARIANT(p->r_input, v), nH), MUL(p->sel_S, scores));
    return PICK(p->recompute_full, MUL(VARIANT(p->x, v), nH), total);
}

BS_INLINE bs_num bs_saved_bytes(const bs_plan *p, const bs_dims *d, bs_num *transient, int *ovf, const int ck) {
    const int64_t v = d->proj;
    const bs_num b = d->b, n = MUL(b, d->s), nE = MUL(n, d->E);
    bs_num total = ADD3(MUL(p->m_E, nE), WHEN(d->proj, MUL(p->m_proj, nE)), MUL(p->m_n, n));
    total = ADD(total, MUL(d->L, bs_layer_saved(p, d, transient, ovf, ck)));
    /* pooler and head */
    total = ADD(total, ADD(MUL3(VARIANT(p->h_H, v), n, d->H), MUL3(VARIANT(p->h_bH, v), b, d->H)));
    total = ADD(total, WHEN(p->mlm, ADD(MUL3(p->h_W, n, d->W), MUL3(p->h_V, n, d->V))));
    return ADD(total, ADD3(MUL(p->h_n, n), MUL(p->h_b, b), p->h_1));
}

/* Inference: the largest set of simultaneously live tensors, in elements, when each is
 * freed after its last use and the model's outputs stay live.  Every product here is a
 * term of the result, so none overflows unless the result does.  Each optional stage is
 * a WHEN / PICK expression rather than an `if` block, so that the stage loops vectorise. */
BS_INLINE bs_num bs_unfused_attention_live(const bs_dims *d, bs_num nH, int *ovf, const int ck) {
    /* input, v and two score tensors (scores and scaled scores, or scaled scores and
     * probabilities) */
    const bs_num scores = MUL4(d->b, d->A, d->s, d->s);
    return bs_max(ADD(MUL(4, nH), scores), ADD(MUL(2, nH), MUL(2, scores)));
}

BS_INLINE bs_num bs_mlm_live(const bs_plan *p, const bs_dims *d, bs_num n, bs_num nH, bs_num bH, int *ovf,
                              const int ck) {
    /* transform beside X, its activation, decoder (the pooled vector waits) */
    const bs_num pooled = WHEN(p->pooler, bH), nW = MUL(n, d->W), nV = MUL(n, d->V);
    bs_num peak = bs_max(ADD3(pooled, nH, nW), ADD(pooled, MUL(p->k_mlm, nW)));
    peak = bs_max(peak, ADD3(pooled, nW, nV));
    return bs_max(peak, WHEN(p->pooler, ADD3(nV, bH, MUL(d->b, p->cls_out))));
}

BS_INLINE bs_num bs_live_elements(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const bs_num H = d->H, E = d->E, b = d->b;
    const bs_num n = MUL(b, d->s), nH = MUL(n, H), nE = MUL(n, E), nI = MUL(n, d->I), bH = MUL(b, H);
    /* embeddings: word + type lookups and their sum, or (DistilBERT) word + position
     * rows + their sum; the projection beside the LayerNorm output */
    bs_num peak = PICK(p->family == BS_DISTILBERT, ADD(MUL(2, nE), MUL(d->s, E)), MUL(3, nE));
    peak = bs_max(peak, WHEN(d->proj, ADD(nE, nH)));
    /* layer: q, k, v and the output beside the input (fused) */
    peak = bs_max(peak, PICK(p->fused, MUL(5, nH), bs_unfused_attention_live(d, nH, ovf, ck)));
    /* FFN: LayerNorm output beside the hidden tensors; down-projection beside its input */
    peak = bs_max(peak, ADD(nH, MUL(p->k_ffn, nI)));
    peak = bs_max(peak, ADD(MUL(2, nH), nI));
    /* pooler: X, the first-token projection, tanh */
    peak = bs_max(peak, WHEN(p->pooler, bs_max(ADD(nH, bH), ADD(WHEN(p->x_live_after_pooler, nH), MUL(2, bH)))));
    peak = bs_max(peak, WHEN(p->mlm, bs_mlm_live(p, d, n, nH, bH, ovf, ck)));
    peak = bs_max(peak, WHEN(p->discriminator, bs_max(MUL(p->k_ffn, nH), ADD(nH, n))));
    /* classifier: X, the first-token projection; the classifier's input and logits */
    return bs_max(peak, WHEN(p->classifier, bs_max(ADD(nH, bH), ADD(bH, MUL(b, d->C)))));
}

#endif
