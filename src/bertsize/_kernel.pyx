# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython kernel: the C formulas of csrc/ over one configuration or columns of millions.

Private: the public entry points are bertsize.estimate() and bertsize.evaluate(), which
validate their arguments first.  The loops here never raise; they report the first bad
or overflowing row and the wrapper raises with the GIL held.
"""

from cpython.buffer cimport PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy, memset

from bertsize._abi import CACHE_KEY as _PACKED

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


# The scalar path's plan cache: estimate() is typically called many times with the same
# options and different sizes (an AutoML loop), and building a plan costs about as much
# as evaluating it.  One entry, keyed by the options struct; only touched with the GIL.
cdef bs_options _cached_options
cdef bs_plan _cached_plan
cdef bint _cache_valid = False

# The scalar path's safe corner: under _cached_plan, every row whose fields are each at
# most _safe_corner's evaluates without overflow (bs_block_is_safe, the argument the
# column path's blocks rely on), so it can skip the per-operation overflow checks: 25-30
# ns of a 200 ns raw call here.  An AutoML loop asks about sizes in some range: the
# corner grows to cover the rows the checked path has seen (each field rounded up to
# 2^k - 1, so it stops growing after a few calls) while it stays provably safe.  A row
# outside it pays the checked evaluation and at most two proofs (each one more checked
# evaluation), none for a candidate corner that has just failed one: rows near int64,
# which no rounded corner covers, then cost one comparison more than before.  Reset with
# the plan; only touched with the GIL, as the plan cache.
cdef bs_row _safe_corner
cdef bint _corner_valid = False
cdef bs_row _unprovable  # the last candidate corner that failed its proof
cdef bint _unprovable_valid = False


cdef inline int64_t _rounded_up(int64_t x) noexcept nogil:
    """2^k - 1 for the least k with x < 2^k (x <= result < 2x), for x >= 0."""
    x |= x >> 1
    x |= x >> 2
    x |= x >> 4
    x |= x >> 8
    x |= x >> 16
    return x | (x >> 32)


cdef inline void _bound_embedding_width(bs_row *corner) noexcept nogil:
    """Make a corner's embedding bound the effective embedding width of the rows under it:
    the embedding, or hidden where it is 0 (bs_block_is_safe's corner)."""
    corner.f[BS_EMBEDDING] = max(corner.f[BS_EMBEDDING], corner.f[BS_HIDDEN])


cdef inline bint _covers(const bs_row *corner, const bs_row *r) noexcept nogil:
    """Whether every field of r is at most the corner's."""
    cdef bint covered = True
    cdef int k
    for k in range(BS_N_FIELDS):
        covered &= r.f[k] <= corner.f[k]
    return covered


cdef bint _proves_safe(const bs_options *o, const bs_row *corner) noexcept nogil:
    """bs_block_is_safe for every metric, skipped for the corner that last failed it."""
    global _unprovable, _unprovable_valid
    if _unprovable_valid and memcmp(corner, &_unprovable, sizeof(bs_row)) == 0:
        return False
    if bs_block_is_safe(o, &_cached_plan, corner, (1u << BS_N_METRICS) - 1):
        return True
    _unprovable, _unprovable_valid = corner[0], True
    return False


cdef void _widen_safe_corner(const bs_options *o, const bs_row *r) noexcept nogil:
    """Make _safe_corner cover the valid row r: the corner that covers both it and r if
    that one is safe, else r's own if that is."""
    global _safe_corner, _corner_valid
    cdef bs_row own, both
    cdef int k
    for k in range(BS_N_FIELDS):
        # (a negative value passes bs_check_row only in a field the family ignores)
        own.f[k] = _rounded_up(max(r.f[k], 0))
    _bound_embedding_width(&own)
    if _corner_valid:
        for k in range(BS_N_FIELDS):
            both.f[k] = max(own.f[k], _safe_corner.f[k])
        if _proves_safe(o, &both):
            _safe_corner = both
            return
    if _proves_safe(o, &own):
        _safe_corner, _corner_valid = own, True


cdef int _scalar_metrics(bytes encoder, bytes workload, int head, int64_t num_labels, unsigned mask,
                         int64_t *out, bs_options *options=NULL, bs_row *row=NULL):
    """The metrics of one configuration into out[0:BS_N_METRICS] (unselected ones 0), or
    the int status scalar() returns; its options and row into *options and *row where
    given (their plan is then _cached_plan)."""
    global _cached_options, _cache_valid, _corner_valid, _unprovable_valid
    cdef bs_options local_options
    cdef bs_row local_row
    cdef bs_options *o = options if options != NULL else &local_options
    cdef bs_row *r = row if row != NULL else &local_row
    cdef int k, status
    unpack(encoder, workload, head, num_labels, o, r)
    if not _cache_valid or memcmp(o, &_cached_options, sizeof(bs_options)) != 0:
        bs_plan_of(o, &_cached_plan)
        _cached_options = o[0]
        _cache_valid = True
        _corner_valid = _unprovable_valid = False
    status = bs_check_row(&_cached_plan, r)
    if status:
        return status
    if _corner_valid and _covers(&_safe_corner, r):
        bs_evaluate_unchecked(o, &_cached_plan, r, mask, out, 1)
    else:
        status = bs_evaluate(o, &_cached_plan, r, mask, out)
        if status:
            return -status
        _widen_safe_corner(o, r)
    for k in range(BS_N_METRICS):  # (metrics computed on the way to selected ones too)
        if not mask & (1u << k):
            out[k] = 0
    return 0


cpdef object scalar(bytes encoder, bytes workload, int head, int64_t num_labels, unsigned mask):
    """Metrics of one configuration, from the packings of bertsize._abi.

    Returns the tuple of BS_N_METRICS values (unselected ones 0), or an int status: a
    positive row-check code (``field * N_REASONS + reason``) or ``-(1 + metric)`` for the
    first selected metric that overflows int64.  The packings must be valid ones
    (bertsize._abi; num_labels >= 1): the overflow bounds rely on it.
    """
    cdef int64_t out[BS_N_METRICS]
    cdef int status = _scalar_metrics(encoder, workload, head, num_labels, mask, out)
    if status:
        return status
    return (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7], out[8], out[9])


