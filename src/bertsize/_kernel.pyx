# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython bindings of the evaluator (csrc/): the scalar path of estimate(), the columns of
evaluate(), and the program object the search walker (_search.pyx) runs.

Private: the public entry points validate their arguments first and build the programs
(bertsize.program); bertsize._reference is the pure-Python twin of this interface.  The
loops here never raise: they report the first invalid or overflowing row, and the
wrapper raises with the GIL held.
"""

from cpython.buffer cimport PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy, memset

import numpy as np

from bertsize import _abi
from bertsize import heads as _heads
from bertsize import metrics as _metrics
from bertsize import program as _program_module

N_FIELDS = BS_N_FIELDS
#: Most OpenMP threads a call may ask for (libgomp fails past some thousands).
MAX_THREADS = 256


def openmp_enabled():
    """Whether the extension was compiled with OpenMP."""
    return bool(BS_OPENMP)


def compiler():
    """The compiler that built the kernel."""
    return BS_COMPILER.decode()


def max_threads():
    """Threads an OpenMP region uses by default (1 without OpenMP), at most MAX_THREADS."""
    return min(omp_get_max_threads(), MAX_THREADS)


cdef extern from "Python.h":
    # declared without Cython's exception check: signalled() reads the -1 itself
    int _check_signals "PyErr_CheckSignals" ()
    void _clear_error "PyErr_Clear" ()


cdef int signalled() noexcept with gil:
    if _check_signals() < 0:
        _clear_error()
        return 1
    return 0


cdef class CompiledProgram:
    """A bertsize.program.Program for the evaluator: checks the header's ABI version and
    the arrays' lengths against it, and keeps the arrays alive."""

    def __cinit__(self, source):
        header = source.header
        expected = (BS_ABI_VERSION, source.n_slots, len(source.instructions), len(source.terms),
                    len(source.outputs), source.latency_start, len(source.latency_terms), len(source.constraints),
                    BS_N_FIELDS)
        if header.shape != (BS_HEADER,) or tuple(int(h) for h in header) != expected:
            raise ValueError(f"program header {header.tolist()} does not match this kernel ({list(expected)})")
        for name, array, width, dtype in (("instructions", source.instructions, 6, np.int64),
                                          ("terms", source.terms, 2, np.int64),
                                          ("latency_terms", source.latency_terms, 5, np.int64),
                                          ("constraints", source.constraints, 4, np.int64)):
            if array.dtype != dtype or array.ndim != 2 or array.shape[1] != width or not array.flags.c_contiguous:
                raise ValueError(f"program {name}: a C-contiguous ({width}-column) {np.dtype(dtype)} array expected")
        for name, array, dtype in (("outputs", source.outputs, np.int64), ("latency_factors", source.latency_factors,
                                                                           np.float64)):
            if array.dtype != dtype or array.ndim != 1 or not array.flags.c_contiguous:
                raise ValueError(f"program {name}: a C-contiguous 1-D {np.dtype(dtype)} array expected")
        if len(source.latency_factors) != len(source.latency_terms):
            raise ValueError("program latency_factors and latency_terms differ in length")
        if len(source.constraints) > 64:
            raise ValueError("a program has at most 64 constraints (the evaluator keeps them as bits)")
        self.source = source
        self.names = source.names
        self.fields = source.fields
        self.n_slots = source.n_slots
        self.p.n_slots = source.n_slots
        self.p.n_instr = len(source.instructions)
        self.p.n_terms = len(source.terms)
        self.p.n_outputs = len(source.outputs)
        self.p.latency_start = source.latency_start
        self.p.n_latency = len(source.latency_terms)
        self.p.n_constraints = len(source.constraints)
        self.p.instr = <const bs_instr *><uintptr_t>source.instructions.ctypes.data
        self.p.terms = <const bs_term *><uintptr_t>source.terms.ctypes.data
        self.p.outputs = <const int64_t *><uintptr_t>source.outputs.ctypes.data
        self.p.latency = <const bs_latency_term *><uintptr_t>source.latency_terms.ctypes.data
        self.p.latency_factor = <const double *><uintptr_t>source.latency_factors.ctypes.data
        self.p.constraints = <const bs_constraint *><uintptr_t>source.constraints.ctypes.data
        largest = 0
        for op, dst, a, b, c, k in source.instructions.tolist():
            largest = max(largest, abs(k))
        for slot, coefficient in source.terms.tolist():
            largest = max(largest, coefficient)
        self.p.largest_constant = largest
        _program_module.check_indices(source)


