/* Activation memory: bytes saved for backward (training) and the largest live set
 * (inference).
 *
 * Training, backend "cuda": Korthikanti et al. 2022 -- every tensor in the compute
 * precision, 1-byte dropout masks, LayerNorm statistics not counted.  Backend "cpu":
 * what PyTorch saves on CPU: dropout keeps its noise in the input's dtype, LayerNorm
 * its mean and rstd (fp32, 8 bytes per row), torch.matmul contiguous copies of q, k, v,
 * and under autocast (mixed precision) embeddings and residual sums stay fp32 while each
 * Linear saves a 16-bit cast of an fp32 input.
 */
#ifndef BERTSIZE_MEMORY_H
#define BERTSIZE_MEMORY_H

#include "bs_checked.h"
#include "bs_flops.h"
#include "bs_shape.h"

/* Bytes per element of the compute dtype. */
static inline int64_t bs_compute_bytes(const bs_options *o) {
    return o->precision == BS_FP32 ? 4 : 2;
}

/* Elements kept by an activation function and the layer that reads its output:
 * GELU its input + output, ReLU its output (shared), gelu_new (HF's Python tanh form)
 * x, tanh, 1 + tanh, x / 2 and the output. */
static inline int64_t bs_activation_saves(int activation) {
    return activation == BS_GELU ? 2 : (activation == BS_RELU ? 1 : 5);
}

typedef struct {
    int cpu, autocast;
    int64_t t;        /* bytes per element of matmul outputs */
    int64_t emb;      /* bytes per element of embedding lookups and their sums */
    int64_t x;        /* bytes per element of the residual stream (layer inputs/outputs) */
    int64_t hd, ad, cd;
} bs_precision_rules;

static inline void bs_rules_of(const bs_options *o, const bs_shape *d, bs_precision_rules *r) {
    r->cpu = o->backend == BS_CPU;
    r->autocast = r->cpu && o->training && (o->precision == BS_FP16 || o->precision == BS_BF16);
    r->t = r->autocast ? 2 : bs_compute_bytes(o);
    r->emb = r->autocast ? 4 : r->t;
    /* Under autocast the residual stream is fp32 unless a projection (16-bit Linear
     * output) feeds the first layer; a 16-bit stream stays 16-bit. */
    r->x = d->proj ? r->t : r->emb;
    r->hd = o->training && o->hidden_dropout;
    r->ad = o->training && o->attention_dropout;
    r->cd = o->training && o->classifier_dropout;
}

/* Bytes one dropout keeps for `elements` of an input with `bytes` per element. */
static inline int64_t bs_dropout_keep(const bs_precision_rules *r, int64_t elements, int64_t bytes, int *ovf) {
    return CK_MUL(elements, r->cpu ? bytes : 1);
}

/* Bytes a Linear keeps for an input of `elements` with `bytes` per element, when the
 * input is not already kept by someone else: autocast saves a fresh 16-bit cast of an
 * fp32 input. */
static inline int64_t bs_linear_keep(const bs_precision_rules *r, int64_t elements, int64_t bytes, int *ovf) {
    return CK_MUL(elements, (r->autocast && bytes == 4) ? 2 : bytes);
}

/* Saved bytes of one transformer layer.  `full_out` receives the bytes saved when the
 * layer is checkpointed (its input only); `transient` what recomputing it needs. */
static inline int64_t bs_layer_saved(const bs_options *o, const bs_shape *d, const bs_precision_rules *r,
                                     int64_t *transient, int *ovf) {
    const int f = o->family;
    const int64_t H = d->H, t = r->t, x = r->x;
    const int64_t n = CK_MUL(d->b, d->s), nH = CK_MUL(n, H);
    const int64_t stats = r->cpu ? CK_MUL(8, n) : 0;          /* LayerNorm mean + rstd */
    /* q, k and v read the layer input: one saved tensor, or three casts of an fp32 input */
    int64_t total = (r->autocast && x == 4) ? CK_MUL3(3, nH, 2) : CK_MUL(nH, x);
    int64_t core;
    if (bs_fused_attention(o)) {
        /* q, k, v and the fp32 log-sum-exp per (batch, head, token) */
        core = CK_ADD(CK_MUL3(3, nH, t), CK_MUL4(4, d->b, d->A, d->s));
    } else {
        const int64_t scores = CK_MUL4(d->b, d->A, d->s, d->s);
        /* CPU SDPA's math path upcasts 16-bit inputs to fp32 */
        const int64_t c = (o->attention == BS_SDPA && r->autocast) ? 4 : t;
        /* q, k, v (copies on CPU), the softmax output, dropout's noise (CPU, dtype c) or
         * mask (CUDA, 1 byte) and output */
        const int64_t per_score = r->ad ? (r->cpu ? 3 * c : 2 * c + 1) : c;
        const int64_t s_terms = CK_MUL(scores, per_score);
        core = CK_MUL3(3, nH, c);
        if (o->recompute == BS_RECOMPUTE_SELECTIVE)
            *transient = bs_max(*transient, s_terms);
        else
            core = CK_ADD(core, s_terms);
    }
    total = CK_ADD(total, core);
    total = CK_ADD(total, CK_MUL(nH, t));                      /* out-projection input */
    if (f != BS_DISTILBERT && r->hd) total = CK_ADD(total, bs_dropout_keep(r, nH, t, ovf));
    /* residual + LayerNorm (x2), FFN input, activation, FFN dropout */
    total = CK_ADD(total, CK_MUL(2, CK_ADD(CK_MUL(nH, x), stats)));
    total = CK_ADD(total, CK_MUL(nH, t));
    total = CK_ADD(total, CK_MUL4(bs_activation_saves(o->activation), n, d->I, t));
    if (f != BS_ALBERT && r->hd) total = CK_ADD(total, bs_dropout_keep(r, nH, t, ovf));
    if (o->training && o->recompute == BS_RECOMPUTE_FULL) {
        /* only the input survives; recomputing keeps the rest of one layer at a time
         * (including the input's casts, when the input itself is not saved) */
        const int64_t kept = CK_MUL(nH, x);
        const int64_t input_saved = !(r->autocast && x == 4);
        *transient = bs_max(*transient, input_saved ? total - kept : total);
        return kept;
    }
    return total;
}

