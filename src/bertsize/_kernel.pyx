# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython kernel: the C formulas of csrc/ over one configuration or columns of millions.

Private: the public entry points are bertsize.estimate() and bertsize.evaluate(), which
validate their arguments first.  The loops here never raise; they report the first bad
or overflowing row and the wrapper raises with the GIL held.
"""

from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

N_METRICS = BS_N_METRICS
N_FIELDS = BS_N_FIELDS
N_REASONS = BS_N_REASONS


def openmp_enabled():
    """Whether the extension was compiled with OpenMP."""
    return bool(BS_OPENMP)


def compiler():
    """The compiler that built the kernel."""
    return BS_COMPILER.decode()


def max_threads():
    """Threads an OpenMP region uses by default (1 without OpenMP)."""
    return omp_get_max_threads()


cdef inline void _unpack(const char *encoder, const char *workload, int head, int64_t num_labels,
                         bs_options *o, bs_row *r) noexcept nogil:
    # Packed layouts (native int64): bertsize._abi.ENCODER_OPTIONS + ENCODER_FIELDS and
    # WORKLOAD_OPTIONS + WORKLOAD_FIELDS.
    cdef int64_t e[15]
    cdef int64_t w[10]
    memcpy(e, encoder, sizeof(e))
    memcpy(w, workload, sizeof(w))
    o.family, o.activation, o.pooler = <int>e[0], <int>e[1], <int>e[2]
    o.hidden_dropout, o.attention_dropout, o.classifier_dropout = <int>e[3], <int>e[4], <int>e[5]
    o.training, o.precision, o.optimizer, o.attention = <int>w[0], <int>w[1], <int>w[2], <int>w[3]
    o.recompute, o.backend, o.zero_stage, o.data_parallel = <int>w[4], <int>w[5], <int>w[6], w[7]
    o.head, o.num_labels = head, num_labels
    memcpy(r.f, &e[6], 9 * sizeof(int64_t))
    r.f[9], r.f[10] = w[8], w[9]


cpdef object scalar(bytes encoder, bytes workload, int head, int64_t num_labels, unsigned mask):
    """Metrics of one configuration, from the packings of bertsize._abi.

    Returns the tuple of BS_N_METRICS values (unselected ones 0), or an int status: a
    positive row-check code (``field * N_REASONS + reason``) or ``-(1 + metric)`` for the
    first selected metric that overflows int64.
    """
    cdef bs_options o
    cdef bs_row r
    cdef int64_t out[BS_N_METRICS]
    cdef int k, status
    _unpack(encoder, workload, head, num_labels, &o, &r)
    status = bs_check_row(&o, &r)
    if status:
        return status
    for k in range(BS_N_METRICS):
        out[k] = 0
    status = bs_evaluate(&o, &r, mask, out)
    if status:
        return -status
    return (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9])


cdef inline void _evaluate_row(const bs_options *o, const int64_t **cols, const Py_ssize_t *steps,
                               Py_ssize_t i, unsigned mask, int64_t **outs, Py_ssize_t *first) noexcept nogil:
    # One row, with its own stack: prange shares C arrays declared in the loop's scope.
    cdef bs_row r
    cdef int64_t values[BS_N_METRICS]
    cdef int k, status
    for k in range(BS_N_FIELDS):
        r.f[k] = cols[k][i * steps[k]]
    status = bs_check_row(o, &r)
    if status:
        if i < first[0]:
            first[0], first[1] = i, status
        return
    status = bs_evaluate(o, &r, mask, values)
    if status and i < first[2]:
        first[2], first[3] = i, status - 1
    for k in range(BS_N_METRICS):
        if outs[k] != NULL:
            outs[k][i] = values[k]


def evaluate_columns(bytes encoder, bytes workload, int head, int64_t num_labels, list columns, list steps,
                     Py_ssize_t n, unsigned mask, list outputs, int threads):
    """Evaluate n configurations into the output arrays.

    Args:
        encoder, workload, head, num_labels: the call's options, packed as for scalar();
            the packed sizes are unused (every field has a column).
        columns: BS_N_FIELDS C-contiguous int64 arrays; column k is read at row i as
            ``columns[k][i * steps[k]]`` (step 0 broadcasts a length-1 array).
        mask: bit m selects metric m; ``outputs[m]`` is a writable C-contiguous int64 array
            of length n for every selected metric (None otherwise).
        threads: OpenMP threads for the row loop.

    Returns:
        ``(bad_row, bad_code, overflow_row, overflow_metric)``: the first row that fails
        the row check and its code (``-1, 0`` if none), and the first row whose selected
        metrics overflow int64 with the first such metric (``-1, -1`` if none).
    """
    cdef bs_options o
    cdef const int64_t *cols[BS_N_FIELDS]
    cdef Py_ssize_t col_steps[BS_N_FIELDS]
    cdef int64_t *outs[BS_N_METRICS]
    cdef const int64_t[::1] column
    cdef int64_t[::1] output
    cdef Py_ssize_t i
    cdef int k, tid
    cdef bs_row unused
    _unpack(encoder, workload, head, num_labels, &o, &unused)
    for k in range(BS_N_FIELDS):
        column = columns[k]
        cols[k] = &column[0]
        col_steps[k] = steps[k]
    for k in range(BS_N_METRICS):
        outs[k] = NULL
        if mask & (1u << k):
            output = outputs[k]
            outs[k] = &output[0]
    threads = max(threads, 1)
    # prange has no min-reduction: each thread keeps its own first bad / overflowing row
    # (4 slots) and the minimum is taken after the loop, so the answer does not depend on
    # the thread count.
    cdef Py_ssize_t *first = <Py_ssize_t *>malloc(4 * threads * sizeof(Py_ssize_t))
    if first == NULL:
        raise MemoryError()
    for k in range(threads):
        first[4 * k], first[4 * k + 1], first[4 * k + 2], first[4 * k + 3] = n, 0, n, -1
    try:
        # Static schedule: each thread streams one contiguous block of rows, which is what
        # a memory-bandwidth-bound loop wants.
        for i in prange(n, nogil=True, schedule="static", num_threads=threads):
            tid = threadid()
            _evaluate_row(&o, cols, col_steps, i, mask, outs, &first[4 * tid])
        bad_row, bad_code, overflow_row, overflow_metric = n, 0, n, -1
        for k in range(threads):
            if first[4 * k] < bad_row:
                bad_row, bad_code = first[4 * k], first[4 * k + 1]
            if first[4 * k + 2] < overflow_row:
                overflow_row, overflow_metric = first[4 * k + 2], first[4 * k + 3]
    finally:
        free(first)
    return (bad_row if bad_row < n else -1, bad_code, overflow_row if overflow_row < n else -1, overflow_metric)


def stream_triad(double[::1] a, const double[::1] b, const double[::1] c, double scalar, int threads):
    """McCalpin's STREAM triad ``a = b + scalar * c`` with the kernel's compiler and
    OpenMP: the memory-bandwidth yardstick of benchmarks/bench_kernel.py."""
    cdef Py_ssize_t i, n = a.shape[0]
    if b.shape[0] != n or c.shape[0] != n:
        raise ValueError("stream_triad needs three arrays of one length")
    for i in prange(n, nogil=True, schedule="static", num_threads=max(threads, 1)):
        a[i] = b[i] + scalar * c[i]
