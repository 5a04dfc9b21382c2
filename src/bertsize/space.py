"""Design spaces: :class:`Space` (axes of a Cartesian product) and :class:`Budget`.

A Space is never materialised: it is a base Encoder plus one sorted tuple of values per
axis.  Axes are Encoder integer fields, the workload's ``batch`` and ``seq_len``, and two
derived ones: ``head_dim`` (heads = hidden / head_dim) and ``ffn_ratio`` (intermediate =
ffn_ratio x hidden).  Points that are not valid models (heads not dividing hidden,
sequences longer than the position table) are skipped and counted, not errors.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from bertsize import _validate, units
from bertsize.devices import device as lookup_device
from bertsize.families import FAMILIES
from bertsize.model import Encoder
from bertsize.presets import as_encoder

#: Axes a Space accepts, in the order they are stored.
AXES = (
    "layers", "hidden", "heads", "head_dim", "intermediate", "ffn_ratio", "vocab", "max_positions",
    "type_vocab", "embedding", "hidden_groups", "bottleneck", "batch", "seq_len",
)
#: Axes that set a field from another: name -> (field set, field read, how).  heads =
#: hidden // head_dim (larger values make every metric smaller: the search walks them in
#: descending order); intermediate = ffn_ratio x hidden.
DERIVED = {"head_dim": ("heads", "hidden", "divided"), "ffn_ratio": ("intermediate", "hidden", "multiplied")}
DECREASING = frozenset(name for name, (_, _, how) in DERIVED.items() if how == "divided")
#: Most values one axis holds (8 bytes each: 8 GiB).
MAX_AXIS_VALUES = 2**30


def derived_values(name: str, source: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The field a derived axis sets, from the field it reads (``source``) and its
    ``values``, and whether each point is one (a divided axis must divide its source)."""
    _, _, how = DERIVED[name]
    if how == "divided":
        return source // values, source % values == 0
    with np.errstate(over="ignore"):
        return source * values, np.ones(len(values), dtype=bool)


class Space:
    """A Cartesian product of hyperparameter values around a base encoder.

    Args:
        base: the Encoder (or preset name) that fixes every field without an axis, and
            the family, pooler, activation and dropout; default ``"bert-base-uncased"``.
        **axes: name -> values (a list, range, numpy array or a single int).  Names are
            :data:`AXES`; ``head_dim`` replaces ``heads`` and ``ffn_ratio`` (an integer
            multiple of hidden) replaces ``intermediate``.  ``space.axes[name]`` holds
            them sorted and distinct, as a read-only int64 array.

    ``len(space)`` is the number of points, valid or not.
    """

    def __init__(self, base: Encoder | str | None = None, **axes: object) -> None:
        self.base = as_encoder(base)
        if "heads" in axes and "head_dim" in axes:
            raise ValueError("give heads or head_dim, not both (head_dim sets heads = hidden / head_dim)")
        if "intermediate" in axes and "ffn_ratio" in axes:
            raise ValueError("give intermediate or ffn_ratio, not both (ffn_ratio sets intermediate = ratio x hidden)")
        family, spec = self.base.family, FAMILIES[self.base.family]
        if "embedding" in axes and not spec.factorised:
            factorised = ", ".join(name for name, other in FAMILIES.items() if other.factorised)
            raise ValueError(f"an embedding axis needs a factorised family ({factorised}); the base is {family!r}")
        if "hidden_groups" in axes and not spec.weight_sharing:
            raise ValueError(f"hidden_groups is ALBERT's layer sharing; the base is {family!r}")
        if "bottleneck" in axes and not spec.bottleneck:
            raise ValueError(f"bottleneck is MobileBERT's intra-block width; the base is {family!r}")
        if "type_vocab" in axes and not spec.token_types:
            raise ValueError(f"family {family!r} has no token-type embeddings: no type_vocab axis")
        self.axes: dict[str, np.ndarray] = {}
        for name, values in axes.items():
            _validate.choice("axis", name, AXES)
            self.axes[name] = _axis_values(name, values)
        if not self.axes:
            raise ValueError("a Space needs at least one axis")

    @classmethod
    def around(cls, base: Encoder | str, **axes: object) -> Space:
        """``Space(base, **axes)``: the axes vary, everything else is the base's."""
        return cls(base, **axes)

    def __len__(self) -> int:
        return self.size

    @property
    def size(self) -> int:
        """Points in the product (``len`` as a Python int, which may pass sys.maxsize)."""
        return math.prod(len(values) for values in self.axes.values())

    def __repr__(self) -> str:
        described = ", ".join(f"{name}={describe_axis(values)}" for name, values in self.axes.items())
        return f"Space({self.base.family} base, {described}; {self.size:,} points)"


def _axis_values(name: str, values: object) -> np.ndarray:
    """An axis's values: sorted, distinct, a read-only int64 array (a range of any
    length costs 8 bytes a value, never a Python int each)."""
    if isinstance(values, numbers.Integral) and not isinstance(values, (bool, np.bool_)):
        values = (values,)
    if isinstance(values, range) and values:
        return _range_values(name, values)
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Iterable, np.ndarray)):
        raise TypeError(f"axis {name!r} takes a list, range, array or int of values, got {values!r}")
    else:
        items = np.asarray(values).ravel() if isinstance(values, np.ndarray) else list(values)
        array = np.asarray(items)
        if array.dtype.kind not in "iu" or array.dtype == np.bool_:
            for position, value in enumerate(items):
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                    raise TypeError(f"axis {name!r}: value {value!r} (position {position}) is not an integer")
            array = np.array([int(v) for v in items], dtype=object)
    if array.size == 0:
        raise ValueError(f"axis {name!r} has no values")
    if array.size > MAX_AXIS_VALUES:
        raise ValueError(f"axis {name!r} has {array.size:,} values, more than the {MAX_AXIS_VALUES:,} an axis holds")
    for bad, message in ((array < 1, "must be positive"), (array > 2**62, "is past 2**62")):
        if bad.any():
            position = int(np.argmax(bad))
            raise ValueError(f"axis {name!r}: value {array[position]} (position {position}) {message}")
    result = np.sort(array.astype(np.int64))  # (np.unique hashes: ~6x slower on 10**7 values)
    if len(result) > 1:
        result = result[np.concatenate(([True], result[1:] != result[:-1]))]
    result.flags.writeable = False
    return result