# --------------------------------------------------------------------------------------
# The scalar path: one configuration
# --------------------------------------------------------------------------------------
# estimate() is typically called many times with the same options and other sizes (an
# AutoML loop): its programs are cached by the Encoder's, Workload's and head's plan keys.
# Only touched with the GIL.
cdef dict _scalar_programs = {}
cdef enum:
    SCALAR_SLOTS = 256
cdef int64_t _last_key = -1
cdef CompiledProgram _last_program = None

cdef extern from "Python.h":
    object PyType_GenericAlloc(object cls, Py_ssize_t nitems)
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t length)
    void PyTuple_SET_ITEM(object tup, Py_ssize_t index, object item)
    void Py_INCREF(object o)


cdef inline void _set_item(object tup, Py_ssize_t index, object item):
    Py_INCREF(item)  # PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(tup, index, item)


cdef int64_t _ENCODER_HEADER = _abi.ENCODER_HEADER, _WORKLOAD_HEADER = _abi.WORKLOAD_HEADER
cdef Py_ssize_t _ENCODER_BYTES = _abi.ENCODER_BYTES, _WORKLOAD_BYTES = _abi.WORKLOAD_BYTES
# the row: the encoder's sizes, then the workload's (batch, seq_len), then num_labels
cdef Py_ssize_t _ENCODER_N = len(_abi.ENCODER_FIELDS)
cdef Py_ssize_t _WORKLOAD_AT = _ENCODER_N, _LABELS_AT = _ENCODER_N + len(_abi.WORKLOAD_FIELDS)


cdef CompiledProgram _scalar_program(object encoder, object workload, int head_code, str head):
    global _last_key, _last_program
    cdef int64_t key = (<int64_t>encoder._plan_key << 32) | (<int64_t>workload._plan_key << 8) | head_code
    if key == _last_key:
        return _last_program
    compiled = _scalar_programs.get(key)
    if compiled is None:
        compiled = _scalar_programs[key] = CompiledProgram(
            _program_module.scalar_program(encoder.options, workload.options, head))
    _last_key, _last_program = key, compiled
    return compiled


cdef void _unpack(bytes packed, Py_ssize_t size, int64_t header, int64_t *row) except *:
    """A packing of bertsize._abi into row, after checking its length and header."""
    if len(packed) != size:
        raise ValueError(f"a packing of {len(packed)} bytes is not this version's {size}")
    cdef const int64_t *words = <const int64_t *><const char *>packed
    if words[0] != header:
        raise ValueError(f"packing header {words[0]:#x} is not this version's {header:#x}")
    memcpy(row, &words[1], size - sizeof(int64_t))


def estimate_tuple(type cls, object encoder, object workload, str head, int head_code, int64_t num_labels,
                   tuple device, object latency_kind=None):
    """estimate()'s whole scalar path: an instance of the tuple subclass ``cls``
    (bertsize.Estimate) with the metrics, the latency (or None without ``device``, a
    bertsize.roofline.Constants tuple), then encoder, workload, head, num_labels and
    ``latency_kind`` (what the latency is: bertsize.Device.latency_kind) —
    or an int status: 1 + the index of the constraint the row breaks, or -(1 + k) for
    the first metric k past int64.  Its program is built the first time an option set
    is seen (bertsize.program.scalar_program) and cached.
    """
    cdef CompiledProgram compiled = _scalar_program(encoder, workload, head_code, head)
    cdef const bs_program *p = &compiled.p
    cdef int64_t row[BS_N_FIELDS]
    _unpack(encoder._row, _ENCODER_BYTES, _ENCODER_HEADER, row)
    _unpack(workload._row, _WORKLOAD_BYTES, _WORKLOAD_HEADER, &row[_WORKLOAD_AT])
    row[_LABELS_AT] = num_labels
    cdef bs_device dev
    cdef bs_device *dev_pointer = NULL
    if device is not None:
        unpack_device(device, &dev)
        dev_pointer = &dev
    cdef int64_t out[16]
    cdef double seconds = 0
    cdef Py_ssize_t n = p.n_slots
    # the slots on the stack (a scalar program has some tens), on the heap past that
    cdef int64_t local[3 * SCALAR_SLOTS]
    cdef int64_t *v = &local[0]
    if n > SCALAR_SLOTS:
        v = <int64_t *>malloc(n * (sizeof(int64_t) + sizeof(double) + 1))
    if v == NULL:
        raise MemoryError()
    cdef int64_t status = _scalar_row(compiled, row, out, dev_pointer, &seconds, v, <unsigned char *>(v + 2 * n),
                                      <double *>(v + n))
    if v != &local[0]:
        free(v)
    if status:
        return status
    result = PyType_GenericAlloc(cls, 16)
    cdef Py_ssize_t k
    for k in range(10):
        _set_item(result, k, out[k])
    _set_item(result, 10, seconds if device is not None else None)
    _set_item(result, 11, encoder)
    _set_item(result, 12, workload)
    _set_item(result, 13, head)
    _set_item(result, 14, num_labels)
    _set_item(result, 15, latency_kind if device is not None else None)
    return result


