"""The plan compiler: the recipe on symbolic sizes, emitted as a program for the evaluator.

:func:`compile_plan` runs the recipe (:mod:`bertsize.recipe`) once per option set on the
symbolic domain (:mod:`bertsize.symbolic`).  Where the recipe asks ``t.branch`` a
question about sizes (ELECTRA's projection exists only when the embedding width differs
from hidden; one label is a regression), the compiler traces each answer and joins the
results with ``where`` nodes.  The result, a :class:`Plan`, holds one polynomial
expression per quantity of :mod:`bertsize.metrics`, the roofline's terms and the row
constraints of the family.  Plans are cached per option set.

:func:`emit` specialises a plan to one call — the fields that are constants for every
row are substituted and folded, only the quantities asked for are kept — and lays it
out as a :class:`Program`: a straight-line list of instructions over *slots* (one value
per slot per row), which the C evaluator (csrc/bs_program.h) and :func:`run` execute.

Instructions (``op, dst, a, b, c, k``; ``s[i]`` is slot i):

========== ===========================================================
field      s[dst] = row[a]
const      s[dst] = k
mul        s[dst] = s[a] * s[b]
linear     s[dst] = k + sum(coeff * s[slot] for the b terms from a)
max / min  s[dst] = max / min(s[a], s[b])
where      s[dst] = s[a] if s[c] else s[b]
eq ne ge gt  s[dst] = s[a] OP s[b]  (1 or 0)
ceil_div   s[dst] = ceil(s[a] / k)
floor_div  s[dst] = floor(s[a] / k)
minus      s[dst] = s[a] - k
difference s[dst] = s[a] - s[b]  (s[b] <= s[a] on a valid row; s[a] bounds it)
========== ===========================================================

Overflow (the contract of :mod:`bertsize.metrics`): a slot is *flagged* when its exact
value passes int64 — the product of a flagged value and a zero is a zero, a maximum is
flagged with either argument, a minimum only with both, a choice with the chosen
branch, a division with its dividend.  Every coefficient is non-negative and every slot
non-negative on a valid row, so an output is flagged exactly when the oracle says the
metric overflows, and one evaluation at the largest sizes of a block of rows (with
``where`` taking the larger branch) bounds every slot of every row in it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bertsize import metrics, roofline, states, symbolic, validity
from bertsize.families import FAMILIES
from bertsize.options import Options
from bertsize.recipe import Model, Sizes, trace as trace_recipe
from bertsize.symbolic import Condition, Expr, Symbolic
from bertsize.tracer import Tracer
from bertsize.validity import FIELD_INDEX, FIELDS

#: Instruction codes, in the order of the C enum ``bs_op`` (csrc/bs_program.h).
OPS = ("field", "const", "mul", "linear", "max", "min", "where", "eq", "ne", "ge", "gt", "ceil_div", "floor_div",
       "minus", "difference")
OP = {name: code for code, name in enumerate(OPS)}
#: The program ABI version: csrc/bs_program.h refuses another.
ABI_VERSION = 5
INT64_MAX = symbolic.INT64_MAX


# --------------------------------------------------------------------------------------
# Plans: the recipe on symbols
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """One option set, compiled: an expression per quantity (:data:`metrics.QUANTITIES`),
    the roofline terms, and the family's row constraints."""

    options: Options
    quantities: Mapping[str, object]
    terms: tuple[roofline.Term, ...]
    constraints: tuple[validity.Constraint, ...]


def _symbolic_sizes() -> dict[str, Expr]:
    return {name: symbolic.field(name) for name in FIELDS}


def _trace_once(options: Options, decide) -> tuple[dict, list[roofline.Term]]:
    num = Symbolic()
    sizes = Sizes.of(_symbolic_sizes(), num, options)
    forward = trace_recipe(Tracer(num, options, sizes, decide), Model.of(options, sizes))
    values = {name: metric.formula(forward, options, num) for name, metric in metrics.QUANTITIES.items()}
    per_rank = [states.per_rank_bytes(state, forward.parameters.values(), options, num,
                                      forward.matmul_weight_elements) for state in ("weights", "grads", "optimizer")]
    exchanged = states.exchanged_bytes(forward.parameters.values(), options, num)
    return values, roofline.terms(forward, options, values["params"], per_rank, exchanged)


