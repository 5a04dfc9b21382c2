/* A stage of rows at a time, in double precision (bs_stage.c): the kernel's fast path.
 *
 * The formulas are the kernel's own (bs_params.h, bs_flops.h, ...), compiled a second
 * time over doubles and looped metric by metric over up to BS_STAGE rows, so that the
 * compiler vectorises them across rows: four rows to an AVX2 instruction.  In int64 the
 * kernel is compute-bound a row at a time, and x86 has no vector int64 multiply before
 * AVX-512 (an emulated one made a vectorised int64 stage slower than scalar code here).
 *
 * Exact: every field and every metric value is an integer below 2^52, checked per row,
 * and every intermediate value of a formula is at most a metric value (bs_stage.c), so
 * no operation rounds.  A stage that fails a check is left to the integer path.
 */
#ifndef BERTSIZE_STAGE_H
#define BERTSIZE_STAGE_H

#include <stddef.h>

#include "bs_plan.h"
#include "bs_stream.h"  /* BS_STAGE */

/* One stage's fields as doubles: field k of row i is f[k][i] (rows padded like the
 * staging buffer, bs_stream.h). */
#if defined(_MSC_VER)
typedef __declspec(align(32)) struct { double f[BS_N_FIELDS][BS_STAGE_STRIDE]; } bs_stage_fields;
#else
typedef struct { double f[BS_N_FIELDS][BS_STAGE_STRIDE]; } __attribute__((aligned(32))) bs_stage_fields;
#endif

/* Fills the fields without a column (columns[k] == NULL) with the template's values,
 * once for every stage of a call.  Returns 0 if one is outside [0, 2^52): then no stage
 * of the call runs in doubles. */
int bs_stage_constants(const bs_row *template_row, const int64_t *const *columns, bs_stage_fields *fields);

/* Metric m of row i to out[m * stride + i] for the metrics `mask` selects (a superset of
 * those bs_evaluate computes for them), rows i < count <= BS_STAGE, where row i's field
 * k is columns[k][i], or the constant bs_stage_constants put in `fields`.  Returns 1
 * when done; 0 when a row may fail bs_check_row or a value reaches 2^52, or the plan has
 * per-tensor costs: then `out` holds nothing of use and the stage is the integer
 * path's. */
int bs_evaluate_stage_in_doubles(const bs_options *options, const bs_plan *plan, const int64_t *const *columns,
                                 ptrdiff_t count, unsigned mask, bs_stage_fields *fields, int64_t *out,
                                 ptrdiff_t stride);

#endif
