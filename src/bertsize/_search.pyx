# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython walker of implicit design spaces: count, enumerate, rank and Pareto-filter the
points that fit a budget, without materialising the Cartesian product.

Every metric is non-decreasing along every axis as the walk orders it, so the points
that meet the upper bounds form a down-set and those that meet ``min_params`` an up-set:

* a box (some axes fixed, the others free) whose largest corner meets the caps and whose
  smallest corner meets the floor fits entirely: its valid points are counted from
  validity tables (bertsize._tables), without visiting them;
* a box whose smallest corner breaks a cap has no fit, and neither has any box further
  along that axis: the axis loop stops;
* along the innermost axis two binary searches bound the run of fits.

Private: bertsize.search() validates its arguments and builds the walk.
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset

import numpy as np

from bertsize import program as _program_module
from bertsize._kernel cimport (
    BS_N_FIELDS, CompiledProgram, bs_bound, bs_device, bs_program, bs_row_latency, bs_run, bs_run_plain,
    omp_get_thread_num, signalled, unpack_device,
)

cdef enum:
    MAX_SLOTS = 512    # slots of a walk's program (search.py refuses a larger one)
    MAX_OUTPUTS = 16   # quantities a point needs (search.py: _Walk.outputs)
    MAX_LIMITS = 8
    LATENCY = -1       # objective: the roofline latency
    MAX_AXES = 16
    PLAIN = 0          # the axis sets a row field
    DIVIDED = 1        # the axis divides a field into another (heads = hidden // head_dim)
    MULTIPLIED = 2     # the axis multiplies a field into another (intermediate = ratio x hidden)
    DENSE = 0          # a pair's validity table: prefix sums
    INTERVALS = 1      # a pair's validity table: one run of axis b per value of axis a
    SPARSE = 2         # a pair's validity table: its valid combinations in a wavelet matrix
    CAPS_OK = 1        # the point meets every upper bound
    FLOOR_OK = 2       # the point meets every lower bound
    INT64_MAX_ = 9223372036854775807
    CHECK_EVERY = 4096


ctypedef struct Walk:
    const bs_program *p              # the quantities a point needs, constants folded
    int64_t end                      # instructions to run (with the latency terms or not)
    int64_t template[BS_N_FIELDS]    # fields without an axis
    int n_axes
    int target[MAX_AXES]             # row field an axis sets
    int source[MAX_AXES]             # DIVIDED / MULTIPLIED: the field it scales
    int kind[MAX_AXES]
    const int64_t *values[MAX_AXES]  # in walk order: index up => every quantity up
    Py_ssize_t size[MAX_AXES]
    # the budget: outputs at most / at least a bound, and the latency at most a bound
    int n_caps, n_floors
    int cap_output[MAX_LIMITS]
    int64_t cap_bound[MAX_LIMITS]
    int floor_output[MAX_LIMITS]
    int64_t floor_bound[MAX_LIMITS]
    int with_latency
    bs_device device
    double cap_latency
    # a quantity that is not monotone in the axes (8-bit AdamW's per-tensor threshold;
    # ELECTRA's projection where hidden can meet the embedding width): every point is visited
    int exhaustive
    # the last two axes are seq_len and batch of a training step: see _count_plane
    int plane
    const bs_program *plane_p        # outputs (c, k0, k1, k2) per cap, then the floors
    # every point's slots provably fit int64 (bs_bound): plain arithmetic instead of checked
    int safe
    # validity: pairs of axes whose combination can be invalid; axis -1 = fixed (size 1)
    # (bertsize._tables): DENSE, prefix sums of the table; INTERVALS, axis a's value i
    # admits axis b's values lower[i] <= j < upper[i], both non-decreasing in i; or SPARSE,
    # the valid combinations' axis-b indices in axis a's order, as a wavelet matrix
    int n_pairs
    int pair_axis[2][2]
    int pair_form[2]
    const int64_t *pair_prefix[2]    # DENSE: (size_a + 1) x (size_b + 1) prefix sums of validity
    Py_ssize_t pair_stride[2]        # size_b + 1
    const int64_t *pair_lower[2]     # INTERVALS: size_a run starts and ends,
    const int64_t *pair_upper[2]
    const int64_t *pair_lower_sum[2]  # and their size_a + 1 prefix sums
    const int64_t *pair_upper_sum[2]
    const int64_t *pair_starts[2]    # SPARSE: where axis a's value i starts (size_a + 1),
    const uint64_t *pair_words[2]    # the matrix's bits (levels x width words),
    const int64_t *pair_ranks[2]     # the ones before each word (levels x (width + 1)),
    const int64_t *pair_zeros[2]     # the zeros of each level
    int pair_levels[2]
    Py_ssize_t pair_width[2]
    int paired[MAX_AXES]             # 1 for an axis of a pair (its validity is in the table)
    int64_t fixed_valid              # 1, or 0 when the fixed fields alone are invalid
    # objectives of top-k / Pareto: output index (or LATENCY), +1 maximise / -1 minimise
    int objective[2]
    int direction[2]
    int n_outputs
    # a signal arrived (Ctrl-C): every loop unwinds; the calling thread (OpenMP's thread 0)
    # looks for one every CHECK_EVERY points it evaluates
    int *stop
    int64_t *ticks


cdef enum:
    # a point's outputs, its latency in femtoseconds, whether it is over its cap, and the
    # latency in seconds (a double's bits)
    N_METRICS = MAX_OUTPUTS + 3
    LATENCY_SLOT = MAX_OUTPUTS
    SLOW_SLOT = MAX_OUTPUTS + 1
    SECONDS_SLOT = MAX_OUTPUTS + 2


cdef inline int _row_at(const Walk *w, const Py_ssize_t *idx, int64_t *r) noexcept nogil:
    """The row of the point at `idx`; 0 when a derived size passes int64."""
    cdef int k
    cdef int64_t value, base
    memcpy(r, w.template, BS_N_FIELDS * sizeof(int64_t))
    for k in range(w.n_axes):
        if w.kind[k] == PLAIN:
            r[w.target[k]] = w.values[k][idx[k]]
    for k in range(w.n_axes):
        value, base = w.values[k][idx[k]], r[w.source[k]]
        if w.kind[k] == DIVIDED:
            # floor division: where the axis does not divide the field the point is
            # invalid (and not counted), and the floor keeps the quantities monotone
            r[w.target[k]] = base // value
        elif w.kind[k] == MULTIPLIED:
            if base > INT64_MAX_ // value:
                return 0
            r[w.target[k]] = value * base
    return 1


