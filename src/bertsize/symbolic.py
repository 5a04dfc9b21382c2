"""Sizes as symbols: integer polynomials over the row fields, and the few piecewise nodes.

The recipe (:mod:`bertsize.recipe`) runs on numbers of a *domain*: Python ints in the
oracle, :class:`Expr` here.  An :class:`Expr` is a sparse integer polynomial whose
variables are *atoms*: the row fields (``Field``) and the values of piecewise nodes —
``max``, ``min``, ``where`` (a choice on a comparison), ``ceil_div`` / ``floor_div`` by a
constant, ``minus`` (a field less a constant it is known to exceed) and ``difference``
(one size less another that a row constraint keeps at most it: MobileBERT's hidden less
its embedding width).  A node's
arguments are Exprs themselves, so ``V * where(E == 0, H, E)`` is one monomial over two
atoms.  Atoms are interned: structurally equal nodes are one atom, so their value is
computed once per row by the evaluator (:mod:`bertsize.program`).

Invariant the evaluators rely on (checked where nodes are built): every coefficient of
every polynomial is non-negative, and every atom is non-negative on a valid row.  Then
every intermediate value is at most the metric it is part of, and one evaluation at the
largest sizes of a block bounds every value of every row below them.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping

#: Comparisons a ``where`` node may test, with their meaning on ints.
COMPARISONS = {"eq": operator.eq, "ne": operator.ne, "ge": operator.ge, "gt": operator.gt}
_NEGATION = {"eq": "ne", "ne": "eq"}


class Atom:
    """A variable of the polynomials: a row field or a piecewise node (interned)."""

    __slots__ = ("kind", "args", "order", "_hash", "__weakref__")
    _interned: dict[tuple, Atom] = {}
    _counter = itertools.count()

    def __new__(cls, kind: str, args: tuple) -> Atom:
        key = (kind, args)
        atom = cls._interned.get(key)
        if atom is None:
            atom = object.__new__(cls)
            atom.kind, atom.args, atom.order = kind, args, next(cls._counter)
            atom._hash = hash(key)
            cls._interned[key] = atom
        return atom

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: Atom) -> bool:
        return self.order < other.order

    def __repr__(self) -> str:
        if self.kind == "field":
            return self.args[0]
        return f"{self.kind}({', '.join(map(repr, self.args))})"

    @property
    def field(self) -> str | None:
        """The field name of a field atom, else None."""
        return self.args[0] if self.kind == "field" else None


def _monomial_product(a: tuple, b: tuple) -> tuple:
    if not a:
        return b
    if not b:
        return a
    powers = dict(a)
    for atom, exponent in b:
        powers[atom] = powers.get(atom, 0) + exponent
    return tuple(sorted(powers.items()))


class Expr:
    """An integer polynomial over atoms: ``{monomial: coefficient}``, monomials being
    sorted tuples of ``(atom, exponent)``; the empty monomial is the constant term."""

    __slots__ = ("terms", "_hash")

    def __init__(self, terms: Mapping[tuple, int]) -> None:
        self.terms = {m: c for m, c in terms.items() if c}
        self._hash = None

    @staticmethod
    def of(value: int | Expr) -> Expr:
        if isinstance(value, Expr):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"symbolic sizes combine with ints, got {value!r}")
        return Expr({(): value})

    @staticmethod
    def atom(atom: Atom) -> Expr:
        return Expr({((atom, 1),): 1})

    # ----- arithmetic --------------------------------------------------------------
    def __add__(self, other: int | Expr) -> Expr:
        other = Expr.of(other)
        terms = dict(self.terms)
        for monomial, coefficient in other.terms.items():
            terms[monomial] = terms.get(monomial, 0) + coefficient
        return Expr(terms)

    __radd__ = __add__

    def __mul__(self, other: int | Expr) -> Expr:
        if isinstance(other, int) and not isinstance(other, bool):
            return Expr({m: c * other for m, c in self.terms.items()})
        other = Expr.of(other)
        terms: dict[tuple, int] = {}
        for (m1, c1), (m2, c2) in itertools.product(self.terms.items(), other.terms.items()):
            monomial = _monomial_product(m1, m2)
            terms[monomial] = terms.get(monomial, 0) + c1 * c2
        return Expr(terms)

    __rmul__ = __mul__

    # ----- identity ------------------------------------------------------------------
    def key(self) -> frozenset:
        return frozenset(self.terms.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int) and not isinstance(other, bool):
            other = Expr.of(other)
        return isinstance(other, Expr) and self.terms == other.terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.key())
        return self._hash

    def __repr__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for monomial, coefficient in sorted(self.terms.items(), key=lambda t: [a.order for a, _ in t[0]]):
            factors = [repr(a) if e == 1 else f"{a!r}^{e}" for a, e in monomial]
            parts.append("*".join(([str(coefficient)] if coefficient != 1 or not factors else []) + factors))
        return " + ".join(parts)

    # ----- inspection ----------------------------------------------------------------
    @property
    def constant(self) -> int | None:
        """The value when the polynomial is a constant, else None."""
        if not self.terms:
            return 0
        if len(self.terms) == 1 and () in self.terms:
            return self.terms[()]
        return None

    def atoms(self) -> set[Atom]:
        """The atoms of its monomials (not those inside nodes)."""
        return {atom for monomial in self.terms for atom, _ in monomial}

    def dominated_by(self, other: Expr) -> bool:
        """Whether ``self <= other`` for every value of the atoms (all are >= 0): each
        coefficient of self is at most other's."""
        return all(other.terms.get(m, 0) >= c for m, c in self.terms.items())


