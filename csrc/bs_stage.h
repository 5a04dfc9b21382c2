/* A stage of rows at a time in double precision (bs_stage.c): the kernel's fast path.
 *
 * The program's instructions run one at a time over up to BS_STAGE rows, each a loop the
 * compiler vectorises across rows (four to an AVX2 instruction: x86 has no vector int64
 * multiply before AVX-512).  Exact: the caller takes this path only for a block of rows
 * whose every field is in [0, 2^52) and whose every slot bs_bound proves below 2^52, so
 * every value is an integer doubles represent, and every operation on them is exact.
 */
#ifndef BERTSIZE_STAGE_H
#define BERTSIZE_STAGE_H

#include <stddef.h>

#include "bs_program.h"
#include "bs_stream.h"

/* A stage's slots: slot s of row i is v[s * BS_STAGE_STRIDE + i] (doubles, 32-byte aligned). */
typedef struct { double *v; } bs_stage_slots;

/* Whether every row i < count meets every constraint of p that reads a column (fields
 * with columns[k] != NULL; the others are row[k] for every row). */
int bs_stage_valid(const bs_program *p, const int64_t *const *columns, const int64_t *row, ptrdiff_t count);

/* Output k of row i to out[k * stride + i] for the rows i < count, and, when latency is
 * not NULL, the roofline seconds to latency[i]; field k of row i is columns[k][i], or
 * row[k] where columns[k] is NULL. */
void bs_stage_doubles(const bs_program *p, const int64_t *const *columns, const int64_t *row, ptrdiff_t count,
                      bs_stage_slots slots, int64_t *out, ptrdiff_t stride, const bs_device *dev, double *latency);

#endif