def _range_values(name: str, values: range) -> np.ndarray:
    """A non-empty range's values: checked at its ends (a range is distinct, and sorted
    once turned to ascending), made without a sort."""
    ascending = values if values.step > 0 else values[::-1]
    last = (ascending[-1] - ascending[0]) // ascending.step  # (len() of a huge range overflows)
    for position, value, message in ((0, ascending[0], "must be positive"), (last, ascending[-1], "is past 2**62")):
        if value < 1 or value > 2**62:
            where = position if values.step > 0 else last - position
            raise ValueError(f"axis {name!r}: value {value} (position {where}) {message}")
    if last >= MAX_AXIS_VALUES:
        raise ValueError(f"axis {name!r} has {last + 1:,} values, more than the {MAX_AXIS_VALUES:,} an axis holds")
    result = np.arange(ascending.start, ascending.stop, ascending.step, dtype=np.int64)
    result.flags.writeable = False
    return result


def describe_axis(values: np.ndarray) -> str:
    """An axis's values in a few characters: "12", "2..24", "128..1024 step 64",
    "30522,50265,119547" or, past six values without a step, the first ones and a count."""
    if len(values) == 1:
        return str(values[0])
    steps = np.diff(values)
    if len(values) > 2 and (steps == steps[0]).all():
        return f"{values[0]}..{values[-1]}" + (f" step {steps[0]}" if steps[0] != 1 else "")
    if len(values) <= 6:
        return ",".join(map(str, values.tolist()))
    return ",".join(map(str, values[:4].tolist())) + f",... ({len(values)} values)"


#: Budget fields -> (the quantity each bounds, "max" or "min").
LIMITS = {
    "memory": ("peak_bytes", "max"),
    "params": ("params", "max"),
    "min_params": ("params", "min"),
    "flops": ("flops", "max"),
    "latency": ("latency_s", "max"),
}


@dataclass(frozen=True)
class Budget:
    """Limits a configuration must meet.  Each bound caps one Estimate metric.

    Attributes:
        memory: bytes (or a string: "16GiB", "150MB") that ``peak_bytes`` must not pass;
            with a device and no memory, the device's memory minus an 8 % reserve
            (:data:`bertsize.devices.MEMORY_RESERVE`: CUDA context, workspaces, fragmentation).
        params: most parameters; min_params: fewest (ints, or strings: "110M", "1.5B").
        flops: most matmul FLOPs per step (forward for inference, forward + backward for
            training); a number or a string ("2T", "4.5e11").
        latency: most seconds per step (needs a device).
        device: a :class:`~bertsize.Device` or catalog name; it supplies ``memory`` when
            memory is not given, and is needed for latency.

    Integer bounds are kept exactly (no float on the way).
    """

    memory: int | str | None = None
    params: int | str | None = None
    min_params: int | str | None = None
    flops: int | float | str | None = None
    latency: float | str | None = None
    device: object = None

    def __post_init__(self) -> None:
        if self.memory is not None:
            object.__setattr__(self, "memory", units.parse_bytes("memory", self.memory))
        for name in ("params", "min_params"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = units.parse_count(name, value)
            if value is not None:
                object.__setattr__(self, name, _validate.integer(name, value, minimum=0))
        if isinstance(self.flops, str):
            object.__setattr__(self, "flops", units.parse_count("flops", self.flops))
        if self.flops is not None:
            object.__setattr__(self, "flops", _non_negative_count("flops", self.flops))
        if self.latency is not None:
            object.__setattr__(self, "latency", units.parse_seconds("latency", self.latency))
        if self.params is not None and self.min_params is not None and self.min_params > self.params:
            raise ValueError(f"min_params={self.min_params} exceeds params={self.params}: nothing can fit")
        if self.latency is not None and self.device is None:
            raise ValueError("a latency budget needs a device (Budget(latency=..., device='nvidia-t4'))")
        if self.device is not None:
            device = lookup_device(self.device)
            object.__setattr__(self, "device", device)
            if self.memory is None:
                object.__setattr__(self, "memory", device.budget_bytes)

    @property
    def empty(self) -> bool:
        """True when no bound is set (everything fits)."""
        return all(getattr(self, f) is None for f in LIMITS)

    def limits(self) -> tuple[tuple[str, str, int | float], ...]:
        """The budget as data: (quantity, "max" or "min", bound) for each bound set —
        the one predicate search(), max_batch() and max_seq_len() apply."""
        return tuple((quantity, kind, getattr(self, name)) for name, (quantity, kind) in LIMITS.items()
                     if getattr(self, name) is not None)

    def admits(self, values) -> bool:
        """Whether quantities ``values`` (a mapping, or an Estimate) meet every bound."""
        get = values.__getitem__ if isinstance(values, Mapping) else lambda name: _quantity(values, name)
        return all(get(q) <= bound if kind == "max" else get(q) >= bound for q, kind, bound in self.limits())


def _quantity(estimate, name: str):
    return estimate.flops_step if name == "flops" else getattr(estimate, name)


def _non_negative_count(name: str, value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        return int(value)
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if math.isinf(value):
        return 2**63 - 1
    return int(value)
