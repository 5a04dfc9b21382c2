/* bertsize's evaluator: straight-line programs over the fields of a row.
 *
 * A program (emitted by src/bertsize/program.py, which documents the instructions and
 * their overflow semantics) computes quantities from a row of int64 fields through
 * slots, one value each; this header knows no family, head or metric.  It holds what
 * every path needs one row at a time:
 *
 *   bs_check      the row constraints (the first one a row breaks);
 *   bs_run        the instructions in exact int64, every slot with an overflow flag;
 *   bs_run_plain  the same without flags, for rows a bound has proved safe;
 *   bs_bound      the largest value any slot takes on the rows at or below a corner;
 *   bs_latency    the roofline sum over the program's latency terms.
 *
 * The stage path (bs_stage.c) runs the instructions over a stage of rows in doubles.
 */
#ifndef BERTSIZE_PROGRAM_H
#define BERTSIZE_PROGRAM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define BS_ABI_VERSION 5
#define BS_N_FIELDS 13
/* The header's length (program.py: Program.header). */
#define BS_HEADER 9

enum bs_op {
    BS_FIELD, BS_CONST, BS_MUL, BS_LINEAR, BS_MAX, BS_MIN, BS_WHERE, BS_EQ, BS_NE, BS_GE, BS_GT,
    BS_CEIL_DIV, BS_FLOOR_DIV, BS_MINUS, BS_DIFFERENCE, BS_N_OPS
};
enum bs_constraint_kind { BS_AT_LEAST, BS_EQUALS, BS_DIVIDES, BS_ZERO_OR_EQUAL, BS_WITHIN, BS_MULTIPLE, BS_DIVISIBLE,
                          BS_N_KINDS };

typedef struct { int64_t op, dst, a, b, c, k; } bs_instr;
typedef struct { int64_t slot, coeff; } bs_term;
typedef struct { int64_t kind, field, other, k; } bs_constraint;
/* FLOPs, activation elements, raw bytes, repeats (slots); link: 1 for a transfer of factor x raw bytes
 * over the link between ranks, 0 for an op on the device */
typedef struct { int64_t work, elements, raw, repeats, link; } bs_latency_term;

typedef struct {
    int64_t n_slots, n_instr, n_terms, n_outputs, latency_start, n_latency, n_constraints;
    const bs_instr *instr;
    const bs_term *terms;
    const int64_t *outputs;
    const bs_latency_term *latency;
    const double *latency_factor;
    const bs_constraint *constraints;
    int64_t largest_constant;  /* of instruction constants and coefficients */
} bs_program;

/* The device side of the roofline (bertsize/roofline.py: Constants: FLOP/s and bytes/s an op reaches, seconds per
 * op, bytes per activation element, bytes/s one way over the link between ranks). */
typedef struct { double compute_rate, memory_rate, overhead, element_bytes, link_rate; } bs_device;