static inline int64_t bs_embeddings_saved(const bs_shape *d, const bs_precision_rules *r, int *ovf) {
    const int64_t n = CK_MUL(d->b, d->s), nE = CK_MUL(n, d->E);
    int64_t total = CK_MUL(nE, r->emb);                            /* LayerNorm input */
    if (r->cpu) total = CK_ADD(total, CK_MUL(8, n));
    if (r->hd) total = CK_ADD(total, bs_dropout_keep(r, nE, r->emb, ovf));
    if (d->proj) total = CK_ADD(total, bs_linear_keep(r, nE, r->emb, ovf));
    return total;
}

/* Saved bytes of the pooler and head (with their losses), which read the last hidden
 * state X (n x H).  Training only. */
static inline int64_t bs_head_saved(const bs_options *o, const bs_shape *d, const bs_precision_rules *r, int *ovf) {
    const int f = o->family;
    const int64_t H = d->H, b = d->b, t = r->t, x = r->x, C = d->C;
    const int64_t n = CK_MUL(d->b, d->s), nH = CK_MUL(n, H), bH = CK_MUL(b, H);
    /* A Linear reading X (or a slice of it) keeps X's whole storage -- counted once --
     * unless autocast casts an fp32 X, when it keeps the 16-bit cast of what it reads. */
    const int casts_x = r->autocast && x == 4;
    int keeps_x = 0;
    int64_t total = 0;
#define BS_READ_X(elements) (casts_x ? (total = CK_ADD(total, CK_MUL(elements, 2))) : (keeps_x = 1, total))
    if (d->pooler) {
        BS_READ_X(bH);
        total = CK_ADD(total, CK_MUL(bH, t));                  /* tanh output */
    }
    if (d->mlm) {
        const int fixed = f == BS_ROBERTA || f == BS_XLM_ROBERTA || f == BS_ELECTRA;
        const int64_t nW = CK_MUL(n, d->W);
        BS_READ_X(nH);
        total = CK_ADD(total, CK_MUL3(bs_activation_saves(fixed ? BS_GELU : o->activation), nW, t));
        if (r->cpu) total = CK_ADD(total, CK_MUL(8, n));       /* LayerNorm statistics */
        total = CK_ADD(total, CK_MUL(nW, t));                  /* decoder input */
        /* cross entropy: fp32 log-softmax + the fp32 scalar total_weight */
        total = CK_ADD(total, CK_ADD(CK_MUL3(4, n, d->V), 4));
    }
    if (o->head == BS_PRETRAINING) {
        if (f == BS_BERT) {
            total = CK_ADD(total, CK_ADD(CK_MUL(8, b), 4));   /* NSP reads the saved tanh output */
        } else if (f == BS_ALBERT) {
            if (r->cd) total = CK_ADD(total, CK_ADD(bs_dropout_keep(r, bH, t, ovf), CK_MUL(bH, t)));
            total = CK_ADD(total, CK_ADD(CK_MUL3(4, b, C), 4));
        } else {
            BS_READ_X(nH);
            total = CK_ADD(total, CK_MUL3(bs_activation_saves(o->activation), nH, t));
            total = CK_ADD(total, CK_MUL(8, n));               /* BCE: fp32 logits + fp32 labels */
        }
    }
    if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        if (f == BS_BERT || f == BS_ALBERT) {
            if (r->cd) total = CK_ADD(total, CK_ADD(bs_dropout_keep(r, bH, t, ovf), CK_MUL(bH, t)));
        } else if (f == BS_DISTILBERT) {
            BS_READ_X(bH);
            total = CK_ADD(total, CK_MUL(bH, t));              /* ReLU output */
            if (r->cd) total = CK_ADD(total, CK_ADD(bs_dropout_keep(r, bH, t, ovf), CK_MUL(bH, t)));
        } else {
            if (r->cd) {  /* dropout on the first token, in X's dtype */
                total = CK_ADD(total, bs_dropout_keep(r, bH, x, ovf));
                total = CK_ADD(total, bs_linear_keep(r, bH, x, ovf));
            } else {
                BS_READ_X(bH);
            }
            total = CK_ADD(total, CK_MUL(bH, t));              /* tanh output | GELU input */
            if (r->cd) total = CK_ADD(total, CK_ADD(bs_dropout_keep(r, bH, t, ovf), CK_MUL(bH, t)));
            else if (f == BS_ELECTRA) total = CK_ADD(total, CK_MUL(bH, t));  /* GELU output */
        }
        /* MSE keeps the fp32 predictions; cross entropy as above */
        total = CK_ADD(total, C == 1 ? CK_MUL(4, b) : CK_ADD(CK_MUL3(4, b, C), 4));
    }
