"""Row validity: named constraints on the sizes of a configuration, written once.

A *row* is one configuration's sizes, the fields of :data:`FIELDS` in order.  Which rows
describe a model HF can build and run is a list of :class:`Constraint` values: the
common ones below and each family's own (``Family.constraints``).  The list is data,
interpreted by :func:`first_violation` here (Encoder, the pure-Python twin) and by the C
evaluator for columns of rows (:mod:`bertsize.program` ships it with each plan); both
report the index of the first constraint a row breaks, and :func:`describe` words it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The row: every size a configuration has, in the order the kernel reads them.
#: ``embedding`` 0 means "equal to hidden"; ``hidden_groups`` is ALBERT's;
#: ``bottleneck`` MobileBERT's intra-block width (0 for the families without one).
FIELDS = (
    "layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab",
    "embedding", "hidden_groups", "bottleneck", "batch", "seq_len", "num_labels",
)
FIELD_INDEX = {name: index for index, name in enumerate(FIELDS)}
#: The fields of an Encoder, of a Workload, and of the call (classes of the head).
ENCODER_FIELDS = FIELDS[:10]
WORKLOAD_FIELDS = ("batch", "seq_len")
CALL_FIELDS = ("num_labels",)

#: Constraint kinds, in the order of the C enum (csrc/bs_program.h).
KINDS = ("at_least", "equals", "divides", "zero_or_equal", "within", "multiple", "divisible")
#: The largest k of a "multiple" or "divisible" constraint (the C stage path multiplies
#: fields below 2**52 by it in int64, or divides them by it in doubles).
MAX_MULTIPLE = 2**11


@dataclass(frozen=True)
class Constraint:
    """One rule a row must meet.

    Kinds (``field`` f, ``other`` g, ``k`` an int):
        ``at_least``: f >= k;  ``equals``: f == k;  ``divides``: f divides g;
        ``zero_or_equal``: f == 0 or f == g;  ``within``: f <= g - k;
        ``multiple``: f == k·g (1 <= k <= :data:`MAX_MULTIPLE`);
        ``divisible``: k divides f (1 <= k <= :data:`MAX_MULTIPLE`: SqueezeBERT's
        grouped convolutions).

    ``why`` completes the message of a violation (see :func:`describe`).
    """

    kind: str
    field: str
    other: str | None = None
    k: int = 0
    why: str = ""

    def __post_init__(self) -> None:
        if self.kind == "multiple" and not 1 <= self.k <= MAX_MULTIPLE:
            raise ValueError(f"a 'multiple' constraint needs 1 <= k <= {MAX_MULTIPLE}, got {self.k}")
        if self.kind == "divisible" and not 1 <= self.k <= MAX_MULTIPLE:
            raise ValueError(f"a 'divisible' constraint needs 1 <= k <= {MAX_MULTIPLE}, got {self.k}")

    def holds(self, row: Sequence[int]) -> bool:
        f = row[FIELD_INDEX[self.field]]
        g = row[FIELD_INDEX[self.other]] if self.other is not None else 0
        if self.kind == "at_least":
            return f >= self.k
        if self.kind == "equals":
            return f == self.k
        if self.kind == "divides":
            return f >= 1 and g % f == 0
        if self.kind == "zero_or_equal":
            return f == 0 or f == g
        if self.kind == "multiple":
            return f == self.k * g
        if self.kind == "divisible":
            return f % self.k == 0
        return f <= g - self.k


def positive(name: str) -> Constraint:
    return Constraint("at_least", name, k=1)


#: Sizes every family needs positive, and the head division; checked first, in this order.
SIZES = tuple(positive(name) for name in ("layers", "hidden", "heads", "intermediate", "vocab", "max_positions",
                                          "batch", "seq_len"))
HEADS_DIVIDE_HIDDEN = Constraint("divides", "heads", "hidden", why="every attention head needs hidden / heads features")
EMBEDDING_NOT_NEGATIVE = Constraint("at_least", "embedding", k=0, why="0 means equal to hidden")
NUM_LABELS = positive("num_labels")


def sequence_fits(offset: int) -> Constraint:
    """seq_len within the position table, less the rows a family never uses."""
    return Constraint("within", "seq_len", "max_positions", k=offset)


def row_constraints(family_constraints: Sequence[Constraint], position_offset: int) -> tuple[Constraint, ...]:
    """Every constraint of a family's rows, in the order they are reported."""
    return (*SIZES, HEADS_DIVIDE_HIDDEN, EMBEDDING_NOT_NEGATIVE, *family_constraints, sequence_fits(position_offset),
            NUM_LABELS)