#if defined(__GNUC__) || defined(__clang__)
#define BS_INLINE static inline __attribute__((always_inline))
static inline int bs_add_overflows(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static inline int bs_mul_overflows(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }
#else
#define BS_INLINE static inline
/* portable fallback: every operand here is >= 0 */
static inline int bs_add_overflows(int64_t a, int64_t b, int64_t *r) {
    if (b > INT64_MAX - a) return 1;
    *r = a + b;
    return 0;
}
static inline int bs_mul_overflows(int64_t a, int64_t b, int64_t *r) {
    if (a != 0 && b > INT64_MAX / a) return 1;
    *r = a * b;
    return 0;
}
#endif

/* Whether a divides b, for a >= 1, b >= 0.  Below 2^53 through a double quotient: x86's
 * integer division is not pipelined, the double one is.  Exact: k = trunc(fl(b / a))
 * satisfies k * a == b only if a divides b, and when it does b / a is an integer below
 * 2^53, which the division returns exactly. */
static inline int bs_divides(int64_t a, int64_t b) {
    if (((uint64_t)(a | b) >> 53) == 0) return (int64_t)((double)b / (double)a) * a == b;
    return b % a == 0;
}

BS_INLINE int bs_holds(const bs_constraint *c, const int64_t *row) {
    const int64_t f = row[c->field], g = c->other >= 0 ? row[c->other] : 0;
    switch (c->kind) {
    case BS_AT_LEAST: return f >= c->k;
    case BS_EQUALS: return f == c->k;
    case BS_DIVIDES: return f >= 1 && g >= 0 && bs_divides(f, g);
    case BS_ZERO_OR_EQUAL: return f == 0 || f == g;
    case BS_MULTIPLE: return g >= 0 && g <= INT64_MAX / c->k && f == c->k * g; /* k >= 1 */
    case BS_DIVISIBLE: return f % c->k == 0; /* k >= 1 */
    default: return g >= INT64_MIN + c->k && f <= g - c->k; /* BS_WITHIN */
    }
}

/* -1 when the row meets every constraint, else the index of the first it breaks. */
BS_INLINE int64_t bs_check(const bs_program *p, const int64_t *row) {
    for (int64_t i = 0; i < p->n_constraints; ++i)
        if (!bs_holds(&p->constraints[i], row)) return i;
    return -1;
}

/* One instruction in exact int64 with overflow flags (program.py: "Overflow"): flag[s]
 * is 1 when slot s's exact value passes int64 (its value is then meaningless). */
BS_INLINE void bs_step(const bs_program *p, const bs_instr *in, const int64_t *row, int64_t *v, unsigned char *flag) {
    const int64_t a = in->a, b = in->b;
    int64_t r = 0;
    int f = 0;
    switch (in->op) {
    case BS_FIELD: r = row[a]; break;
    case BS_CONST: r = in->k; break;
    case BS_MUL:
        if ((v[a] == 0 && !flag[a]) || (v[b] == 0 && !flag[b])) r = 0;
        else f = flag[a] | flag[b] | bs_mul_overflows(v[a], v[b], &r);
        break;
    case BS_LINEAR: {
        r = in->k;
        for (int64_t t = a; t < a + b; ++t) {
            const int64_t s = p->terms[t].slot;
            int64_t product;
            f |= flag[s] | bs_mul_overflows(p->terms[t].coeff, v[s], &product);
            if (!f) f |= bs_add_overflows(r, product, &r);
        }
        break;
    }
    case BS_MAX: r = v[a] > v[b] ? v[a] : v[b]; f = flag[a] | flag[b]; break;
    case BS_MIN:
        /* a flagged value is the larger one */
        if (flag[a] && !flag[b]) r = v[b];
        else if (flag[b] && !flag[a]) r = v[a];
        else r = v[a] < v[b] ? v[a] : v[b];
        f = flag[a] & flag[b];
        break;
    case BS_WHERE: {
        const int64_t chosen = v[in->c] ? a : b;
        r = v[chosen];
        f = flag[chosen] | flag[in->c];
        break;
    }
    case BS_EQ: case BS_NE: case BS_GE: case BS_GT: {
        int64_t x = v[a], y = v[b];
        f = flag[a] & flag[b];
        if (flag[a] != flag[b]) {  /* the flagged side is the larger */
            x = flag[a];
            y = flag[b];
        }
        r = in->op == BS_EQ ? x == y : in->op == BS_NE ? x != y : in->op == BS_GE ? x >= y : x > y;
        break;
    }
    case BS_CEIL_DIV: r = v[a] / in->k + (v[a] % in->k != 0); f = flag[a]; break;
    case BS_FLOOR_DIV: r = v[a] / in->k; f = flag[a]; break;
    case BS_DIFFERENCE: r = v[a] - v[b]; f = flag[a] | flag[b]; break;  /* v[b] <= v[a] on a valid row */
    default: r = v[a] - in->k; f = flag[a]; break; /* BS_MINUS */
    }
    v[in->dst] = r;
    flag[in->dst] = (unsigned char)f;
}

/* Instructions [0, end) of bs_step. */
static inline void bs_run(const bs_program *p, const int64_t *row, int64_t end, int64_t *v, unsigned char *flag) {
    for (int64_t i = 0; i < end; ++i) bs_step(p, &p->instr[i], row, v, flag);
}

/* Every instruction in doubles, no flags: the latency of a row whose exact terms pass
 * int64 (a float by then anyway). */
static inline void bs_run_doubles(const bs_program *p, const int64_t *row, double *v) {
    for (int64_t i = 0; i < p->n_instr; ++i) {
        const bs_instr *in = &p->instr[i];
        const int64_t a = in->a, b = in->b;
        double r;
        switch (in->op) {
        case BS_FIELD: r = (double)row[a]; break;
        case BS_CONST: r = (double)in->k; break;
        case BS_MUL: r = v[a] * v[b]; break;
        case BS_LINEAR:
            r = (double)in->k;
            for (int64_t t = a; t < a + b; ++t) r += (double)p->terms[t].coeff * v[p->terms[t].slot];
            break;
        case BS_MAX: r = v[a] > v[b] ? v[a] : v[b]; break;
        case BS_MIN: r = v[a] < v[b] ? v[a] : v[b]; break;
        case BS_WHERE: r = v[in->c] != 0 ? v[a] : v[b]; break;
        case BS_EQ: r = v[a] == v[b]; break;
        case BS_NE: r = v[a] != v[b]; break;
        case BS_GE: r = v[a] >= v[b]; break;
        case BS_GT: r = v[a] > v[b]; break;
        case BS_CEIL_DIV: r = ceil(v[a] / (double)in->k); break;
        case BS_FLOOR_DIV: r = floor(v[a] / (double)in->k); break;
        case BS_DIFFERENCE: r = v[a] - v[b]; break;
        default: r = v[a] - (double)in->k; break;
        }
        v[in->dst] = r;
    }
}

/* Plain int64, instructions [0, end): only for rows whose every slot is proved below
 * 2^63 (bs_bound).  Unsigned wrap-around where it cannot happen keeps it defined. */
static inline void bs_run_plain(const bs_program *p, const int64_t *row, int64_t end, int64_t *v) {
    for (int64_t i = 0; i < end; ++i) {
        const bs_instr *in = &p->instr[i];
        const int64_t a = in->a, b = in->b;
        int64_t r;
        switch (in->op) {
        case BS_FIELD: r = row[a]; break;
        case BS_CONST: r = in->k; break;
        case BS_MUL: r = (int64_t)((uint64_t)v[a] * (uint64_t)v[b]); break;
        case BS_LINEAR: {
            uint64_t sum = (uint64_t)in->k;
            for (int64_t t = a; t < a + b; ++t) sum += (uint64_t)p->terms[t].coeff * (uint64_t)v[p->terms[t].slot];
            r = (int64_t)sum;
            break;
        }
        case BS_MAX: r = v[a] > v[b] ? v[a] : v[b]; break;
        case BS_MIN: r = v[a] < v[b] ? v[a] : v[b]; break;
        case BS_WHERE: r = v[in->c] ? v[a] : v[b]; break;
        case BS_EQ: r = v[a] == v[b]; break;
        case BS_NE: r = v[a] != v[b]; break;
        case BS_GE: r = v[a] >= v[b]; break;
        case BS_GT: r = v[a] > v[b]; break;
        case BS_CEIL_DIV: r = v[a] / in->k + (v[a] % in->k != 0); break;
        case BS_FLOOR_DIV: r = v[a] / in->k; break;
        case BS_DIFFERENCE: r = v[a] - v[b]; break;
        default: r = v[a] - in->k; break;
        }
        v[in->dst] = r;
    }
}

/* The largest value any slot of instructions [0, end) takes on a valid row whose fields
 * are each at most corner's, or -1 when that bound passes int64.  Every slot is
 * non-decreasing in the fields once a choice is replaced by the larger branch, a
 * comparison by 1 and a difference by its minuend (program.py), so one exact evaluation
 * at the corner bounds them. */
static inline int64_t bs_bound(const bs_program *p, const int64_t *corner, int64_t end, int64_t *v,
                               unsigned char *flag) {
    int64_t largest = p->largest_constant;
    for (int64_t i = 0; i < end; ++i) {
        const bs_instr *in = &p->instr[i];
        int64_t r;
        int f;
        switch (in->op) {
        case BS_WHERE: {
            const int64_t a = in->a, b = in->b;
            r = v[a] > v[b] ? v[a] : v[b];
            f = flag[a] | flag[b];
            break;
        }
        case BS_EQ: case BS_NE: case BS_GE: case BS_GT: r = 1; f = 0; break;
        case BS_DIFFERENCE: r = v[in->a]; f = flag[in->a]; break;  /* the subtrahend is >= 0 */
        case BS_MIN: {
            const int64_t a = in->a, b = in->b;  /* each argument bounds it */
            r = v[a] < v[b] ? v[a] : v[b];
            f = flag[a] & flag[b];
            if (flag[a] != flag[b]) r = flag[a] ? v[b] : v[a];
            break;
        }
        default:  /* as bs_run, on the corner */
            bs_step(p, in, corner, v, flag);
            r = v[in->dst];
            f = flag[in->dst];
            break;
        }
        if (f) return -1;
        v[in->dst] = r;
        flag[in->dst] = 0;
        if (r > largest) largest = r;
    }
    return largest;
}

/* Roofline seconds: the latency terms over the slots' values (as doubles). */
static inline double bs_latency_of(const bs_program *p, const bs_device *d, const double *value) {
    double total = 0;
    for (int64_t t = 0; t < p->n_latency; ++t) {
        const bs_latency_term *term = &p->latency[t];
        if (term->link) {
            total += value[term->repeats] * p->latency_factor[t] * value[term->raw] / d->link_rate;
            continue;
        }
        const double compute = value[term->work] / d->compute_rate;
        const double memory = (d->element_bytes * value[term->elements] + p->latency_factor[t] * value[term->raw]) /
                              d->memory_rate;
        total += value[term->repeats] * ((compute > memory ? compute : memory) + d->overhead);
    }
    return total;
}

/* The latency of a row run through bs_run (every instruction): from its exact slots,
 * or, when a term passes int64, from a run in doubles. */
static inline double bs_row_latency(const bs_program *p, const bs_device *d, const int64_t *row, const int64_t *v,
                                    const unsigned char *flag, double *scratch) {
    int exact = 1;
    for (int64_t t = 0; t < p->n_latency; ++t) {
        const bs_latency_term *term = &p->latency[t];
        exact &= !(flag[term->work] | flag[term->elements] | flag[term->raw] | flag[term->repeats]);
    }
    if (exact)
        for (int64_t s = 0; s < p->n_slots; ++s) scratch[s] = (double)v[s];
    else
        bs_run_doubles(p, row, scratch);
    return bs_latency_of(p, d, scratch);
}

/* One row through the checked path: 0 and the outputs (and the latency when dev is not
 * NULL); 1 + constraint index for an invalid row; -(1 + output index) for the first
 * output past int64.  v, flag, scratch: n_slots each. */
static inline int64_t bs_row(const bs_program *p, const int64_t *row, int64_t *out, const bs_device *dev,
                             double *latency, int64_t *v, unsigned char *flag, double *scratch) {
    const int64_t bad = bs_check(p, row);
    if (bad >= 0) return 1 + bad;
    bs_run(p, row, dev ? p->n_instr : p->latency_start, v, flag);
    for (int64_t k = 0; k < p->n_outputs; ++k) {
        if (flag[p->outputs[k]]) return -(1 + k);
        out[k] = v[p->outputs[k]];
    }
    if (dev) *latency = bs_row_latency(p, dev, row, v, flag, scratch);
    return 0;
}

#endif
