"""``search(space, budget)``: the configurations of a design space that fit a budget.

The Cython walker (:mod:`bertsize._search`) never materialises the product: it uses
that every metric grows along every axis to count whole boxes of fitting points at once,
to stop an axis at the first value that breaks the budget, and to bound the innermost
runs by binary search.  Results of disjoint shards combine (:meth:`Result.merge`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bertsize import _html, _tables, _validate, program, symbolic, validity
from bertsize._backend import kernel, walker
from bertsize.estimate import METRICS, device_constants, estimate, row_of
from bertsize.families import FAMILIES
from bertsize.evaluate import COLUMNS, check_threads, evaluate
from bertsize.model import HEADS, Encoder
from bertsize.options import Options
from bertsize.space import DECREASING, DERIVED, LIMITS, Budget, Space, derived_values
from bertsize.workload import Workload

_INT64_MAX = 2**63 - 1
#: Objectives for top-k and Pareto: the metrics, "flops" (forward + backward when
#: training) and "latency_s" (with a device in the budget).  "params" is maximised by
#: default, everything else minimised.
OBJECTIVES = (*METRICS, "flops", "latency_s")
#: Most rows Result.top_k collects (its heap holds k rows: memory O(k)).
MAX_TOP_K = 10_000_000
#: Columns of Result.to_numpy(): the resolved hyperparameters, then the metrics.
FIT_FIELDS = (*COLUMNS, *METRICS)


def search(
    space: Space,
    budget: Budget,
    workload: Workload | None = None,
    head: str = "model",
    *,
    num_labels: int | None = None,
    objective: str | None = None,
    top_k: int | None = None,
    limit: int = 1_000_000,
    shard: tuple[int, int] | None = None,
    progress: Callable[[float, int], None] | None = None,
    threads: int | None = None,
) -> Result:
    """The configurations of ``space`` that fit ``budget``.

    Args:
        space: the design space.
        budget: the limits (memory, params, min_params, flops).
        workload: batch, sequence length and training choices (axes override batch and
            seq_len); default ``Workload()``.
        head: the HF class, as in :func:`bertsize.estimate`.
        num_labels: classes of the classification head; None: the base Encoder's.
        objective, top_k: rank the fits by ``objective`` (see :data:`OBJECTIVES`; params
            largest first, others smallest first) and keep the best ``top_k``.
        limit: materialise the fits (``Result.to_numpy``) only when at most this many fit.
        shard: ``(i, n)``: walk only the i-th of n disjoint pieces (outermost-axis values
            v with v % n == i); :meth:`Result.merge` combines the pieces.
        progress: called as ``progress(fraction_done, fits_so_far)`` about twice a second
            once a search has run for a second.
        threads: OpenMP threads for counting (default: all).

    Raises:
        TypeError, ValueError: invalid arguments, naming the field.
    """
    plan = _Walk(space, budget, workload, head, num_labels, shard)
    if top_k is not None:
        _validate.integer("top_k", top_k)
        objective = "params" if objective is None else objective
    if objective is not None:
        _validate.choice("objective", objective, OBJECTIVES)
    _validate.integer("limit", limit, minimum=0)
    threads = check_threads(threads)
    count = plan.count(progress, threads)
    result = Result(plan, count)
    if count <= limit:
        result._fits = plan.fits(limit)
    if objective is not None:
        result._best = (objective, top_k or 10, result.top_k(top_k or 10, by=objective))
    return result


class Result:
    """What fits: an exact count, and the fits themselves when there are few enough.

    Attributes:
        count: valid configurations that fit (exact).
        skipped: configurations that are not valid models (heads not dividing hidden,
            sequences longer than the position table); never counted as fits.
        total: points in the (shard of the) space.
    """

    def __init__(self, plan: _Walk, count: int) -> None:
        self._plan = plan
        self.count = count
        self.total = plan.total
        self.skipped = plan.total - plan.valid
        self._fits: np.ndarray | None = None
        self._best: tuple[str, int, np.ndarray] | None = None
        self._parts: list[Result] = [self]

    def skip_reasons(self) -> dict[str, int]:
        """The skipped points by the first rule each breaks, in the order the rules are
        checked ("heads does not divide hidden": 1,200); the counts sum to ``skipped``."""
        reasons: dict[str, int] = {}
        for part in self._parts:
            for reason, count in part._plan.skip_reasons().items():
                reasons[reason] = reasons.get(reason, 0) + count
        return reasons

    def __repr__(self) -> str:
        shown = "materialised" if self.materialised else "not materialised"
        return f"Result(count={self.count:,}, skipped={self.skipped:,}, total={self.total:,}; fits {shown})"

    @property
    def latency_kind(self) -> str | None:
        """What the fits' ``latency_s`` is (:attr:`bertsize.Device.latency_kind`); None
        without a device in the budget."""
        device = self._plan.budget.device
        return None if device is None else device.latency_kind

    @property
    def materialised(self) -> bool:
        """Whether the fits are held (``to_numpy`` works)."""
        return all(part._fits is not None for part in self._parts)

    def to_numpy(self) -> np.ndarray:
        """The fits as a structured array: hyperparameters (:data:`bertsize.COLUMNS`) and
        every metric, one row per configuration."""
        if not self.materialised:
            raise ValueError(
                f"{self.count:,} configurations fit, more than the search's limit: they were not materialised. "
                "Use .count, .top_k(k, by=...) or .pareto(...), tighten the budget, or search with a higher limit"
            )
        return np.concatenate([part._fits for part in self._parts])

    def _repr_html_(self) -> str:
        """The counts and, when anything fits, the top 10 by params (notebooks)."""
        caption = f"{self.count:,} of {self.total - self.skipped:,} valid configurations fit ({self.skipped:,} skipped)"
        if not self.count:
            return _html.table(["result"], [[caption]])
        rows = self.top_k(10)
        names = [n for n in rows.dtype.names if n not in ("flops_bwd", "macs_fwd")]
        return _html.table(names, [[row[n].item() for n in names] for row in rows], caption + "; top 10 by params")

    def to_pandas(self):
        """The fits as a pandas DataFrame (pandas is optional)."""
        try:
            import pandas
        except ImportError as error:
            raise ImportError("Result.to_pandas() needs pandas: pip install pandas") from error
        return pandas.DataFrame(self.to_numpy())

    def top_k(self, k: int = 10, by: str = "params", ascending: bool | None = None) -> np.ndarray:
        """The best k fits by ``by`` (largest params first; other objectives smallest
        first unless ``ascending`` says otherwise), as a structured array."""
        k = min(_validate.integer("k", k), self.count)
        if k > MAX_TOP_K:
            raise ValueError(f"top_k collects at most {MAX_TOP_K:,} rows, got k={k:,} (of {self.count:,} fits); "
                             "tighten the budget, or shard the search and merge")
        self._check_objective("by", by)
        ascending = (by != "params") if ascending is None else _validate.flag("ascending", ascending)
        if self.materialised:
            fits = self.to_numpy()
            return fits[_order(objective_values(fits, by), ascending)[:k]]
        if self._best is not None and self._best[0] == by and self._best[1] >= k and len(self._parts) == 1:
            return self._best[2][:k]
        rows = np.concatenate([part._plan.top_k(k, by, ascending) for part in self._parts])
        return rows[_order(objective_values(rows, by), ascending)[:k]]

    def pareto(self, objectives: Sequence[str] = ("params", "peak_bytes")) -> np.ndarray:
        """The Pareto front of the fits over two objectives (params maximised, the others
        minimised): every fit no other fit beats in both, one per objective pair."""
        if isinstance(objectives, str):
            objectives = [name.strip() for name in objectives.split(",")]
        if len(objectives) != 2:
            raise ValueError(f"pareto takes two objectives, got {list(objectives)}")
        for name in objectives:
            self._check_objective("objective", name)
        if self.materialised:
            rows = self.to_numpy()
        else:
            rows = np.concatenate([part._plan.pareto(objectives) for part in self._parts])
        return _front(rows, objectives)

    def _check_objective(self, field: str, name: object) -> None:
        """``name`` is an objective this search can rank by: latency needs a device."""
        _validate.choice(field, name, OBJECTIVES)
        if name == "latency_s" and self._plan.budget.device is None:
            raise ValueError(f"{field}='latency_s' needs a device: search with Budget(device=...)")

    @staticmethod
    def merge(results: Sequence[Result]) -> Result:
        """Combine the results of disjoint shards of one search: counts add, fits
        concatenate, top_k and pareto consider every shard."""
        results = list(results)
        if not results:
            raise ValueError("merge needs at least one Result")
        for position, result in enumerate(results):
            if not isinstance(result, Result):
                raise TypeError(f"merge takes Results; item {position} is a {type(result).__name__}")
        parts = [part for r in results for part in r._parts]
        first = parts[0]._plan
        for part in parts[1:]:
            differ = [name for name, a, b in zip(_QUESTION, first.question, part._plan.question) if a != b]
            if differ:
                raise ValueError(f"merge combines shards of one search; these Results differ in {', '.join(differ)}")
        shards = [part._plan.shard for part in parts]
        if len(set(shards)) != len(shards):
            duplicate = next(shard for shard in shards if shards.count(shard) > 1)
            raise ValueError(f"merge got shard {duplicate} of {first.shards} twice: its fits would count twice")
        merged = Result.__new__(Result)
        merged._plan = results[0]._plan
        merged.count = sum(r.count for r in results)
        merged.total = sum(r.total for r in results)
        merged.skipped = sum(r.skipped for r in results)
        merged._fits = None
        merged._best = None
        merged._parts = parts
        return merged


# --------------------------------------------------------------------------------------
# inverse queries
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NearestMiss:
    """Why nothing fits, and what comes closest.

    Attributes:
        limits: per bound of the budget, ``(field, quantity, kind, bound, best, excess)``:
            the best value any valid configuration of the space reaches (the smallest, or
            for ``min_params`` the largest) and how far it stays beyond the bound (<= 0:
            this bound alone can be met; nothing fits because of the others).
        closest: the configuration closest to fitting (a row of fits, every metric), and
            ``worst_ratio`` its largest value / bound (bound / value for a minimum):
            chosen among the configurations that are best in one bounded quantity.
    """

    limits: tuple[tuple[str, str, str, object, object, object], ...]
    closest: np.void
    worst_ratio: float


def nearest_miss(space: Space, budget: Budget, workload: Workload | None = None, head: str = "model", *,
                 num_labels: int | None = None) -> NearestMiss:
    """For a budget nothing in ``space`` meets: each bound's best reachable value and the
    configuration closest to fitting (see :class:`NearestMiss`).  Walks the space once
    per bound, without a budget."""
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a bertsize.Budget, got {type(budget).__name__}")
    if budget.empty:
        raise ValueError("nearest_miss needs a budget with at least one bound")
    # no bound, but the device (for latency); memory=None would mean the device's memory
    unbounded = Budget(memory=_INT64_MAX, device=budget.device)
    everything = search(space, unbounded, workload, head, num_labels=num_labels, limit=0)
    if everything.count == 0:
        raise ValueError("no valid configuration in the space: nothing can come close")
    names = {quantity: name for name, (quantity, _) in LIMITS.items()}
    limits, candidates = [], []
    for quantity, kind, bound in budget.limits():
        row = everything.top_k(1, by=quantity, ascending=kind == "max")[0]
        best = objective_values(row, quantity).item()
        limits.append((names[quantity] if kind == "max" else "min_params", quantity, kind, bound, best,
                       best - bound if kind == "max" else bound - best))
        candidates.append(row)

    def worst(row) -> float:
        ratios = []
        for quantity, kind, bound in budget.limits():
            value = float(objective_values(row, quantity))
            ratios.append((value / bound if bound else math.inf) if kind == "max" else
                          (bound / value if value else math.inf))
        return max(ratios)

    closest = min(candidates, key=worst)
    return NearestMiss(tuple(limits), closest, worst(closest))


def max_batch(encoder: Encoder, workload: Workload, budget: Budget, head: str = "model",
              num_labels: int | None = None) -> int | None:
    """The largest batch that fits the budget (every bounded quantity grows with the
    batch), or None when not even one sequence fits.

    Raises:
        ValueError: the budget bounds nothing that grows with the batch (every batch fits).
    """
    return _largest(encoder, workload, budget, head, num_labels, "batch", 2**62)


def max_seq_len(encoder: Encoder, workload: Workload, budget: Budget, head: str = "model",
                num_labels: int | None = None) -> int | None:
    """The longest sequence (up to the position table) that fits the budget, or None."""
    return _largest(encoder, workload, budget, head, num_labels, "seq_len", encoder.max_seq_len)


def _largest(encoder, workload, budget, head, num_labels, field, ceiling) -> int | None:
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a bertsize.Budget, got {type(budget).__name__}")
    if not isinstance(workload, Workload):
        raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a bertsize.Encoder, got {type(encoder).__name__}")
    _validate.choice("head", head, HEADS)
    encoder.check_head(head)
    plan = program.compile_plan(Options.of(encoder.options, workload.options, head))
    growing = [quantity for quantity, kind, _ in budget.limits() if kind == "max" and
               (quantity == "latency_s" or field in symbolic.fields_of(plan.quantities[quantity]))]

    def fits(value: int) -> bool:
        try:
            result = estimate(encoder, workload.replace(**{field: value}), head, num_labels, budget.device)
        except OverflowError:
            return False
        return budget.admits(result)

    if not fits(1):
        return None
    if not growing and field == "batch":
        bounded = ", ".join(f"{q} {k}" for q, k, _ in budget.limits()) or "nothing"
        raise ValueError(f"the budget bounds {bounded}: nothing that grows with the batch, so every batch fits")
    low, high = 1, 2
    while high <= ceiling and fits(high):  # gallop
        low, high = high, 2 * high
    high = min(high, ceiling + 1)
    while high - low > 1:  # fits(low), not fits(high) (or high past the ceiling)
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


# --------------------------------------------------------------------------------------
# the walk
# --------------------------------------------------------------------------------------
#: What a search asks, less the shard index (_Walk.question's parts).
_QUESTION = ("base", "axes", "budget", "workload", "head", "num_labels", "shard count")
#: The objectives of a walk that only collects fits (any will do).
_DEFAULT_OBJECTIVES = (("params", 1), ("params", 1))


def _joined(groups: dict[tuple[int, ...], list[int]]) -> dict[tuple[int, ...], list[int]]:
    """The constraint groups with each one-axis group inside a pair that holds its axis
    (MobileBERT's heads dividing its bottleneck joins heads dividing hidden), so that a
    table's count is not multiplied by another's over the same axis."""
    merged = {axes: list(which) for axes, which in groups.items() if len(axes) != 1}
    for axes, which in groups.items():
        if len(axes) == 1:
            holder = next((pair for pair in merged if len(pair) == 2 and axes[0] in pair), axes)
            merged.setdefault(holder, []).extend(which)
    return merged


class _Walk:
    """A space, a budget and a workload, arranged for the walker (:mod:`bertsize._search`,
    or its twin's brute force)."""

    def __init__(self, space, budget, workload, head, num_labels, shard) -> None:
        if not isinstance(space, Space):
            raise TypeError(f"space must be a bertsize.Space, got {type(space).__name__}")
        if not isinstance(budget, Budget):
            raise TypeError(f"budget must be a bertsize.Budget, got {type(budget).__name__}")
        workload = Workload() if workload is None else workload
        if not isinstance(workload, Workload):
            raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
        _validate.choice("head", head, HEADS)
        space.base.check_head(head)
        self.num_labels = space.base.labels(num_labels)
        self.shards, self.shard = _shard(shard)
        self.space, self.budget, self.workload, self.head = space, budget, workload, head
        self.options = Options.of(space.base.options, workload.options, head)
        self.template = row_of(space.base, workload, self.num_labels)
        # walk order: the largest axis innermost (binary searches), the second largest
        # outermost (parallel work and shards), the rest smallest first
        names = sorted(space.axes, key=lambda n: len(space.axes[n]))
        plane = workload.training and {"seq_len", "batch"} <= set(names) and len(names) >= 3
        if plane:  # the (seq_len, batch) plane innermost, in closed form
            names = [n for n in names if n not in ("seq_len", "batch")]
            names = [names[-1], *names[:-1], "seq_len", "batch"]
        elif len(names) > 2:
            names = [names[-2], *names[:-2], names[-1]]
        self.names = names
        self.values = [np.array(space.axes[n][::-1] if n in DECREASING else space.axes[n], dtype=np.int64)
                       for n in names]
        # the fields the axes set, and the fields with a value for every point
        self.set_by = {DERIVED[n][0] if n in DERIVED else n: n for n in names}
        varying = set(self.set_by) | {DERIVED[n][1] for n in names if n in DERIVED}
        self.constants = tuple((name, value) for name, value in zip(validity.FIELDS, self.template)
                               if name not in self.set_by)
        outer = len(self.values[0])
        self.total = space.size * len(range(self.shard, outer, self.shards)) // outer
        self.pairs, fixed_valid, self.valid = self._count_valid()
        if self.valid > _INT64_MAX:
            raise ValueError(f"the space has {self.valid:,} valid points, more than the 2**63 - 1 the kernel counts")
        self._fixed_valid = fixed_valid
        self._varying = varying
        self._plane = plane
        self._walks: dict = {}
        self._visited: dict = {}  # objectives -> the quantities a visit returns

    def __getstate__(self) -> dict:
        """Pickled without the compiled walks (a Result travels between Dask workers)."""
        return {**self.__dict__, "_walks": {}, "_visited": {}}

    @property
    def question(self) -> tuple:  # the parts of _QUESTION
        """What the search asks, less the shard index: Results merge only when this
        agrees.  Axes enter as digests (an axis may hold 10**8 values)."""
        axes = tuple((name, hashlib.blake2b(values.data).hexdigest()) for name, values in self.space.axes.items())
        return (self.space.base, axes, self.budget, self.workload, self.head, self.num_labels, self.shards)

    # ----- validity: the row constraints, as tables over the axes they read ---------
    def _axes_of(self, field: str | None) -> set[int]:
        """The walk axes a field's value depends on."""
        if field is None or field not in self.set_by:
            return set()
        axis = self.set_by[field]
        axes = {self.names.index(axis)}
        if axis in DERIVED and DERIVED[axis][1] in self.set_by:
            axes.add(self.names.index(self.set_by[DERIVED[axis][1]]))
        return axes

    def _validity(self, upto: int | None = None):
        """Validity tables: for each set of one or two axes some constraint reads (or a
        derived axis and the axis it reads), the prefix sums of the valid value
        combinations; constraints on no axis decide ``fixed_valid``, 1 or 0.  ``upto``:
        only the family's first ``upto`` constraints (default all)."""
        groups: dict[tuple[int, ...], list[int]] = {}
        constraints = FAMILIES[self.options.family].row_constraints[:upto]
        for index, constraint in enumerate(constraints):
            axes = tuple(sorted(self._axes_of(constraint.field) | self._axes_of(constraint.other)))
            if len(axes) > 2:
                raise ValueError(f"the constraint on {constraint.field} and {constraint.other} couples three axes "
                                 "of this space, which the walk cannot count; fix one of them")
            groups.setdefault(axes, []).append(index)
        for name in self.names:
            if name in DERIVED:
                groups.setdefault(tuple(sorted(self._axes_of(DERIVED[name][0]))), [])
        groups = _joined(groups)
        pairs, fixed_valid, totals = [], 1, []
        for axes, which in groups.items():
            if not axes:
                fixed_valid &= bool(kernel.valid_rows(self.options, tuple(self.template), {}, 1, tuple(which))[0])
                continue
            a, b = (axes[0], -1) if len(axes) == 1 else axes
            size_b = len(self.values[b]) if b >= 0 else 1
            names = (self.names[a], self.names[b] if b >= 0 else "")
            pair = _tables.table(lambda start, stop, a=a, b=b, which=tuple(which): self._valid_block(a, b, which,
                                 start, stop), len(self.values[a]), size_b, names)
            if pair is None:
                continue  # these constraints hold everywhere: no table needed
            pairs.append((a, b, pair))
            totals.append(pair.total())
        if len(pairs) > 2:
            raise ValueError("the validity of this space couples more than two pairs of axes, which the walk "
                             "cannot count; fix some of them")
        held = [axis for a, b, _ in pairs for axis in (a, b) if axis >= 0]
        if len(held) != len(set(held)):  # their counts would not multiply
            raise ValueError("the constraints of this space couple three axes through two pairs, which the walk "
                             "cannot count; fix one of them")
        return pairs, fixed_valid, totals

    def _valid_block(self, a: int, b: int, which: tuple[int, ...], start: int, stop: int) -> np.ndarray:
        """Whether each combination of axis a's values start..stop-1 and axis b's values
        (b -1: none) meets the constraints ``which``, as a (stop - start, size_b) table."""
        sizes = (stop - start, len(self.values[b]) if b >= 0 else 1)
        grid = np.indices(sizes).reshape(2, -1)
        fields = {self.names[a]: self.values[a][start + grid[0]]}
        if b >= 0:
            fields[self.names[b]] = self.values[b][grid[1]]
        columns, derived_ok = self._point_fields(fields, len(grid[0]))
        valid = kernel.valid_rows(self.options, tuple(self.template),
                                  {validity.FIELD_INDEX[k]: v for k, v in columns.items()}, len(grid[0]), which)
        return (valid & derived_ok).reshape(sizes)

    def _point_fields(self, axis_values: dict[str, np.ndarray], n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The fields of points from their axes' values — plain axes set a field, derived
        ones set theirs from another (the template's, or an axis') — and whether each
        point's derived axes divide what they divide."""
        fields = {name: values for name, values in axis_values.items() if name not in DERIVED}
        ok = np.ones(n, dtype=bool)
        for name, values in axis_values.items():
            if name in DERIVED:
                target, source, _ = DERIVED[name]
                base = fields.get(source, np.full(n, self.template[validity.FIELD_INDEX[source]], dtype=np.int64))
                fields[target], fits = derived_values(name, base, values)
                ok &= fits
        return fields, ok

    def _count_valid(self, upto: int | None = None):
        """(validity tables, fixed_valid, the valid points of the shard) under the
        family's first ``upto`` constraints (default all)."""
        pairs, fixed_valid, pair_totals = self._validity(upto)
        paired = {axis for a, b, _ in pairs for axis in (a, b) if axis >= 0}
        others = math.prod(len(v) for k, v in enumerate(self.values) if k not in paired)
        outer = len(self.values[0])
        if 0 not in paired:
            valid = fixed_valid * math.prod(pair_totals) * others
            return pairs, fixed_valid, valid * len(range(self.shard, outer, self.shards)) // outer
        # the outermost axis is paired: count its shard exactly
        rows = np.arange(self.shard, outer, self.shards)
        total = 1
        for a, b, pair in pairs:
            total *= pair.along_a(rows) if a == 0 else pair.along_b(rows) if b == 0 else pair.total()
        return pairs, fixed_valid, fixed_valid * total * others

    def skip_reasons(self) -> dict[str, int]:
        """Skipped points by the first rule they break (the counts sum to the skipped)."""
        constraints = FAMILIES[self.options.family].row_constraints
        reasons: dict[str, int] = {}
        before = self.total
        for upto in range(len(constraints) + 1):
            valid = self._count_valid(upto)[2]
            if valid != before:
                reason = validity.rule(constraints[upto - 1]) if upto else " or ".join(
                    f"{name} does not divide {DERIVED[name][1]}" for name in self.names
                    if name in DERIVED and DERIVED[name][2] == "divided")
                reasons[reason] = reasons.get(reason, 0) + before - valid
            before = valid
        return reasons

    # ----- the walker ------------------------------------------------------------------
    def _walk(self, objectives=_DEFAULT_OBJECTIVES):
        key = objectives
        if key in self._walks:
            return self._walks[key]
        budget, work = self.budget, self.workload
        limits = budget.limits()
        # with a device every fit carries its latency (to_numpy, to_pandas, top_k rows)
        with_latency = (budget.device is not None or any(q == "latency_s" for q, _, _ in limits)
                        or any(n == "latency_s" for n, _ in objectives))
        if with_latency and budget.device is None:
            raise ValueError("latency needs a device in the budget (Budget(device='nvidia-t4', ...))")
        names: list[str] = []

        def output(name: str) -> int:
            if name not in names:
                names.append(name)
            return names.index(name)

        caps = [(output(q), min(bound, _INT64_MAX)) for q, kind, bound in limits if kind == "max" and q != "latency_s"]
        floors = [(output(q), bound) for q, kind, bound in limits if kind == "min" and 0 < bound <= _INT64_MAX]
        # a floor past 2**63 - 1 is one no quantity the kernel computes exactly reaches:
        # a cap below zero says that no point fits
        caps += [(output(q), -1) for q, kind, bound in limits if kind == "min" and bound > _INT64_MAX]
        codes = [walker.LATENCY_CODE if name == "latency_s" else output(name) for name, _ in objectives]
        if not names:
            output("params")
        axes = []
        for name, values in zip(self.names, self.values):
            if name in DERIVED:
                target, source, how = DERIVED[name]
                kind = walker.KIND_DIVIDED if how == "divided" else walker.KIND_MULTIPLIED
                axes.append((validity.FIELD_INDEX[target], validity.FIELD_INDEX[source], kind, values))
            else:
                axes.append((validity.FIELD_INDEX[name], 0, walker.KIND_PLAIN, values))
        exhaustive = not self._monotone(names)
        plane = None
        if self._plane and not exhaustive and not with_latency and not any(
                self.names.index("batch") in (a, b) for a, b, _ in self.pairs):
            plane = program.plane_program(self.options, self.constants, [names[k] for k, _ in caps],
                                          [names[k] for k, _ in floors])
        reported = tuple(name for name in METRICS if name not in names)
        self._walks[key] = walker.walk(
            self.options, self.constants, tuple(names), reported, axes, caps, floors,
            [(a, b, pair.walker_form()) for a, b, pair in self.pairs], self._fixed_valid,
            tuple(codes), tuple(direction for _, direction in objectives), exhaustive, plane,
            device_constants(budget.device, work) if with_latency else None,
            -1.0 if budget.latency is None else budget.latency,
        )
        self._visited[key] = (*names, *reported)
        return self._walks[key]

    def _monotone(self, names) -> bool:
        """Whether every quantity the walk reads provably never decreases along the
        walk's axes (read off the program: 8-bit AdamW's per-tensor threshold, and an
        ELECTRA whose hidden can meet its embedding width, are not)."""
        ranges = {name: (int(v.min()), int(v.max())) for name, v in zip(self.names, self.values)
                  if name not in DERIVED}
        exprs = program.specialised_quantities(self.options, self.constants, names)
        return all(program.is_monotone(e, self._varying, ranges) for e in exprs)

    @property
    def exhaustive(self) -> bool:
        """Whether the walk visits every point (some quantity is not monotone)."""
        return not self._monotone(["peak_bytes", "params", "flops"])

    def count(self, progress, threads) -> int:
        walk = self._walk()
        outer = np.arange(self.shard, len(self.values[0]), self.shards, dtype=np.intp)
        if progress is None:
            return walk.count(outer, threads)
        started = last = time.monotonic()
        total, done, chunk = 0, 0, max(1, len(outer) // 200)
        while done < len(outer):
            total += walk.count(outer[done:done + chunk], threads)
            done += chunk
            now = time.monotonic()
            if now - started > 1.0 and now - last > 0.5:
                progress(min(done, len(outer)) / len(outer), total)
                last = now
        if time.monotonic() - started > 1.0:
            progress(1.0, total)
        return total

    def _rows(self, visited, names: tuple[str, ...]) -> np.ndarray:
        """Structured array of hyperparameters and metrics of the points a visit returned
        (its axis indices, the values of ``names``, the latencies)."""
        indices, values, seconds, _ = visited
        n = len(indices)
        axis_values = {name: self.values[k][indices[:, k]] if n else np.empty(0, np.int64)
                       for k, name in enumerate(self.names)}
        point, _ = self._point_fields(axis_values, n)
        with_latency = self.budget.device is not None
        dtype = [(name, np.int64) for name in FIT_FIELDS] + ([("latency_s", np.float64)] if with_latency else [])
        result = np.zeros(n, dtype=dtype)
        for name in COLUMNS:
            result[name] = point.get(name, self.template[validity.FIELD_INDEX[name]])
        for name in METRICS:
            result[name] = values[:, names.index(name)] if n else 0
        if with_latency:
            result["latency_s"] = seconds
        return result

    def _visit(self, objectives, mode: int, limit: int, k: int) -> np.ndarray:
        walk = self._walk(objectives)
        visited = walk.visit(mode, limit, k, self.shards, self.shard)
        if mode == 0 and visited[3]:
            raise RuntimeError("the walk collected more fits than it counted")  # a walker bug
        return self._rows(visited, self._visited[objectives])

    def fits(self, limit: int) -> np.ndarray:
        return self._visit(_DEFAULT_OBJECTIVES, 0, limit, 0)

    def top_k(self, k: int, by: str, ascending: bool) -> np.ndarray:
        return self._visit(((by, -1 if ascending else 1), (by, -1 if ascending else 1)), 1, 0, k)

    def pareto(self, objectives: Sequence[str]) -> np.ndarray:
        return self._visit(tuple((name, 1 if name == "params" else -1) for name in objectives), 2, 0, 0)


def _shard(shard) -> tuple[int, int]:
    if shard is None:
        return 1, 0
    if not isinstance(shard, tuple) or len(shard) != 2:
        raise TypeError(f"shard must be a pair (i, n), got {shard!r}")
    index, count = shard
    count = _validate.integer("shard count", count)
    index = _validate.integer("shard index", index, minimum=0)
    if index >= count:
        raise ValueError(f"shard index {index} must be below the shard count {count}")
    return count, index


def objective_values(rows: np.ndarray, name: str) -> np.ndarray:
    """The values of objective ``name`` (:data:`OBJECTIVES`) in rows of fits: "flops" is
    forward + backward."""
    if name == "flops":
        return rows["flops_fwd"] + rows["flops_bwd"]
    return rows[name]


def _order(values: np.ndarray, ascending: bool) -> np.ndarray:
    return np.argsort(values if ascending else -values, kind="stable")


def _front(rows: np.ndarray, objectives: Sequence[str]) -> np.ndarray:
    """Rows no other row beats in both objectives; one row per objective pair."""
    first = objective_values(rows, objectives[0]) * (1 if objectives[0] == "params" else -1)
    second = objective_values(rows, objectives[1]) * (1 if objectives[1] == "params" else -1)
    # both now "larger is better": sort by first descending, then second descending
    order = np.lexsort((-second, -first))
    keep, best_second, seen = [], None, set()
    for position in order:
        pair = (first[position].item(), second[position].item())
        if best_second is None or pair[1] > best_second:
            if pair not in seen:
                keep.append(position)
                seen.add(pair)
            best_second = pair[1]
    return rows[np.array(keep, dtype=np.intp)]