def _explore(options: Options) -> list[tuple[list[tuple[Condition, bool]], dict, list]]:
    """Every path through the recipe's branches: (decisions, quantities, terms) each.
    A path takes False at each new question; the others are visited depth first."""
    leaves, pending = [], [[]]
    while pending:
        prefix = pending.pop()
        taken: list[tuple[Condition, bool]] = []

        def decide(condition: Condition) -> bool:
            for seen, answer in taken:
                if seen.key() == condition.key():
                    return answer
            answer = prefix[len(taken)] if len(taken) < len(prefix) else False
            taken.append((condition, answer))
            return answer

        values, terms = _trace_once(options, decide)
        leaves.append((taken, values, terms))
        for depth in range(len(prefix), len(taken)):
            pending.append([answer for _, answer in taken[:depth]] + [True])
    return leaves


def _join(leaves: list, pick, depth: int = 0):
    """One value from every path: ``where`` on the first question they differ at."""
    if len(leaves) == 1:
        return pick(leaves[0])
    condition = leaves[0][0][depth][0]
    yes = [leaf for leaf in leaves if leaf[0][depth][1]]
    no = [leaf for leaf in leaves if not leaf[0][depth][1]]
    return Symbolic.where(condition, _join(yes, pick, depth + 1), _join(no, pick, depth + 1))


def _joined_terms(leaves: list) -> tuple[roofline.Term, ...]:
    """The roofline terms of every path, a term's repeats 0 on the paths without it."""
    keys: dict[tuple, None] = {}
    for _, _, terms in leaves:
        for term in terms:
            keys.setdefault((term.flops, term.elements, term.raw, term.raw_factor, term.link), None)

    def repeats_of(key):
        def pick(leaf):
            return sum((t.repeats for t in leaf[2] if (t.flops, t.elements, t.raw, t.raw_factor, t.link) == key), 0)
        return pick

    return tuple(roofline.Term(*key[:4], _join(leaves, repeats_of(key)), link=key[4]) for key in keys)


@functools.lru_cache(maxsize=512)
def compile_plan(options: Options) -> Plan:
    """The plan of one option set (cached)."""
    leaves = _explore(options)
    quantities = {name: _join(leaves, lambda leaf, n=name: leaf[1][n]) for name in metrics.QUANTITIES}
    return Plan(options, quantities, _joined_terms(leaves), FAMILIES[options.family].row_constraints)


# --------------------------------------------------------------------------------------
# Programs: a plan laid out for the evaluator
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Program:
    """A specialised plan as flat arrays (the C evaluator's input).

    Attributes:
        instructions: int64 (n, 6): op, dst, a, b, c, k.
        terms: int64 (m, 2): slot, coefficient (of ``linear`` instructions).
        outputs: int64, one slot per quantity asked for (in the order asked).
        n_slots: slots a row needs.
        latency_start: instructions from this index on are needed only for the latency.
        latency_terms: int64 (t, 5): slots of flops, elements, raw, repeats, and 1 for a
            transfer over the link between ranks (0 for an op on the device);
        latency_factors: float64 (t,): the raw-byte factor of each.
        constraints: int64 (r, 4): kind, field, other field (-1: none), k.
        fields: the row fields the program reads (a column of any other is ignored).
        names: the quantities of ``outputs``.
        header: int64 [ABI version, n_slots, counts...] the evaluator checks.
    """

    instructions: np.ndarray
    terms: np.ndarray
    outputs: np.ndarray
    n_slots: int
    latency_start: int
    latency_terms: np.ndarray
    latency_factors: np.ndarray
    constraints: np.ndarray
    fields: tuple[str, ...]
    names: tuple[str, ...]
    header: np.ndarray


