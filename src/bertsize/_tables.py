"""Validity of the value combinations of two axes, in the form the walker counts boxes of.

A constraint that reads two axes (heads dividing hidden, a sequence within the position
table) makes some combinations of their values invalid.  The walker asks how many valid
combinations a box ``a0..a1 x b0..b1`` holds.  Two forms answer that:

* :class:`Intervals`, where each value of axis a admits one run ``lower[i] <= j < upper[i]``
  of axis b's values, both ends non-decreasing in i (an order constraint between sorted
  axes: ``max_positions >= seq_len + 2``).  Memory linear in the axes; a box costs four
  binary searches.
* :class:`Dense`, the 2-D prefix sums of the table (a divisibility constraint: which
  heads divide which hidden sizes has no such order).  Memory is the product of the
  axes' lengths, so it is refused past :data:`MAX_DENSE_CELLS`.

:func:`table` computes the validity in blocks of rows (transient memory bounded by
:data:`BLOCK_CELLS`) and keeps the intervals when they hold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Most cells (value combinations) a dense table may have: its prefix sums take 8 bytes a cell.
MAX_DENSE_CELLS = 2**24
#: Cells of validity computed at once while a table is built.
BLOCK_CELLS = 2**20


class Intervals:
    """Axis a's value i admits axis b's values ``lower[i] <= j < upper[i]`` (both
    non-decreasing; an empty run has ``lower[i] == upper[i]``)."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, size_b: int) -> None:
        self.lower, self.upper, self.size_b = lower, upper, size_b
        self.lower_sums = np.concatenate([[0], np.cumsum(lower)]).astype(np.int64)
        self.upper_sums = np.concatenate([[0], np.cumsum(upper)]).astype(np.int64)

    def total(self) -> int:
        return int(self.upper_sums[-1] - self.lower_sums[-1])

    def along_a(self, rows: np.ndarray) -> int:
        """Valid combinations with axis a's value at one of ``rows``."""
        return int((self.upper[rows] - self.lower[rows]).sum())

    def along_b(self, columns: np.ndarray) -> int:
        """Valid combinations with axis b's value at one of ``columns``: the runs that
        start at or before a column, less those that have ended by then."""
        started = np.searchsorted(self.lower, columns, side="right")
        ended = np.searchsorted(self.upper, columns, side="right")
        return int((started - ended).sum())

    def walker_form(self) -> tuple[np.ndarray, ...]:
        return (self.lower, self.upper, self.lower_sums, self.upper_sums)


class Dense:
    """The table's prefix sums: ``prefix[i, j]`` valid combinations below (i, j)."""

    def __init__(self, valid: np.ndarray) -> None:
        self.prefix = np.zeros((valid.shape[0] + 1, valid.shape[1] + 1), dtype=np.int64)
        self.prefix[1:, 1:] = valid.cumsum(0).cumsum(1)

    def total(self) -> int:
        return int(self.prefix[-1, -1])

    def _cells(self) -> np.ndarray:
        return np.diff(np.diff(self.prefix, axis=0), axis=1)

    def along_a(self, rows: np.ndarray) -> int:
        return int(self._cells()[rows].sum())

    def along_b(self, columns: np.ndarray) -> int:
        return int(self._cells()[:, columns].sum())

    def walker_form(self) -> np.ndarray:
        return self.prefix


def table(valid_rows: Callable[[int, int], np.ndarray], size_a: int, size_b: int,
          names: tuple[str, str]) -> Intervals | Dense | None:
    """The validity of axis a's x axis b's values, or None where every combination is
    valid.  ``valid_rows(start, stop)`` is the bool table of a's values start..stop-1.

    Raises:
        ValueError: the table has no interval form and more than MAX_DENSE_CELLS cells.
    """
    lower = np.empty(size_a, dtype=np.int64)
    upper = np.empty(size_a, dtype=np.int64)
    dense_allowed = size_b == 1 or size_a * size_b <= MAX_DENSE_CELLS  # one axis: linear either way
    runs, everywhere = size_b > 1, True  # one axis: dense is linear, no runs needed
    blocks = []
    step = max(1, BLOCK_CELLS // size_b)
    for start in range(0, size_a, step):
        block = valid_rows(start, min(start + step, size_a))
        everywhere &= bool(block.all())
        if dense_allowed:
            blocks.append(block)
        if runs:
            runs = _runs(block, lower[start:start + len(block)], upper[start:start + len(block)])
        if not runs and not dense_allowed:
            _refuse(size_a, size_b, names)
    if everywhere:
        return None
    if runs:
        _place_empty_runs(lower, upper)
        if (np.diff(lower) >= 0).all() and (np.diff(upper) >= 0).all():
            return Intervals(lower, upper, size_b)
    if not dense_allowed:
        _refuse(size_a, size_b, names)
    return Dense(np.concatenate(blocks))


def _refuse(size_a: int, size_b: int, names: tuple[str, str]) -> None:
    raise ValueError(
        f"the valid combinations of the {names[0]} and {names[1]} axes ({size_a:,} x {size_b:,} values) "
        f"have no interval form and need a table of more than {MAX_DENSE_CELLS:,} cells; "
        "use fewer values on one of them")


def _runs(block: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> bool:
    """Fill each row's run (empty rows: -1, -1); False when some row is not one run."""
    any_valid = block.any(axis=1)
    first = np.argmax(block, axis=1)
    last = block.shape[1] - np.argmax(block[:, ::-1], axis=1)
    lower[:] = np.where(any_valid, first, -1)
    upper[:] = np.where(any_valid, last, -1)
    return bool((block.sum(axis=1) == np.where(any_valid, last - first, 0)).all())


def _place_empty_runs(lower: np.ndarray, upper: np.ndarray) -> None:
    """Put each empty run where it keeps the ends ordered: at the furthest end of the runs
    before it (0 before the first).  An empty run counts nothing wherever it sits."""
    empty = lower < 0
    ends = np.maximum.accumulate(np.where(empty, 0, upper))
    lower[empty] = upper[empty] = ends[empty]
