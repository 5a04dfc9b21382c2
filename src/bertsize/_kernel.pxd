# Declarations of the C evaluator (csrc/bs_program.h, bs_stage.h; no Python.h) and of the
# compiled program object, shared by the _kernel and _search extensions.
from libc.stdint cimport int64_t, uint64_t

cdef extern from "bs_program.h" nogil:
    enum:
        BS_ABI_VERSION
        BS_N_FIELDS
        BS_HEADER
    ctypedef struct bs_instr:
        int64_t op, dst, a, b, c, k
    ctypedef struct bs_term:
        int64_t slot, coeff
    ctypedef struct bs_constraint:
        int64_t kind, field, other, k
    ctypedef struct bs_latency_term:
        int64_t work, elements, raw, repeats, link
    ctypedef struct bs_program:
        int64_t n_slots, n_instr, n_terms, n_outputs, latency_start, n_latency, n_constraints
        const bs_instr *instr
        const bs_term *terms
        const int64_t *outputs
        const bs_latency_term *latency
        const double *latency_factor
        const bs_constraint *constraints
        int64_t largest_constant
    ctypedef struct bs_device:
        double compute_rate, memory_rate, overhead, element_bytes, link_rate
    int bs_holds(const bs_constraint *c, const int64_t *row)
    int64_t bs_check(const bs_program *p, const int64_t *row)
    void bs_run(const bs_program *p, const int64_t *row, int64_t end, int64_t *v, unsigned char *flag)
    void bs_run_plain(const bs_program *p, const int64_t *row, int64_t end, int64_t *v)
    int64_t bs_bound(const bs_program *p, const int64_t *corner, int64_t end, int64_t *v, unsigned char *flag)
    double bs_row_latency(const bs_program *p, const bs_device *d, const int64_t *row, const int64_t *v,
                          const unsigned char *flag, double *scratch)
    double bs_latency_of(const bs_program *p, const bs_device *d, const double *value)
    int64_t bs_row(const bs_program *p, const int64_t *row, int64_t *out, const bs_device *dev, double *latency,
                   int64_t *v, unsigned char *flag, double *scratch)

cdef extern from "bs_stream.h" nogil:
    enum:
        BS_STAGE
        BS_STAGE_STRIDE
    void bs_stream_copy(int64_t *dst, const int64_t *src, int64_t count)
    void bs_stream_fence()

cdef extern from "bs_stage.h" nogil:
    ctypedef struct bs_stage_slots:
        double *v
    void bs_column_range(const int64_t *column, Py_ssize_t count, int64_t *least, int64_t *largest)
    uint64_t bs_unproved(const bs_program *p, const int64_t *least, const int64_t *largest)
    int bs_stage_valid(const bs_program *p, const int64_t *const *columns, uint64_t rules, Py_ssize_t count)
    void bs_stage_doubles(const bs_program *p, const int64_t *const *columns, Py_ssize_t count, bs_stage_slots slots,
                          int64_t *const *out, Py_ssize_t offset, const bs_device *dev, double *latency)

cdef extern from "bs_openmp.h" nogil:
    int BS_OPENMP
    int omp_get_max_threads()
    int omp_get_thread_num()

cdef extern from "bs_build.h" nogil:
    const char *BS_COMPILER


cdef class CompiledProgram:
    """A bertsize.program.Program loaded for the evaluator (arrays kept alive here)."""
    cdef bs_program p
    cdef object source
    cdef readonly tuple names
    cdef readonly tuple fields
    cdef readonly Py_ssize_t n_slots
    # the scalar path's safe corner: every valid row at or below it runs without overflow
    # checks (bs_bound proved it); grown from the rows the checked path has seen
    cdef int64_t corner[BS_N_FIELDS]
    cdef int64_t unprovable[BS_N_FIELDS]  # the last candidate corner that failed its proof
    cdef bint has_corner, has_unprovable


cdef int signalled() noexcept with gil
"""Whether a signal handler raised (Ctrl-C): the pending exception is cleared, and the
long call that asked stops and raises KeyboardInterrupt."""


cdef inline void unpack_device(tuple device, bs_device *d):
    """bertsize.roofline.Constants as a tuple: FLOP/s, bytes/s, seconds per op, bytes per
    activation element, bytes/s over the link between ranks."""
    d.compute_rate, d.memory_rate, d.overhead, d.element_bytes, d.link_rate = device
