"""Validity of the value combinations of two axes, in the form the walker counts boxes of.

A constraint that reads two axes (heads dividing hidden, a sequence within the position
table) makes some combinations of their values invalid.  The walker asks how many valid
combinations a box ``a0..a1 x b0..b1`` holds.  Two forms answer that:

* :class:`Intervals`, where each value of axis a admits one run ``lower[i] <= j < upper[i]``
  of axis b's values, both ends non-decreasing in i (an order constraint between sorted
  axes: ``max_positions >= seq_len + 2``).  Memory linear in the axes; a box costs four
  binary searches.
* :class:`Dense`, the 2-D prefix sums of the table (a divisibility constraint: which
  heads divide which hidden sizes has no such order), while the table has at most
  :data:`MAX_DENSE_CELLS` cells: a box costs four reads.
* :class:`Sparse`, past that: the valid combinations themselves, axis b's index of each in
  the order of axis a, in a wavelet matrix (a bit vector per bit of the index).  Memory is
  about a quarter byte per bit of the index per valid combination — divisors are sparse: 10^4
  hidden sizes x 10^4 head counts hold about 10^5 — and a box costs two rank queries per
  bit of the index.

:func:`table` computes the validity in blocks of rows (transient memory bounded by
:data:`BLOCK_CELLS`) and keeps the first form that holds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Most cells (value combinations) a dense table may have: its prefix sums take 8 bytes a cell.
MAX_DENSE_CELLS = 2**24
#: Cells of validity computed at once while a table is built.
BLOCK_CELLS = 2**20
#: Most valid combinations a sparse table may hold (about 4 bytes each for 16-bit indices).
MAX_SPARSE_PAIRS = 2**28


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


class Sparse:
    """The valid combinations as axis b's indices in the order of axis a (``starts[i]``..
    ``starts[i + 1]`` are axis a's value i), stored as a wavelet matrix: for each bit of the
    index from the highest, the bit of every entry (``words``, 64 a word, with ``ranks``
    the ones before each word) after the entries were stably sorted by the bits above, and
    ``zeros``, how many have a 0 there."""

    def __init__(self, rows: np.ndarray, columns: np.ndarray, size_a: int, size_b: int) -> None:
        self.starts = np.searchsorted(rows, np.arange(size_a + 1)).astype(np.int64)
        self.per_column = np.bincount(columns, minlength=size_b).astype(np.int64)
        levels = max(1, int(size_b - 1).bit_length())
        count = len(columns)
        width = count // 64 + 1
        self.words = np.zeros((levels, width), dtype=np.uint64)
        self.ranks = np.zeros((levels, width + 1), dtype=np.int64)
        self.zeros = np.zeros(levels, dtype=np.int64)
        values = columns.astype(np.int64)
        for level in range(levels):  # level 0 holds the highest bit
            bits = (values >> (levels - 1 - level)) & 1
            packed = np.packbits(bits.astype(np.uint8), bitorder="little")
            padded = np.zeros(width * 8, dtype=np.uint8)
            padded[:len(packed)] = packed
            self.words[level] = padded.view(np.uint64)
            ones = np.unpackbits(padded.view(np.uint8), bitorder="little").reshape(width, 64).sum(axis=1)
            self.ranks[level, 1:] = np.cumsum(ones)
            self.zeros[level] = count - int(bits.sum())
            values = np.concatenate([values[bits == 0], values[bits == 1]])
        self.levels = levels

    def total(self) -> int:
        return int(self.starts[-1])

    def along_a(self, rows: np.ndarray) -> int:
        return int((self.starts[rows + 1] - self.starts[rows]).sum())

    def along_b(self, columns: np.ndarray) -> int:
        return int(self.per_column[columns].sum())

    def walker_form(self) -> tuple:
        return (self.starts, self.words, self.ranks, self.zeros)


def table(valid_rows: Callable[[int, int], np.ndarray], size_a: int, size_b: int,
          names: tuple[str, str]) -> Intervals | Dense | None:
    """The validity of axis a's x axis b's values, or None where every combination is
    valid.  ``valid_rows(start, stop)`` is the bool table of a's values start..stop-1.

    Raises:
        ValueError: the table has no interval form and more than MAX_DENSE_CELLS cells.
    """
    lower = np.empty(size_a, dtype=np.int64)
    upper = np.empty(size_a, dtype=np.int64)
    dense = size_b == 1 or size_a * size_b <= MAX_DENSE_CELLS  # one axis: linear either way
    runs, everywhere = size_b > 1, True  # one axis: dense is linear, no runs needed
    step = max(1, BLOCK_CELLS // size_b)
    blocks: list[np.ndarray] = []
    pairs = _Pairs(names, size_a, size_b)
    for start in range(0, size_a, step):
        block = valid_rows(start, min(start + step, size_a))
        everywhere &= bool(block.all())
        if runs:
            runs = _runs(block, lower[start:start + len(block)], upper[start:start + len(block)])
        if dense:
            blocks.append(block)
        elif not runs:  # no interval form: keep the valid pairs (those of earlier blocks again)
            for earlier in range(pairs.rows_done, start, step):
                pairs.add(valid_rows(earlier, min(earlier + step, size_a)), earlier)
            pairs.add(block, start)
    if everywhere:
        return None
    if runs:
        _place_empty_runs(lower, upper)
        if (np.diff(lower) >= 0).all() and (np.diff(upper) >= 0).all():
            return Intervals(lower, upper, size_b)
    if dense:
        return Dense(np.concatenate(blocks))
    for earlier in range(pairs.rows_done, size_a, step):  # runs whose ends are out of order
        pairs.add(valid_rows(earlier, min(earlier + step, size_a)), earlier)
    return pairs.table()


class _Pairs:
    """The valid combinations of a table, gathered block by block for :class:`Sparse`."""

    def __init__(self, names: tuple[str, str], size_a: int, size_b: int) -> None:
        self.names, self.size_a, self.size_b = names, size_a, size_b
        self.rows: list[np.ndarray] = []
        self.columns: list[np.ndarray] = []
        self.count = 0
        self.rows_done = 0  # axis a's values gathered so far

    def add(self, block: np.ndarray, first_row: int) -> None:
        rows, columns = np.nonzero(block)
        self.count += len(rows)
        if self.count > MAX_SPARSE_PAIRS:
            raise ValueError(
                f"the {self.names[0]} and {self.names[1]} axes ({self.size_a:,} x {self.size_b:,} values) have "
                f"more than {MAX_SPARSE_PAIRS:,} valid combinations and no interval form; "
                "use fewer values on one of them")
        self.rows.append(rows + first_row)
        self.columns.append(columns)
        self.rows_done = first_row + len(block)

    def table(self) -> Sparse:
        return Sparse(np.concatenate(self.rows), np.concatenate(self.columns), self.size_a, self.size_b)


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
