"""How Python values are packed for the C kernel (bs_options and bs_row in csrc/bs_types.h).

Categorical choices travel as their index in the public tuples (``FAMILIES``,
``HEADS``, …), which are the C enums' values; ``tests/test_kernel.py`` checks the
correspondence.  Sizes travel as native int64.
"""

from __future__ import annotations

import struct

from bertsize.model import ACTIVATIONS, FAMILIES, HEADS, Encoder
from bertsize.workload import ATTENTIONS, BACKENDS, OPTIMIZERS, PRECISIONS, RECOMPUTES, Workload

#: bs_row fields, in order: the columns evaluate() accepts.  ``embedding`` 0 = hidden.
FIELDS = (
    "layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab",
    "embedding", "hidden_groups", "batch", "seq_len",
)
ENCODER_FIELDS = FIELDS[:9]
WORKLOAD_FIELDS = FIELDS[9:]

#: bs_options, in order: the encoder's flags, the workload's choices, then the call's.
ENCODER_OPTIONS = ("family", "activation", "pooler", "hidden_dropout", "attention_dropout", "classifier_dropout")
WORKLOAD_OPTIONS = ("training", "precision", "optimizer", "attention", "recompute", "backend", "zero_stage",
                    "data_parallel")

_ENCODER = struct.Struct(f"={len(ENCODER_OPTIONS) + len(ENCODER_FIELDS)}q")
_WORKLOAD = struct.Struct(f"={len(WORKLOAD_OPTIONS) + len(WORKLOAD_FIELDS)}q")

_FAMILY = {name: code for code, name in enumerate(FAMILIES)}
_ACTIVATION = {name: code for code, name in enumerate(ACTIVATIONS)}
_PRECISION = {name: code for code, name in enumerate(PRECISIONS)}
_OPTIMIZER = {name: code for code, name in enumerate(OPTIMIZERS)}
_ATTENTION = {name: code for code, name in enumerate(ATTENTIONS)}
_RECOMPUTE = {name: code for code, name in enumerate(RECOMPUTES)}
_BACKEND = {name: code for code, name in enumerate(BACKENDS)}
#: head name -> code
HEAD_CODES = {name: code for code, name in enumerate(HEADS)}
CACHE_KEY = "_bertsize_packed"  # instance-dict key of the cached packing


def encoder_values(encoder: Encoder) -> tuple[int, ...]:
    """The encoder's ENCODER_FIELDS as ints (embedding None -> 0, hidden_groups None -> 1)."""
    return (
        encoder.layers, encoder.hidden, encoder.heads, encoder.intermediate, encoder.vocab,
        encoder.max_positions, encoder.type_vocab, encoder.embedding or 0, encoder.hidden_groups or 1,
    )


def pack_encoder(encoder: Encoder) -> bytes:
    """ENCODER_OPTIONS then ENCODER_FIELDS, packed once per Encoder and cached on it.

    The cache lives in the instance ``__dict__`` (as ``functools.cached_property`` does),
    which a frozen dataclass allows; it is not a field, so equality, hashing and ``repr``
    ignore it, and ``replace()`` builds a fresh instance without it.
    """
    packed = encoder.__dict__.get(CACHE_KEY)
    if packed is None:
        packed = encoder.__dict__[CACHE_KEY] = _ENCODER.pack(
            _FAMILY[encoder.family], _ACTIVATION[encoder.activation], int(encoder.pooler),
            int(encoder.hidden_dropout > 0), int(encoder.attention_dropout > 0), int(encoder.classifier_dropout > 0),
            *encoder_values(encoder),
        )
    return packed


def pack_workload(workload: Workload) -> bytes:
    """WORKLOAD_OPTIONS then WORKLOAD_FIELDS, packed once per Workload and cached on it."""
    packed = workload.__dict__.get(CACHE_KEY)
    if packed is None:
        packed = workload.__dict__[CACHE_KEY] = _WORKLOAD.pack(
            int(workload.training), _PRECISION[workload.precision], _OPTIMIZER[workload.optimizer],
            _ATTENTION[workload.attention], _RECOMPUTE[workload.recompute], _BACKEND[workload.backend],
            workload.zero_stage, workload.data_parallel, workload.batch, workload.seq_len,
        )
    return packed


def pack_device(device, precision: str) -> tuple[float, float, float, float, float]:
    """bs_device: (matmul FLOP/s at `precision`, bandwidth, compute and memory efficiency,
    seconds per op)."""
    return (device.peak_for(precision), device.memory_bandwidth, device.compute_efficiency,
            device.memory_efficiency, device.overhead_s)
