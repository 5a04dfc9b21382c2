"""Argument checks shared by every public entry point.

Each helper raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
bad value) with a message that names the field and repeats the offending value, as
the error contract in DESIGN.md asks.  Nothing here uses ``assert``: validation must
survive ``python -O``.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Mapping


def integer(name: str, value: object, *, minimum: int | None = 1) -> int:
    """Return ``value`` as a Python int, or raise naming ``name`` (``minimum`` None: any).

    Booleans are rejected although ``bool`` subclasses ``int``: ``layers=True`` is a
    bug, not a request for one layer.  Floats are rejected even when integral
    (``hidden=768.0``), because a float in a size field almost always means a
    unit or a formula went wrong upstream.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    result = int(value)
    if minimum is not None and result < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {result}")
    return result


def flag(name: str, value: object) -> bool:
    """Return ``value`` if it is a real bool, else raise naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def probability(name: str, value: object) -> float:
    """A dropout probability: a real number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r} ({type(value).__name__})")
    result = float(value)
    if math.isnan(result) or not 0.0 <= result < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return result


def choice(name: str, value: object, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise list the options."""
    options = tuple(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {', '.join(options)}; got {value!r}")
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}{suggest(value, options)}; choose one of {', '.join(options)}")
    return value


def suggest(name: str, known: Iterable[str] | Mapping[str, object]) -> str:
    """' (did you mean ...?)' for the known names ``name`` abbreviates (those that start
    with it or with it after a '-' or '/': "bert-large" -> "bert-large-uncased", "a100" ->
    both A100s), then the closest by spelling; or ''.  ``known`` may map aliases to
    canonical names: the suggestions are canonical, each once."""
    aliases = known if isinstance(known, Mapping) else {k: k for k in known}
    keys = list(aliases)
    extensions = [k for k in keys if k != name and name and (k.startswith(name) or f"-{name}" in k or f"/{name}" in k)]
    close = difflib.get_close_matches(name, keys, n=6, cutoff=0.6)
    picks: list[str] = []
    for key in extensions + close:
        target = aliases[key] if isinstance(aliases[key], str) else key
        if target not in picks:
            picks.append(target)
    picks = picks[:4]
    return f" (did you mean {', '.join(repr(c) for c in picks)}?)" if picks else ""
