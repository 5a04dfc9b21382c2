"""The per-module table: where a step's parameters, FLOPs, memory and time go.

What a FLOPs profiler (calflops, DeepSpeed's flops profiler) prints by ``nn.Module``,
from the pure-Python oracle: the recipe is traced once with the tracer's module paths on
(:class:`bertsize.tracer.ModuleTally`), and every quantity lands in the module whose
scope it ran in.  The tree, in the order the forward runs it:

* ``embeddings`` (each table, the sums, ``norms``, the projection where there is one);
* ``layers``: one row standing for all L layers of the group (``repeats``), and inside
  it ``attention``, ``ffn`` and ``norms``, then each primitive (``layer.attention.query``,
  the attention ``core``, ``dropout``, the activation, ``add``);
* ``pooler``, ``head`` (the head's body and its loss);
* training only: ``optimizer``, the update step (time only).

Each row's figures include its children's, so a row at any depth is the sum of the rows
under it and the depth-1 rows sum to the step's totals (:meth:`Profile.total`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from bertsize import _html, oracle, roofline, states, units
from bertsize.options import Options
from bertsize.tracer import Exact, ModuleTally, Parameter, Trace

SEPARATOR = "/"
#: A row whose time is this share (or more) in compute-bound ops is "compute"-bound,
#: one with at most 1 - it is "memory"-bound; anything between is "mixed".
DOMINANT = 0.995


@dataclass(frozen=True)
class ModuleCost:
    """One module of the step: it and everything inside it.

    Attributes:
        module: its path, ``"/"``-joined (``"layers/attention/layer.attention.query"``).
        repeats: how many times it runs per forward (a layer group's layer count).
        params: parameters declared in it (tied weights where first declared).
        weight_bytes: bytes of those weights in one replica, in the workload's
            precision and format (before ZeRO partitioning; CPU autocast's 16-bit copies
            are not included).
        flops_fwd: forward matmul FLOPs, all repeats.
        elementwise_flops_fwd: forward elementwise FLOPs, all repeats.
        activation_bytes: training: bytes its ops save for backward (0 for inference,
            whose live set is a property of the whole walk, not of a module).
        latency_s: roofline seconds of its ops in the step (None without a device).
        compute_bound_s: the part of ``latency_s`` spent in compute-bound ops.
    """

    module: str
    repeats: int
    params: int
    weight_bytes: int
    flops_fwd: int
    elementwise_flops_fwd: int
    activation_bytes: int
    latency_s: float | None
    compute_bound_s: float | None

    @property
    def depth(self) -> int:
        """1 for a top-level module."""
        return self.module.count(SEPARATOR) + 1

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.module.rsplit(SEPARATOR, 1)[-1]

    @property
    def bound(self) -> str | None:
        """"compute" or "memory" (what limits its ops on the device), "mixed (N% compute)"
        when its time splits, None without a device or with no time."""
        if not self.latency_s:
            return None
        share = self.compute_bound_s / self.latency_s
        if share >= DOMINANT:
            return "compute"
        if share <= 1 - DOMINANT:
            return "memory"
        return f"mixed ({share:.0%} compute)"


class Profile(tuple):
    """The rows of :func:`bertsize.profile` (a tuple of :class:`ModuleCost`, parents before
    their children), with the step's totals; a table in a terminal and a notebook."""

    def fold(self, depth: int) -> Profile:
        """The rows down to ``depth`` (1: the top-level modules)."""
        return Profile(row for row in self if row.depth <= depth)

    @property
    def total(self) -> ModuleCost:
        """The step: the sum of the top-level rows."""
        top = [row for row in self if row.depth == 1]
        timed = top and top[0].latency_s is not None
        return ModuleCost(
            "total", 1, *(sum(getattr(row, name) for row in top) for name in
                          ("params", "weight_bytes", "flops_fwd", "elementwise_flops_fwd", "activation_bytes")),
            sum(row.latency_s for row in top) if timed else None,
            sum(row.compute_bound_s for row in top) if timed else None)

    def to_dicts(self) -> list[dict[str, object]]:
        """The rows as plain dicts (JSON-ready), with their bound."""
        return [{**asdict(row), "bound": row.bound} for row in self]

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        total = self.total
        timed = total.latency_s is not None
        headers = ["module", "params", "%", "weights", "matmul fwd", "%", "elementwise fwd"]
        saves = total.activation_bytes > 0  # training
        if saves:
            headers.append("saved activations")
        if timed:
            headers += ["latency", "%", "bound"]
        rows = []
        for row in (*self, total):
            indent = "  " * (row.depth - 1) if row is not total else ""
            label = row.name + (f" x{row.repeats:,}" if row.repeats != 1 else "")
            cells = [indent + label, units.format_count(row.params), _share(row.params, total.params),
                     units.format_bytes(row.weight_bytes), units.format_flops(row.flops_fwd),
                     _share(row.flops_fwd, total.flops_fwd), units.format_flops(row.elementwise_flops_fwd)]
            if saves:
                cells.append(units.format_bytes(row.activation_bytes))
            if timed:
                cells += [units.format_seconds(row.latency_s), _share(row.latency_s, total.latency_s),
                          row.bound or "-"]
            rows.append(cells)
        return headers, rows

    def table(self) -> str:
        """The rows as a plain-text table (each module indented under its parent)."""
        headers, rows = self._cells()
        cells = [headers, *rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

        left = {0, headers.index("bound")} if "bound" in headers else {0}

        def line(row: list[str]) -> str:
            return "  ".join(c.ljust(w) if i in left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths))).rstrip()

        return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])

    def _repr_html_(self) -> str:
        headers, rows = self._cells()
        return _html.table(headers, rows)


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def build(options: Options, row: dict[str, int], device: roofline.Constants | None) -> Profile:
    """Every module of the step of ``options`` at the sizes of ``row``, exact; latencies
    on ``device`` (its roofline constants) when given."""
    forward = oracle.trace(options, row, profile=True)
    num = Exact()
    params: dict[tuple, list[Parameter]] = {}
    for param in forward.parameters.values():
        params.setdefault(param.path, []).append(param)
    leaves: dict[tuple, list] = {}
    for path, tally in forward.modules.items():
        leaves[path] = _leaf(path, tally, params.get(path, ()), forward, options, num, device)
    for path in (*params, *forward.module_saved_bytes):  # modules with no op of their own
        leaves.setdefault(path, _leaf(path, ModuleTally(), params.get(path, ()), forward, options, num, device))
    if options.training:
        update = oracle.optimizer_term(options, forward)
        seconds = None if device is None else roofline.seconds([update], device)
        bound = None if device is None else seconds if roofline.compute_bound(update, device) else 0.0
        leaves[("optimizer",)] = [0, 0, 0, 0, 0, seconds, bound]
        exchange = oracle.collective_terms(options, forward)
        if exchange:  # the data-parallel ranks' collectives: link time, never compute-bound
            leaves[("collectives",)] = [0, 0, 0, 0, 0, None if device is None else roofline.seconds(exchange, device),
                                        None if device is None else 0.0]
    return Profile(_rows(leaves, forward.module_repeats))


