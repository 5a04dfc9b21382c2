/* FLOPs of one forward: matmuls (2 per multiply-accumulate) and elementwise work. */
#ifndef BERTSIZE_FLOPS_H
#define BERTSIZE_FLOPS_H

#include "bs_checked.h"
#include "bs_shape.h"

/* Matmul FLOPs of one transformer layer over n = b*s tokens:
 * q, k, v, o 4 x 2nH^2; q.k^T and p.v 2 x 2bs^2H; FFN 2 x 2nHI. */
static inline int64_t bs_layer_flops(const bs_shape *d, int64_t n, int *ovf) {
    const int64_t H = d->H;
    const int64_t inner = CK_ADD(CK_ADD(CK_MUL(4, H), CK_MUL(2, d->s)), CK_MUL(2, d->I));
    return CK_MUL4(2, n, H, inner);
}

/* q.k^T and p.v of one layer: 4 b s^2 H. */
static inline int64_t bs_attention_core_flops(const bs_shape *d, int64_t n, int *ovf) {
    return CK_MUL4(4, n, d->s, d->H);
}

static inline int64_t bs_flops_fwd(const bs_options *o, const bs_shape *d, int *ovf) {
    const int64_t H = d->H, b = d->b, n = CK_MUL(d->b, d->s);
    int64_t total = CK_MUL(d->L, bs_layer_flops(d, n, ovf));
    if (d->proj) total = CK_ADD(total, CK_MUL4(2, n, d->E, H));
    if (d->pooler) total = CK_ADD(total, CK_MUL4(2, b, H, H));
    if (d->mlm) /* transform H -> W and decoder W -> V on every token */
        total = CK_ADD(total, CK_MUL4(2, n, d->W, CK_ADD(H, d->V)));
    if (o->head == BS_PRETRAINING) {
        if (o->family == BS_BERT) total = CK_ADD(total, CK_MUL3(4, b, H));
        else if (o->family == BS_ALBERT) total = CK_ADD(total, CK_MUL4(2, b, H, d->C));
        else total = CK_ADD(total, CK_MUL4(2, n, H, CK_ADD(H, 1)));  /* discriminator per token */
    } else if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        const int64_t dense = (o->family == BS_BERT || o->family == BS_ALBERT) ? 0 : H;
        total = CK_ADD(total, CK_MUL4(2, b, H, CK_ADD(dense, d->C)));
    }
    return total;
}

/* Whether the attention core runs as one fused kernel that keeps no s x s tensor:
 * "flash" always; "sdpa" except CPU training with attention dropout, where PyTorch
 * falls back to the math path. */
static inline int bs_fused_attention(const bs_options *o) {
    if (o->attention == BS_FLASH) return 1;
    if (o->attention == BS_EAGER) return 0;
    return !(o->backend == BS_CPU && o->training && o->attention_dropout);
}

/* Backward matmul FLOPs: 2 x forward (input and weight gradients), plus the forward work
 * that recomputation repeats: every layer (full) or the eager attention core (selective). */
static inline int64_t bs_flops_bwd(const bs_options *o, const bs_shape *d, int64_t forward, int *ovf) {
    if (!o->training) return 0;
    int64_t total = CK_MUL(2, forward);
    const int64_t n = CK_MUL(d->b, d->s);
    if (o->recompute == BS_RECOMPUTE_FULL)
        total = CK_ADD(total, CK_MUL(d->L, bs_layer_flops(d, n, ovf)));
    else if (o->recompute == BS_RECOMPUTE_SELECTIVE && !bs_fused_attention(o))
        total = CK_ADD(total, CK_MUL(d->L, bs_attention_core_flops(d, n, ovf)));
    return total;
}

/* FLOPs per element of an activation function (erf GELU 5, tanh GELU 9, ReLU / tanh 1). */
static inline int64_t bs_activation_cost(int activation) {
    return activation == BS_GELU ? 5 : (activation == BS_GELU_NEW ? 9 : 1);
}

/* Elementwise FLOPs per element: bias, residual, embedding sum, scale, dropout 1;
 * softmax 5; LayerNorm 7; activations as above.  Dropout only when training. */
static inline int64_t bs_elementwise_flops(const bs_options *o, const bs_shape *d, int *ovf) {
    const int f = o->family;
    const int64_t H = d->H, E = d->E, I = d->I, b = d->b, n = CK_MUL(d->b, d->s);
    const int train = o->training;
    const int64_t hd = train && o->hidden_dropout, ad = train && o->attention_dropout;
    const int64_t cd = train && o->classifier_dropout;
    /* embeddings: one sum per extra table, LayerNorm, dropout; projection bias */
    int64_t emb = (d->T ? 2 : 1) + 7 + hd;
    int64_t total = CK_MUL3(emb, n, E);
    if (d->proj) total = CK_ADD(total, CK_MUL(n, H));
    /* layer, per token and hidden feature: 5 biases (q, k, v, o, down), 2 residuals,
     * 2 LayerNorms (14), dropouts after the attention output (not DistilBERT) and the
     * FFN (not ALBERT); per token and FFN feature: up bias + activation; per score:
     * scale + softmax (6) + dropout. */
    const int64_t per_hidden = 5 + 2 + 14 + hd * (f != BS_DISTILBERT) + hd * (f != BS_ALBERT);
    const int64_t per_inner = 1 + bs_activation_cost(o->activation);
    const int64_t scores = CK_MUL4(b, d->A, d->s, d->s);
    int64_t layer = CK_ADD(CK_MUL3(per_hidden, n, H), CK_MUL3(per_inner, n, I));
    layer = CK_ADD(layer, CK_MUL(6 + ad, scores));
    total = CK_ADD(total, CK_MUL(d->L, layer));
    if (d->pooler) total = CK_ADD(total, CK_MUL3(2, b, H));  /* bias + tanh */
    if (d->mlm) {
        /* RoBERTa / XLM-R / ELECTRA generator heads hard-code erf GELU */
        const int fixed = f == BS_ROBERTA || f == BS_XLM_ROBERTA || f == BS_ELECTRA;
        const int64_t act = fixed ? 5 : bs_activation_cost(o->activation);
        total = CK_ADD(total, CK_MUL3(1 + act + 7, n, d->W));  /* bias, activation, LayerNorm */
        total = CK_ADD(total, CK_MUL(n, d->V));                /* decoder bias */
    }
    if (o->head == BS_PRETRAINING) {
        if (f == BS_BERT) total = CK_ADD(total, CK_MUL(2, b));
        else if (f == BS_ALBERT) total = CK_ADD(total, CK_ADD(CK_MUL3(cd, b, H), CK_MUL(b, d->C)));
        else total = CK_ADD(total, CK_ADD(CK_MUL3(1 + bs_activation_cost(o->activation), n, H), n));
    } else if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        int64_t per_feature;
        if (f == BS_BERT || f == BS_ALBERT) per_feature = cd;        /* dropout on the pooled output */
        else if (f == BS_DISTILBERT) per_feature = 1 + 1 + cd;       /* bias, ReLU, dropout */
        else per_feature = cd + 1 + (f == BS_ELECTRA ? 5 : 1) + cd;  /* dropout, bias, tanh|GELU, dropout */
        total = CK_ADD(total, CK_ADD(CK_MUL3(per_feature, b, H), CK_MUL(b, d->C)));
    }
    return total;
}

#endif