def scalar_into(object out, bytes encoder, bytes workload, int head, int64_t num_labels, unsigned mask):
    """scalar() into a caller's buffer: the metrics as native int64 in out[0:N_METRICS]
    (unselected ones 0), and the int status (0 when they are there).

    For a loop that asks about one configuration after another and reads a few metrics:
    it builds no Python object, where scalar() builds a tuple and ten ints (about half its
    cost).  ``out`` is any writable buffer of at least N_METRICS * 8 bytes, reused from
    call to call: a bytearray read through ``numpy.frombuffer(out, numpy.int64)`` is the
    fastest (a numpy array's buffer costs about 0.04 us more to reach).  On a non-zero
    status ``out`` is left as it was.
    """
    cdef Py_buffer view
    cdef int64_t values[BS_N_METRICS]
    cdef int status
    PyObject_GetBuffer(out, &view, PyBUF_WRITABLE)  # (raises BufferError / TypeError itself)
    try:
        if view.len < <Py_ssize_t>sizeof(values):
            raise ValueError(f"out holds {view.len} bytes; the {BS_N_METRICS} metrics need {sizeof(values)}")
        status = _scalar_metrics(encoder, workload, head, num_labels, mask, values)
        if status == 0:
            memcpy(view.buf, values, sizeof(values))  # (any alignment: a byte copy)
        return status
    finally:
        PyBuffer_Release(&view)


cdef extern from "Python.h":
    object PyType_GenericAlloc(object cls, Py_ssize_t nitems)
    void PyTuple_SET_ITEM(object tup, Py_ssize_t index, object item)
    void Py_INCREF(object o)


def latency(bytes encoder, bytes workload, int head, int64_t num_labels, tuple device):
    """Roofline seconds of one configuration (see csrc/bs_latency.h), or an int status as
    scalar() returns."""
    cdef bs_options o
    cdef bs_row r
    cdef bs_device dev
    cdef int64_t out[BS_N_METRICS]
    unpack_device(device, &dev)
    cdef int status = _scalar_metrics(encoder, workload, head, num_labels, BS_LATENCY_NEEDS, out, &o, &r)
    if status:
        return status
    return bs_row_latency(&o, &_cached_plan, &r, &dev, out, 1)


def estimate_tuple(type cls, object encoder, object workload, str head, int head_code, int64_t num_labels,
                   object pack_encoder, object pack_workload):
    """estimate()'s whole scalar path: an instance of the tuple subclass ``cls``
    (bertsize.Estimate) with the 10 metrics, latency None, then encoder, workload, head
    and num_labels -- or the int status of scalar().

    The packings are read from the objects' cache (see bertsize._abi), calling
    ``pack_encoder`` / ``pack_workload`` to fill it; the tuple is allocated once, as
    CPython's own tuple-subclass constructor does, instead of being built and copied.
    """
    # (the cache is an instance-dict entry: plain attribute access finds it, faster than
    # a call of __dict__.get)
    packed_encoder = getattr(encoder, _PACKED, None)
    if packed_encoder is None:
        packed_encoder = pack_encoder(encoder)
    packed_workload = getattr(workload, _PACKED, None)
    if packed_workload is None:
        packed_workload = pack_workload(workload)
    cdef int64_t out[BS_N_METRICS]
    cdef int status = _scalar_metrics(packed_encoder, packed_workload, head_code, num_labels,
                                      (1u << BS_N_METRICS) - 1, out)
    if status:
        return status
    result = PyType_GenericAlloc(cls, 15)
    cdef Py_ssize_t k
    for k in range(BS_N_METRICS):
        _set_item(result, k, out[k])
    _set_item(result, 10, None)
    _set_item(result, 11, encoder)
    _set_item(result, 12, workload)
    _set_item(result, 13, head)
    _set_item(result, 14, num_labels)
    return result


