/* The plan of one call: what the options (family, head, workload choices) imply for the
 * formulas, resolved once into flags and integer coefficients so that the per-row code
 * is straight-line arithmetic.
 *
 * Notation for the per-row quantities the coefficients multiply (bs_dims.h):
 *   n = b*s tokens, H hidden, I intermediate, E embedding, W width of the MLM transform,
 *   V vocab, C num_labels, S = b*A*s^2 attention scores.
 * "x" is the bytes per element of the residual stream, which depends on the row when an
 * ELECTRA projection may or may not exist; coefficients that depend on it come in two
 * variants, index 0 without a projection (x = emb) and 1 with one (x = t).
 */
#ifndef BERTSIZE_PLAN_H
#define BERTSIZE_PLAN_H

#include "bs_types.h"

typedef struct {
    /* ---- structure ---- */
    int family, training;
    int factorised;     /* ALBERT / ELECTRA: embedding width E may differ from H */
    int albert;         /* weight sets are hidden_groups, a projection always exists */
    int electra;        /* a projection exists when E != H */
    int mlm;            /* masked-LM transform H -> W, LayerNorm, tied decoder W -> V */
    int pooler;         /* the head's HF class runs the pooler (H -> H on the first token) */
    int discriminator;  /* ELECTRA pre-training: H -> H -> 1 on every token */
    int classifier;     /* sequence classification: H -> C on the first token / pooled */
    int position_offset;

    /* ---- pooler and head, the MLM head aside: hh_linears Linears H -> H (pooler, dense,
     * discriminator) and Linears from H to head_outputs outputs in all (classifiers);
     * parameters hh_linears*(H^2 + H) + head_outputs*(H + 1) ---- */
    int64_t hh_linears, head_outputs;

    /* ---- matmul FLOPs per sequence: 2*b*H*(f_seq_H*H + f_seq_1) ---- */
    int64_t f_seq_H, f_seq_1;
    int recompute_full, recompute_core;

    /* ---- elementwise FLOPs:
     *   e_E*nE + e_H*nH + L*(e_lH*nH + e_lI*nI + e_S*S) + e_W*nW + mlm*nV + e_bH*b*H + e_b*b + e_n*n
     * (+ n*H for the projection bias) */
    int64_t e_E, e_H, e_lH, e_lI, e_S, e_W, e_bH, e_b, e_n;

    /* ---- saved activations (training), bytes ----
     * embeddings: m_E*nE + proj*m_proj*nE + m_n*n
     * each layer: a_H[v]*nH + a_I*nI + a_S*S + a_A*n*A + a_n*n
     * full recomputation: each layer keeps x*nH; recomputing one needs its total minus
     *   the input when the layer saves the input itself (r_input[v])
     * selective recomputation: the layer drops its sel_S*S bytes, the transient
     * pooler + head: h_H[v]*nH + h_bH[v]*b*H + h_W*nW + h_V*nV + h_n*n + h_b*b + h_1 */
    int64_t m_E, m_proj, m_n;
    int64_t x[2];
    int64_t a_H[2], a_I, a_S, a_A, a_n, sel_S;
    int64_t r_input[2];
    int64_t h_H[2], h_bH[2], h_W, h_V, h_n, h_b, h_1;

    /* ---- inference live set (elements; times `bytes`) ---- */
    int64_t bytes;      /* bytes per activation element */
    int fused;          /* the attention core keeps no s x s tensor */
    int64_t k_ffn;      /* FFN: LayerNorm output + k_ffn * intermediate tensors; as many
                         * hidden tensors in ELECTRA's discriminator block */
    int64_t k_mlm;      /* MLM head: k_mlm transform-width tensors during its activation */
    int x_live_after_pooler;
    int64_t cls_out;    /* classifier width beside the MLM logits (NSP 2, SOP C) */

    /* ---- model states, bytes per replica, from P parameters, the K elements of the
     * matmul weights autocast copies, and the bytes T of the per-tensor costs:
     *   weights s_wP*P + s_wK*K + s_wT*T, gradients s_gP*P, optimizer s_oP*P + s_oT*T */
    int per_tensor;     /* optimizer state or weight format costs per tensor */
    int cpu_mixed;      /* CPU autocast: fp32 parameters + 16-bit copies of matmul weights */
    int64_t s_wP, s_wK, s_wT, s_gP, s_oP, s_oT;
} bs_plan;