def first_violation(constraints: Sequence[Constraint], row: Sequence[int]) -> int:
    """The index of the first constraint ``row`` breaks, or -1."""
    for index, constraint in enumerate(constraints):
        if not constraint.holds(row):
            return index
    return -1


_EXPRESSIONS = {
    "at_least": "r[{f}] >= {k}",
    "equals": "r[{f}] == {k}",
    "divides": "r[{f}] >= 1 and r[{g}] % r[{f}] == 0",
    "zero_or_equal": "(r[{f}] == 0 or r[{f}] == r[{g}])",
    "within": "r[{f}] <= r[{g}] - {k}",
    "multiple": "r[{f}] == {k} * r[{g}]",
    "divisible": "r[{f}] % {k} == 0",
}


def compile_checker(constraints: Sequence[Constraint], fields: Sequence[str] = FIELDS):
    """A fast ``first_violation`` for rows laid out as ``fields``: one Python expression
    for the common, valid row (generated from the constraints, as dataclasses generates
    ``__init__``), the loop only for an invalid one."""
    index = {name: position for position, name in enumerate(fields)}
    if not constraints:
        return lambda r: -1
    test = " and ".join(_EXPRESSIONS[c.kind].format(f=index[c.field], g=index.get(c.other), k=c.k)
                        for c in constraints)
    namespace = {"_slow": lambda r: first_violation(constraints, _as_row(r, index))}
    exec(f"def check(r):\n    return -1 if {test} else _slow(r)\n", namespace)  # noqa: S102 - generated above
    return namespace["check"]


def _as_row(values: Sequence[int], index: dict[str, int]) -> list[int]:
    row = [0] * len(FIELDS)
    for name, position in index.items():
        row[FIELD_INDEX[name]] = values[position]
    return row


def describe(constraint: Constraint, row: Sequence[int], family: str) -> str:
    """The problem, in words, for a row that breaks ``constraint``."""
    name, value = constraint.field, row[FIELD_INDEX[constraint.field]]
    other = row[FIELD_INDEX[constraint.other]] if constraint.other is not None else None
    why = f" ({constraint.why})" if constraint.why and constraint.kind in ("equals", "at_least") and constraint.k != 1 \
        else ""
    if constraint.kind == "at_least":
        bound = "positive" if constraint.k == 1 else f">= {constraint.k}"
        return f"{name} must be {bound}{why}, got {value}"
    if constraint.kind == "equals":
        return f"{name} must be {constraint.k} for family {family!r}{why}, got {value}"
    if constraint.kind == "divides":
        return f"{name}={value} does not divide {constraint.other}={other}: {constraint.why}"
    if constraint.kind == "zero_or_equal":
        return f"{name}={value} differs from {constraint.other}={other}, but family {family!r} {constraint.why}"
    if constraint.kind == "multiple":
        return (f"{name}={value} is not {constraint.k} x {constraint.other}={other}: family {family!r} "
                f"{constraint.why}")
    if constraint.kind == "divisible":
        return f"{name}={value} is not a multiple of {constraint.k}: family {family!r} {constraint.why}"
    if constraint.why:  # a "within" that is not the position table's
        return f"{name}={value} exceeds {constraint.other}={other} - {constraint.k}: {constraint.why}"
    return (f"{name}={value} exceeds the {other - constraint.k} positions this encoder supports "
            f"({constraint.other}={other})")


def rule(constraint: Constraint) -> str:
    """What a row that breaks ``constraint`` is, in words that need no row (the reasons
    a search counts its skipped points by)."""
    name, other, k = constraint.field, constraint.other, constraint.k
    if constraint.kind == "at_least":
        return f"{name} not positive" if k == 1 else f"{name} below {k}"
    if constraint.kind == "equals":
        return f"{name} not {k} ({constraint.why})" if constraint.why else f"{name} not {k}"
    if constraint.kind == "divides":
        return f"{name} does not divide {other}"
    if constraint.kind == "zero_or_equal":
        return f"{name} differs from {other} (the family {constraint.why})"
    if constraint.kind == "multiple":
        return f"{name} not {k} x {other}"
    if constraint.kind == "divisible":
        return f"{name} not a multiple of {k}"
    extra = f" - {k}" if k else ""
    if constraint.why:
        return f"{name} above {other}{extra}"
    return f"{name} beyond the position table ({other}{extra})"