cdef inline int64_t _rounded_up(int64_t x) noexcept nogil:
    """2^k - 1 for the least k with x < 2^k (x <= result < 2x), for x >= 0."""
    x |= x >> 1
    x |= x >> 2
    x |= x >> 4
    x |= x >> 8
    x |= x >> 16
    return x | (x >> 32)


cdef inline bint _under(const int64_t *corner, const int64_t *row) noexcept nogil:
    """Whether every field of row is at most the corner's."""
    cdef bint under = True
    cdef int k
    for k in range(BS_N_FIELDS):
        under &= row[k] <= corner[k]
    return under


cdef bint _proves_safe(CompiledProgram compiled, const int64_t *corner, int64_t *v, unsigned char *flag) noexcept:
    """bs_bound at the corner, over every instruction, below int64 (skipped for the corner
    that last failed)."""
    cdef const bs_program *p = &compiled.p
    if compiled.has_unprovable and memcmp(corner, compiled.unprovable, sizeof(compiled.unprovable)) == 0:
        return False
    if bs_bound(p, corner, p.n_instr, v, flag) >= 0:
        return True
    memcpy(compiled.unprovable, corner, sizeof(compiled.unprovable))
    compiled.has_unprovable = True
    return False


cdef void _widen_corner(CompiledProgram compiled, const int64_t *row, int64_t *v, unsigned char *flag) noexcept:
    """Make the safe corner cover the valid row: the corner of both if that is safe, else
    the row's own (each field rounded up to 2^k - 1, so that it stops growing soon)."""
    cdef int64_t own[BS_N_FIELDS]
    cdef int64_t both[BS_N_FIELDS]
    cdef int k
    for k in range(BS_N_FIELDS):
        own[k] = _rounded_up(row[k] if row[k] > 0 else 0)
    if compiled.has_corner:
        for k in range(BS_N_FIELDS):
            both[k] = own[k] if own[k] > compiled.corner[k] else compiled.corner[k]
        if _proves_safe(compiled, both, v, flag):
            memcpy(compiled.corner, both, sizeof(both))
            return
    if _proves_safe(compiled, own, v, flag):
        memcpy(compiled.corner, own, sizeof(own))
        compiled.has_corner = True


cdef int64_t _scalar_row(CompiledProgram compiled, const int64_t *row, int64_t *out, const bs_device *dev,
                         double *latency, int64_t *v, unsigned char *flag, double *scratch) noexcept:
    """bs_row, without overflow checks inside the program's safe corner (a row outside it
    is checked, and widens the corner when it can).  Only with the GIL: the corner is the
    program's."""
    cdef const bs_program *p = &compiled.p
    cdef int64_t bad, k
    if compiled.has_corner and _under(compiled.corner, row):
        bad = bs_check(p, row)
        if bad >= 0:
            return 1 + bad
        bs_run_plain(p, row, p.n_instr if dev != NULL else p.latency_start, v)
        for k in range(p.n_outputs):
            out[k] = v[p.outputs[k]]
        if dev != NULL:
            for k in range(p.n_slots):
                scratch[k] = <double>v[k]
            latency[0] = bs_latency_of(p, dev, scratch)
        return 0
    cdef int64_t status = bs_row(p, row, out, dev, latency, v, flag, scratch)
    if status == 0:
        _widen_corner(compiled, row, v, flag)
    return status


