# Declarations of the C formulas in csrc/ (header-only, no Python.h).
from libc.stdint cimport int64_t

cdef extern from "bertsize.h" nogil:
    enum:
        BS_N_METRICS
        BS_N_FIELDS
        BS_N_REASONS
    ctypedef struct bs_options:
        int family, head, activation
        int pooler, hidden_dropout, attention_dropout, classifier_dropout
        int training, precision, optimizer, attention, recompute, backend
        int zero_stage
        int64_t data_parallel
        int64_t num_labels
    ctypedef struct bs_row:
        int64_t f[BS_N_FIELDS]
    int bs_check_row(const bs_options *o, const bs_row *r)
    int bs_evaluate(const bs_options *o, const bs_row *r, unsigned mask, int64_t *out)

cdef extern from "bs_openmp.h" nogil:
    int BS_OPENMP
    int omp_get_max_threads()

cdef extern from "bs_build.h" nogil:
    const char *BS_COMPILER
