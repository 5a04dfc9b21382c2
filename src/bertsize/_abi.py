"""How an Encoder and a Workload travel to the evaluator: the one packing of both.

An Encoder packs its sizes as native int64 after a header word (the ABI version and the
field count), which the kernel checks before it reads them; a Workload packs batch and
seq_len the same way.  Their option tuples (everything but sizes) are interned to small
ints, the *plan keys*, which the scalar path uses to find its compiled program.

Packings are cached on the instances but never pickled (``__getstate__`` of Encoder and
Workload drops them): an instance shipped to another process or version packs afresh.
"""

from __future__ import annotations

import struct

from bertsize.heads import HEADS
from bertsize.validity import ENCODER_FIELDS, WORKLOAD_FIELDS

#: Bumped whenever the layout below changes.
VERSION = 2
ENCODER_HEADER = (VERSION << 16) | len(ENCODER_FIELDS)
WORKLOAD_HEADER = (VERSION << 16) | len(WORKLOAD_FIELDS)
_ENCODER = struct.Struct(f"={1 + len(ENCODER_FIELDS)}q")
_WORKLOAD = struct.Struct(f"={1 + len(WORKLOAD_FIELDS)}q")
ENCODER_BYTES, WORKLOAD_BYTES = _ENCODER.size, _WORKLOAD.size
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: head name -> its code in the scalar path's plan keys
HEAD_CODES = {name: code for code, name in enumerate(HEADS)}

_KEYS: dict[tuple, int] = {}
_OPTIONS: list[tuple] = []


def plan_key(options: tuple) -> int:
    """A small int standing for the option tuple (the same tuple, the same int)."""
    key = _KEYS.get(options)
    if key is None:
        key = _KEYS[options] = len(_OPTIONS)
        _OPTIONS.append(options)
    return key


def options_of(key: int) -> tuple:
    """The option tuple of a plan key."""
    return _OPTIONS[key]


def check_int64(names: tuple[str, ...], values: tuple[int, ...]) -> None:
    """Raise OverflowError naming the first of ``values`` outside int64."""
    for name, value in zip(names, values):
        if not INT64_MIN <= value <= INT64_MAX:
            raise OverflowError(f"{name}={value} does not fit in int64 (at most 2**63 - 1)")


def pack(sizes: tuple[int, ...], names: tuple[str, ...]) -> bytes:
    """The header word and the sizes as native int64 (``names``: ENCODER_FIELDS or
    WORKLOAD_FIELDS).

    Raises:
        OverflowError: a size outside int64, naming its field.
    """
    layout, header = (_ENCODER, ENCODER_HEADER) if names is ENCODER_FIELDS else (_WORKLOAD, WORKLOAD_HEADER)
    try:
        return layout.pack(header, *sizes)
    except struct.error:  # a size outside int64 (struct's message names no field)
        check_int64(names, sizes)
        raise


def unpack(packed: bytes, names: tuple[str, ...]) -> tuple[int, ...]:
    """The sizes of a packing, after checking its length and header."""
    layout, header = (_ENCODER, ENCODER_HEADER) if names is ENCODER_FIELDS else (_WORKLOAD, WORKLOAD_HEADER)
    if len(packed) != layout.size:
        raise ValueError(f"a packing of {len(names)} fields has {layout.size} bytes, got {len(packed)}")
    values = layout.unpack(packed)
    if values[0] != header:
        raise ValueError(f"packing header {values[0]:#x} is not this version's {header:#x}")
    return values[1:]