cdef int64_t _scalar_metrics(object encoder, object workload, int head_code, int64_t num_labels, unsigned mask,
                             const bs_device *device, int64_t *out, double *seconds) except? -9:
    """The metrics of one configuration into out[0:N_METRICS] (those not in ``mask`` 0),
    and its latency into *seconds when device is not NULL; 0, or the status of
    estimate_tuple() (overflow: the first selected metric past int64)."""
    cdef CompiledProgram compiled = _scalar_program(encoder, workload, head_code, HEAD_NAMES[head_code])
    cdef const bs_program *p = &compiled.p
    cdef int64_t row[BS_N_FIELDS]
    cdef Py_ssize_t n = p.n_slots, k
    cdef int64_t bad, status = 0
    _unpack(encoder._row, _ENCODER_BYTES, _ENCODER_HEADER, row)
    _unpack(workload._row, _WORKLOAD_BYTES, _WORKLOAD_HEADER, &row[_WORKLOAD_AT])
    row[_LABELS_AT] = num_labels
    bad = bs_check(p, row)
    if bad >= 0:
        return 1 + bad
    # the slots on the stack (a scalar program has some tens), on the heap past that
    cdef int64_t local[3 * SCALAR_SLOTS]
    cdef int64_t *v = &local[0]
    if n > SCALAR_SLOTS:
        v = <int64_t *>malloc(n * (sizeof(int64_t) + sizeof(double) + 1))
    if v == NULL:
        raise MemoryError()
    cdef double *scratch = <double *>(v + n)
    cdef unsigned char *flag = <unsigned char *>(v + 2 * n)
    cdef int64_t end = p.n_instr if device != NULL else p.latency_start
    cdef bint plain = compiled.has_corner and _under(compiled.corner, row)
    try:
        if plain:
            bs_run_plain(p, row, end, v)
            memset(flag, 0, n)
        else:
            bs_run(p, row, end, v, flag)
        for k in range(p.n_outputs):
            out[k] = 0
            if mask & (1u << k):
                if flag[p.outputs[k]]:
                    status = -(1 + k)
                    break
                out[k] = v[p.outputs[k]]
        if device != NULL:
            seconds[0] = bs_row_latency(p, device, row, v, flag, scratch)
        if not plain and status == 0:
            _widen_corner(compiled, row, v, flag)
    finally:
        if v != &local[0]:
            free(v)
    return status


HEAD_NAMES = tuple(_heads.HEADS)
N_METRICS = len(_metrics.NAMES)


def scalar(object encoder, object workload, int head_code, int64_t num_labels, unsigned mask):
    """The metrics of one configuration (bertsize.METRICS order; those not in ``mask``
    0), or the int status of estimate_tuple()."""
    cdef int64_t out[16]
    cdef double seconds
    status = _scalar_metrics(encoder, workload, head_code, num_labels, mask, NULL, out, &seconds)
    if status:
        return status
    return tuple(out[k] for k in range(N_METRICS))


def scalar_into(object out, object encoder, object workload, int head_code, int64_t num_labels, unsigned mask):
    """scalar() into a caller's buffer: the metrics as native int64 in
    out[0:N_METRICS] (unselected ones 0), and the int status (0 when they are there;
    ``out`` is left as it was otherwise).  It builds no Python object: for a loop that
    asks about one configuration after another and reads a few metrics, reused from call
    to call (a bytearray read through ``numpy.frombuffer(out, numpy.int64)``)."""
    cdef Py_buffer view
    cdef int64_t values[16]
    cdef double seconds
    PyObject_GetBuffer(out, &view, PyBUF_WRITABLE)  # (raises BufferError / TypeError itself)
    try:
        if view.len < <Py_ssize_t>(N_METRICS * sizeof(int64_t)):
            raise ValueError(f"out holds {view.len} bytes; the {N_METRICS} metrics need {N_METRICS * sizeof(int64_t)}")
        status = _scalar_metrics(encoder, workload, head_code, num_labels, mask, NULL, values, &seconds)
        if status == 0:
            memcpy(view.buf, values, N_METRICS * sizeof(int64_t))  # (any alignment: a byte copy)
        return status
    finally:
        PyBuffer_Release(&view)


def latency(object encoder, object workload, int head_code, int64_t num_labels, tuple device):
    """Roofline seconds of one configuration (a bertsize.roofline.Constants tuple), or
    the positive status of an invalid row."""
    cdef int64_t out[16]
    cdef double seconds = 0
    cdef bs_device dev
    unpack_device(device, &dev)
    status = _scalar_metrics(encoder, workload, head_code, num_labels, 0, &dev, out, &seconds)
    if status > 0:
        return status
    return seconds


# family -> a program of its encoder constraints (for replace_sizes)
cdef dict _encoder_rules = {}
cdef object _FAMILIES = None