cdef inline int _evaluate(const Walk *w, const int64_t *r, int64_t *metrics) noexcept nogil:
    """The outputs of row `r` into metrics[0:n_outputs] (the latency in femtoseconds in
    LATENCY_SLOT); 0 when one passes int64."""
    cdef int64_t v[MAX_SLOTS]
    cdef unsigned char flag[MAX_SLOTS]
    cdef double scratch[MAX_SLOTS]
    cdef double seconds
    cdef int k
    if w.safe:
        bs_run_plain(w.p, r, w.end, v)
        memset(flag, 0, w.p.n_slots)
    else:
        bs_run(w.p, r, w.end, v, flag)
        for k in range(w.n_outputs):
            if flag[w.p.outputs[k]]:
                return 0
    for k in range(w.n_outputs):
        metrics[k] = v[w.p.outputs[k]]
    seconds = 0
    if w.with_latency:
        seconds = bs_row_latency(w.p, &w.device, r, v, flag, scratch)
        # femtoseconds as int64 for the objective (past ~2.5 hours: the largest value)
        metrics[LATENCY_SLOT] = <int64_t>(seconds * 1e15) if seconds < 9e3 else INT64_MAX_
        metrics[SLOW_SLOT] = seconds > w.cap_latency  # compared in seconds, exactly as given
    else:
        metrics[SLOW_SLOT] = 0
    memcpy(&metrics[SECONDS_SLOT], &seconds, sizeof(double))
    return 1


cdef inline int _flags(const Walk *w, const int64_t *metrics) noexcept nogil:
    cdef int flags = CAPS_OK, k
    for k in range(w.n_caps):
        if metrics[w.cap_output[k]] > w.cap_bound[k]:
            flags = 0
    if metrics[SLOW_SLOT]:
        flags = 0
    flags |= FLOOR_OK
    for k in range(w.n_floors):
        if metrics[w.floor_output[k]] < w.floor_bound[k]:
            flags &= ~FLOOR_OK
    return flags


cdef inline int _point(const Walk *w, const Py_ssize_t *idx, int64_t *metrics) noexcept nogil:
    """Evaluate the point at `idx`: CAPS_OK | FLOOR_OK flags; metrics filled.  A quantity
    past int64 is larger than any bound: it breaks the caps and meets the floors."""
    cdef int64_t r[BS_N_FIELDS]
    if omp_get_thread_num() == 0:
        w.ticks[0] += 1
        if w.ticks[0] % CHECK_EVERY == 0 and signalled():
            w.stop[0] = 1
    if not _row_at(w, idx, r) or not _evaluate(w, r, metrics):
        return FLOOR_OK
    return _flags(w, metrics)


cdef inline int64_t _objective(const Walk *w, int which, const int64_t *metrics) noexcept nogil:
    cdef int m = w.objective[which]
    if m == LATENCY:
        return metrics[LATENCY_SLOT]
    return metrics[m]


cdef inline Py_ssize_t _first_above(const int64_t *ends, Py_ssize_t low, Py_ssize_t high, int64_t x) noexcept nogil:
    """The first i in low..high-1 with ends[i] > x (high if none); ends non-decreasing."""
    cdef Py_ssize_t mid
    while low < high:
        mid = low + (high - low) // 2
        if ends[mid] > x:
            high = mid
        else:
            low = mid + 1
    return low


cdef int64_t _valid_in_runs(const Walk *w, int p, Py_ssize_t a0, Py_ssize_t a1, int64_t b0, int64_t b1) noexcept nogil:
    """Valid combinations of an INTERVALS pair in a0..a1 x b0..b1-1: the sum over i of
    min(upper[i], b1) - max(lower[i], b0), over the i whose run meets the columns (a
    range of i, the ends being ordered), each sum split where an end crosses a bound."""
    cdef const int64_t *lower = w.pair_lower[p]
    cdef const int64_t *upper = w.pair_upper[p]
    cdef Py_ssize_t start = _first_above(upper, a0, a1 + 1, b0)      # runs ending past b0
    cdef Py_ssize_t stop = _first_above(lower, start, a1 + 1, b1 - 1)  # runs starting before b1
    cdef Py_ssize_t clipped, raised
    if start >= stop:
        return 0
    clipped = _first_above(upper, start, stop, b1 - 1)  # from here on upper >= b1
    raised = _first_above(lower, start, stop, b0)       # from here on lower > b0
    return (w.pair_upper_sum[p][clipped] - w.pair_upper_sum[p][start] + b1 * (stop - clipped)
            - b0 * (raised - start) - (w.pair_lower_sum[p][stop] - w.pair_lower_sum[p][raised]))


cdef extern from *:
    int popcount64 "__builtin_popcountll"(uint64_t x) noexcept nogil


cdef inline int64_t _ones_before(const Walk *w, int p, int level, int64_t position) noexcept nogil:
    """Entries before ``position`` whose bit at ``level`` of a SPARSE pair's matrix is 1."""
    cdef int64_t word = position >> 6
    cdef uint64_t below = ((<uint64_t>1) << (position & 63)) - 1
    return (w.pair_ranks[p][level * (w.pair_width[p] + 1) + word]
            + popcount64(w.pair_words[p][level * w.pair_width[p] + word] & below))


cdef int64_t _entries_below(const Walk *w, int p, int64_t start, int64_t stop, int64_t x) noexcept nogil:
    """Entries start..stop-1 of a SPARSE pair (in axis a's order) whose axis-b index is
    below x: the wavelet matrix's rank descent, highest bit first."""
    cdef int levels = w.pair_levels[p]
    cdef int level
    cdef int64_t count = 0, start_ones, stop_ones
    if x >= (<int64_t>1) << levels:
        return stop - start
    for level in range(levels):
        start_ones = _ones_before(w, p, level, start)
        stop_ones = _ones_before(w, p, level, stop)
        if (x >> (levels - 1 - level)) & 1:
            count += (stop - stop_ones) - (start - start_ones)  # the entries with a 0 here are below
            start = w.pair_zeros[p][level] + start_ones
            stop = w.pair_zeros[p][level] + stop_ones
        else:
            start, stop = start - start_ones, stop - stop_ones
    return count


cdef int64_t _valid_count(const Walk *w, const Py_ssize_t *lo, const Py_ssize_t *hi) noexcept nogil:
    """Valid points in the box lo..hi (inclusive, per axis)."""
    cdef int64_t total = w.fixed_valid
    cdef int k, p, a, b
    cdef Py_ssize_t a0, a1, b0, b1, stride
    cdef const int64_t *s
    for p in range(w.n_pairs):
        a, b = w.pair_axis[p][0], w.pair_axis[p][1]
        a0 = a1 = b0 = b1 = 0
        if a >= 0:
            a0, a1 = lo[a], hi[a]
        if b >= 0:
            b0, b1 = lo[b], hi[b]
        if w.pair_form[p] == INTERVALS:
            total *= _valid_in_runs(w, p, a0, a1, b0, b1 + 1)
            continue
        if w.pair_form[p] == SPARSE:
            total *= (_entries_below(w, p, w.pair_starts[p][a0], w.pair_starts[p][a1 + 1], b1 + 1)
                      - _entries_below(w, p, w.pair_starts[p][a0], w.pair_starts[p][a1 + 1], b0))
            continue
        s, stride = w.pair_prefix[p], w.pair_stride[p]
        total *= s[(a1 + 1) * stride + b1 + 1] - s[a0 * stride + b1 + 1] - s[(a1 + 1) * stride + b0] + s[a0 * stride + b0]
    for k in range(w.n_axes):
        if not w.paired[k]:
            total *= hi[k] - lo[k] + 1
    return total