class _Emitter:
    """Lays expressions out as instructions, each value computed once."""

    def __init__(self, constants: Mapping[str, int]) -> None:
        self.constants = constants
        self.memo: dict = {}
        self.instructions: list[tuple[int, int, int, int, int, int]] = []
        self.terms: list[tuple[int, int]] = []
        self.n_slots = 0
        self._slots: dict = {}
        self._sums: list[tuple[int, Expr]] = []  # (slot, expression) of each sum laid out
        self._products: dict[tuple, int] = {}  # monomial -> slot, of each product laid out
        self.fields: set[str] = set()

    def _instruction(self, op: str, a: int = 0, b: int = 0, c: int = 0, k: int = 0) -> int:
        dst = self.n_slots
        self.n_slots += 1
        self.instructions.append((OP[op], dst, a, b, c, k))
        return dst

    def _once(self, key, make) -> int:
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = make()
        return slot

    def constant(self, value: int) -> int:
        if not 0 <= value <= INT64_MAX:
            raise OverflowError(f"a plan constant {value} is outside int64")
        return self._once(("const", value), lambda: self._instruction("const", k=value))

    def specialised(self, expr):
        return symbolic.substitute(expr, self.constants, self.memo)

    def expression(self, expr) -> int:
        """The slot of a (specialised) expression."""
        if isinstance(expr, int):
            return self.constant(expr)
        constant = expr.constant
        if constant is not None:
            return self.constant(constant)
        if len(expr.terms) == 1:
            ((monomial, coefficient),) = expr.terms.items()
            if coefficient == 1 and monomial:
                return self.monomial(monomial)
        return self._once(("linear", expr), lambda: self._linear(expr))

    def _linear(self, expr: Expr) -> int:
        """A sum of monomials, written over the sums already laid out where it contains
        multiples of them (peak bytes = 16 x params + activations): each taken whole
        leaves a remainder with non-negative coefficients, so every partial sum is still
        at most the result."""
        remainder = dict(expr.terms)
        parts: list[tuple[int, int]] = []
        for slot, earlier in sorted(self._sums, key=lambda sum_: -len(sum_[1].terms)):
            times = min((remainder.get(m, 0) // c for m, c in earlier.terms.items()), default=0)
            if times >= 1 and len(earlier.terms) > 1:
                for m, c in earlier.terms.items():
                    remainder[m] -= times * c
                parts.append((slot, times))
        parts += sorted((self.monomial(m), c) for m, c in remainder.items() if m and c)
        start = len(self.terms)
        self.terms.extend(parts)
        slot = self._instruction("linear", start, len(parts), 0, remainder.get((), 0))
        self._sums.append((slot, expr))
        return slot

    def monomial(self, monomial: tuple) -> int:
        """The slot of a product of atoms: from the largest product already laid out that
        divides it, one multiplication per atom left (each partial product a slot of its
        own, for the monomials still to come)."""
        slot = self._slots.get(("monomial", monomial))
        if slot is not None:
            return slot
        if len(monomial) == 1 and monomial[0][1] == 1:
            slot = self.atom(monomial[0][0])
            self._slots[("monomial", monomial)] = slot
            self._products[monomial] = slot
            return slot
        powers = dict(monomial)
        best, best_degree = None, 0
        for product in self._products:
            degree = sum(e for _, e in product)
            if degree > best_degree and all(powers.get(a, 0) >= e for a, e in product):
                best, best_degree = product, degree
        if best is None:
            first = monomial[0][0]
            best = ((first, 1),)
            self.monomial(best)
        current, slot = dict(best), self._products[best]
        for atom, exponent in monomial:
            while current.get(atom, 0) < exponent:
                current[atom] = current.get(atom, 0) + 1
                key = tuple(sorted(current.items()))
                known = self._slots.get(("monomial", key))
                slot = known if known is not None else self._instruction("mul", slot, self.atom(atom))
                self._slots[("monomial", key)] = slot
                self._products[key] = slot
        return slot

    def plan_monomials(self, exprs: Iterable) -> None:
        """Lay out the monomials of ``exprs`` smallest first, so that each larger one
        finds the most of itself already multiplied out."""
        monomials = {m for e in exprs if isinstance(e, Expr) for m in e.terms if m}
        for monomial in sorted(monomials, key=lambda m: (sum(e for _, e in m), [a.order for a, _ in m])):
            self.monomial(monomial)

    def atom(self, atom: symbolic.Atom) -> int:
        def make() -> int:
            kind, args = atom.kind, atom.args
            if kind == "field":
                self.fields.add(args[0])
                return self._instruction("field", FIELD_INDEX[args[0]])
            if kind in ("max", "min"):
                slots = [self.expression(a) for a in args]
                result = slots[0]
                for slot in slots[1:]:
                    result = self._instruction(kind, result, slot)
                return result
            if kind == "where":
                op, left, right, yes, no = args
                condition = self._instruction(op, self.expression(left), self.expression(right))
                return self._instruction("where", self.expression(yes), self.expression(no), condition)
            if kind in ("ceil_div", "floor_div", "minus"):
                return self._instruction(kind, self.expression(args[0]), k=args[1])
            if kind == "difference":
                return self._instruction(kind, self.expression(args[0]), self.expression(args[1]))
            raise ValueError(f"unknown node {kind!r}")
        return self._once(("atom", atom), make)


def emit(plan: Plan, constants: Mapping[str, int], names: Sequence[str], latency: bool = False) -> Program:
    """``plan`` for rows whose fields ``constants`` are fixed, computing the quantities
    ``names`` (and, with ``latency``, the roofline terms).

    Raises:
        OverflowError: a constant folds to a value outside int64 (the caller evaluates
            such rows with every field a column instead).
    """
    emitter = _Emitter({name: int(value) for name, value in constants.items()})
    specialised = [emitter.specialised(plan.quantities[name]) for name in names]
    emitter.plan_monomials(specialised)
    outputs = [emitter.expression(expr) for expr in specialised]
    latency_start = len(emitter.instructions)
    latency_terms, factors, links = [], [], []
    if latency:
        for term in plan.terms:
            repeats = emitter.specialised(term.repeats)
            if repeats == 0:
                continue
            latency_terms.append([emitter.expression(emitter.specialised(part))
                                  for part in (term.flops, term.elements, term.raw)] + [emitter.expression(repeats)])
            factors.append(term.raw_factor)
            links.append(int(term.link))
    constraints = [(validity.KINDS.index(c.kind), FIELD_INDEX[c.field],
                    -1 if c.other is None else FIELD_INDEX[c.other], c.k) for c in plan.constraints]
    instructions, terms, n_slots, physical = _allocate(emitter.instructions, emitter.terms,
                                                       outputs + [s for term in latency_terms for s in term])
    outputs = [physical[s] for s in outputs]
    # a term: its four slots (FLOPs, elements, raw bytes, repeats), then 1 for a transfer over the link
    latency_array = np.array([[physical[s] for s in term] + [link] for term, link in zip(latency_terms, links)],
                             dtype=np.int64).reshape(-1, 5)
    header = np.array([ABI_VERSION, n_slots, len(instructions), len(terms), len(outputs), latency_start,
                       len(latency_array), len(constraints), len(FIELDS)], dtype=np.int64)
    return Program(instructions, terms, np.array(outputs, dtype=np.int64), n_slots, latency_start,
                   latency_array, np.array(factors, dtype=np.float64), np.array(constraints, dtype=np.int64).reshape(-1, 4),
                   tuple(sorted(emitter.fields, key=FIELD_INDEX.get)), tuple(names), header)


def check_indices(program: Program) -> None:
    """Raise ValueError unless every slot, term, field and constraint index of
    ``program`` is in range (what the evaluator indexes without checking)."""
    terms = program.terms.tolist()
    n = program.n_slots
    for instruction in program.instructions.tolist():
        op, dst, a, b, c, k = instruction
        if not 0 <= op < len(OPS) or not 0 <= dst < n:
            raise ValueError(f"program instruction {instruction}: no such op or slot")
        if OPS[op] == "field" and not 0 <= a < len(FIELDS):
            raise ValueError(f"program instruction {instruction}: no such field")
        if OPS[op] == "linear" and not (0 <= a and 0 <= b and a + b <= len(terms)):
            raise ValueError(f"program instruction {instruction}: terms out of range")
        if OPS[op] in ("ceil_div", "floor_div") and k < 1:
            raise ValueError(f"program instruction {instruction}: divisor below 1")
        if any(not 0 <= s < n for s in _reads(instruction, terms)):
            raise ValueError(f"program instruction {instruction} reads a slot outside its {n}")
    used = program.outputs.tolist() + program.latency_terms[:, :4].ravel().tolist()
    if any(not 0 <= s < n for s in used):
        raise ValueError("program outputs or latency terms name a slot outside its n_slots")
    for kind, field, other, k in program.constraints.tolist():
        if not (0 <= kind < len(validity.KINDS) and 0 <= field < len(FIELDS) and -1 <= other < len(FIELDS)):
            raise ValueError("program constraint out of range")
        # the C evaluator divides by these k (a zero or negative one would trap)
        if validity.KINDS[kind] in ("multiple", "divisible") and not 1 <= k <= validity.MAX_MULTIPLE:
            raise ValueError(f"program constraint {validity.KINDS[kind]!r}: k={k} outside 1..{validity.MAX_MULTIPLE}")


#: The instructions whose a and b are both slots (where reads c too; linear reads terms).
_TWO_SLOTS = frozenset(("mul", "max", "min", "eq", "ne", "ge", "gt", "difference"))


def _reads(instruction: tuple, terms: list[tuple[int, int]]) -> list[int]:
    op, _, a, b, c, _ = instruction
    name = OPS[op]
    if name in ("field", "const"):
        return []
    if name == "linear":
        return [slot for slot, _ in terms[a:a + b]]
    if name == "where":
        return [a, b, c]
    if name in _TWO_SLOTS:
        return [a, b]
    return [a]


def _allocate(instructions: list, terms: list, kept: list[int]):
    """Physical slots for the emitter's values: a value's slot is reused once its last
    reader has run (the slots of a stage of rows then stay in the L1 cache); the
    outputs and latency terms ``kept`` live to the end."""
    last_read: dict[int, int] = {}
    for index, instruction in enumerate(instructions):
        for slot in _reads(instruction, terms):
            last_read[slot] = index
    for slot in kept:
        last_read[slot] = len(instructions)
    physical: dict[int, int] = {}
    free: list[int] = []
    n_slots = 0
    placed, new_terms = [], []
    for index, instruction in enumerate(instructions):
        op, dst, a, b, c, k = instruction
        name = OPS[op]
        if name == "linear":
            start = len(new_terms)
            new_terms.extend((physical[slot], coefficient) for slot, coefficient in terms[a:a + b])
            a = start
        elif name not in ("field", "const"):
            a = physical[a]
            b = physical[b] if name in _TWO_SLOTS or name == "where" else b
            c = physical[c] if name == "where" else c
        if free:
            physical[dst] = free.pop()
        else:
            physical[dst], n_slots = n_slots, n_slots + 1
        placed.append((op, physical[dst], a, b, c, k))
        for slot in set(_reads(instruction, terms)):
            if last_read[slot] == index:
                free.append(physical[slot])
        if last_read.get(dst, -1) < index:  # never read (cannot happen for kept values)
            free.append(physical[dst])
    return (np.array(placed, dtype=np.int64).reshape(-1, 6), np.array(new_terms, dtype=np.int64).reshape(-1, 2),
            n_slots, physical)


def constraints_program(constraints: tuple[validity.Constraint, ...]) -> Program:
    """A program of row constraints only (what Encoder.replace checks)."""
    return emit(Plan(None, {}, (), constraints), {}, ())


def scalar_program(encoder_options: tuple, workload_options: tuple, head: str) -> Program:
    """The program of estimate(): every metric (in :data:`metrics.NAMES` order) and the
    roofline terms, every field a row input."""
    return emit(compile_plan(Options.of(encoder_options, workload_options, head)), {}, metrics.NAMES, latency=True)


@functools.lru_cache(maxsize=256)
def specialised(options: Options, constants: tuple[tuple[str, int], ...], names: tuple[str, ...],
                latency: bool) -> Program:
    """The program of ``names`` (and the latency terms) for rows whose fields
    ``constants`` are fixed: :func:`emit` of the option set's plan, or, when a folded
    constant passes int64, the plan with every field a row input (whose outputs then
    flag the overflow row by row)."""
    plan = compile_plan(options)
    try:
        return emit(plan, dict(constants), names, latency)
    except OverflowError:
        return emit(plan, {}, names, latency)


# --------------------------------------------------------------------------------------
# Reading a plan: monotonicity, the (seq_len, batch) plane
# --------------------------------------------------------------------------------------
def is_monotone(expr, fields: Iterable[str], ranges: Mapping[str, tuple[int, int]] | None = None) -> bool:
    """Whether ``expr`` provably never decreases when any of ``fields`` grows (the
    others fixed).  Polynomials with non-negative coefficients over non-decreasing atoms
    never do; max, min and the divisions are non-decreasing; a ``where`` is, when its
    condition does not depend on the fields, or cannot change over ``ranges`` (field ->
    (least, largest value); a field against a constant outside them), or when it
    switches, as a field grows, to a branch no smaller than the other (``ge`` / ``gt``
    with the larger branch first)."""
    fields = set(fields)
    if isinstance(expr, int):
        return True
    return all(_atom_is_monotone(atom, fields, ranges or {}) for atom in expr.atoms())


def _settled(op: str, left, right, ranges: Mapping[str, tuple[int, int]]) -> bool:
    """Whether the comparison of a field with a constant has one answer over ``ranges``."""
    left, right = Expr.of(left), Expr.of(right)
    if right.constant is None or len(left.terms) != 1:
        return False
    ((monomial, coefficient),) = left.terms.items()
    if coefficient != 1 or len(monomial) != 1 or monomial[0][1] != 1 or monomial[0][0].field not in ranges:
        return False
    low, high = ranges[monomial[0][0].field]
    k = right.constant
    return {"eq": not low <= k <= high, "ne": not low <= k <= high, "ge": k <= low or k > high,
            "gt": k < low or k >= high}[op]


def _atom_is_monotone(atom: symbolic.Atom, fields: set[str], ranges: Mapping[str, tuple[int, int]]) -> bool:
    kind, args = atom.kind, atom.args
    if kind == "field":
        return True
    if kind == "difference":  # falls as its subtrahend grows
        minuend, subtrahend = args
        return is_monotone(minuend, fields, ranges) and not symbolic.fields_of(subtrahend) & fields
    if kind == "where":
        op, left, right, yes, no = args
        if not (is_monotone(yes, fields, ranges) and is_monotone(no, fields, ranges)):
            return False
        if not (symbolic.fields_of(left) | symbolic.fields_of(right)) & fields or _settled(op, left, right, ranges):
            return True
        switches_up = op in ("ge", "gt") and is_monotone(left, fields, ranges) and Expr.of(right).constant is not None
        return switches_up and Expr.of(no).dominated_by(Expr.of(yes))
    return all(is_monotone(a, fields, ranges) for a in symbolic.node_arguments(atom))


def plane_coefficients(expr, seq_len: str = "seq_len", batch: str = "batch"):
    """``(c, k0, k1, k2)`` with ``expr == c + b * (k0 + k1 * s + k2 * s**2)`` in the batch b
    and the sequence length s, or None when it does not have that form (a node depends
    on b or s, or a monomial has another degree)."""
    expr = Expr.of(expr)
    parts: list[dict] = [{}, {}, {}, {}]
    for monomial, coefficient in expr.terms.items():
        degrees = {batch: 0, seq_len: 0}
        rest = []
        for atom, exponent in monomial:
            if atom.field in degrees:
                degrees[atom.field] = exponent
            elif symbolic.fields_of(Expr.atom(atom)) & {batch, seq_len}:
                return None
            else:
                rest.append((atom, exponent))
        b, s = degrees[batch], degrees[seq_len]
        if b == 0 and s == 0:
            slot = 0
        elif b == 1 and s <= 2:
            slot = 1 + s
        else:
            return None
        parts[slot][tuple(rest)] = parts[slot].get(tuple(rest), 0) + coefficient
    return tuple(Expr(p) for p in parts)


def plane_program(options: Options, constants: tuple[tuple[str, int], ...], caps: Sequence[str],
                  floors: Sequence[str]) -> Program | None:
    """The search walker's (seq_len, batch) plane: a program whose outputs are, for each
    quantity of ``caps``, its closed form's (c, k0, k1, k2) (:func:`plane_coefficients`),
    then each quantity of ``floors``, as functions of the fields that are neither
    constants nor seq_len and batch; None when one of them lacks that form (or a folded
    constant passes int64: the general walk then flags the rows it overflows)."""
    plan = compile_plan(options)
    memo: dict = {}
    parts: list = []
    try:
        for name in caps:
            coefficients = plane_coefficients(symbolic.substitute(plan.quantities[name], dict(constants), memo))
            if coefficients is None:
                return None
            parts.extend(coefficients)
        for name in floors:
            floor = symbolic.substitute(plan.quantities[name], dict(constants), memo)
            if symbolic.fields_of(floor) & {"seq_len", "batch"}:
                return None
            parts.append(floor)
        quantities = {f"plane{k}": part for k, part in enumerate(parts)}
        return emit(Plan(options, quantities, (), ()), {}, tuple(quantities))
    except OverflowError:
        return None


def specialised_quantities(options: Options, constants: tuple[tuple[str, int], ...], names: Sequence[str]) -> list:
    """The expressions of the quantities ``names`` with the fields ``constants`` folded
    (unfolded where a folded constant would pass int64)."""
    plan = compile_plan(options)
    memo: dict = {}
    try:
        return [symbolic.substitute(plan.quantities[name], dict(constants), memo) for name in names]
    except OverflowError:
        return [plan.quantities[name] for name in names]


# --------------------------------------------------------------------------------------
# The semantics, in Python: one row through a program (tests hold the C evaluator to it)
# --------------------------------------------------------------------------------------
def run(program: Program, row: Sequence[int]) -> tuple[list[int | None], int]:
    """The outputs of ``program`` for one row (None where flagged: past int64), and the
    index of the first constraint the row breaks (-1 when it is valid; then no output)."""
    for index, (kind, field, other, k) in enumerate(program.constraints.tolist()):
        constraint = validity.Constraint(validity.KINDS[kind], FIELDS[field], None if other < 0 else FIELDS[other], k)
        if not constraint.holds(row):
            return [None] * len(program.outputs), index
    value = [0] * program.n_slots
    flagged = [False] * program.n_slots
    terms = program.terms.tolist()
    for op, dst, a, b, c, k in program.instructions[:program.latency_start].tolist():
        name = OPS[op]
        if name == "field":
            v, f = row[a], False
        elif name == "const":
            v, f = k, False
        elif name == "mul":
            zero = (value[a] == 0 and not flagged[a]) or (value[b] == 0 and not flagged[b])
            v = 0 if zero else value[a] * value[b]
            f = not zero and (flagged[a] or flagged[b] or v > INT64_MAX)
        elif name == "linear":
            v, f = k, False
            for slot, coefficient in terms[a:a + b]:
                v += coefficient * value[slot]
                f |= flagged[slot]
            f |= v > INT64_MAX
        elif name in ("max", "min"):
            v = max(value[a], value[b]) if name == "max" else min(value[a], value[b])
            f = (flagged[a] or flagged[b]) if name == "max" else (flagged[a] and flagged[b])
            if name == "min" and flagged[a] != flagged[b]:
                v = value[b] if flagged[a] else value[a]
        elif name == "where":
            chosen = a if value[c] else b
            v, f = value[chosen], flagged[chosen] or flagged[c]
        elif name in ("eq", "ne", "ge", "gt"):
            v, f = int(symbolic.COMPARISONS[name](value[a], value[b])), flagged[a] and flagged[b]
        elif name in ("ceil_div", "floor_div"):
            v = -(-value[a] // k) if name == "ceil_div" else value[a] // k
            f = flagged[a]
        elif name == "difference":
            v, f = value[a] - value[b], flagged[a] or flagged[b]
        else:
            v, f = value[a] - k, flagged[a]
        value[dst], flagged[dst] = v, f
    return [None if flagged[s] else value[s] for s in program.outputs.tolist()], -1
