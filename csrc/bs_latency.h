/* Roofline latency: each op of the forward takes
 *     max(FLOPs / (peak x compute_efficiency), bytes / (bandwidth x memory_efficiency)) + overhead
 * seconds, summed over the model; a training step adds the backward (twice each
 * forward op), what recomputation repeats (every layer, or the eager attention core) and
 * the optimizer update (12 FLOPs per parameter; reads weights, gradients and optimizer
 * state, writes weights and optimizer state).  Bytes moved: each op's activation inputs
 * and outputs in the compute precision (4 bytes fp32, else 2), Linear weights in the
 * weight format (int8 1 byte, int4 half a byte), biases, norms and embedding rows like
 * activations, dropout masks 1 byte; the s x s scores of a fused attention kernel never
 * reach memory.  Losses are not counted.  The op list mirrors the oracle's trace. */
#ifndef BERTSIZE_LATENCY_H
#define BERTSIZE_LATENCY_H

#include "bs_dims.h"
#include "bs_states.h"

typedef struct {
    double peak;        /* FLOP/s of matmuls at the workload precision */
    double bandwidth;   /* bytes/s */
    double compute_efficiency, memory_efficiency;
    double overhead;    /* seconds per op */
} bs_device;

typedef struct {
    double seconds;     /* running sum */
    double peak, bandwidth, overhead;
    double a, w;        /* bytes per activation element, per Linear weight element */
} bs_roofline;

static inline double bs_op(const bs_roofline *r, double flops, double bytes) {
    const double compute = flops / r->peak, memory = bytes / r->bandwidth;
    return (compute > memory ? compute : memory) + r->overhead;
}

/* Linear of `rows` x `in` -> `out` with bias. */
static inline double bs_linear_op(const bs_roofline *r, double rows, double in, double out) {
    return bs_op(r, 2 * rows * in * out + rows * out, r->a * (rows * in + out + rows * out) + r->w * in * out);
}

static inline double bs_dropout_op(const bs_roofline *r, double elements) {
    return bs_op(r, elements, 2 * elements * r->a + elements);
}

static inline double bs_norm_op(const bs_roofline *r, double elements, double width) {
    return bs_op(r, 7 * elements, r->a * (2 * elements + 2 * width));
}

static inline double bs_activation_op(const bs_roofline *r, int activation, double elements) {
    return bs_op(r, (double)bs_activation_flops(activation) * elements, 2 * elements * r->a);
}

static inline double bs_add_op(const bs_roofline *r, double a, double b) {
    const double out = a > b ? a : b;
    return bs_op(r, out, r->a * (a + b + out));
}

/* Forward seconds of the attention core of one layer. */
static inline double bs_core_seconds(const bs_plan *p, const bs_roofline *r, double b, double s, double H, double A,
                                     int attention_dropout) {
    const double S = b * A * s * s, nH = b * s * H;
    if (p->fused)
        return bs_op(r, 4 * b * s * s * H + (attention_dropout ? 7 : 6) * S, 4 * nH * r->a);
    double t = bs_op(r, 2 * b * s * s * H, r->a * (2 * nH + S));  /* q.kT */
    t += bs_op(r, S, 2 * S * r->a);                                 /* scale */
    t += bs_op(r, 5 * S, 2 * S * r->a);                             /* softmax */
    if (attention_dropout) t += bs_dropout_op(r, S);
    return t + bs_op(r, 2 * b * s * s * H, r->a * (S + 2 * nH));    /* p.v */
}