def _check_non_negative(expr: Expr, where: str) -> Expr:
    if any(c < 0 for c in expr.terms.values()):
        raise ValueError(f"symbolic {where}: negative coefficient in {expr!r} (polynomials must be non-negative)")
    return expr


def field(name: str) -> Expr:
    """The row field ``name`` as a polynomial."""
    return Expr.atom(Atom("field", (name,)))


# ------------------------------------------------------------------------------------
# The symbolic domain: what the tracer calls where the int domain calls max / min / ...
# ------------------------------------------------------------------------------------
class Condition:
    """A comparison of two polynomials, undecided at trace time."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op, self.left, self.right = op, left, right

    def key(self) -> tuple:
        return (self.op, self.left, self.right)

    def negated(self) -> Condition | None:
        op = _NEGATION.get(self.op)
        return None if op is None else Condition(op, self.left, self.right)

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"


def _decide(op: str, left: Expr, right: Expr) -> bool | Condition:
    a, b = left.constant, right.constant
    if a is not None and b is not None:
        return COMPARISONS[op](a, b)
    if left == right:
        return op in ("eq", "ge")
    return Condition(op, left, right)


class Symbolic:
    """The number domain of the plan compiler (see the module docstring)."""

    name = "symbolic"

    @staticmethod
    def compare(op: str, left: int | Expr, right: int | Expr) -> bool | Condition:
        return _decide(op, Expr.of(left), Expr.of(right))

    @staticmethod
    def max(*values: int | Expr) -> int | Expr:
        return _extremum("max", values)

    @staticmethod
    def min(a: int | Expr, b: int | Expr) -> int | Expr:
        return _extremum("min", (a, b))

    @staticmethod
    def where(condition: bool | Condition, a: int | Expr, b: int | Expr) -> int | Expr:
        if isinstance(condition, bool):
            return a if condition else b
        a, b = Expr.of(a), Expr.of(b)
        if a == b:
            return a
        _check_non_negative(a, "where")
        _check_non_negative(b, "where")
        return Expr.atom(Atom("where", (condition.op, condition.left, condition.right, a, b)))

    @staticmethod
    def ceil_div(a: int | Expr, divisor: int) -> int | Expr:
        return _divide("ceil_div", a, divisor)

    @staticmethod
    def floor_div(a: int | Expr, divisor: int) -> int | Expr:
        return _divide("floor_div", a, divisor)

    @staticmethod
    def minus(a: int | Expr, k: int) -> int | Expr:
        """``a - k`` where ``a >= k`` on every valid row (layers - 1)."""
        a = Expr.of(a)
        if a.constant is not None:
            return a.constant - k
        if k == 0:
            return a
        return Expr.atom(Atom("minus", (_check_non_negative(a, "minus"), k)))

    @staticmethod
    def difference(a: int | Expr, b: int | Expr) -> int | Expr:
        """``a - b`` where a row constraint keeps ``b <= a`` on every valid row.  The
        only node that decreases as a field grows (its subtrahend's): monotonicity
        (:func:`bertsize.program.is_monotone`) and the evaluators' bounds (the minuend
        bounds it) say so."""
        a, b = Expr.of(a), Expr.of(b)
        if b.constant == 0:
            return a
        if a.constant is not None and b.constant is not None:
            return a.constant - b.constant
        return Expr.atom(Atom("difference", (_check_non_negative(a, "difference"),
                                             _check_non_negative(b, "difference"))))


def _extremum(kind: str, values: Iterable[int | Expr]) -> int | Expr:
    exprs = list(dict.fromkeys(Expr.of(v) for v in values))
    constants = [e.constant for e in exprs if e.constant is not None]
    if kind == "max":
        # drop every argument another one bounds above (coefficient by coefficient)
        kept = [e for i, e in enumerate(exprs)
                if not any(j != i and e.dominated_by(o) and not (o.dominated_by(e) and j > i)
                           for j, o in enumerate(exprs))]
    else:
        kept = [e for i, e in enumerate(exprs)
                if not any(j != i and o.dominated_by(e) and not (e.dominated_by(o) and j > i)
                           for j, o in enumerate(exprs))]
    if len(constants) == len(exprs):
        return (max if kind == "max" else min)(constants)
    if len(kept) == 1:
        return kept[0]
    for e in kept:
        _check_non_negative(e, kind)
    return Expr.atom(Atom(kind, tuple(sorted(kept, key=repr))))


def _divide(kind: str, a: int | Expr, divisor: int) -> int | Expr:
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f"{kind} needs a positive int divisor, got {divisor!r}")
    a = Expr.of(a)
    if a.constant is not None:
        return -(-a.constant // divisor) if kind == "ceil_div" else a.constant // divisor
    if divisor == 1:
        return a
    return Expr.atom(Atom(kind, (_check_non_negative(a, kind), divisor)))


# ------------------------------------------------------------------------------------
# Evaluation at a point, substitution of constants
# ------------------------------------------------------------------------------------
def evaluate(expr: int | Expr, env: Mapping[str, int], memo: dict | None = None) -> int:
    """The exact value of ``expr`` with each field ``name`` set to ``env[name]``."""
    if isinstance(expr, int):
        return expr
    memo = {} if memo is None else memo
    total = 0
    for monomial, coefficient in expr.terms.items():
        product = coefficient
        for atom, exponent in monomial:
            product *= _atom_value(atom, env, memo) ** exponent
        total += product
    return total


def _atom_value(atom: Atom, env: Mapping[str, int], memo: dict) -> int:
    value = memo.get(atom)
    if value is not None:
        return value
    kind, args = atom.kind, atom.args
    if kind == "field":
        value = env[args[0]]
    elif kind in ("max", "min"):
        value = (max if kind == "max" else min)(evaluate(a, env, memo) for a in args)
    elif kind == "where":
        op, left, right, a, b = args
        value = evaluate(a if COMPARISONS[op](evaluate(left, env, memo), evaluate(right, env, memo)) else b, env, memo)
    elif kind == "ceil_div":
        value = -(-evaluate(args[0], env, memo) // args[1])
    elif kind == "floor_div":
        value = evaluate(args[0], env, memo) // args[1]
    elif kind == "difference":
        value = evaluate(args[0], env, memo) - evaluate(args[1], env, memo)
    else:  # minus
        value = evaluate(args[0], env, memo) - args[1]
    memo[atom] = value
    return value


def substitute(expr: int | Expr, constants: Mapping[str, int], memo: dict | None = None) -> int | Expr:
    """``expr`` with the fields in ``constants`` replaced by their values, folded."""
    if isinstance(expr, int):
        return expr
    memo = {} if memo is None else memo
    total: int | Expr = 0
    for monomial, coefficient in expr.terms.items():
        product: int | Expr = coefficient
        for atom, exponent in monomial:
            value = _substitute_atom(atom, constants, memo)
            for _ in range(exponent):
                product = product * value
        total = total + product
    return total


def _substitute_atom(atom: Atom, constants: Mapping[str, int], memo: dict) -> int | Expr:
    if atom in memo:
        return memo[atom]
    kind, args = atom.kind, atom.args
    if kind == "field":
        value = constants.get(args[0])
        result: int | Expr = Expr.atom(atom) if value is None else value
    elif kind in ("max", "min"):
        parts = [substitute(a, constants, memo) for a in args]
        result = Symbolic.max(*parts) if kind == "max" else _extremum("min", parts)
    elif kind == "where":
        op, left, right, a, b = args
        condition = Symbolic.compare(op, substitute(left, constants, memo), substitute(right, constants, memo))
        result = Symbolic.where(condition, substitute(a, constants, memo), substitute(b, constants, memo))
    elif kind in ("ceil_div", "floor_div"):
        result = _divide(kind, _within_int64(substitute(args[0], constants, memo)), args[1])
    elif kind == "difference":
        result = Symbolic.difference(_within_int64(substitute(args[0], constants, memo)),
                                     _within_int64(substitute(args[1], constants, memo)))
    else:
        result = Symbolic.minus(_within_int64(substitute(args[0], constants, memo)), args[1])
    if isinstance(result, Expr) and result.constant is not None:
        result = result.constant
    memo[atom] = result
    return result


#: What the evaluators compute in (a node whose argument passes it is flagged there).
INT64_MAX = 2**63 - 1


def _within_int64(value: int | Expr) -> int | Expr:
    """A folded argument of a division or difference: past int64 the evaluators flag the
    node (an overflow, even where its result would fit), which a folded constant would
    hide, so folding it is refused (the caller then keeps the fields as row inputs)."""
    if isinstance(value, int) and value > INT64_MAX:
        raise OverflowError(f"a folded dividend {value} passes int64")
    return value


def node_arguments(atom: Atom) -> tuple:
    """The Exprs an atom's value is computed from (none for a field)."""
    kind, args = atom.kind, atom.args
    if kind == "field":
        return ()
    if kind in ("max", "min", "difference"):
        return args
    if kind == "where":
        return args[1], args[2], args[3], args[4]
    return (args[0],)


def dependencies(expr: int | Expr) -> set[Atom]:
    """Every atom ``expr`` depends on, through nodes too."""
    seen: set[Atom] = set()
    stack = list(Expr.of(expr).atoms())
    while stack:
        atom = stack.pop()
        if atom in seen:
            continue
        seen.add(atom)
        for argument in node_arguments(atom):
            stack.extend(argument.atoms())
    return seen


def fields_of(expr: int | Expr) -> set[str]:
    """The row fields ``expr`` depends on."""
    return {a.field for a in dependencies(expr) if a.kind == "field"}