cdef inline int _is_valid(const Walk *w, const Py_ssize_t *idx) noexcept nogil:
    return _valid_count(w, idx, idx) != 0


cdef inline bint _fits(const Walk *w, const Py_ssize_t *idx, int64_t *metrics) noexcept nogil:
    """Whether the point at idx is a valid model that meets the caps and the floor
    (metrics filled)."""
    return (_point(w, idx, metrics) & (CAPS_OK | FLOOR_OK)) == (CAPS_OK | FLOOR_OK) and _is_valid(w, idx)


cdef inline bint _tests(const Walk *w, Py_ssize_t *idx, int axis, Py_ssize_t at, int64_t *metrics, int flag,
                        bint wanted) noexcept nogil:
    idx[axis] = at
    return ((_point(w, idx, metrics) & flag) != 0) == wanted


cdef Py_ssize_t _last_testing(const Walk *w, Py_ssize_t *idx, int axis, Py_ssize_t hint, int64_t *metrics,
                              int flag, bint wanted) noexcept nogil:
    """Largest index along `axis` (others fixed), at most `hint`, where the point's `flag`
    is `wanted` -- for a test that holds on a prefix of the axis and fails after -- or -1.
    The answer is usually near the hint (the answer for a smaller outer value): gallop
    down from it, then bisect."""
    cdef Py_ssize_t low, high = hint, mid, step = 1
    if _tests(w, idx, axis, high, metrics, flag, wanted):
        return high
    # the test fails at high; find a low where it holds
    while True:
        low = high - step
        if low < 0:
            if not _tests(w, idx, axis, 0, metrics, flag, wanted):
                return -1
            low = 0
            break
        if _tests(w, idx, axis, low, metrics, flag, wanted):
            break
        high, step = low, 2 * step
    while high - low > 1:  # holds at low, fails at high
        mid = low + (high - low) // 2
        if _tests(w, idx, axis, mid, metrics, flag, wanted):
            low = mid
        else:
            high = mid
    return low


cdef inline Py_ssize_t _last_meeting_caps(const Walk *w, Py_ssize_t *idx, int axis, Py_ssize_t hint,
                                          int64_t *metrics) noexcept nogil:
    """Largest index along `axis` (others fixed) that meets the caps, or -1, knowing it is
    at most `hint`."""
    return _last_testing(w, idx, axis, hint, metrics, CAPS_OK, True)


cdef inline Py_ssize_t _first_meeting_floor(const Walk *w, Py_ssize_t *idx, int axis, Py_ssize_t hint,
                                            int64_t *metrics) noexcept nogil:
    """Smallest index along `axis` that meets the floors, or size (none), knowing it is at
    most `hint` (the answer for a smaller outer value, or size)."""
    cdef Py_ssize_t n = w.size[axis], high, last_short
    if w.n_floors == 0:
        return 0
    high = hint if hint < n else n - 1
    # the floor fails on a prefix of the axis: the answer is one past the last failure
    last_short = _last_testing(w, idx, axis, high, metrics, FLOOR_OK, False)
    return n if last_short == high else last_short + 1


cdef void _corner(const Walk *w, Py_ssize_t *idx, int depth, bint largest) noexcept nogil:
    cdef int k
    for k in range(depth + 1, w.n_axes):
        idx[k] = w.size[k] - 1 if largest else 0


cdef void _box(const Walk *w, const Py_ssize_t *idx, int depth, Py_ssize_t *lo, Py_ssize_t *hi) noexcept nogil:
    """The box with axes 0..depth fixed at idx and the others free."""
    cdef int k
    for k in range(w.n_axes):
        if k <= depth:
            lo[k] = hi[k] = idx[k]
        else:
            lo[k], hi[k] = 0, w.size[k] - 1


# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------
cdef int64_t _count_value(const Walk *w, Py_ssize_t *idx, int depth) noexcept nogil:
    """Fits with axes 0..depth fixed at idx (depth < last - 1).  Returns -1 when the
    box's smallest corner breaks a cap (so does every later value of axis `depth`)."""
    cdef int64_t metrics[N_METRICS]
    cdef Py_ssize_t lo[MAX_AXES]
    cdef Py_ssize_t hi[MAX_AXES]
    cdef int smallest, largest
    _corner(w, idx, depth, False)
    smallest = _point(w, idx, metrics)
    if not (smallest & CAPS_OK):
        return -1
    _corner(w, idx, depth, True)
    largest = _point(w, idx, metrics)
    if not (largest & FLOOR_OK):
        return 0
    if (largest & CAPS_OK) and (smallest & FLOOR_OK):
        _box(w, idx, depth, lo, hi)
        return _valid_count(w, lo, hi)
    return _count_axis(w, idx, depth + 1)


cdef int64_t _count_run(const Walk *w, Py_ssize_t *idx, int depth, Py_ssize_t *final,
                        Py_ssize_t *floor_hint) noexcept nogil:
    """Fits of the innermost run with axes 0..depth fixed at idx, depth = last - 1,
    searching from the hints: *final, the run's last index meeting the caps, and
    *floor_hint, an index at or past its first meeting the floor (both updated).
    Returns -1 when no point of the run meets the caps."""
    cdef int64_t metrics[N_METRICS]
    cdef Py_ssize_t lo[MAX_AXES]
    cdef Py_ssize_t hi[MAX_AXES]
    cdef int last = depth + 1
    cdef Py_ssize_t first
    final[0] = _last_meeting_caps(w, idx, last, final[0], metrics)
    if final[0] < 0:
        return -1
    first = _first_meeting_floor(w, idx, last, floor_hint[0], metrics)
    floor_hint[0] = first
    if first > final[0]:
        return 0
    _box(w, idx, depth, lo, hi)
    lo[last], hi[last] = first, final[0]
    return _valid_count(w, lo, hi)


cdef int64_t _count_runs(const Walk *w, Py_ssize_t *idx, int depth) noexcept nogil:
    """Fits with axes < depth fixed, depth = last - 1: one innermost run per value of
    axis `depth`.  Along that axis the runs shrink (both ends move down), so each search
    starts from the previous answer."""
    cdef int64_t total = 0, fits
    cdef Py_ssize_t v, final = w.size[depth + 1] - 1, floor_hint = w.size[depth + 1]
    for v in range(w.size[depth]):
        if w.stop[0]:
            break
        idx[depth] = v
        fits = _count_run(w, idx, depth, &final, &floor_hint)
        if fits < 0:
            break
        total += fits
    return total


