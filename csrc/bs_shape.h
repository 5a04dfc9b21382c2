/* Per-row sizes and structural flags derived from a row and the call's options. */
#ifndef BERTSIZE_SHAPE_H
#define BERTSIZE_SHAPE_H

#include "bs_types.h"

typedef struct {
    int64_t L, H, A, I, V, P, T, E, G, b, s, C;
    int64_t W;          /* width of the MLM transform: E for ALBERT / ELECTRA, else H */
    int64_t sets;       /* distinct layer weight sets (ALBERT: groups) */
    int64_t used_sets;  /* weight sets some layer runs */
    int proj;           /* a Linear maps E -> H after the embeddings */
    int pooler;         /* the head's HF class runs the pooler */
    int mlm;            /* the head has the masked-LM transform and tied decoder */
} bs_shape;

static inline void bs_shape_of(const bs_options *o, const bs_row *r, bs_shape *d) {
    const int f = o->family;
    const int factorised = f == BS_ALBERT || f == BS_ELECTRA;
    d->L = r->f[BS_LAYERS];
    d->H = r->f[BS_HIDDEN];
    d->A = r->f[BS_HEADS];
    d->I = r->f[BS_INTERMEDIATE];
    d->V = r->f[BS_VOCAB];
    d->P = r->f[BS_MAX_POSITIONS];
    d->T = r->f[BS_TYPE_VOCAB];
    d->E = r->f[BS_EMBEDDING] ? r->f[BS_EMBEDDING] : d->H;
    d->G = r->f[BS_HIDDEN_GROUPS];
    d->b = r->f[BS_BATCH];
    d->s = r->f[BS_SEQ_LEN];
    d->C = o->num_labels;
    d->W = factorised ? d->E : d->H;
    d->sets = f == BS_ALBERT ? d->G : d->L;
    d->used_sets = d->sets < d->L ? d->sets : d->L;
    d->proj = f == BS_ALBERT || (f == BS_ELECTRA && d->E != d->H);
    if (o->head == BS_MODEL)
        d->pooler = o->pooler;
    else
        d->pooler = o->head != BS_MASKED_LM && (f == BS_BERT || f == BS_ALBERT);
    d->mlm = o->head == BS_MASKED_LM || (o->head == BS_PRETRAINING && f != BS_ELECTRA);
}

#endif