def replace_sizes(object encoder, dict changes, dict positions):
    """``encoder.replace(**changes)`` when every change is a size of ``positions`` (name
    -> its index in the row) and a plain int: the new Encoder, already packed, or the
    index of the family's encoder constraint it breaks; None for any other change (the
    caller takes the full path).  The other fields are the Encoder's, already resolved."""
    global _FAMILIES
    cdef int64_t row[BS_N_FIELDS]
    cdef CompiledProgram rules
    _unpack(encoder._row, _ENCODER_BYTES, _ENCODER_HEADER, row)
    for name, value in changes.items():
        position = positions.get(name)
        if position is None or type(value) is not int or not -9223372036854775807 - 1 <= value <= 9223372036854775807:
            return None
        row[<Py_ssize_t>position] = value
    family = encoder.family
    rules = _encoder_rules.get(family)
    if rules is None:
        if _FAMILIES is None:
            from bertsize.families import FAMILIES as _FAMILIES
        rules = _encoder_rules[family] = CompiledProgram(
            _program_module.constraints_program(_FAMILIES[family].encoder_constraints))
    cdef int64_t bad = bs_check(&rules.p, row)
    if bad >= 0:
        return bad
    packed = PyBytes_FromStringAndSize(NULL, _ENCODER_BYTES)
    (<int64_t *><char *>packed)[0] = _ENCODER_HEADER
    memcpy(<char *>packed + sizeof(int64_t), row, _ENCODER_N * sizeof(int64_t))
    cdef dict state = encoder.__dict__.copy()
    state.update(changes)
    state["_row"] = packed
    copy = encoder.__class__.__new__(encoder.__class__)
    object.__setattr__(copy, "__dict__", state)
    return copy


def run_row(CompiledProgram compiled, row, tuple device=None):
    """One row (a sequence of BS_N_FIELDS ints) through the checked path: the tuple of
    outputs (and the latency when ``device`` is given), or the int status of
    estimate_tuple()."""
    cdef const bs_program *p = &compiled.p
    cdef int64_t values[BS_N_FIELDS]
    cdef Py_ssize_t k
    if len(row) != BS_N_FIELDS:
        raise ValueError(f"a row has {BS_N_FIELDS} fields, got {len(row)}")
    for k in range(BS_N_FIELDS):
        values[k] = row[k]
    cdef bs_device dev
    cdef bs_device *dev_pointer = NULL
    if device is not None:
        unpack_device(device, &dev)
        dev_pointer = &dev
    cdef Py_ssize_t n = p.n_slots
    cdef int64_t *out = <int64_t *>malloc((p.n_outputs + 1 + n * 2) * sizeof(int64_t) + n)
    if out == NULL:
        raise MemoryError()
    cdef double seconds = 0
    cdef int64_t *v = out + p.n_outputs + 1
    try:
        status = bs_row(p, values, out, dev_pointer, &seconds, v, <unsigned char *>(v + 2 * n), <double *>(v + n))
        if status:
            return status
        result = tuple(out[k] for k in range(p.n_outputs))
    finally:
        free(out)
    return result + (seconds,) if device is not None else result


def valid_rows(options, tuple template, dict columns, Py_ssize_t n, tuple which):
    """Whether each of n rows meets the row constraints ``which`` (indices) of
    ``options``' plan: a bool array; fields ``columns`` (field index -> int64 array) over
    ``template``."""
    cdef CompiledProgram compiled = CompiledProgram(_program_module.specialised(options, (), (), False))
    cdef int64_t row[BS_N_FIELDS]
    cdef const int64_t *cols[BS_N_FIELDS]
    cdef const int64_t[::1] column
    cdef Py_ssize_t i, k, j, m = len(which)
    cdef const bs_constraint *rules = compiled.p.constraints
    cdef int64_t *chosen = <int64_t *>malloc((m + 1) * sizeof(int64_t))
    if chosen == NULL:
        raise MemoryError()
    for j in range(m):
        if not 0 <= which[j] < compiled.p.n_constraints:
            free(chosen)
            raise ValueError(f"no constraint {which[j]}")
        chosen[j] = which[j]
    result = np.empty(n, dtype=np.bool_)
    cdef unsigned char[::1] out = result.view(np.uint8)
    for k in range(BS_N_FIELDS):
        row[k] = template[k]
        cols[k] = NULL
    for k, array in columns.items():
        column = array
        if column.shape[0] != n:
            raise ValueError(f"column {k} has {column.shape[0]} rows, not {n}")
        cols[k] = &column[0] if n else NULL
    with nogil:
        for i in range(n):
            for k in range(BS_N_FIELDS):
                if cols[k] != NULL:
                    row[k] = cols[k][i]
            out[i] = 1
            for j in range(m):
                if not bs_holds(&rules[chosen[j]], row):
                    out[i] = 0
                    break
    free(chosen)
    return result


