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
    ctypedef struct bs_plan:
        int position_offset
    enum:
        BS_EMBEDDING
        BS_HIDDEN
    void bs_plan_of(const bs_options *o, bs_plan *p)
    int bs_check_row(const bs_plan *p, const bs_row *r)
    int bs_evaluate(const bs_options *o, const bs_plan *p, const bs_row *r, unsigned mask, int64_t *out)
    void bs_evaluate_unchecked(const bs_options *o, const bs_plan *p, const bs_row *r, unsigned mask, int64_t *out,
                               Py_ssize_t stride)
    int bs_block_is_safe(const bs_options *o, const bs_plan *p, const bs_row *corner, unsigned mask)
    ctypedef struct bs_device:
        double peak, bandwidth, compute_efficiency, memory_efficiency, overhead
    double bs_row_latency(const bs_options *o, const bs_plan *p, const bs_row *r, const bs_device *dev,
                          const int64_t *metrics, Py_ssize_t stride)

cdef extern from "bs_openmp.h" nogil:
    int BS_OPENMP
    int omp_get_max_threads()

cdef extern from "bs_build.h" nogil:
    const char *BS_COMPILER

cdef extern from "bs_stage.h" nogil:
    ctypedef struct bs_stage_fields:
        pass
    int bs_stage_constants(const bs_row *template_row, const int64_t **columns, bs_stage_fields *fields)
    int bs_evaluate_stage_in_doubles(const bs_options *options, const bs_plan *plan, const int64_t **columns,
                                     Py_ssize_t count, unsigned mask, bs_stage_fields *fields, int64_t *out,
                                     Py_ssize_t stride)

cdef extern from "bs_stream.h" nogil:
    enum:
        BS_STAGE
        BS_STAGE_STRIDE
    ctypedef struct bs_stage_buffer:
        int64_t v[1]
    void bs_stream_copy(int64_t *dst, const int64_t *src, int64_t count)
    void bs_stream_fence()
