"""Hardware: :class:`Device`, the sourced catalog in ``data/devices.json``, and JSON I/O.

A Device is what the roofline latency model needs: peak FLOP/s per precision, memory
bandwidth, memory size, and three factors that a few real measurements calibrate
(:func:`bertsize.calibrate`): the fraction of peak compute and of peak bandwidth an op
reaches, and a fixed cost per op (kernel launch, dispatch).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources

from bertsize import _validate

#: Precisions a device may publish a peak for.
PEAK_KEYS = ("fp32", "tf32", "fp16", "bf16", "int8")
#: The precision a workload precision's matmuls compute in, in order of preference.  A
#: dense precision needs units of its own (no silent fallback: a T4 has no bf16 units, so
#: bf16 on a T4 is refused, not timed at fp32); weight-only int8 (LLM.int8) runs int8
#: matmuls, or dequantises its weights to fp16 where the device has no int8 units; int4
#: (NF4) always dequantises to 16 bits.
COMPUTES_IN = {
    "fp32": ("fp32",),
    "fp16": ("fp16",),
    "bf16": ("bf16",),
    "int8": ("int8", "fp16"),
    "int4": ("fp16", "bf16"),
}
#: What a latency is: a datasheet roofline (efficiencies 1, no per-op overhead) is a lower
#: bound; with efficiencies or an overhead fit to measurements it is calibrated.
LATENCY_KINDS = ("roofline bound", "calibrated")
#: Share of device memory the memory budget of a Device leaves for the model: the rest is
#: the CUDA context, cuBLAS / cuDNN workspaces and allocator fragmentation.
MEMORY_RESERVE = 0.08
#: What a Device may be: a discrete GPU, a CPU, or a GPU sharing a system-on-chip's memory.
KINDS = ("gpu", "cpu", "soc-gpu")
#: Largest compute / memory efficiency a Device accepts (calibration searches up to it).
MAX_EFFICIENCY = 1.5
#: Device classes: a catalog device gets its class's default efficiencies and per-op
#: overhead where published measurements calibrate them (the catalog's "classes").
DEVICE_CLASSES = ("datacentre-gpu", "consumer-gpu", "edge-gpu", "server-cpu", "phone-soc")


@dataclass(frozen=True)
class Device:
    """One accelerator or CPU.

    Attributes:
        name: identifier (catalog devices use their catalog id).
        memory_bytes: memory, bytes.
        memory_bandwidth: peak memory bandwidth, bytes/s.
        peak: peak FLOP/s (int8: OP/s) per precision, dense; None where unsupported.
        compute_efficiency: fraction of peak FLOP/s an op reaches (calibrated; 1 = datasheet).
        memory_efficiency: fraction of peak bandwidth an op reaches (calibrated).
        overhead_s: fixed seconds per op (launch / dispatch; calibrated).
        kind: one of :data:`KINDS`.
        link_bandwidth: bytes/s one way over the link data-parallel ranks exchange
            gradients and weights by (NVLink, PCIe), None where the catalog has none
            (a data-parallel training step's latency needs one).
        device_class: one of :data:`DEVICE_CLASSES`, or None (a device of your own).
        sources: where the numbers come from.
    """

    name: str
    memory_bytes: int
    memory_bandwidth: float
    peak: dict[str, float | None]
    compute_efficiency: float = 1.0
    memory_efficiency: float = 1.0
    overhead_s: float = 0.0
    kind: str = "gpu"
    link_bandwidth: float | None = None
    device_class: str | None = None
    sources: tuple[dict[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        object.__setattr__(self, "memory_bytes", _validate.integer("memory_bytes", self.memory_bytes))
        object.__setattr__(self, "memory_bandwidth", _positive("memory_bandwidth", self.memory_bandwidth))
        if not isinstance(self.peak, dict) or not any(self.peak.get(k) for k in PEAK_KEYS):
            raise ValueError(f"peak must map some of {', '.join(PEAK_KEYS)} to FLOP/s, got {self.peak!r}")
        peak = {}
        for key in PEAK_KEYS:
            value = self.peak.get(key)
            peak[key] = None if value is None else _positive(f"peak[{key!r}]", value)
        unknown = set(self.peak) - set(PEAK_KEYS)
        if unknown:
            raise ValueError(f"unknown peak precision {sorted(unknown)[0]!r}; use {', '.join(PEAK_KEYS)}")
        object.__setattr__(self, "peak", peak)
        for name in ("compute_efficiency", "memory_efficiency"):
            value = _positive(name, getattr(self, name))
            if value > MAX_EFFICIENCY:
                raise ValueError(f"{name} must be a fraction of peak (about 0 to 1), got {value}")
            object.__setattr__(self, name, value)
        overhead = self.overhead_s
        if isinstance(overhead, bool) or not isinstance(overhead, (int, float)):
            raise TypeError(f"overhead_s must be a number of seconds, got {overhead!r}")
        if not math.isfinite(overhead) or overhead < 0:
            raise ValueError(f"overhead_s must be finite seconds >= 0, got {overhead!r}")
        object.__setattr__(self, "overhead_s", float(overhead))
        _validate.choice("kind", self.kind, KINDS)
        if self.link_bandwidth is not None:
            object.__setattr__(self, "link_bandwidth", _positive("link_bandwidth", self.link_bandwidth))
        if self.device_class is not None:
            _validate.choice("device_class", self.device_class, DEVICE_CLASSES)
        object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def precisions(self) -> tuple[str, ...]:
        """The workload precisions this device runs (:data:`COMPUTES_IN`)."""
        return tuple(p for p, computes in COMPUTES_IN.items() if any(self.peak[key] for key in computes))

    def compute_precision(self, precision: str) -> str:
        """The precision a workload ``precision``'s matmuls compute in here: itself for
        fp32 / fp16 / bf16, int8 or (dequantised) fp16 for int8 weights, fp16 or bf16
        for int4 weights.

        Raises:
            ValueError: the device has no units for it (naming the device and the
                precisions it runs).
        """
        for key in COMPUTES_IN[precision]:
            if self.peak[key]:
                return key
        lacks = " or ".join(COMPUTES_IN[precision])
        raise ValueError(f"device {self.name!r} cannot run precision {precision!r}: it has no {lacks} units "
                         f"(it runs {', '.join(self.precisions)})")

    def peak_for(self, precision: str) -> float:
        """Matmul FLOP/s for a workload precision, at :meth:`compute_precision`."""
        return self.peak[self.compute_precision(precision)]

    @property
    def latency_kind(self) -> str:
        """"roofline bound" for the datasheet (efficiencies 1, no per-op overhead: no op
        can run faster), "calibrated" once efficiencies or an overhead are set (by
        :func:`bertsize.calibrate` or by hand)."""
        datasheet = self.compute_efficiency == 1.0 and self.memory_efficiency == 1.0 and self.overhead_s == 0.0
        return LATENCY_KINDS[0] if datasheet else LATENCY_KINDS[1]

    @property
    def budget_bytes(self) -> int:
        """Memory a Budget with this device allows: memory minus the reserve."""
        kept = Fraction(1) - Fraction(str(MEMORY_RESERVE))  # exact: no float rounding of large memories
        return self.memory_bytes * kept.numerator // kept.denominator

    def replace(self, **changes: object) -> Device:
        """A copy with some fields changed (e.g. calibrated efficiencies)."""
        return dataclasses.replace(self, **changes)

    def datasheet(self) -> Device:
        """The device at its datasheet peaks: efficiencies 1 and no per-op overhead, whose
        latencies are roofline lower bounds (a catalog device carries its class's
        calibrated defaults where the catalog has them; the copy drops their citation)."""
        defaults = _CLASSES.get(self.device_class) if self.device_class else None
        cited = defaults["sources"] if defaults else ()
        return self.replace(compute_efficiency=1.0, memory_efficiency=1.0, overhead_s=0.0,
                            sources=tuple(source for source in self.sources if source not in cited))

    def to_json(self) -> str:
        """JSON that :meth:`from_json` reads back."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Device:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a Device JSON must be an object")
        return cls(**data)

    def save(self, path: str | os.PathLike) -> None:
        """Write the device (e.g. after calibration) as JSON."""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Device:
        """Read a device written by :meth:`save`."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_json(handle.read())


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if math.isnan(value) or math.isinf(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def class_defaults() -> dict[str, dict | None]:
    """Per device class (:data:`DEVICE_CLASSES`), the catalog's default factors —
    ``compute_efficiency``, ``memory_efficiency``, ``overhead_s``, and where they come
    from — or None where no published measurement calibrates the class."""
    return copy.deepcopy(_CLASSES)


def _load_catalog() -> tuple[dict[str, Device], dict[str, str], dict[str, dict | None]]:
    """The devices of data/devices.json by id (with their class's default factors), each
    normalised id or alias -> id, and the class defaults."""
    text = resources.files("bertsize").joinpath("data/devices.json").read_text(encoding="utf-8")
    document = json.loads(text)
    raw, classes = document["devices"], document["classes"]
    if tuple(classes) != DEVICE_CLASSES:
        raise ValueError(f"data/devices.json's classes {tuple(classes)} are not DEVICE_CLASSES {DEVICE_CLASSES}")
    catalog = {}
    for name, entry in raw.items():
        defaults = classes[entry["class"]]
        factors = {} if defaults is None else {key: defaults[key] for key in _FACTORS}
        sources = tuple(entry["sources"]) + (() if defaults is None else tuple(defaults["sources"]))
        catalog[name] = Device(
            name=name, memory_bytes=entry["memory_bytes"], memory_bandwidth=entry["memory_bandwidth"],
            peak=entry["peak"], kind=entry["kind"], link_bandwidth=entry["link_bandwidth"],
            device_class=entry["class"], sources=sources, **factors,
        )
    lookup = {_normal(key): name for name, entry in raw.items() for key in (name, *entry["aliases"])}
    return catalog, lookup, classes


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "-").replace("_", "-")


#: The factors a class default sets.
_FACTORS = ("compute_efficiency", "memory_efficiency", "overhead_s")
_CATALOG, _LOOKUP, _CLASSES = _load_catalog()


def devices() -> tuple[str, ...]:
    """Ids of the catalog's devices."""
    return tuple(_CATALOG)


def device(name: str | Device) -> Device:
    """A catalog device by id or alias ("t4", "A100 80GB", "h100"); a Device passes through.

    Raises:
        ValueError: unknown name (the message suggests close matches).
    """
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise TypeError(f"device must be a name or a bertsize.Device, got {type(name).__name__}")
    key = _normal(name)
    if key not in _LOOKUP:
        raise ValueError(f"unknown device {name!r}{_validate.suggest(key, _LOOKUP)}; bertsize.devices() lists them")
    return _CATALOG[_LOOKUP[key]]