# --------------------------------------------------------------------------------------
# Columns: many configurations
# --------------------------------------------------------------------------------------
cdef enum:
    # Rows per block: the unit of work of a thread and of the bound that picks its path;
    # a block's columns (<= 12 x 8 bytes x 2048 = 192 KiB) stay in L2 between the pass that
    # bounds them and the passes that evaluate them.
    BLOCK = 2048
    DOUBLES = 0   # every slot of every row below 2^52: the stage path
    PLAIN = 1     # below 2^63: int64 without overflow checks
    CHECKED = 2   # int64 with flags


ctypedef struct _Call:
    const bs_program *p
    int64_t template[BS_N_FIELDS]   # fields without a column
    const int64_t *cols[BS_N_FIELDS]
    int varying[BS_N_FIELDS]        # fields with a column
    int n_varying
    int64_t **outs                  # output k's array
    int64_t end                     # instructions to run: with the latency terms or not
    bs_device device
    double *latency                 # roofline seconds per row, or NULL
    int stop                        # a signal arrived: every thread skips its next blocks


cdef int _mode(const _Call *call, Py_ssize_t start, Py_ssize_t stop, int64_t *v, unsigned char *flag,
               uint64_t *rules) noexcept nogil:
    """The path of rows [start, stop), from the program's bound at their corner (each
    column's largest value): DOUBLES when every slot of every row stays below 2^52; and
    in *rules the constraints their ranges do not prove (bs_unproved)."""
    cdef int64_t least[BS_N_FIELDS]
    cdef int64_t largest[BS_N_FIELDS]
    cdef int64_t bound, wide = 0, negative = 0
    cdef int j, k
    memcpy(least, call.template, sizeof(least))
    memcpy(largest, call.template, sizeof(largest))
    for j in range(call.n_varying):
        k = call.varying[j]
        bs_column_range(call.cols[k] + start, stop - start, &least[k], &largest[k])
    rules[0] = bs_unproved(call.p, least, largest)
    for k in range(BS_N_FIELDS):
        wide |= largest[k]
        negative |= least[k]
    if negative < 0:
        return CHECKED  # a negative size: those rows are invalid, the others checked
    bound = bs_bound(call.p, largest, call.end, v, flag)
    if bound < 0:
        return CHECKED
    if bound < (<int64_t>1 << 52) and wide < (<int64_t>1 << 52):
        return DOUBLES
    return PLAIN


cdef inline Py_ssize_t _scratch_bytes(const bs_program *p) noexcept nogil:
    """Bytes of one thread's scratch (see _evaluate_block), 64-byte multiples."""
    cdef Py_ssize_t doubles = ((p.n_slots + p.n_outputs) * BS_STAGE_STRIDE + BS_N_FIELDS * BS_STAGE
                               + 2 * p.n_slots + 8)
    return (doubles * sizeof(double) + p.n_slots + 64 + 63) // 64 * 64


