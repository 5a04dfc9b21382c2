"""``search(space, budget)``: the configurations of a design space that fit a budget.

The Cython walker (:mod:`bertsize._search`) never materialises the product: it uses
that every metric grows along every axis to count whole boxes of fitting points at once,
to stop an axis at the first value that breaks the budget, and to bound the innermost
runs by binary search.  Results of disjoint shards combine (:meth:`Result.merge`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from bertsize import _abi, _validate
from bertsize._backend import kernel
from bertsize.estimate import METRICS, estimate
from bertsize.evaluate import COLUMNS, _threads, evaluate
from bertsize.model import HEADS, Encoder
from bertsize.space import DECREASING, Budget, Space
from bertsize.workload import Workload

_INT64_MAX = 2**63 - 1
#: Objectives for top-k and Pareto: the metrics, "flops" (forward + backward when
#: training) and "latency_s" (with a device in the budget).  "params" is maximised by
#: default, everything else minimised.
OBJECTIVES = (*METRICS, "flops", "latency_s")
#: Columns of Result.to_numpy(): the resolved hyperparameters, then the metrics.
FIT_FIELDS = (*COLUMNS, *METRICS)


def search(
    space: Space,
    budget: Budget,
    workload: Workload | None = None,
    head: str = "model",
    *,
    num_labels: int = 2,
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
        num_labels: classes of the classification head.
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
    plan = _Plan(space, budget, workload, head, num_labels, shard)
    if top_k is not None:
        _validate.integer("top_k", top_k)
        objective = "params" if objective is None else objective
    if objective is not None:
        _validate.choice("objective", objective, OBJECTIVES)
    _validate.integer("limit", limit, minimum=0)
    threads = _threads(threads)
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

    def __init__(self, plan: _Plan, count: int) -> None:
        self._plan = plan
        self.count = count
        self.total = plan.total
        self.skipped = plan.total - plan.valid
        self._fits: np.ndarray | None = None
        self._best: tuple[str, int, np.ndarray] | None = None
        self._parts: list[Result] = [self]

    def __repr__(self) -> str:
        shown = "materialised" if self.materialised else "not materialised"
        return f"Result(count={self.count:,}, skipped={self.skipped:,}, total={self.total:,}; fits {shown})"

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
        _validate.integer("k", k)
        _validate.choice("by", by, OBJECTIVES)
        ascending = (by != "params") if ascending is None else _validate.flag("ascending", ascending)
        if self.materialised:
            fits = self.to_numpy()
            return fits[_order(_objective_values(fits, by), ascending)[:k]]
        if self._best is not None and self._best[0] == by and self._best[1] >= k and len(self._parts) == 1:
            return self._best[2][:k]
        rows = np.concatenate([part._plan.top_k(k, by, ascending) for part in self._parts])
        return rows[_order(_objective_values(rows, by), ascending)[:k]]

    def pareto(self, objectives: Sequence[str] = ("params", "peak_bytes")) -> np.ndarray:
        """The Pareto front of the fits over two objectives (params maximised, the others
        minimised): every fit no other fit beats in both, one per objective pair."""
        if isinstance(objectives, str):
            objectives = [name.strip() for name in objectives.split(",")]
        if len(objectives) != 2:
            raise ValueError(f"pareto takes two objectives, got {list(objectives)}")
        for name in objectives:
            _validate.choice("objective", name, OBJECTIVES)
        if self.materialised:
            rows = self.to_numpy()
        else:
            rows = np.concatenate([part._plan.pareto(objectives) for part in self._parts])
        return _front(rows, objectives)

    @staticmethod
    def merge(results: Sequence[Result]) -> Result:
        """Combine the results of disjoint shards of one search: counts add, fits
        concatenate, top_k and pareto consider every shard."""
        results = list(results)
        if not results:
            raise ValueError("merge needs at least one Result")
        merged = Result.__new__(Result)
        merged._plan = results[0]._plan
        merged.count = sum(r.count for r in results)
        merged.total = sum(r.total for r in results)
        merged.skipped = sum(r.skipped for r in results)
        merged._fits = None
        merged._best = None
        merged._parts = [part for r in results for part in r._parts]
        return merged


# --------------------------------------------------------------------------------------
# inverse queries
# --------------------------------------------------------------------------------------
def max_batch(encoder: Encoder, workload: Workload, budget: Budget, head: str = "model", num_labels: int = 2) -> int | None:
    """The largest batch that fits the budget (every metric grows with the batch), or None."""
    return _largest(encoder, workload, budget, head, num_labels, "batch", 2**62)


def max_seq_len(encoder: Encoder, workload: Workload, budget: Budget, head: str = "model", num_labels: int = 2) -> int | None:
    """The longest sequence (up to the position table) that fits the budget, or None."""
    return _largest(encoder, workload, budget, head, num_labels, "seq_len", encoder.max_seq_len)


def _largest(encoder, workload, budget, head, num_labels, field, ceiling) -> int | None:
    if not isinstance(budget, Budget):
        raise TypeError(f"budget must be a bertsize.Budget, got {type(budget).__name__}")

    def fits(value: int) -> bool:
        try:
            result = estimate(encoder, workload.replace(**{field: value}), head, num_labels, budget.device)
        except OverflowError:
            return False
        return _meets_caps(result, budget)

    if not fits(1):
        return None
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


def _meets_caps(result, budget: Budget) -> bool:
    flops = result.flops_fwd + result.flops_bwd
    return not (
        (budget.memory is not None and result.peak_bytes > budget.memory)
        or (budget.params is not None and result.params > budget.params)
        or (budget.flops is not None and flops > budget.flops)
        or (budget.latency is not None and result.latency_s > budget.latency)
    )


# --------------------------------------------------------------------------------------
# the walk
# --------------------------------------------------------------------------------------
class _Plan:
    """A space, a budget and a workload, arranged for the Cython walker."""

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
        self.num_labels = _validate.integer("num_labels", num_labels)
        self.shards, self.shard = _shard(shard)
        self.space, self.budget, self.workload, self.head = space, budget, workload, head
        # walk order: the largest axis innermost (binary searches), the second largest
        # outermost (parallel work and shards), the rest smallest first
        names = sorted(space.axes, key=lambda n: len(space.axes[n]))
        self.plane = workload.training and {"seq_len", "batch"} <= set(names) and len(names) >= 3
        if self.plane:  # the (seq_len, batch) plane innermost, in closed form
            names = [n for n in names if n not in ("seq_len", "batch")]
            names = [names[-1], *names[:-1], "seq_len", "batch"]
        elif len(names) > 2:
            names = [names[-2], *names[:-2], names[-1]]
        self.names = names
        self.values = [np.array(space.axes[n][::-1] if n in DECREASING else space.axes[n], dtype=np.int64)
                       for n in names]
        self.pairs, fixed_valid, pair_totals = self._pairs()
        paired = {axis for a, b, _ in self.pairs for axis in (a, b) if axis >= 0}
        others = math.prod(len(v) for k, v in enumerate(self.values) if k not in paired)
        outer = len(self.values[0])
        shard_outer = len(range(self.shard, outer, self.shards))
        self.total = space.size * shard_outer // outer
        valid = fixed_valid * math.prod(pair_totals) * others
        self.valid = valid * shard_outer // outer if not self.pairs or 0 not in paired else None
        if self.valid is None:  # the outermost axis is paired: count its shard exactly
            self.valid = self._valid_in_shard(fixed_valid, others)
        if self.valid > _INT64_MAX:
            raise ValueError(f"the space has {self.valid:,} valid points, more than the 2**63 - 1 the kernel counts")
        self._fixed_valid = fixed_valid

    def _pairs(self):
        """Validity tables: (hidden, heads | head_dim) and (seq_len, max_positions)."""
        base, work = self.space.base, self.workload
        offset = base.max_positions - base.max_seq_len
        pairs, fixed_valid, totals = [], 1, []
        heads_name = "head_dim" if "head_dim" in self.names else "heads"
        for first, second, fixed_first, fixed_second, valid in (
            ("hidden", heads_name, base.hidden, base.heads, lambda h, x: h % x == 0),
            ("seq_len", "max_positions", work.seq_len, base.max_positions, lambda s, p: s <= p - offset),
        ):
            a = self.names.index(first) if first in self.names else -1
            b = self.names.index(second) if second in self.names else -1
            xs = self.values[a] if a >= 0 else np.array([fixed_first], dtype=np.int64)
            ys = self.values[b] if b >= 0 else np.array([fixed_second], dtype=np.int64)
            table = valid(xs[:, None], ys[None, :]).astype(np.int64)
            if a < 0 and b < 0:
                fixed_valid *= int(table[0, 0])
                continue
            prefix = np.zeros((len(xs) + 1, len(ys) + 1), dtype=np.int64)
            prefix[1:, 1:] = table.cumsum(0).cumsum(1)
            pairs.append((a, b, prefix))
            totals.append(int(prefix[-1, -1]))
        return pairs, fixed_valid, totals

    def _valid_in_shard(self, fixed_valid, others):
        rows = np.arange(self.shard, len(self.values[0]), self.shards)
        total = 1
        for a, b, prefix in self.pairs:
            table = np.diff(np.diff(prefix, axis=0), axis=1)
            if a == 0:
                count = int(table[rows].sum())
            elif b == 0:
                count = int(table[:, rows].sum())
            else:
                count = int(prefix[-1, -1])
            total *= count
        return fixed_valid * total * others

    def _kernel_plan(self, objectives=(("params", 1), ("params", 1))):
        budget, work = self.budget, self.workload
        from bertsize import _search

        metric = {name: index for index, name in enumerate(METRICS)}
        mask = 1 << metric["params"]
        with_latency = budget.latency is not None or any(name == "latency_s" for name, _ in objectives)
        if with_latency and budget.device is None:
            raise ValueError("latency needs a device in the budget (Budget(device='nvidia-t4', ...))")
        if budget.memory is not None:
            mask |= 1 << metric["peak_bytes"]
        if budget.flops is not None or any(name == "flops" for name, _ in objectives):
            mask |= (1 << metric["flops_fwd"]) | (1 << metric["flops_bwd"])
        codes = []
        for name, _ in objectives:
            code = {"flops": _search.STEP_FLOPS_CODE, "latency_s": _search.LATENCY_CODE}.get(name)
            if code is None:
                code = metric[name]
                mask |= 1 << code
            codes.append(code)
        axes = []
        for name, values in zip(self.names, self.values):
            if name == "head_dim":
                axes.append((0, _search.KIND_HEAD_DIM, values))
            elif name == "ffn_ratio":
                axes.append((0, _search.KIND_FFN_RATIO, values))
            else:
                axes.append((COLUMNS.index(name), _search.KIND_PLAIN, values))
        caps = (
            _INT64_MAX if budget.memory is None else budget.memory,
            _INT64_MAX if budget.params is None else budget.params,
            _INT64_MAX if budget.flops is None else budget.flops,
            0 if budget.min_params is None else budget.min_params,
        )
        return _search.Plan(
            _abi.pack_encoder(self.space.base), _abi.pack_workload(work), _abi.HEAD_CODES[self.head],
            self.num_labels, axes, mask, caps, self.pairs, self._fixed_valid,
            tuple(codes), tuple(direction for _, direction in objectives), self.exhaustive,
            self.plane and not self.exhaustive and not with_latency,
            _abi.pack_device(budget.device, work.precision) if with_latency else None,
            -1.0 if budget.latency is None else budget.latency,
        )

    @property
    def exhaustive(self) -> bool:
        """Whether this search must visit every point: the two cases where a metric is not
        monotone in the sizes.  8-bit AdamW keeps 32-bit state for tensors below 4096
        elements and 8-bit state from 4096 on, so its optimizer bytes drop when a size
        crosses the threshold.  An ELECTRA has its embedding projection only while the
        embedding width differs from hidden, so a space in which hidden can meet the
        embedding width adds and removes a Linear (and, under CPU autocast, switches the
        residual stream between fp32 and 16 bits)."""
        work, base = self.workload, self.space.base
        eight_bit = work.training and work.optimizer == "adamw_8bit"
        electra_switch = base.family == "electra" and (
            "embedding" in self.names or ("hidden" in self.names and base.embedding is not None))
        return eight_bit or electra_switch

    def _pure_fits(self) -> np.ndarray:
        """BERTSIZE_PUREPYTHON=1: every point of the (shard of the) space through the
        oracle, then the budget -- the brute force the walker is tested against."""
        sizes = [len(v) for v in self.values]
        grids = np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")
        indices = np.stack([g.ravel() for g in grids], axis=1) if grids else np.empty((0, 0), np.intp)
        indices = indices[indices[:, 0] % self.shards == self.shard]
        valid = np.ones(len(indices), dtype=bool)
        for a, b, prefix in self.pairs:
            table = np.diff(np.diff(prefix, axis=0), axis=1)
            valid &= table[indices[:, a] if a >= 0 else 0, indices[:, b] if b >= 0 else 0].astype(bool)
        indices = indices[valid] if self._fixed_valid else indices[:0]
        rows = self._rows_within_int64(indices)
        budget, keep = self.budget, np.ones(len(rows), dtype=bool)
        flops = rows["flops_fwd"] + rows["flops_bwd"]
        for bound, values in ((budget.memory, rows["peak_bytes"]), (budget.params, rows["params"]),
                              (budget.flops, flops)):
            if bound is not None:
                keep &= values <= bound
        if budget.min_params is not None:
            keep &= rows["params"] >= budget.min_params
        if budget.latency is not None:
            keep &= rows["latency_s"] <= budget.latency
        return rows[keep]

    def count(self, progress, threads) -> int:
        if kernel is None:
            return len(self._pure_fits())
        walker = self._kernel_plan()
        outer = np.arange(self.shard, len(self.values[0]), self.shards, dtype=np.intp)
        if progress is None:
            return walker.count(outer, threads)
        started = last = time.monotonic()
        total, done, chunk = 0, 0, max(1, len(outer) // 200)
        while done < len(outer):
            total += walker.count(outer[done:done + chunk], threads)
            done += chunk
            now = time.monotonic()
            if now - started > 1.0 and now - last > 0.5:
                progress(min(done, len(outer)) / len(outer), total)
                last = now
        if time.monotonic() - started > 1.0:
            progress(1.0, total)
        return total

    def _rows_within_int64(self, indices: np.ndarray) -> np.ndarray:
        """_rows() of the points whose metrics all fit in int64.  A metric past int64 is
        larger than any budget, so those points never fit (as in the kernel's walk)."""
        try:
            return self._rows(indices)
        except OverflowError:  # (rare: then point by point)
            if len(indices) == 1:
                return self._rows(indices[:0])
            return np.concatenate([self._rows_within_int64(indices[i:i + 1]) for i in range(len(indices))])

    def _rows(self, indices: np.ndarray) -> np.ndarray:
        """Structured array of hyperparameters and metrics for walk indices."""
        base, work = self.space.base, self.workload
        defaults = dict(zip(COLUMNS, _abi.encoder_values(base) + (work.batch, work.seq_len)))
        columns = {}
        for position, name in enumerate(self.names):
            columns[name] = self.values[position][indices[:, position]] if len(indices) else np.empty(0, np.int64)
        fields = {name: np.full(len(indices), value, dtype=np.int64) for name, value in defaults.items()}
        for name, column in columns.items():
            if name not in ("head_dim", "ffn_ratio"):
                fields[name] = column
        if "head_dim" in columns:
            fields["heads"] = fields["hidden"] // columns["head_dim"]
        if "ffn_ratio" in columns:
            fields["intermediate"] = fields["hidden"] * columns["ffn_ratio"]
        device = self.budget.device
        dtype = [(name, np.int64) for name in FIT_FIELDS] + ([("latency_s", np.float64)] if device else [])
        result = np.zeros(len(indices), dtype=dtype)
        for name in COLUMNS:
            result[name] = fields[name]
        if len(indices):
            # the axes' fields (and those derived from head_dim / ffn_ratio) as columns; the
            # base and the workload supply the rest, as constants
            varying = {name: fields[name] for name in COLUMNS
                       if name in columns or (name == "heads" and "head_dim" in columns)
                       or (name == "intermediate" and "ffn_ratio" in columns)}
            metrics = evaluate(varying if len(indices) > 1 else {k: int(v[0]) for k, v in varying.items()},
                               base=base, workload=work, head=self.head, num_labels=self.num_labels, device=device)
            for name in metrics:
                result[name] = metrics[name]
        return result

    def fits(self, limit: int) -> np.ndarray:
        if kernel is None:
            return self._pure_fits()
        indices, _, overflow = self._kernel_plan().visit(0, limit, 0, self.shards, self.shard)
        if overflow:
            raise RuntimeError("the walk collected more fits than it counted")  # a walker bug
        return self._rows(indices)

    def top_k(self, k: int, by: str, ascending: bool) -> np.ndarray:
        if kernel is None:
            rows = self._pure_fits()
            return rows[_order(_objective_values(rows, by), ascending)[:k]]
        walker = self._kernel_plan(((by, -1 if ascending else 1), (by, -1 if ascending else 1)))
        indices, _, _ = walker.visit(1, 0, k, self.shards, self.shard)
        return self._rows(indices)

    def pareto(self, objectives: Sequence[str]) -> np.ndarray:
        if kernel is None:
            return _front(self._pure_fits(), objectives)
        directions = tuple((name, 1 if name == "params" else -1) for name in objectives)
        indices, _, _ = self._kernel_plan(directions).visit(2, 0, 0, self.shards, self.shard)
        return self._rows(indices)


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


def _objective_values(rows: np.ndarray, name: str) -> np.ndarray:
    if name == "flops":
        return rows["flops_fwd"] + rows["flops_bwd"]
    return rows[name]


def _order(values: np.ndarray, ascending: bool) -> np.ndarray:
    return np.argsort(values if ascending else -values, kind="stable")


def _front(rows: np.ndarray, objectives: Sequence[str]) -> np.ndarray:
    """Rows no other row beats in both objectives; one row per objective pair."""
    first = _objective_values(rows, objectives[0]) * (1 if objectives[0] == "params" else -1)
    second = _objective_values(rows, objectives[1]) * (1 if objectives[1] == "params" else -1)
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