cdef int _plane_coefficients(const Walk *w, const int64_t *prefix, int64_t *coefficients) noexcept nogil:
    """The plane program at the row `prefix` (its seq_len and batch unread): for each cap
    k, coefficients[4 k : 4 k + 4] = (c, k0, k1, k2) of that quantity's closed form
    c + b (k0 + k1 s + k2 s^2), then each floor's quantity (which depends on neither).
    Returns 0 if one passes int64 (the caller then searches)."""
    cdef int64_t v[MAX_SLOTS]
    cdef unsigned char flag[MAX_SLOTS]
    cdef int k
    bs_run(w.plane_p, prefix, w.plane_p.latency_start, v, flag)
    for k in range(w.plane_p.n_outputs):
        if flag[w.plane_p.outputs[k]]:
            return 0
        coefficients[k] = v[w.plane_p.outputs[k]]
    return 1


cdef inline int64_t _largest_batch(int64_t c, int64_t k0, int64_t k1, int64_t k2, int64_t s, int64_t cap,
                                   int64_t enough) noexcept nogil:
    """Largest b <= enough with c + b (k0 + k1 s + k2 s^2) <= cap (cap INT64_MAX: no
    bound), or 0."""
    cdef int64_t g, t, room, b
    if cap == INT64_MAX_:
        return enough
    if c > cap:
        return 0
    # g = k0 + k1 s + k2 s^2 without overflow: past the cap it is as good as infinite
    if k2 and s > (INT64_MAX_ // 4) // k2 // s:
        return 0
    t = k2 * s * s
    if k1 and s > (INT64_MAX_ // 4) // k1:
        return 0
    g = k0 + k1 * s + t
    room = cap - c
    if g <= 0 or room // enough >= g:  # every batch up to `enough` fits
        return enough
    # room / g by a double division, corrected to the exact floor (a 64-bit integer
    # division costs ~40 cycles here; this runs once per sequence length of a plane)
    b = <int64_t>(<double>room / <double>g)
    while b > 0 and g * b > room:
        b -= 1
    while g * (b + 1) <= room:
        b += 1
    return b


cdef int64_t _count_plane(const Walk *w, Py_ssize_t *idx, int depth) noexcept nogil:
    """Fits with axes < depth fixed, axis `depth` seq_len and the last axis batch, for a
    training step: the plane program gives each capped quantity in closed form over the
    whole (seq_len, batch) plane; each sequence length then gets its largest fitting
    batch by division, and the batch axis by binary search over its values -- no model
    evaluations.  Falls back to searching when a coefficient passes int64."""
    cdef int64_t coefficients[4 * MAX_LIMITS + MAX_LIMITS]
    cdef Py_ssize_t lo[MAX_AXES]
    cdef Py_ssize_t hi[MAX_AXES]
    cdef int64_t prefix[BS_N_FIELDS]
    cdef int last = depth + 1, k
    cdef int64_t total = 0, largest, other, s, per_batch
    cdef int64_t first_batch = w.values[last][0], batches = w.size[last]
    cdef int64_t last_batch = w.values[last][batches - 1]
    cdef int64_t step = w.values[last][1] - first_batch if batches > 1 else 1
    cdef int arithmetic = 1
    cdef Py_ssize_t j, low, high, mid, count
    idx[depth], idx[last] = 0, 0
    if not _row_at(w, idx, prefix) or not _plane_coefficients(w, prefix, coefficients):
        return _count_runs(w, idx, depth)
    for k in range(w.n_floors):  # the floors' quantities depend on neither seq_len nor batch
        if coefficients[4 * w.n_caps + k] < w.floor_bound[k]:
            return 0
    for j in range(1, batches):
        if w.values[last][j] - w.values[last][j - 1] != step:
            arithmetic = 0
            break
    _box(w, idx, depth, lo, hi)
    lo[last] = hi[last] = 0  # the batch axis has no validity constraint (search.py)
    for j in range(w.size[depth]):
        if w.stop[0]:
            break
        s = w.values[depth][j]
        largest = last_batch
        for k in range(w.n_caps):
            other = _largest_batch(coefficients[4 * k], coefficients[4 * k + 1], coefficients[4 * k + 2],
                                   coefficients[4 * k + 3], s, w.cap_bound[k], last_batch)
            if other < largest:
                largest = other
        # batch values <= largest
        if largest < first_batch:
            break  # longer sequences fit no batch either
        if arithmetic:
            count = (largest - first_batch) // step + 1
            if count > batches:
                count = batches
        else:
            low, high = 0, batches
            while low < high:
                mid = low + (high - low) // 2
                if w.values[last][mid] <= largest:
                    low = mid + 1
                else:
                    high = mid
            count = low
        lo[depth] = hi[depth] = j
        per_batch = _valid_count(w, lo, hi)  # valid points of this sequence length, per batch
        total += per_batch * count
    return total


cdef int64_t _count_axis(const Walk *w, Py_ssize_t *idx, int depth) noexcept nogil:
    cdef int64_t total = 0, fits
    cdef Py_ssize_t v
    if depth == w.n_axes - 2:
        if w.plane:
            return _count_plane(w, idx, depth)
        return _count_runs(w, idx, depth)
    for v in range(w.size[depth]):
        if w.stop[0]:
            break
        idx[depth] = v
        fits = _count_value(w, idx, depth)
        if fits < 0:
            break
        total += fits
    return total


cdef int64_t _count_every(const Walk *w, Py_ssize_t *idx, int depth) noexcept nogil:
    """Fits with axes < depth fixed, visiting every point (no monotonicity assumed)."""
    cdef int64_t metrics[N_METRICS]
    cdef int64_t total = 0
    cdef Py_ssize_t v
    for v in range(w.size[depth]):
        if w.stop[0]:
            break
        idx[depth] = v
        if depth + 1 < w.n_axes:
            total += _count_every(w, idx, depth + 1)
        elif _fits(w, idx, metrics):
            total += 1
    return total


cdef int64_t _count_outer(const Walk *w, Py_ssize_t v) noexcept nogil:
    """Fits with the outermost axis at index v (a prange iteration: its own idx)."""
    cdef Py_ssize_t idx[MAX_AXES]
    cdef Py_ssize_t final, floor_hint
    cdef int64_t fits
    memset(idx, 0, sizeof(idx))
    idx[0] = v
    if w.exhaustive:
        return _count_every(w, idx, 1) if w.n_axes > 1 else _single_axis_count(w, v)
    if w.n_axes == 1:
        return _single_axis_count(w, v)
    if w.n_axes == 2:  # one innermost run
        final, floor_hint = w.size[1] - 1, w.size[1]
        fits = _count_run(w, idx, 0, &final, &floor_hint)
        return fits if fits > 0 else 0
    if w.n_axes == 3 and w.plane:
        return _count_plane(w, idx, 1)
    fits = _count_value(w, idx, 0)
    return fits if fits > 0 else 0


cdef int64_t _single_axis_count(const Walk *w, Py_ssize_t v) noexcept nogil:
    cdef Py_ssize_t idx[MAX_AXES]
    cdef int64_t metrics[N_METRICS]
    idx[0] = v
    if _fits(w, idx, metrics):
        return 1
    return 0


# --------------------------------------------------------------------------------------
# enumerating, ranking and Pareto-filtering: serial walks that visit fitting points
# --------------------------------------------------------------------------------------
ctypedef struct Visit:
    # What a walk does with each fitting point; the walks below prune with it.  A point
    # is a record: its axis indices, its two objective keys (the objective times its
    # direction: larger is better), its output values and its latency in seconds.
    int mode               # 0 collect every fit, 1 top-k, 2 Pareto front
    Py_ssize_t limit       # collect: give up past this many points
    Py_ssize_t k           # top-k: keep this many
    Py_ssize_t count       # records held
    Py_ssize_t capacity
    int n_axes, n_values
    Py_ssize_t *points     # capacity x n_axes
    int64_t *keys          # capacity x 2
    int64_t *values        # capacity x n_values
    double *seconds        # capacity
    Py_ssize_t *heap       # top-k: record indices, the worst kept first (a binary heap)
    Py_ssize_t front       # Pareto: records [0, front) are the front computed last,
                           # by key 0 descending (then key 1 ascending)
    Py_ssize_t *order      # Pareto: scratch for computing a front
    int overflow           # collect: more fits than the limit
    int failed             # an allocation failed


cdef inline int _grow(Visit *out) noexcept nogil:
    """Room for one more record; 0, or -1 when memory runs out."""
    return _reserve(out, out.count + 1)


cdef int _reserve(Visit *out, Py_ssize_t needed) noexcept nogil:
    """Room for `needed` records; 0, or -1 when memory runs out."""
    cdef Py_ssize_t capacity
    cdef void *grown
    if needed <= out.capacity:
        return 0
    capacity = max(2 * out.capacity + 64, needed)
    grown = realloc(out.points, capacity * out.n_axes * sizeof(Py_ssize_t))
    if grown == NULL:
        return -1
    out.points = <Py_ssize_t *>grown
    grown = realloc(out.keys, capacity * 2 * sizeof(int64_t))
    if grown == NULL:
        return -1
    out.keys = <int64_t *>grown
    grown = realloc(out.values, capacity * (out.n_values + 1) * sizeof(int64_t))
    if grown == NULL:
        return -1
    out.values = <int64_t *>grown
    grown = realloc(out.seconds, capacity * sizeof(double))
    if grown == NULL:
        return -1
    out.seconds = <double *>grown
    out.capacity = capacity
    return 0


cdef inline void _store(const Walk *w, Visit *out, Py_ssize_t at, const Py_ssize_t *idx, int64_t k0, int64_t k1,
                        const int64_t *metrics) noexcept nogil:
    """Write a point into record `at`."""
    cdef double seconds
    memcpy(&out.points[at * out.n_axes], idx, out.n_axes * sizeof(Py_ssize_t))
    out.keys[2 * at], out.keys[2 * at + 1] = k0, k1
    memcpy(&out.values[at * out.n_values], metrics, out.n_values * sizeof(int64_t))
    memcpy(&seconds, &metrics[SECONDS_SLOT], sizeof(double))
    out.seconds[at] = seconds


cdef inline void _copy_record(Visit *out, Py_ssize_t to, Py_ssize_t source) noexcept nogil:
    memcpy(&out.points[to * out.n_axes], &out.points[source * out.n_axes], out.n_axes * sizeof(Py_ssize_t))
    out.keys[2 * to], out.keys[2 * to + 1] = out.keys[2 * source], out.keys[2 * source + 1]
    memcpy(&out.values[to * out.n_values], &out.values[source * out.n_values], out.n_values * sizeof(int64_t))
    out.seconds[to] = out.seconds[source]


cdef inline int64_t _key(const Walk *w, int which, const int64_t *metrics) noexcept nogil:
    """An objective as a key, larger is better (objectives are >= 0)."""
    cdef int64_t value = _objective(w, which, metrics)
    return value if w.direction[which] > 0 else -value


# ----- top-k: a heap of the k best, the worst at its root ------------------------------
cdef inline int _worse(const Visit *out, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Record a's key 0 is below record b's."""
    return out.keys[2 * a] < out.keys[2 * b]


cdef void _sift_down(Visit *out, Py_ssize_t position) noexcept nogil:
    cdef Py_ssize_t child, n = out.count
    cdef Py_ssize_t *heap = out.heap
    while True:
        child = 2 * position + 1
        if child >= n:
            return
        if child + 1 < n and _worse(out, heap[child + 1], heap[child]):
            child += 1
        if not _worse(out, heap[child], heap[position]):
            return
        heap[child], heap[position] = heap[position], heap[child]
        position = child


cdef void _sift_up(Visit *out, Py_ssize_t position) noexcept nogil:
    cdef Py_ssize_t parent
    cdef Py_ssize_t *heap = out.heap
    while position > 0:
        parent = (position - 1) // 2
        if not _worse(out, heap[position], heap[parent]):
            return
        heap[parent], heap[position] = heap[position], heap[parent]
        position = parent


# ----- Pareto: a front kept sorted, recomputed from the candidates now and then --------
cdef int _dominated(const Visit *out, int64_t k0, int64_t k1) noexcept nogil:
    """Whether a point of the last computed front is at least as good in both keys: the
    front's key 1 grows as its key 0 falls, so the last point with key 0 >= k0 has the
    largest key 1 among them (a binary search)."""
    cdef Py_ssize_t low = 0, high = out.front, middle
    while low < high:  # first record with key 0 < k0
        middle = low + (high - low) // 2
        if out.keys[2 * middle] >= k0:
            low = middle + 1
        else:
            high = middle
    return low > 0 and out.keys[2 * (low - 1) + 1] >= k1


cdef int _compact(Visit *out) noexcept nogil:
    """Keep only the front of every record held (one per pair of keys), sorted by key 0
    descending: a sort and one sweep, O(n log n).  0, or -1 when memory runs out."""
    cdef Py_ssize_t n = out.count, j, kept = 0, at
    cdef int64_t best = 0
    cdef Py_ssize_t *order = <Py_ssize_t *>realloc(out.order, (n + 1) * sizeof(Py_ssize_t))
    if order == NULL:
        return -1
    out.order = order
    for j in range(n):
        order[j] = j
    _sort_by_keys(out, order, n)
    # a record survives if its key 1 beats every record before it (better or equal key 0)
    for j in range(n):
        at = order[j]
        if kept == 0 or out.keys[2 * at + 1] > best:
            order[kept] = at
            best = out.keys[2 * at + 1]
            kept += 1
    # move the survivors to the first records, in order, through room past the last
    if _reserve(out, n + kept) < 0:
        return -1
    for j in range(kept):
        _copy_record(out, n + j, order[j])
    for j in range(kept):
        _copy_record(out, j, n + j)
    out.count = out.front = kept
    return 0


cdef void _sort_by_keys(const Visit *out, Py_ssize_t *order, Py_ssize_t n) noexcept nogil:
    """order[0:n] by key 0 descending, then key 1 descending (a heap sort: no recursion,
    no allocation)."""
    cdef Py_ssize_t start, end, root, child
    for start in range(n // 2 - 1, -1, -1):
        _sift_order(out, order, start, n)
    end = n - 1
    while end > 0:
        order[0], order[end] = order[end], order[0]
        _sift_order(out, order, 0, end)
        end -= 1


cdef inline int _after(const Visit *out, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Record a sorts after record b (key 0 descending, then key 1 descending)."""
    if out.keys[2 * a] != out.keys[2 * b]:
        return out.keys[2 * a] < out.keys[2 * b]
    return out.keys[2 * a + 1] < out.keys[2 * b + 1]


cdef void _sift_order(const Visit *out, Py_ssize_t *order, Py_ssize_t root, Py_ssize_t n) noexcept nogil:
    """Sift for a heap whose root sorts last (so that the sort above ends in order)."""
    cdef Py_ssize_t child
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and _after(out, order[child + 1], order[child]):
            child += 1
        if not _after(out, order[child], order[root]):
            return
        order[root], order[child] = order[child], order[root]
        root = child


cdef int _offer(const Walk *w, Visit *out, const Py_ssize_t *idx, const int64_t *metrics) noexcept nogil:
    """Take a fitting, valid point.  Returns -1 on allocation failure, 1 when a full
    top-k turns it away (not better than the worst kept), else 0."""
    cdef int64_t k0 = _key(w, 0, metrics), k1 = _key(w, 1, metrics)
    cdef Py_ssize_t worst
    if out.mode == 0:
        if out.count >= out.limit:
            out.overflow = 1
            return 0
    elif out.mode == 1:
        if out.count >= out.k:
            worst = out.heap[0]
            if k0 <= out.keys[2 * worst]:
                return 1
            _store(w, out, worst, idx, k0, k1, metrics)
            _sift_down(out, 0)
            return 0
    elif _dominated(out, k0, k1):
        return 0
    if _grow(out) < 0:
        return -1
    _store(w, out, out.count, idx, k0, k1, metrics)
    if out.mode == 1:
        out.heap[out.count] = out.count
        out.count += 1
        _sift_up(out, out.count - 1)
        return 0
    out.count += 1
    if out.mode == 2 and out.count >= 2 * out.front + 4096:
        return _compact(out)
    return 0


cdef int _box_may_improve(const Walk *w, const Visit *out, const int64_t *smallest,
                          const int64_t *largest) noexcept nogil:
    """Whether a fitting point of a box could enter the top-k or the front, from the
    metrics of its smallest and largest corners: the best objective values of the box are
    there (monotone metrics)."""
    cdef int64_t best[2]
    cdef int which
    if out.mode == 0:
        return 1
    for which in range(2):
        best[which] = _key(w, which, largest if w.direction[which] > 0 else smallest)
    if out.mode == 1:
        return out.count < out.k or best[0] > out.keys[2 * out.heap[0]]
    return not _dominated(out, best[0], best[1])


cdef int _visit_run(const Walk *w, Visit *out, Py_ssize_t *idx) noexcept nogil:
    """The innermost axis, axes before it fixed at idx."""
    cdef int64_t metrics[N_METRICS]
    cdef int last = w.n_axes - 1
    cdef Py_ssize_t first, final, j, step, start, stop
    cdef int status
    first = _first_meeting_floor(w, idx, last, w.size[last], metrics)
    final = _last_meeting_caps(w, idx, last, w.size[last] - 1, metrics)
    if final < 0 or first > final:
        return 0
    # best objective first (top-k stops early once the rest cannot enter)
    if out.mode == 1 and w.direction[0] < 0:
        start, stop, step = first, final + 1, 1
    else:
        start, stop, step = final, first - 1, -1
    j = start
    while j != stop and not w.stop[0]:
        idx[last] = j
        if _is_valid(w, idx):
            _point(w, idx, metrics)
            status = _offer(w, out, idx, metrics)
            if status < 0:
                return -1
            if status > 0:  # best first: no later point of the run can enter the top-k
                break
            if out.overflow:
                return 0
        j += step
    return 0


cdef int _visit_axis(const Walk *w, Visit *out, Py_ssize_t *idx, int depth, Py_ssize_t shards,
                     Py_ssize_t shard) noexcept nogil:
    """Visit the fits with axes < depth fixed.  At depth 0, visit only the outermost
    indices v with v % shards == shard."""
    cdef int64_t metrics[N_METRICS]
    cdef int64_t smallest_metrics[N_METRICS]
    cdef Py_ssize_t v
    cdef int last = w.n_axes - 1
    cdef int smallest, largest
    for v in range(w.size[depth]):
        if w.stop[0]:
            break
        if depth == 0 and v % shards != shard:
            continue
        idx[depth] = v
        if depth == last:  # a single-axis space
            if _fits(w, idx, metrics):
                if _offer(w, out, idx, metrics) < 0:
                    return -1
            continue
        if w.exhaustive:
            if _visit_axis(w, out, idx, depth + 1, 1, 0) < 0:
                return -1
            if out.overflow:
                return 0
            continue
        _corner(w, idx, depth, False)
        smallest = _point(w, idx, smallest_metrics)
        if not (smallest & CAPS_OK):
            break
        _corner(w, idx, depth, True)
        largest = _point(w, idx, metrics)
        if not (largest & FLOOR_OK):
            continue
        if not _box_may_improve(w, out, smallest_metrics, metrics):
            continue
        if depth + 1 == last:
            if _visit_run(w, out, idx) < 0:
                return -1
        elif _visit_axis(w, out, idx, depth + 1, 1, 0) < 0:
            return -1
        if out.overflow:
            return 0
    return 0


# --------------------------------------------------------------------------------------
# Python entry points
# --------------------------------------------------------------------------------------
cdef class Plan:
    """A walk over one space: the C struct plus the programs and arrays it points into."""

    cdef Walk walk
    cdef int stop_flag
    cdef int64_t ticks
    cdef const bs_program *visit_p  # the visits' program: the counting one's outputs and more
    cdef int visit_safe
    cdef list _keep  # programs and numpy arrays the walk's pointers point into

    def __init__(self, CompiledProgram compiled, CompiledProgram visiting, template, list axes, list caps,
                 list floors, list pairs, int64_t fixed_valid, tuple objective=(0, 0), tuple direction=(1, 1),
                 bint exhaustive=False, CompiledProgram plane=None, tuple device=None, double cap_latency=-1):
        """Args:
            compiled: the program of the quantities a point needs to be counted (search.py:
                its outputs are the caps', the floors' and the objectives' quantities).
            visiting: the program of the points visited (top-k, Pareto, every fit): the
                same outputs first, then those reported.
            template: the BS_N_FIELDS field values of the fields without an axis.
            axes: (target field, source field, kind, int64 values in walk order) per axis,
                outermost first.
            caps, floors: (output index, bound) of the quantities at most / at least a bound.
            pairs: (axis a, axis b, table) with axis b -1 for none; the table is the int64
                prefix sums (size_a + 1, size_b + 1), or the int64 arrays (lower, upper,
                lower's prefix sums, upper's) of bertsize._tables.Intervals, or the wavelet
                matrix (starts, words, ranks, zeros) of bertsize._tables.Sparse.
            fixed_valid: 1, or 0 when the fixed fields alone make every point invalid.
            objective, direction: output index (or LATENCY_CODE) and +1 (maximise) / -1
                (minimise) of the one or two objectives of top-k / Pareto walks.
            exhaustive: visit every point (for quantities that are not monotone).
            plane: the plane program (the last two axes are seq_len and batch of a
                training step): see _count_plane.
            device, cap_latency: bertsize.roofline.Constants for the roofline latency (its
                terms must be in ``compiled``), and its bound in seconds (negative: none).
        """
        cdef const int64_t[::1] values
        cdef const int64_t[:, ::1] prefix
        cdef const int64_t[::1] ends
        cdef int k
        cdef Py_ssize_t size_a, size_b
        if len(axes) > MAX_AXES:
            raise ValueError(f"at most {MAX_AXES} axes")
        if len(pairs) > 2:
            raise ValueError("at most 2 pairs of axes with a joint validity table")
        if len(caps) > MAX_LIMITS or len(floors) > MAX_LIMITS or visiting.p.n_outputs > MAX_OUTPUTS:
            raise ValueError(f"at most {MAX_LIMITS} bounds and {MAX_OUTPUTS} quantities")
        if visiting.p.n_outputs < compiled.p.n_outputs:
            raise ValueError("the visits' program computes at least the counting one's outputs")
        for program in (compiled, visiting, plane):
            if program is not None and program.p.n_slots > MAX_SLOTS:
                raise ValueError(f"the walk's program needs {program.p.n_slots} slots, more than {MAX_SLOTS}")
        memset(&self.walk, 0, sizeof(Walk))
        self.walk.stop, self.walk.ticks = &self.stop_flag, &self.ticks
        self._keep = [compiled, visiting, plane]
        self.walk.p = &compiled.p
        self.visit_p = &visiting.p
        self.walk.n_outputs = compiled.p.n_outputs
        for k in range(BS_N_FIELDS):
            self.walk.template[k] = template[k]
        self.walk.n_axes = len(axes)
        for k, (target, source, kind, array) in enumerate(axes):
            values = array
            self._keep.append(array)
            self.walk.target[k], self.walk.source[k], self.walk.kind[k] = target, source, kind
            self.walk.values[k] = &values[0]
            self.walk.size[k] = values.shape[0]
        self.walk.n_caps, self.walk.n_floors = len(caps), len(floors)
        for k, (output, bound) in enumerate(caps):
            self.walk.cap_output[k], self.walk.cap_bound[k] = output, bound
        for k, (output, bound) in enumerate(floors):
            self.walk.floor_output[k], self.walk.floor_bound[k] = output, bound
        self.walk.n_pairs = len(pairs)
        for k, (a, b, table) in enumerate(pairs):
            if not (0 <= a < len(axes) and -1 <= b < len(axes) and a != b):
                raise ValueError(f"pair {k}: axes ({a}, {b}) are not two of the {len(axes)} axes")
            size_a, size_b = self.walk.size[a], (self.walk.size[b] if b >= 0 else 1)
            self._keep.append(table)
            self.walk.pair_axis[k][0], self.walk.pair_axis[k][1] = a, b
            if isinstance(table, tuple) and len(table) == 4 and np.ndim(table[1]) == 2:
                self._sparse_pair(k, table, size_a, size_b)
            elif isinstance(table, tuple):
                self.walk.pair_form[k] = INTERVALS
                if len(table) != 4 or [len(t) for t in table] != [size_a, size_a, size_a + 1, size_a + 1]:
                    raise ValueError(f"pair {k}: intervals need ({size_a},) starts and ends and "
                                     f"({size_a + 1},) prefix sums")
                ends = table[0]
                self.walk.pair_lower[k] = &ends[0]
                ends = table[1]
                self.walk.pair_upper[k] = &ends[0]
                ends = table[2]
                self.walk.pair_lower_sum[k] = &ends[0]
                ends = table[3]
                self.walk.pair_upper_sum[k] = &ends[0]
            else:
                prefix = table
                if prefix.shape[0] != size_a + 1 or prefix.shape[1] != size_b + 1:
                    raise ValueError(f"pair {k}: the prefix table must be ({size_a + 1}, {size_b + 1}), "
                                     f"got ({prefix.shape[0]}, {prefix.shape[1]})")
                self.walk.pair_form[k] = DENSE
                self.walk.pair_prefix[k] = &prefix[0, 0]
                self.walk.pair_stride[k] = prefix.shape[1]
            for axis in (a, b):
                if axis >= 0:
                    self.walk.paired[axis] = 1
        self.walk.fixed_valid = fixed_valid
        self.walk.objective[0], self.walk.objective[1] = objective
        self.walk.direction[0], self.walk.direction[1] = direction
        self.walk.exhaustive = exhaustive
        self.walk.plane = plane is not None
        if plane is not None:
            if plane.p.n_outputs != 4 * len(caps) + len(floors):
                raise ValueError("the plane program needs (c, k0, k1, k2) per cap and one output per floor")
            self.walk.plane_p = &plane.p
        self.walk.with_latency = device is not None
        self.walk.end = compiled.p.n_instr if device is not None else compiled.p.latency_start
        self.walk.cap_latency = cap_latency if cap_latency >= 0 else 1e300
        if device is not None:
            unpack_device(device, &self.walk.device)
        self.walk.safe = self._whole_space_is_safe(self.walk.p)
        self.visit_safe = self._whole_space_is_safe(self.visit_p)

    cdef int _whole_space_is_safe(self, const bs_program *p):
        """Whether the space's largest corner (every axis at its last index: the largest
        sizes) bounds every slot of every point below int64 in p."""
        cdef int64_t corner[BS_N_FIELDS]
        cdef int64_t v[MAX_SLOTS]
        cdef unsigned char flag[MAX_SLOTS]
        cdef Py_ssize_t idx[MAX_AXES]
        cdef int k
        for k in range(self.walk.n_axes):
            idx[k] = self.walk.size[k] - 1
        if not _row_at(&self.walk, idx, corner):  # a multiplied size passes int64
            return 0
        for k in range(BS_N_FIELDS):
            if corner[k] < 0:
                return 0
        return bs_bound(p, corner, p.n_instr if self.walk.with_latency else p.latency_start, v, flag) >= 0

    def _sparse_pair(self, int k, tuple table, Py_ssize_t size_a, Py_ssize_t size_b):
        """Point pair k at a wavelet matrix (bertsize._tables.Sparse.walker_form) after
        checking it is whole: every position the rank descent reaches stays inside it."""
        cdef const int64_t[::1] starts = table[0]
        cdef const uint64_t[:, ::1] words = table[1]
        cdef const int64_t[:, ::1] ranks = table[2]
        cdef const int64_t[::1] zeros = table[3]
        entries = int(table[0][len(table[0]) - 1]) if len(table[0]) else -1
        levels = words.shape[0]
        ones = np.unpackbits(np.asarray(table[1]).view(np.uint8), axis=1, bitorder="little").reshape(
            levels, -1, 64).sum(axis=2)
        if (starts.shape[0] != size_a + 1 or table[0][0] != 0 or (np.diff(table[0]) < 0).any()
                or levels < 1 or (<int64_t>1) << levels < size_b or words.shape[1] != entries // 64 + 1
                or ranks.shape[0] != levels or ranks.shape[1] != words.shape[1] + 1 or zeros.shape[0] != levels
                or (table[2][:, 0] != 0).any() or (table[2][:, 1:] != np.cumsum(ones, axis=1)).any()
                or (table[3] + table[2][:, -1] != entries).any()):
            raise ValueError(f"pair {k}: not a wavelet matrix of {size_a} x {size_b} values")
        self.walk.pair_form[k] = SPARSE
        self.walk.pair_starts[k] = &starts[0]
        self.walk.pair_words[k] = &words[0, 0]
        self.walk.pair_ranks[k] = &ranks[0, 0]
        self.walk.pair_zeros[k] = &zeros[0]
        self.walk.pair_levels[k] = levels
        self.walk.pair_width[k] = words.shape[1]

    def count(self, const Py_ssize_t[::1] outer, int threads):
        """Fits with the outermost axis at each of the indices `outer` (summed)."""
        cdef int64_t total = 0
        cdef Py_ssize_t j, n = outer.shape[0]
        self.stop_flag = 0
        # Dynamic schedule: the work per outermost value varies by orders of magnitude
        # (whole boxes counted at once near the origin, binary searches at the boundary).
        for j in prange(n, nogil=True, schedule="dynamic", chunksize=1, num_threads=max(threads, 1)):
            if not self.stop_flag:
                total += _count_outer(&self.walk, outer[j])
        if self.stop_flag:
            raise KeyboardInterrupt()
        return total

    def visit(self, int mode, Py_ssize_t limit, Py_ssize_t k, Py_ssize_t shards, Py_ssize_t shard):
        """Collect the fits (mode 0), the top k (1) or the Pareto front (2), over the
        outermost indices v with v % shards == shard, with every output of the visits'
        program.

        Returns ``(indices, values, seconds, overflow)``: an (n, axes) array of axis
        indices, an (n, outputs) int64 array of their outputs, their latency in seconds
        (0 without a device), and whether collecting stopped at `limit`.
        """
        cdef Visit out
        cdef Walk w = self.walk
        cdef Py_ssize_t idx[MAX_AXES]
        cdef Py_ssize_t j
        cdef int status
        w.p = self.visit_p
        w.n_outputs = self.visit_p.n_outputs
        w.end = self.visit_p.n_instr if w.with_latency else self.visit_p.latency_start
        w.safe = self.visit_safe
        memset(&out, 0, sizeof(Visit))
        memset(idx, 0, sizeof(idx))
        out.mode, out.limit, out.k = mode, limit, k
        out.n_axes, out.n_values = w.n_axes, w.n_outputs
        try:
            if mode == 1:
                out.heap = <Py_ssize_t *>malloc((k + 1) * sizeof(Py_ssize_t))
                if out.heap == NULL:
                    raise MemoryError()
            self.stop_flag = 0
            with nogil:
                status = _visit_axis(&w, &out, idx, 0, shards, shard)
                if status == 0 and mode == 2:
                    status = _compact(&out)
            if self.stop_flag:
                raise KeyboardInterrupt()
            if status < 0:
                raise MemoryError()
            n = out.count
            indices = np.empty((n, w.n_axes), dtype=np.intp)
            values = np.empty((n, w.n_outputs), dtype=np.int64)
            seconds = np.empty(n, dtype=np.float64)
            for j in range(n):
                indices[j] = [out.points[j * w.n_axes + a] for a in range(w.n_axes)]
                values[j] = [out.values[j * w.n_outputs + a] for a in range(w.n_outputs)]
                seconds[j] = out.seconds[j]
            return indices, values, seconds, bool(out.overflow)
        finally:
            free(out.points)
            free(out.keys)
            free(out.values)
            free(out.seconds)
            free(out.heap)
            free(out.order)


KIND_PLAIN, KIND_DIVIDED, KIND_MULTIPLIED = PLAIN, DIVIDED, MULTIPLIED
LATENCY_CODE = LATENCY


def walk(options, tuple constants, tuple names, tuple reported, list axes, list caps, list floors, list pairs,
         int64_t fixed_valid, tuple objectives=(0, 0), tuple directions=(1, 1), bint exhaustive=False, plane=None,
         tuple device=None, double cap_latency=-1):
    """A walk over a design space: the option set ``options`` with the fields
    ``constants`` fixed, counting with the quantities ``names`` (the outputs the caps,
    floors and objectives index) and visiting with ``names + reported``; ``plane`` a
    bertsize.program.Program of the (seq_len, batch) plane or None.  The other arguments
    are Plan's."""
    latency = device is not None
    compiled = CompiledProgram(_program_module.specialised(options, constants, names, latency))
    visiting = CompiledProgram(_program_module.specialised(options, constants, names + reported, latency))
    template = [0] * BS_N_FIELDS
    for name, value in constants:
        template[_program_module.FIELD_INDEX[name]] = value
    return Plan(compiled, visiting, template, axes, caps, floors, pairs, fixed_valid, objectives, directions,
                exhaustive, None if plane is None else CompiledProgram(plane), device, cap_latency)
