/* The sizes of one row, with the per-row structure the plan leaves open. */
#ifndef BERTSIZE_DIMS_H
#define BERTSIZE_DIMS_H

#include "bs_checked.h"
#include "bs_plan.h"

typedef struct {
    int64_t L, H, A, I, V, P, T, E, b, s, C;
    int64_t W;          /* width of the MLM transform: E for ALBERT / ELECTRA, else H */
    int64_t sets;       /* distinct layer weight sets (ALBERT: hidden_groups) */
    int64_t used_sets;  /* weight sets some layer runs */
    int proj;           /* a Linear maps E -> H after the embeddings (selects x variant 1) */
} bs_dims;

BS_INLINE void bs_dims_of(const bs_plan *p, const bs_row *r, int64_t num_labels, bs_dims *d) {
    d->L = r->f[BS_LAYERS];
    d->H = r->f[BS_HIDDEN];
    d->A = r->f[BS_HEADS];
    d->I = r->f[BS_INTERMEDIATE];
    d->V = r->f[BS_VOCAB];
    d->P = r->f[BS_MAX_POSITIONS];
    d->T = r->f[BS_TYPE_VOCAB];
    d->E = r->f[BS_EMBEDDING] ? r->f[BS_EMBEDDING] : d->H;
    d->b = r->f[BS_BATCH];
    d->s = r->f[BS_SEQ_LEN];
    d->C = num_labels;
    d->W = p->factorised ? d->E : d->H;
    d->sets = p->albert ? r->f[BS_HIDDEN_GROUPS] : d->L;
    d->used_sets = d->sets < d->L ? d->sets : d->L;
    d->proj = p->albert || (p->electra && d->E != d->H);
}

#endif