cdef inline void _set_item(object tup, Py_ssize_t index, object item):
    Py_INCREF(item)  # PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(tup, index, item)


cdef enum:
    # Rows per block: the unit of work of a thread, and of the int64 path's overflow
    # bound; a block's columns (<= 11 x 8 bytes x 2048 = 176 KiB) stay in L2 between the
    # pass that bounds them and the pass that evaluates them.
    BLOCK = 2048


ctypedef struct _Call:
    bs_options options
    bs_plan plan
    bs_row template             # fields without a column
    const int64_t *cols[BS_N_FIELDS]
    int varying[BS_N_FIELDS]    # fields with a column
    int n_varying
    int64_t *outs[BS_N_METRICS]
    int selected[BS_N_METRICS]  # metrics to write
    int n_selected
    unsigned mask               # metrics to compute (a superset of the selected ones)
    bs_device device
    double *latency             # roofline seconds per row, or NULL


cdef inline int64_t _or_bound(const int64_t *column, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """The bitwise OR of column[start:stop]: when no value is negative, a bound of their
    maximum (below twice it); negative otherwise.  A bound is all the block check needs,
    and unlike a 64-bit max (SSE2 has no 64-bit compare) the OR loop vectorises."""
    cdef int64_t bound = 0
    cdef Py_ssize_t i
    for i in range(start, stop):
        bound |= column[i]
    return bound


cdef inline void _load_row(bs_row *r, const int64_t **cols, const int *varying, int n_varying,
                           Py_ssize_t i) noexcept nogil:
    """Row i's columns into r (its other fields keep the call's constants)."""
    cdef int j
    for j in range(n_varying):
        r.f[varying[j]] = cols[varying[j]][i]


cdef int _block_is_safe(const _Call *call, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """Whether rows [start, stop) provably evaluate without overflow in int64: from a
    bound of each column over the block (bs_block_is_safe)."""
    cdef bs_row corner = call.template
    cdef int j, k
    for j in range(call.n_varying):
        k = call.varying[j]
        corner.f[k] = _or_bound(call.cols[k], start, stop)
        if corner.f[k] < 0:
            # a negative size somewhere: those rows fail the row check, the others take
            # the checked path
            return 0
    _bound_embedding_width(&corner)
    return bs_block_is_safe(&call.options, &call.plan, &corner, call.mask)


cdef inline void _evaluate_block(const _Call *call, Py_ssize_t start, Py_ssize_t stop,
                                 Py_ssize_t *first) noexcept nogil:
    """Rows [start, stop), a stage at a time: in double precision where every row is
    valid and every value below 2^52 (bs_stage.h), else row by row in int64, unchecked
    if a bound of the block allows, checked otherwise.  first[0:2] / first[2:4] track
    this thread's first bad and first overflowing row."""
    # Local copies of everything the row loop reads: through `call` the compiler would
    # have to assume that each store of a result may overwrite the plan or the column
    # pointers, and reload them for every row.
    cdef bs_options options = call.options
    cdef bs_plan plan = call.plan
    cdef const int64_t *cols[BS_N_FIELDS]
    cdef const int64_t *columns[BS_N_FIELDS]  # one stage's rows of the columns
    cdef bs_stage_fields fields  # the stage's fields as doubles
    cdef int varying[BS_N_FIELDS]
    cdef int selected[BS_N_METRICS]
    cdef int n_varying = call.n_varying, n_selected = call.n_selected
    cdef unsigned mask = call.mask
    cdef bs_row r = call.template
    cdef int64_t values[BS_N_METRICS]
    cdef bs_stage_buffer buffer  # staged results, 16-byte aligned for streaming stores
    cdef int64_t *staged = buffer.v
    cdef Py_ssize_t i, stage, stage_stop
    cdef int k, status
    cdef int safe = -1  # the block bound, computed when a stage first needs it
    cdef bs_device device = call.device
    cdef double *latency = call.latency
    memcpy(cols, call.cols, sizeof(cols))
    memcpy(varying, call.varying, sizeof(varying))
    memcpy(selected, call.selected, sizeof(selected))
    cdef int in_doubles = bs_stage_constants(&call.template, cols, &fields)
    stage = start
    while stage < stop:
        stage_stop = min(stage + BS_STAGE, stop)
        for k in range(BS_N_FIELDS):
            columns[k] = cols[k] + stage if cols[k] != NULL else NULL
        # metric m of row i goes to staged[m * BS_STAGE_STRIDE + (i - stage)]
        if not (in_doubles and bs_evaluate_stage_in_doubles(&options, &plan, columns, stage_stop - stage, mask,
                                                            &fields, staged, BS_STAGE_STRIDE)):
            if safe < 0:
                safe = _block_is_safe(call, start, stop)
            for i in range(stage, stage_stop):
                _load_row(&r, cols, varying, n_varying, i)
                status = bs_check_row(&plan, &r)
                if status:
                    if i < first[0]:
                        first[0], first[1] = i, status
                elif safe:
                    bs_evaluate_unchecked(&options, &plan, &r, mask, &staged[i - stage], BS_STAGE_STRIDE)
                else:
                    status = bs_evaluate(&options, &plan, &r, mask, values)
                    if status and i < first[2]:
                        first[2], first[3] = i, status - 1
                    for k in range(BS_N_METRICS):
                        if mask & (1u << k):
                            staged[k * BS_STAGE_STRIDE + (i - stage)] = values[k]
        if latency != NULL:
            # (from every metric computed, selected or not: the staging buffer holds them all)
            for i in range(stage, stage_stop):
                _load_row(&r, cols, varying, n_varying, i)
                if bs_check_row(&plan, &r) == 0:
                    latency[i] = bs_row_latency(&options, &plan, &r, &device, &staged[i - stage], BS_STAGE_STRIDE)
        _stream_out(call, selected, n_selected, staged, stage, stage_stop)
        stage = stage_stop
    bs_stream_fence()


cdef inline void _stream_out(const _Call *call, const int *selected, int n_selected, const int64_t *staged,
                             Py_ssize_t stage, Py_ssize_t stage_stop) noexcept nogil:
    """Rows [stage, stage_stop) of the selected metrics, from the staging buffer to the
    output arrays."""
    cdef int j, k
    for j in range(n_selected):
        k = selected[j]
        bs_stream_copy(&call.outs[k][stage], &staged[k * BS_STAGE_STRIDE], stage_stop - stage)


def evaluate_columns(bytes encoder, bytes workload, int head, int64_t num_labels, dict constants, dict columns,
                     Py_ssize_t n, dict outputs, int threads, tuple device=None,
                     object latency=None):
    """Evaluate n configurations into the output arrays.

    Args:
        encoder, workload, head, num_labels: the call, packed as for scalar(); the packed
            sizes apply to every field without a column or a constant.
        constants: field index -> int64 value for every row.
        columns: field index -> C-contiguous int64 array of length n.
        outputs: metric index -> writable C-contiguous int64 array of length n; the
            metrics to compute.
        threads: OpenMP threads.
        device, latency: the packed device and a float64 array of length n for the
            roofline seconds of each row (None: no latency; with one, the parameters and
            model states are computed too, written only where selected).

    Returns:
        ``(bad_row, bad_code, overflow_row, overflow_metric)``: the first row that fails
        the row check and its code (``-1, 0`` if none), and the first row whose selected
        metrics overflow int64 with the first such metric (``-1, -1`` if none).
    """
    cdef _Call call
    cdef const int64_t[::1] column
    cdef int64_t[::1] output
    cdef double[::1] seconds
    cdef Py_ssize_t block, blocks = (n + BLOCK - 1) // BLOCK
    cdef int k, tid
    unpack(encoder, workload, head, num_labels, &call.options, &call.template)
    bs_plan_of(&call.options, &call.plan)
    for k, value in constants.items():
        call.template.f[k] = value
    call.n_varying = 0
    for k in range(BS_N_FIELDS):
        call.cols[k] = NULL
        if k in columns:
            column = columns[k]
            call.cols[k] = &column[0]
            call.varying[call.n_varying] = k
            call.n_varying += 1
    call.n_selected = 0
    call.mask = 0
    for k in range(BS_N_METRICS):
        call.outs[k] = NULL
        if k in outputs:
            output = outputs[k]
            call.outs[k] = &output[0]
            call.selected[call.n_selected] = k
            call.n_selected += 1
            call.mask |= 1u << k
    call.latency = NULL
    if latency is not None:
        call.mask |= BS_LATENCY_NEEDS
        seconds = latency
        call.latency = &seconds[0]
        unpack_device(device, &call.device)
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
        # Static schedule: each thread streams one contiguous run of blocks, which is
        # what a memory-bandwidth-bound loop wants.
        for block in prange(blocks, nogil=True, schedule="static", num_threads=threads):
            tid = threadid()
            _evaluate_block(&call, block * BLOCK, min((block + 1) * BLOCK, n), &first[4 * tid])
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
