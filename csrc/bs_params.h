/* Parameters: sum(p.numel() for p in model.parameters()) of the HF class. */
#ifndef BERTSIZE_PARAMS_H
#define BERTSIZE_PARAMS_H

#include "bs_dims.h"

/* embeddings (V + P + T)E + 2E, projection EH + H, weight sets x (4H^2 + 2HI + 9H + I),
 * pooler and head (bs_plan.h), MLM head HW + 3W + V (decoder weight tied) */
BS_INLINE bs_num bs_params(const bs_plan *p, const bs_dims *d, int *ovf, const int ck) {
    const bs_num H = d->H, E = d->E, W = d->W, H2 = MUL(H, H);
    bs_num total = ADD(MUL(ADD3(d->V, d->P, d->T), E), MUL(2, E));
    total = ADD(total, WHEN(d->proj, ADD(MUL(E, H), H)));
    const bs_num layer = ADD(ADD(MUL(4, H2), MUL3(2, H, d->I)), ADD(MUL(9, H), d->I));
    total = ADD(total, MUL(d->sets, layer));
    total = ADD(total, ADD(MUL(p->hh_linears, ADD(H2, H)), MUL(p->head_outputs, ADD(H, 1))));
    total = ADD(total, WHEN(p->mlm, ADD3(MUL(H, W), MUL(3, W), d->V)));
    return total;
}

#endif