/* Elements an activation function and its reader keep: GELU input + output, ReLU the
 * output (shared), gelu_new (HF's Python tanh form) x, tanh, 1 + tanh, x / 2, output. */
static inline int64_t bs_activation_keeps(int activation) {
    return activation == BS_GELU ? 2 : (activation == BS_RELU ? 1 : 5);
}

/* FLOPs per element of an activation function. */
static inline int64_t bs_activation_flops(int activation) {
    return activation == BS_GELU ? 5 : (activation == BS_GELU_NEW ? 9 : 1);
}

static inline void bs_plan_of(const bs_options *o, bs_plan *p) {
    const int f = o->family, head = o->head;
    const int64_t C = o->num_labels;
    const int bert_like = f == BS_BERT || f == BS_ALBERT;  /* classify the pooled output */
    *p = (bs_plan){0};
    p->family = f;
    p->training = o->training;
    p->factorised = f == BS_ALBERT || f == BS_ELECTRA;
    p->albert = f == BS_ALBERT;
    p->electra = f == BS_ELECTRA;
    p->mlm = head == BS_MASKED_LM || (head == BS_PRETRAINING && f != BS_ELECTRA);
    p->pooler = head == BS_MODEL ? o->pooler : (head != BS_MASKED_LM && bert_like);
    p->discriminator = head == BS_PRETRAINING && f == BS_ELECTRA;
    p->classifier = head == BS_SEQUENCE_CLASSIFICATION;
    p->position_offset = (f == BS_ROBERTA || f == BS_XLM_ROBERTA) ? 2 : 0;
    const int seq_dense = head == BS_SEQUENCE_CLASSIFICATION && !bert_like;  /* dense H -> H first */
    int64_t out = 0;  /* classifier outputs per sequence */
    if (head == BS_PRETRAINING && f == BS_BERT) out = 2;
    if (head == BS_PRETRAINING && f == BS_ALBERT) out = C;
    if (head == BS_SEQUENCE_CLASSIFICATION) out = C;

    p->hh_linears = p->pooler + seq_dense + p->discriminator;
    p->head_outputs = out + p->discriminator;  /* the discriminator's H -> 1 */

    /* matmuls on the first token: pooler / dense H -> H, classifier H -> out */
    p->f_seq_H = p->pooler + seq_dense;
    p->f_seq_1 = out;
    p->recompute_full = o->training && o->recompute == BS_RECOMPUTE_FULL;

    /* attention implementation: flash always fused; SDPA too, except CPU training with
     * attention dropout (PyTorch's math fallback) */
    const int attention_dropout = o->training && o->attention_dropout;
    p->fused = o->attention == BS_FLASH ||
               (o->attention == BS_SDPA && !(o->backend == BS_CPU && attention_dropout));
    p->recompute_core = o->training && o->recompute == BS_RECOMPUTE_SELECTIVE && !p->fused;

    /* elementwise: per-element costs bias/residual/sum/scale/dropout 1, softmax 5,
     * LayerNorm 7, activations bs_activation_flops */
    const int64_t hd = o->training && o->hidden_dropout, cd = o->training && o->classifier_dropout;
    const int fixed_gelu = f == BS_ROBERTA || f == BS_XLM_ROBERTA || f == BS_ELECTRA;  /* MLM head */
    const int64_t head_act = fixed_gelu ? bs_activation_flops(BS_GELU) : bs_activation_flops(o->activation);
    p->e_E = (f == BS_DISTILBERT ? 1 : 2) + 7 + hd;             /* sums, LayerNorm, dropout */
    p->e_lH = 5 + 2 + 14 + hd * (f != BS_DISTILBERT) + hd * (f != BS_ALBERT);
    p->e_lI = 1 + bs_activation_flops(o->activation);
    p->e_S = 6 + attention_dropout;
    p->e_W = p->mlm ? 1 + head_act + 7 : 0;
    p->e_H = p->discriminator ? 1 + bs_activation_flops(o->activation) : 0;
    p->e_n = p->discriminator;
    p->e_bH = 2 * p->pooler;                                    /* bias + tanh */
    p->e_b = out;                                               /* classifier bias */
    if (head == BS_PRETRAINING && f == BS_ALBERT) p->e_bH += cd;
    if (head == BS_SEQUENCE_CLASSIFICATION) {
        if (bert_like) p->e_bH += cd;
        else if (f == BS_DISTILBERT) p->e_bH += 2 + cd;                 /* bias, ReLU, dropout */
        else p->e_bH += 2 * cd + 1 + (f == BS_ELECTRA ? 5 : 1);         /* dropouts, bias, act */
    }

    /* ---- memory rules ---- */
    const int cpu = o->backend == BS_CPU;
    const int mixed = o->precision == BS_FP16 || o->precision == BS_BF16;
    const int autocast = cpu && o->training && mixed;
    const int64_t t = autocast ? 2 : (o->precision == BS_FP32 ? 4 : 2);  /* matmul outputs */
    const int64_t emb = autocast ? 4 : t;                                 /* embeddings, sums */
    const int64_t keep = cpu ? 0 : 1;  /* dropout: CPU keeps noise in the input dtype, CUDA a 1-byte mask */
    p->bytes = o->precision == BS_FP32 ? 4 : 2;
    p->x[0] = emb;
    p->x[1] = t;

    p->m_E = emb + hd * (cpu ? emb : 1);
    p->m_proj = autocast ? 2 : emb;   /* the projection keeps a 16-bit cast of fp32 input */
    p->m_n = cpu ? 8 : 0;             /* LayerNorm mean + rstd, fp32 per row */

    /* one layer */
    const int64_t c = (o->attention == BS_SDPA && autocast) ? 4 : t;  /* CPU math path upcasts */
    int64_t per_score = attention_dropout ? (cpu ? 3 * c : 2 * c + 1) : c;
    const int64_t core_H = p->fused ? 3 * t : 3 * c;  /* q, k, v (CPU: contiguous copies) */
    const int64_t outdrop = (o->training && o->hidden_dropout && f != BS_DISTILBERT) ? (cpu ? t : keep) : 0;
    const int64_t ffndrop = (o->training && o->hidden_dropout && f != BS_ALBERT) ? (cpu ? t : keep) : 0;
    for (int v = 0; v < 2; ++v) {
        const int64_t x = p->x[v];
        const int casts = autocast && x == 4;  /* Linears cast an fp32 input afresh */
        const int64_t qkv = casts ? 6 : x;
        /* q/k/v input, core, out-projection input, dropout, 2 x (residual sum), FFN input, dropout */
        p->a_H[v] = qkv + core_H + t + outdrop + 2 * x + t + ffndrop;
        p->r_input[v] = casts ? 0 : x;
    }
    p->a_I = bs_activation_keeps(o->activation) * t;
    p->a_A = p->fused ? 4 : 0;  /* fp32 log-sum-exp per (batch, head, token) */
    p->a_n = cpu ? 16 : 0;      /* two LayerNorms' statistics */
    if (p->fused) per_score = 0;
    if (o->training && o->recompute == BS_RECOMPUTE_SELECTIVE) {
        p->sel_S = per_score;
        per_score = 0;
    }
    p->a_S = per_score;

    /* pooler and head: a Linear reading the last hidden state X (or its first token)
     * keeps X's whole storage, counted once, unless autocast casts an fp32 X (then the
     * 16-bit cast of what it reads) */
    const int64_t dropout_bH = cd ? (cpu ? t : keep) + t : 0;  /* noise|mask + output */
    for (int v = 0; v < 2; ++v) {
        const int64_t x = p->x[v];
        const int casts = autocast && x == 4;
        int keeps_x = 0;
        int64_t hH = 0, hbH = 0;
#define BS_READS_ALL() (casts ? (void)(hH += 2) : (void)(keeps_x = 1))
#define BS_READS_FIRST() (casts ? (void)(hbH += 2) : (void)(keeps_x = 1))
        if (p->pooler) {
            BS_READS_FIRST();
            hbH += t;  /* tanh output */
        }
        if (p->mlm) BS_READS_ALL();
        if (p->discriminator) {
            BS_READS_ALL();
            hH += bs_activation_keeps(o->activation) * t;
        }
        if (head == BS_PRETRAINING && f == BS_ALBERT) hbH += dropout_bH;
        if (head == BS_SEQUENCE_CLASSIFICATION) {
            if (bert_like) {
                hbH += dropout_bH;
            } else if (f == BS_DISTILBERT) {
                BS_READS_FIRST();
                hbH += t + dropout_bH;  /* ReLU output */
            } else {
                if (cd) hbH += (cpu ? x : keep) + (casts ? 2 : x);  /* dropout on X's first token */
                else BS_READS_FIRST();
                hbH += t + dropout_bH;  /* tanh output | GELU input */
                if (!cd && f == BS_ELECTRA) hbH += t;  /* GELU output, read by out_proj */
            }
        }
#undef BS_READS_ALL
#undef BS_READS_FIRST
        p->h_H[v] = hH + (keeps_x ? x : 0);
        p->h_bH[v] = hbH;
    }
    if (p->mlm) {
        p->h_W = (bs_activation_keeps(fixed_gelu ? BS_GELU : o->activation) + 1) * t;  /* + decoder input */
        p->h_V = 4;                         /* fp32 log-softmax */
        p->h_n = cpu ? 8 : 0;               /* LayerNorm statistics */
        p->h_1 = 4;                         /* nll_loss's fp32 total_weight */
    }
    if (p->discriminator) p->h_n += 8;      /* BCE: fp32 logits + fp32 labels */
    if (head == BS_PRETRAINING && f == BS_BERT) { p->h_b += 8; p->h_1 += 4; }
    if (head == BS_PRETRAINING && f == BS_ALBERT) { p->h_b += 4 * C; p->h_1 += 4; }
    if (head == BS_SEQUENCE_CLASSIFICATION) {
        if (C == 1) p->h_b += 4;            /* MSE keeps the fp32 prediction */
        else { p->h_b += 4 * C; p->h_1 += 4; }
    }

    /* inference live set */
    p->k_ffn = o->activation == BS_GELU_NEW ? 3 : 2;
    p->k_mlm = (!fixed_gelu && o->activation == BS_GELU_NEW) ? 3 : 2;
    p->x_live_after_pooler = head != BS_SEQUENCE_CLASSIFICATION;
    p->cls_out = (head == BS_PRETRAINING && f == BS_BERT) ? 2 : C;

    /* model states */
    p->per_tensor = o->training ? (o->optimizer == BS_ADAFACTOR || o->optimizer == BS_ADAMW_8BIT)
                                : (o->precision == BS_INT8 || o->precision == BS_INT4);
    p->cpu_mixed = autocast;
    if (!o->training) {          /* int8 / int4: per tensor; else 4 or 2 bytes a parameter */
        p->s_wP = p->per_tensor ? 0 : (o->precision == BS_FP32 ? 4 : 2);
        p->s_wT = p->per_tensor;
    } else if (mixed && !autocast) {  /* 16-bit weights and gradients, fp32 master copy */
        p->s_wP = p->s_gP = 2;
        p->s_oP = 4;
    } else {                     /* fp32 weights and gradients (+ autocast's copies) */
        p->s_wP = p->s_gP = 4;
        p->s_wK = autocast ? 2 : 0;
    }
    if (o->training) {
        if (o->optimizer == BS_ADAMW || o->optimizer == BS_ADAM) p->s_oP += 8;
        else if (o->optimizer == BS_SGD_MOMENTUM) p->s_oP += 4;
        p->s_oT = p->per_tensor;  /* Adafactor, 8-bit AdamW */
    }
}

#endif