/* `params` parameters and the model states (per rank, bytes) of the configuration. */
static inline double bs_latency(const bs_options *o, const bs_plan *p, const bs_dims *d, const bs_device *dev,
                                int64_t params, const bs_states *states) {
    const int f = o->family;
    const int hd = o->training && o->hidden_dropout, ad = o->training && o->attention_dropout;
    const int cd = o->training && o->classifier_dropout;
    bs_roofline r;
    r.peak = dev->peak * dev->compute_efficiency;
    r.bandwidth = dev->bandwidth * dev->memory_efficiency;
    r.overhead = dev->overhead;
    r.a = o->precision == BS_FP32 ? 4 : 2;
    r.w = o->precision == BS_FP32 ? 4 : (o->precision == BS_INT8 ? 1 : (o->precision == BS_INT4 ? 0.5 : 2));
    const double b = (double)d->b, s = (double)d->s, H = (double)d->H, E = (double)d->E, I = (double)d->I;
    const double W = (double)d->W, V = (double)d->V, C = (double)d->C, L = (double)d->L;
    const double n = b * s, nH = n * H, nE = n * E, bH = b * H;

    /* embeddings: lookups (gather + write), sums, LayerNorm, dropout, projection */
    double other = bs_op(&r, 0, 2 * nE * r.a);
    if (d->T) {
        other += bs_op(&r, 0, 2 * nE * r.a);
        other += bs_add_op(&r, nE, nE);
    }
    other += bs_op(&r, 0, 2 * s * E * r.a);
    other += bs_add_op(&r, nE, s * E);
    other += bs_norm_op(&r, nE, E);
    if (hd) other += bs_dropout_op(&r, nE);
    if (d->proj) other += bs_linear_op(&r, n, E, H);

    /* one layer */
    const double core = bs_core_seconds(p, &r, b, s, H, (double)d->A, ad);
    double layer = 4 * bs_linear_op(&r, n, H, H) + core;
    if (hd && f != BS_DISTILBERT) layer += bs_dropout_op(&r, nH);
    layer += 2 * (bs_add_op(&r, nH, nH) + bs_norm_op(&r, nH, H));
    layer += bs_linear_op(&r, n, H, I) + bs_activation_op(&r, o->activation, n * I) + bs_linear_op(&r, n, I, H);
    if (hd && f != BS_ALBERT) layer += bs_dropout_op(&r, nH);

    /* pooler and head */
    if (p->pooler) other += bs_linear_op(&r, b, H, H) + bs_activation_op(&r, BS_RELU, bH);  /* tanh: 1 FLOP */
    if (p->mlm) {
        const int fixed = f == BS_ROBERTA || f == BS_XLM_ROBERTA || f == BS_ELECTRA;
        other += bs_linear_op(&r, n, H, W) + bs_activation_op(&r, fixed ? BS_GELU : o->activation, n * W);
        other += bs_norm_op(&r, n * W, W) + bs_linear_op(&r, n, W, V);
    }
    if (o->head == BS_PRETRAINING) {
        if (f == BS_BERT) {
            other += bs_linear_op(&r, b, H, 2);
        } else if (f == BS_ALBERT) {
            if (cd) other += bs_dropout_op(&r, bH);
            other += bs_linear_op(&r, b, H, C);
        } else {
            other += bs_linear_op(&r, n, H, H) + bs_activation_op(&r, o->activation, nH) + bs_linear_op(&r, n, H, 1);
        }
    } else if (o->head == BS_SEQUENCE_CLASSIFICATION) {
        if (f == BS_BERT || f == BS_ALBERT) {
            if (cd) other += bs_dropout_op(&r, bH);
        } else if (f == BS_DISTILBERT) {
            other += bs_linear_op(&r, b, H, H) + bs_activation_op(&r, BS_RELU, bH);
            if (cd) other += bs_dropout_op(&r, bH);
        } else {
            if (cd) other += bs_dropout_op(&r, bH);
            other += bs_linear_op(&r, b, H, H) + bs_activation_op(&r, f == BS_ELECTRA ? BS_GELU : BS_RELU, bH);
            if (cd) other += bs_dropout_op(&r, bH);
        }
        other += bs_linear_op(&r, b, H, C);
    }

    const double forward = other + L * layer;
    if (!o->training) return forward;
    double total = 3 * forward;  /* the backward costs twice the forward, op by op */
    if (p->recompute_full) total += L * layer;
    if (p->recompute_core) total += L * core;
    /* optimizer update: reads weights, gradients and optimizer state, writes weights and state */
    total += bs_op(&r, 12 * (double)params,
                   2 * (double)states->weights + (double)states->grads + 2 * (double)states->optimizer);
    return total;
}

#endif