cdef void _evaluate_block(const _Call *call, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t *first,
                          char *memory) noexcept nogil:
    """Rows [start, stop), a stage at a time; first[0:2] / first[2:4] track this thread's
    first invalid row (and constraint) and first overflowing row (and output).  memory:
    this thread's scratch (_scratch_bytes): the stage's slots (32-byte aligned doubles),
    its staged outputs (16-byte aligned), the constant fields as stage-long columns, and
    one row's int64 slots, doubles and flags."""
    cdef const bs_program *p = call.p
    cdef Py_ssize_t n_slots = p.n_slots, n_out = p.n_outputs
    cdef bs_stage_slots slots
    slots.v = <double *>((<uintptr_t>memory + 31) & ~(<uintptr_t>31))
    cdef int64_t *staged = <int64_t *>(slots.v + n_slots * BS_STAGE_STRIDE)
    cdef int64_t *constant = staged + n_out * BS_STAGE_STRIDE
    cdef int64_t *v = constant + BS_N_FIELDS * BS_STAGE
    cdef double *scratch = <double *>(v + n_slots)
    cdef unsigned char *flag = <unsigned char *>(scratch + n_slots)
    cdef const int64_t *columns[BS_N_FIELDS]
    cdef int64_t row[BS_N_FIELDS]
    cdef Py_ssize_t i, stage, stage_stop, k
    cdef int64_t bad
    cdef uint64_t block_rules, rules
    cdef const bs_device *dev = &call.device if call.latency != NULL else NULL
    for k in range(BS_N_FIELDS):
        if call.cols[k] == NULL:
            for i in range(BS_STAGE):
                constant[k * BS_STAGE + i] = call.template[k]
    # one bound for the block; where it misses the double path, one per stage
    cdef int block_mode = _mode(call, start, stop, v, flag, &block_rules), mode
    memcpy(row, call.template, sizeof(row))
    stage = start
    while stage < stop:
        stage_stop = min(stage + BS_STAGE, stop)
        mode, rules = block_mode, block_rules
        if block_mode != DOUBLES:
            mode = _mode(call, stage, stage_stop, v, flag, &rules)
        for k in range(BS_N_FIELDS):
            columns[k] = call.cols[k] + stage if call.cols[k] != NULL else &constant[k * BS_STAGE]
        if mode == DOUBLES and (rules == 0 or bs_stage_valid(p, columns, rules, stage_stop - stage)):
            bs_stage_doubles(p, columns, stage_stop - stage, slots, call.outs, stage, dev,
                             call.latency + stage if call.latency != NULL else NULL)
        else:
            for i in range(stage, stage_stop):
                for k in range(call.n_varying):
                    row[call.varying[k]] = call.cols[call.varying[k]][i]
                bad = bs_check(p, row)
                if bad >= 0:
                    if i < first[0]:
                        first[0], first[1] = i, bad
                    continue
                if mode == CHECKED:
                    bs_run(p, row, call.end, v, flag)
                    for k in range(n_out):
                        if flag[p.outputs[k]]:
                            if i < first[2]:
                                first[2], first[3] = i, k
                            break
                    if dev != NULL:
                        call.latency[i] = bs_row_latency(p, dev, row, v, flag, scratch)
                else:
                    bs_run_plain(p, row, call.end, v)
                    if dev != NULL:
                        for k in range(n_slots):
                            scratch[k] = <double>v[k]
                        call.latency[i] = bs_latency_of(p, dev, scratch)
                for k in range(n_out):
                    staged[k * BS_STAGE_STRIDE + (i - stage)] = v[p.outputs[k]]
            for k in range(n_out):
                bs_stream_copy(&call.outs[k][stage], &staged[k * BS_STAGE_STRIDE], stage_stop - stage)
        stage = stage_stop
    bs_stream_fence()


# A few compiled programs of recent evaluate() calls (a search evaluates its fits with
# the same options again and again).
cdef dict _column_programs = {}


def evaluate_columns(options, tuple names, tuple template, dict columns, Py_ssize_t n, list outputs, int threads,
                     tuple device=None, object latency=None):
    """evaluate()'s columns: the quantities ``names`` of the option set ``options`` for n
    rows, fields ``columns`` (field index -> int64 array) over ``template`` (the
    BS_N_FIELDS values of the rest); returns what evaluate_program() returns.  The
    program is specialised to the template's values of the fields without a column."""
    constants = tuple((name, value) for k, (name, value) in enumerate(zip(_program_module.FIELDS, template))
                      if k not in columns)
    key = (options, names, constants, latency is not None)
    compiled = _column_programs.get(key)
    if compiled is None:
        if len(_column_programs) > 64:
            _column_programs.clear()
        compiled = _column_programs[key] = CompiledProgram(
            _program_module.specialised(options, constants, names, latency is not None))
    return evaluate_program(compiled, template, columns, n, outputs, threads, device, latency)


