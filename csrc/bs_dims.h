/* The sizes of one row, with the per-row structure the plan leaves open. */
#ifndef BERTSIZE_DIMS_H
#define BERTSIZE_DIMS_H

#include "bs_checked.h"
#include "bs_plan.h"

typedef struct {
    bs_num L, H, A, I, V, P, T, E, b, s, C;
    bs_num W;          /* width of the MLM transform: E for ALBERT / ELECTRA, else H */
    bs_num sets;       /* distinct layer weight sets (ALBERT: hidden_groups) */
    bs_num used_sets;  /* weight sets some layer runs */
    int64_t proj;      /* a Linear maps E -> H after the embeddings (selects x variant 1);
                        * 64 bits like the sizes, so that it vectorises with them */
} bs_dims;

/* The dimensions of a row whose field k is f[k], branch-free (bs_choose). */
BS_INLINE void bs_dims_of_fields(const bs_plan *p, const bs_num *f, int64_t num_labels, bs_dims *d) {
    d->L = f[BS_LAYERS];
    d->H = f[BS_HIDDEN];
    d->A = f[BS_HEADS];
    d->I = f[BS_INTERMEDIATE];
    d->V = f[BS_VOCAB];
    d->P = f[BS_MAX_POSITIONS];
    d->T = f[BS_TYPE_VOCAB];
    d->E = bs_choose(f[BS_EMBEDDING] != 0, f[BS_EMBEDDING], d->H);
    d->b = f[BS_BATCH];
    d->s = f[BS_SEQ_LEN];
    d->C = (bs_num)num_labels;
    d->W = bs_choose(p->factorised, d->E, d->H);
    d->sets = bs_choose(p->albert, f[BS_HIDDEN_GROUPS], d->L);
    d->used_sets = bs_choose(d->sets < d->L, d->sets, d->L);
    d->proj = p->albert | (p->electra & (d->E != d->H));
}

#if !defined(BS_NUMBERS_ARE_DOUBLES)
BS_INLINE void bs_dims_of(const bs_plan *p, const bs_row *r, int64_t num_labels, bs_dims *d) {
    bs_dims_of_fields(p, r->f, num_labels, d);
}
#endif

#endif