#undef BS_READ_X
    if (keeps_x) total = CK_ADD(total, CK_MUL(nH, x));
    return total;
}

/* Training: bytes saved for backward at the end of the forward. */
static inline int64_t bs_saved_bytes(const bs_options *o, const bs_shape *d, int64_t *transient, int *ovf) {
    bs_precision_rules r;
    bs_rules_of(o, d, &r);
    *transient = 0;
    int64_t total = bs_embeddings_saved(d, &r, ovf);
    total = CK_ADD(total, CK_MUL(d->L, bs_layer_saved(o, d, &r, transient, ovf)));
    return CK_ADD(total, bs_head_saved(o, d, &r, ovf));
}

/* Inference: the largest set of simultaneously live tensors, in elements, when each
 * tensor is freed after its last use and the model's outputs stay live. */
static inline int64_t bs_live_elements(const bs_options *o, const bs_shape *d, int *ovf) {
    const int f = o->family;
    const int64_t H = d->H, E = d->E, b = d->b, W = d->W;
    const int64_t n = CK_MUL(d->b, d->s), nH = CK_MUL(n, H), nE = CK_MUL(n, E), nI = CK_MUL(n, d->I);
    const int64_t bH = CK_MUL(b, H);
    /* (every product computed here is a term of the result, so none can overflow unless
     * the result does) */
    /* embeddings: word + type lookups and their sum; (sum, position rows, new sum);
     * the projection reads the LayerNorm output */
    int64_t peak = d->T ? CK_MUL(3, nE) : CK_ADD(CK_MUL(2, nE), CK_MUL(d->s, E));
    if (d->proj) peak = bs_max(peak, CK_ADD(nE, nH));
    /* layer: q, k, v beside the input; then input, v, scores and scaled scores (or
     * scaled scores and probabilities); the FFN's input, hidden and activated hidden */
    if (bs_fused_attention(o)) {
        peak = bs_max(peak, CK_MUL(5, nH));
    } else {
        const int64_t scores = CK_MUL4(b, d->A, d->s, d->s);
        peak = bs_max(peak, CK_ADD(CK_MUL(4, nH), scores));
        peak = bs_max(peak, CK_ADD(CK_MUL(2, nH), CK_MUL(2, scores)));
    }
    peak = bs_max(peak, CK_ADD(nH, CK_MUL(o->activation == BS_GELU_NEW ? 3 : 2, nI)));
    peak = bs_max(peak, CK_ADD(CK_MUL(2, nH), nI));
    /* pooler: X, its first-token projection, tanh; X stays live for the model's output or
     * the MLM head; the pooled vector stays live for the NSP / SOP classifier */
    const int64_t pooled = d->pooler ? bH : 0;
    if (d->pooler) {
        const int x_live = o->head != BS_SEQUENCE_CLASSIFICATION;
        peak = bs_max(peak, CK_ADD(nH, bH));
        peak = bs_max(peak, CK_ADD(x_live ? nH : 0, CK_MUL(2, bH)));
    }
    if (d->mlm) {
        const int fixed = f == BS_ROBERTA || f == BS_XLM_ROBERTA || f == BS_ELECTRA;
        const int wide = !fixed && o->activation == BS_GELU_NEW;
        const int64_t nW = CK_MUL(n, W), nV = CK_MUL(n, d->V);
        peak = bs_max(peak, CK_ADD(pooled, CK_ADD(nH, nW)));             /* X, transform */
        peak = bs_max(peak, CK_ADD(pooled, CK_MUL(wide ? 3 : 2, nW)));  /* activation */
        peak = bs_max(peak, CK_ADD(pooled, CK_ADD(nW, nV)));             /* decoder */
        if (o->head == BS_PRETRAINING)                                   /* NSP / SOP logits */
            peak = bs_max(peak, CK_ADD(CK_ADD(nV, bH), CK_MUL(b, f == BS_BERT ? 2 : d->C)));
    }
    if (o->head == BS_PRETRAINING && f == BS_ELECTRA) {
        peak = bs_max(peak, CK_MUL(o->activation == BS_GELU_NEW ? 3 : 2, nH));
        peak = bs_max(peak, CK_ADD(nH, n));
    }
    if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        peak = bs_max(peak, CK_ADD(nH, bH));
        peak = bs_max(peak, CK_ADD(bH, CK_MUL(b, d->C)));
    }
    return peak;
}

#endif
