# Declarations of the C formulas in csrc/ (headers and bs_stage.c; no Python.h), and the
# unpacking of bertsize._abi's packed arguments, shared by _kernel and _search.
from libc.stdint cimport int64_t
from libc.string cimport memcpy, memset

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
        BS_PARAMS
        BS_FLOPS_FWD
        BS_FLOPS_BWD
        BS_WEIGHT_BYTES
        BS_GRAD_BYTES
        BS_OPTIMIZER_BYTES
        BS_PEAK_BYTES
        BS_HIDDEN
        BS_HEADS
        BS_INTERMEDIATE
        BS_MAX_POSITIONS
        BS_EMBEDDING
        BS_BATCH
        BS_SEQ_LEN
        BS_LATENCY_NEEDS
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


cdef inline void unpack(const char *encoder, const char *workload, int head, int64_t num_labels,
                        bs_options *o, bs_row *r) noexcept nogil:
    """The options and the row of a call from the packings of bertsize._abi (native int64:
    ENCODER_OPTIONS + ENCODER_FIELDS and WORKLOAD_OPTIONS + WORKLOAD_FIELDS)."""
    cdef int64_t e[15]
    cdef int64_t w[10]
    memset(o, 0, sizeof(bs_options))  # padding too: the scalar path compares options bytewise
    memcpy(e, encoder, sizeof(e))
    memcpy(w, workload, sizeof(w))
    o.family, o.activation, o.pooler = <int>e[0], <int>e[1], <int>e[2]
    o.hidden_dropout, o.attention_dropout, o.classifier_dropout = <int>e[3], <int>e[4], <int>e[5]
    o.training, o.precision, o.optimizer, o.attention = <int>w[0], <int>w[1], <int>w[2], <int>w[3]
    o.recompute, o.backend, o.zero_stage, o.data_parallel = <int>w[4], <int>w[5], <int>w[6], w[7]
    o.head, o.num_labels = head, num_labels
    memcpy(r.f, &e[6], 9 * sizeof(int64_t))
    r.f[9], r.f[10] = w[8], w[9]


cdef inline void unpack_device(tuple device, bs_device *dev):
    """bertsize._abi.pack_device: (peak FLOP/s, bandwidth bytes/s, compute efficiency,
    memory efficiency, overhead s)."""
    dev.peak, dev.bandwidth, dev.compute_efficiency, dev.memory_efficiency, dev.overhead = device
