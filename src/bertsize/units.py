"""Human units at the edges: parse "16GiB" / "150MB" / "20ms", format bytes, FLOPs, counts.

Inside bertsize every quantity is a plain number in base units (bytes, FLOPs, seconds);
only the CLI and ``repr`` go through this module.
"""

from __future__ import annotations

import math
import numbers
import re
from fractions import Fraction

from bertsize import _validate

_BYTE_UNITS = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_NUMBER = r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-zµ]*)\s*"
_COUNT_SUFFIXES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "t": 10**12, "p": 10**15}


def parse_bytes(name: str, text: str | int | float) -> int:
    """``"16GiB"`` → 17179869184; a bare number is bytes (an int exactly, whatever its
    size; a written number like "1.5GB" exactly too, rounded down to a byte).  Raises
    naming ``name``."""
    if isinstance(text, bool) or not isinstance(text, (numbers.Real, str)):
        raise TypeError(f"{name} must be bytes (a number) or a string like '16GiB', got {text!r}")
    if isinstance(text, numbers.Integral):
        value, unit = Fraction(int(text)), "b"
    elif isinstance(text, numbers.Real):
        if math.isnan(text) or math.isinf(text):
            raise ValueError(f"{name} must be a finite size >= 0, got {text!r}")
        value, unit = Fraction(float(text)), "b"
    else:
        match = re.fullmatch(_NUMBER, text)
        if not match:
            raise ValueError(f"{name}: cannot read {text!r} as a size; write e.g. '16GiB', '150MB' or '4e9'")
        value, unit = Fraction(match.group(1)), (match.group(2) or "b").lower()
    if unit not in _BYTE_UNITS:
        raise ValueError(f"{name}: unknown unit {unit!r} in {text!r}{_validate.suggest(unit, _BYTE_UNITS)}; use one of {', '.join(_BYTE_UNITS)}")
    if value < 0:
        raise ValueError(f"{name} must be a finite size >= 0, got {text!r}")
    return int(value * _BYTE_UNITS[unit])


def parse_seconds(name: str, text: str | int | float) -> float:
    """``"20ms"`` → 0.02; a bare number is seconds.  Raises naming ``name``."""
    if isinstance(text, bool):
        raise TypeError(f"{name} must be seconds (a number) or a string like '20ms', got {text!r}")
    if isinstance(text, (int, float)):
        value, unit = float(text), "s"
    elif isinstance(text, str):
        match = re.fullmatch(_NUMBER, text)
        if not match:
            raise ValueError(f"{name}: cannot read {text!r} as a time; write e.g. '20ms' or '1.5s'")
        value, unit = float(match.group(1)), (match.group(2) or "s").lower()
    else:
        raise TypeError(f"{name} must be seconds (a number) or a string like '20ms', got {text!r}")
    if unit not in _TIME_UNITS:
        raise ValueError(f"{name}: unknown unit {unit!r} in {text!r}; use one of {', '.join(_TIME_UNITS)}")
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"{name} must be a finite time >= 0, got {text!r}")
    return value * _TIME_UNITS[unit]


def parse_count(name: str, text: str | None) -> int | None:
    """``"110M"`` → 110000000; also ``"2.5T"``, ``"1e9"`` or a plain number; None stays None.
    Raises ValueError naming ``name``."""
    if text is None:
        return None
    factor = _COUNT_SUFFIXES.get(text[-1:].lower(), 1)  # ("" has no suffix: an error below)
    number = (text[:-1] if factor != 1 else text).strip()
    if not re.fullmatch(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?", number):
        raise ValueError(f"cannot read {name} {text!r}: write e.g. 110M, 2.5T or 1e9")
    value = Fraction(number) * factor
    if value < 0:
        raise ValueError(f"{name} must be a finite count >= 0, got {text!r}")
    return int(value)


def format_bytes(value: float) -> str:
    """Binary units: ``1536 → '1.50 KiB'``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f} B"


def format_flops(value: float) -> str:
    """Decimal units: ``2.2e10 → '22.0 GFLOP'``."""
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6), ("kFLOP", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} FLOP"


def format_count(value: float) -> str:
    """Parameter counts: ``109482240 → '109.48M'``."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:.0f}"


def format_seconds(value: float) -> str:
    """``0.0123 → '12.3 ms'``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"
