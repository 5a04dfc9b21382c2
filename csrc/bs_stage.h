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

/* A stage's slots: slot s of row i is v[s * BS_STAGE_STRIDE + i] (doubles, 32-byte
 * aligned), followed by BS_STAGE int64 of room for staging an output. */
typedef struct { double *v; } bs_stage_slots;

/* The least and the largest of column[0:count] (count >= 1). */
void bs_column_range(const int64_t *column, ptrdiff_t count, int64_t *least, int64_t *largest);

/* The constraints of p (a bit each) that rows whose field k lies in [least[k],
 * largest[k]] may break: those the ranges do not already prove. */
uint64_t bs_unproved(const bs_program *p, const int64_t *least, const int64_t *largest);

/* Whether every row i < count meets the constraints of p in `rules` (bits); field k of
 * row i is columns[k][i] (a constant field points to BS_STAGE copies of its value). */
int bs_stage_valid(const bs_program *p, const int64_t *const *columns, uint64_t rules, ptrdiff_t count);

/* Output k of row i to out[k][offset + i] for the rows i < count (streamed), and, when
 * latency is not NULL, the roofline seconds to latency[i]; field k of row i is
 * columns[k][i].  Call bs_stream_fence() before the outputs are read. */
void bs_stage_doubles(const bs_program *p, const int64_t *const *columns, ptrdiff_t count, bs_stage_slots slots,
                      int64_t *const *out, ptrdiff_t offset, const bs_device *dev, double *latency);

#endif