def evaluate_program(CompiledProgram compiled, template, dict columns, Py_ssize_t n, list outputs, int threads,
                     tuple device=None, object latency=None):
    """Evaluate n rows into the output arrays.

    Args:
        compiled: the program (its outputs: one array each in ``outputs``).
        template: the BS_N_FIELDS field values of every row without a column.
        columns: field index -> C-contiguous int64 array of length n.
        outputs: writable C-contiguous int64 arrays of length n, one per program output.
        threads: OpenMP threads (1 <= threads <= MAX_THREADS).
        device, latency: a bertsize.roofline.Constants tuple and a float64 array of
            length n for the roofline seconds of each row (None: no latency).

    Returns:
        ``(bad_row, constraint, overflow_row, output)``: the first row that breaks a
        constraint and its index (``-1, -1`` if none), and the first row whose outputs
        pass int64 with the first such output (``-1, -1`` if none).
    """
    cdef _Call call
    cdef const int64_t[::1] column
    cdef int64_t[::1] output
    cdef double[::1] seconds
    cdef Py_ssize_t block, blocks = (n + BLOCK - 1) // BLOCK
    cdef int k, tid
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be between 1 and {MAX_THREADS}, got {threads}")
    if len(outputs) != compiled.p.n_outputs:
        raise ValueError(f"the program has {compiled.p.n_outputs} outputs, got {len(outputs)} arrays")
    call.p = &compiled.p
    for k in range(BS_N_FIELDS):
        call.template[k] = template[k]
        call.cols[k] = NULL
    call.n_varying = 0
    for k, array in columns.items():
        column = array
        if column.shape[0] != n:
            raise ValueError(f"column {k} has {column.shape[0]} rows, not {n}")
        call.cols[k] = &column[0] if n else NULL
        call.varying[call.n_varying] = k
        call.n_varying += 1
    call.outs = <int64_t **>malloc((len(outputs) + 1) * sizeof(int64_t *))
    if call.outs == NULL:
        raise MemoryError()
    cdef Py_ssize_t *first = <Py_ssize_t *>malloc(4 * threads * sizeof(Py_ssize_t))
    cdef Py_ssize_t scratch = _scratch_bytes(&compiled.p)
    # one scratch per thread, allocated once: a block's own malloc and free would let
    # the allocator hand its pages back and fault them in again, block after block
    cdef char *memory = <char *>malloc(threads * scratch + 32)
    try:
        if first == NULL or memory == NULL:
            raise MemoryError()
        for k, array in enumerate(outputs):
            output = array
            if output.shape[0] != n:
                raise ValueError(f"output {k} has {output.shape[0]} rows, not {n}")
            call.outs[k] = &output[0] if n else NULL
        call.latency = NULL
        call.end = compiled.p.latency_start
        if latency is not None:
            seconds = latency
            if seconds.shape[0] != n:
                raise ValueError(f"the latency array has {seconds.shape[0]} rows, not {n}")
            unpack_device(device, &call.device)
            call.latency = &seconds[0] if n else NULL
            call.end = compiled.p.n_instr
        # prange has no min-reduction: each thread keeps its own first invalid and first
        # overflowing row and the minimum is taken after the loop, so the answer does
        # not depend on the thread count.
        for k in range(threads):
            first[4 * k], first[4 * k + 1], first[4 * k + 2], first[4 * k + 3] = n, -1, n, -1
        # Static schedule: each thread streams one contiguous run of blocks, which is
        # what a memory-bandwidth-bound loop wants.
        call.stop = 0
        for block in prange(blocks, nogil=True, schedule="static", num_threads=threads):
            tid = threadid()
            if call.stop:
                continue
            # the calling thread looks for a signal (Ctrl-C) now and then
            if tid == 0 and block % 64 == 63 and signalled():
                call.stop = 1
            _evaluate_block(&call, block * BLOCK, min((block + 1) * BLOCK, n), &first[4 * tid],
                            memory + tid * scratch)
        if call.stop:
            raise KeyboardInterrupt()
        bad_row, constraint, overflow_row, overflow_output = n, -1, n, -1
        for k in range(threads):
            if first[4 * k] < bad_row:
                bad_row, constraint = first[4 * k], first[4 * k + 1]
            if first[4 * k + 2] < overflow_row:
                overflow_row, overflow_output = first[4 * k + 2], first[4 * k + 3]
    finally:
        free(call.outs)
        free(first)
        free(memory)
    return (bad_row if bad_row < n else -1, constraint, overflow_row if overflow_row < n else -1, overflow_output)


def stream_triad(double[::1] a, const double[::1] b, const double[::1] c, double scalar, int threads):
    """McCalpin's STREAM triad ``a = b + scalar * c`` with the kernel's compiler and
    OpenMP: the memory-bandwidth yardstick of benchmarks/bench_kernel.py."""
    cdef Py_ssize_t i, n = a.shape[0]
    if b.shape[0] != n or c.shape[0] != n:
        raise ValueError("stream_triad needs three arrays of one length")
    for i in prange(n, nogil=True, schedule="static", num_threads=max(threads, 1)):
        a[i] = b[i] + scalar * c[i]