def _leaf(path: tuple, tally: ModuleTally, params: Iterable[Parameter], forward: Trace, options: Options, num,
          device: roofline.Constants | None) -> list:
    """A module's own figures: params, weight bytes, matmul and elementwise FLOPs, saved
    bytes, seconds and compute-bound seconds."""
    params = list(params)
    own = [sum((p.total for p in params), 0), states.replica_bytes("weights", params, options, num),
           tally.matmul_flops, tally.elementwise_flops, forward.module_saved_bytes.get(path, 0), None, None]
    if device is not None:
        terms = roofline.op_terms(tally.ops, forward, options)
        own[5] = roofline.seconds(terms, device)
        own[6] = roofline.seconds([t for t in terms if roofline.compute_bound(t, device)], device)
    return own


def _rows(leaves: dict[tuple, list], repeats: dict[tuple, object]) -> list[ModuleCost]:
    """One row per path and per prefix of a path, each the sum of the leaves under it,
    depth first (siblings in the order the forward reaches them); modules that neither
    hold nor do anything (a dropout of probability 0, inference's loss) are left out."""
    sums: dict[tuple, list] = {}
    children: dict[tuple, list[tuple]] = {}
    for path, own in leaves.items():
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            total = sums.get(prefix)
            if total is None:
                sums[prefix] = list(own)
                children.setdefault(prefix[:-1], []).append(prefix)
            else:
                sums[prefix] = [_add(a, b) for a, b in zip(total, own)]
    rows: list[ModuleCost] = []

    def visit(path: tuple) -> None:
        values = sums[path]
        if any(values[:6]):
            rows.append(ModuleCost(SEPARATOR.join(path), repeats.get(path, 1), *values))
            for child in children.get(path, ()):
                visit(child)

    for top in children.get((), ()):
        visit(top)
    return rows


def _add(a, b):
    return None if a is None else a + b
