"""The pure-Python twin of the compiled kernel: ``_kernel``'s and ``_search``'s private
interface on the oracle (``BERTSIZE_PUREPYTHON=1``, as msgpack's ``MSGPACK_PUREPYTHON``).

Where the kernel runs compiled programs, the twin runs the recipe on exact ints
(:mod:`bertsize.oracle`) row by row, and walks a design space by visiting every point:
the brute force the walker is tested against.  The public modules call one or the
other through :mod:`bertsize._backend` and never ask which.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from bertsize import _abi, oracle, roofline, validity
from bertsize.metrics import NAMES
from bertsize.options import Options
from bertsize.families import FAMILIES
from bertsize.validity import ENCODER_FIELDS, FIELDS, WORKLOAD_FIELDS

MAX_THREADS = 256
N_FIELDS = len(FIELDS)
KIND_PLAIN, KIND_DIVIDED, KIND_MULTIPLIED = 0, 1, 2
LATENCY_CODE = -1


def openmp_enabled() -> bool:
    return False


def compiler() -> None:
    return None


def max_threads() -> int:
    return 1


def _first_violation(options: Options, row: Sequence[int]) -> int:
    return validity.first_violation(FAMILIES[options.family].row_constraints, row)


def _quantities(options: Options, row: Sequence[int], names: Sequence[str], device: tuple | None):
    """The exact quantities ``names`` of a valid row, the names past int64, the latency."""
    values = dict(zip(FIELDS, row))
    forward = oracle.trace(options, values)
    result, too_big = oracle.metric_values(options, values, forward, names)
    seconds = None if device is None else oracle.latency(options, values, roofline.Constants(*device), forward)
    return result, too_big, seconds


def estimate_tuple(cls, encoder, workload, head: str, head_code: int, num_labels: int, device: tuple | None,
                   latency_kind: str | None = None):
    """As ``_kernel.estimate_tuple``."""
    options = Options.of(encoder.options, workload.options, head)
    row = (*_abi.unpack(encoder._row, ENCODER_FIELDS), *_abi.unpack(workload._row, WORKLOAD_FIELDS), num_labels)
    bad = _first_violation(options, row)
    if bad >= 0:
        return 1 + bad
    values, too_big, seconds = _quantities(options, row, NAMES, device)
    for k, name in enumerate(NAMES):
        if name in too_big:
            return -(1 + k)
    return cls(*(values[name] for name in NAMES), seconds, encoder, workload, head, num_labels,
               latency_kind if device is not None else None)


def replace_sizes(encoder, changes: Mapping[str, object], positions: Mapping[str, int]):
    """As ``_kernel.replace_sizes``."""
    row = list(_abi.unpack(encoder._row, ENCODER_FIELDS))
    for name, value in changes.items():
        position = positions.get(name)
        if position is None or type(value) is not int or not _abi.INT64_MIN <= value <= _abi.INT64_MAX:
            return None
        row[position] = value
    bad = validity.first_violation(FAMILIES[encoder.family].encoder_constraints, row)
    if bad >= 0:
        return bad
    copy = object.__new__(type(encoder))
    copy.__dict__.update(encoder.__dict__, **changes, _row=_abi.pack(tuple(row), ENCODER_FIELDS))
    return copy


def _rows(template: Sequence[int], columns: Mapping[int, np.ndarray], n: int):
    for i in range(n):
        row = list(template)
        for k, column in columns.items():
            row[k] = int(column[i])
        yield row


def evaluate_columns(options: Options, names: tuple[str, ...], template: tuple[int, ...],
                     columns: Mapping[int, np.ndarray], n: int, outputs: list[np.ndarray], threads: int,
                     device: tuple | None = None, latency: np.ndarray | None = None):
    """As ``_kernel.evaluate_columns``."""
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be between 1 and {MAX_THREADS}, got {threads}")
    overflow_row, overflow_output = -1, -1
    for i, row in enumerate(_rows(template, columns, n)):
        bad = _first_violation(options, row)
        if bad >= 0:
            return i, bad, overflow_row, overflow_output
        if overflow_row >= 0:
            continue  # only an invalid row can still change the answer
        values, too_big, seconds = _quantities(options, row, names, device)
        for k, name in enumerate(names):
            if name in too_big:
                overflow_row, overflow_output = i, k
                break
            outputs[k][i] = values[name]
        if latency is not None:
            latency[i] = seconds
    return -1, -1, overflow_row, overflow_output


def valid_rows(options: Options, template: tuple[int, ...], columns: Mapping[int, np.ndarray], n: int,
               which: tuple[int, ...]) -> np.ndarray:
    """As ``_kernel.valid_rows``."""
    rules = [FAMILIES[options.family].row_constraints[k] for k in which]
    return np.array([all(rule.holds(row) for rule in rules) for row in _rows(template, columns, n)], dtype=bool)


class _Walk:
    """As ``_search.walk``'s object: every point of the space, through the oracle."""

    def __init__(self, options, constants, names, reported, axes, caps, floors, objectives, directions, device,
                 cap_latency):
        self.options, self.names, self.axes = options, names, axes
        self.visited = (*names, *reported)
        self.template = [0] * N_FIELDS
        for name, value in constants:
            self.template[validity.FIELD_INDEX[name]] = value
        self.caps, self.floors = caps, floors
        self.objectives, self.directions = objectives, directions
        self.device, self.cap_latency = device, cap_latency

    def _row(self, index: Sequence[int]) -> list[int] | None:
        """The point's row, or None when it is no model (a divided axis that does not
        divide its field, a multiplied size past int64)."""
        row = list(self.template)
        for (target, _, kind, values), i in zip(self.axes, index):
            if kind == KIND_PLAIN:
                row[target] = int(values[i])
        for (target, source, kind, values), i in zip(self.axes, index):
            if kind == KIND_DIVIDED:
                if row[source] % int(values[i]):
                    return None
                row[target] = row[source] // int(values[i])
            elif kind == KIND_MULTIPLIED:
                row[target] = row[source] * int(values[i])
                if row[target] > _abi.INT64_MAX:
                    return None
        return row

    def _fits(self, outer: Sequence[int]):
        """(index, objective scores) of every valid point that fits, in walk order, with
        the outermost axis at the indices ``outer``."""
        ranges = [range(len(values)) for _, _, _, values in self.axes[1:]]
        for index in itertools.product(outer, *ranges):
            row = self._row(index)
            if row is None or _first_violation(self.options, row) >= 0:
                continue
            values, too_big, seconds = _quantities(self.options, row, self.visited, self.device)
            if too_big & set(self.names):
                continue  # past int64: larger than any bound
            numbers = [values[name] for name in self.visited]
            if any(numbers[k] > bound for k, bound in self.caps) or any(numbers[k] < b for k, b in self.floors):
                continue
            if seconds is not None and seconds > self.cap_latency >= 0:
                continue
            latency = int(seconds * 1e15) if seconds is not None and seconds < 9e3 else _abi.INT64_MAX
            scores = tuple(latency if o == LATENCY_CODE else numbers[o] for o in self.objectives)
            yield index, scores, numbers, 0.0 if seconds is None else seconds

    def count(self, outer: np.ndarray, threads: int) -> int:
        return sum(1 for _ in self._fits([int(v) for v in outer]))

    def visit(self, mode: int, limit: int, k: int, shards: int, shard: int):
        """As ``_search.Plan.visit``: (indices, values, seconds, overflow)."""
        points = list(self._fits(range(shard, len(self.axes[0][3]), shards)))
        overflow = False
        if mode == 0:
            overflow = len(points) > limit
            points = points[:limit]
        elif mode == 1:
            sign = self.directions[0]
            points = heapq.nsmallest(k, points, key=lambda p: -sign * p[1][0])
        else:
            keys = [tuple(d * s for d, s in zip(self.directions, p[1])) for p in points]
            best = {}
            for key, point in zip(keys, points):  # one point per pair of keys, none dominated
                if not any(all(o >= v for o, v in zip(other, key)) and other != key for other in keys):
                    best.setdefault(key, point)
            points = list(best.values())
        indices = np.array([p[0] for p in points], dtype=np.intp).reshape(-1, len(self.axes))
        values = np.array([p[2] for p in points], dtype=np.int64).reshape(-1, len(self.visited))
        seconds = np.array([p[3] for p in points], dtype=np.float64)
        return indices, values, seconds, overflow


def walk(options, constants, names, reported, axes, caps, floors, pairs, fixed_valid, objectives=(0, 0),
         directions=(1, 1), exhaustive=False, plane=None, device=None, cap_latency=-1.0) -> _Walk:
    """As ``_search.walk`` (the validity tables, monotonicity and the plane are the
    walker's shortcuts: a brute force needs none of them)."""
    return _Walk(options, constants, names, reported, axes, caps, floors, objectives, directions, device, cap_latency)
