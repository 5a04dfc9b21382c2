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

/* Saved bytes of one layer (`transient`: what recomputing one layer needs). */
BS_INLINE int64_t bs_layer_saved(const bs_plan *p, const bs_dims *d, int64_t *transient, int *ovf, const int ck) {
    const int v = d->proj;
    const int64_t n = MUL(d->b, d->s), nH = MUL(n, d->H);
    int64_t total = ADD(MUL(p->a_H[v], nH), MUL3(p->a_I, n, d->I));
    total = ADD(total, ADD(MUL(p->a_A, MUL(n, d->A)), MUL(p->a_n, n)));
    if (p->a_S || p->sel_S) {
        const int64_t scores = MUL4(d->b, d->A, d->s, d->s);
        total = ADD(total, MUL(p->a_S, scores));
        *transient = MUL(p->sel_S, scores);
    }
    if (p->recompute_full) {  /* only the layer input survives the forward */
        const int64_t input = MUL(p->x[v], nH);
        *transient = total - MUL(p->r_input[v], nH);
        return input;
    }
    return total;
}

BS_INLINE int64_t bs_saved_bytes(const bs_plan *p, const bs_dims *d, int64_t *transient, int *ovf, const int ck) {
    const int v = d->proj;
    const int64_t b = d->b, n = MUL(b, d->s), nE = MUL(n, d->E);
    *transient = 0;
    int64_t total = ADD3(MUL(p->m_E, nE), MUL3(d->proj, p->m_proj, nE), MUL(p->m_n, n));
    total = ADD(total, MUL(d->L, bs_layer_saved(p, d, transient, ovf, ck)));
    /* pooler and head */
    total = ADD(total, ADD(MUL3(p->h_H[v], n, d->H), MUL3(p->h_bH[v], b, d->H)));
    if (p->mlm) total = ADD(total, ADD(MUL3(p->h_W, n, d->W), MUL3(p->h_V, n, d->V)));
    return ADD(total, ADD3(MUL(p->h_n, n), MUL(p->h_b, b), p->h_1));
}

/* Inference: the largest set of simultaneously live tensors, in elements, when each is
 * freed after its last use and the model's outputs stay live.  Every product here is a
 * term of the result, so none overflows unless the result does. */
BS_INLINE int64_t bs_live_elements(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const int64_t H = d->H, E = d->E, b = d->b;
    const int64_t n = MUL(b, d->s), nH = MUL(n, H), nE = MUL(n, E), nI = MUL(n, d->I), bH = MUL(b, H);
    /* embeddings: word + type lookups and their sum, or (DistilBERT) word + position
     * rows + their sum; the projection beside the LayerNorm output */
    int64_t peak = p->family == BS_DISTILBERT ? ADD(MUL(2, nE), MUL(d->s, E)) : MUL(3, nE);
    if (d->proj) peak = bs_max(peak, ADD(nE, nH));
    /* layer: q, k, v and the output beside the input (fused); or input, v and two
     * score tensors (scores and scaled scores, or scaled scores and probabilities) */
    if (p->fused) {
        peak = bs_max(peak, MUL(5, nH));
    } else {
        const int64_t scores = MUL4(b, d->A, d->s, d->s);
        peak = bs_max(peak, ADD(MUL(4, nH), scores));
        peak = bs_max(peak, ADD(MUL(2, nH), MUL(2, scores)));
    }
    /* FFN: LayerNorm output beside the hidden tensors; down-projection beside its input */
    peak = bs_max(peak, ADD(nH, MUL(p->k_ffn, nI)));
    peak = bs_max(peak, ADD(MUL(2, nH), nI));
    /* pooler: X, the first-token projection, tanh */
    const int64_t pooled = p->pooler ? bH : 0;
    if (p->pooler) {
        peak = bs_max(peak, ADD(nH, bH));
        peak = bs_max(peak, ADD(p->x_live_after_pooler ? nH : 0, MUL(2, bH)));
    }
    if (p->mlm) {  /* transform beside X, its activation, decoder (the pooled vector waits) */
        const int64_t nW = MUL(n, d->W), nV = MUL(n, d->V);
        peak = bs_max(peak, ADD3(pooled, nH, nW));
        peak = bs_max(peak, ADD(pooled, MUL(p->k_mlm, nW)));
        peak = bs_max(peak, ADD3(pooled, nW, nV));
        if (p->pooler) peak = bs_max(peak, ADD3(nV, bH, MUL(b, p->cls_out)));
    }
    if (p->discriminator) {
        peak = bs_max(peak, MUL(p->k_disc, nH));
        peak = bs_max(peak, ADD(nH, n));
    }
    if (p->classifier) {  /* X, the first-token projection; the classifier's input and logits */
        peak = bs_max(peak, ADD(nH, bH));
        peak = bs_max(peak, ADD(bH, MUL(b, d->C)));
    }
    return peak;
}

#endif
