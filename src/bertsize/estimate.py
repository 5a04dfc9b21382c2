"""``estimate(encoder, workload)``: every cost of one step, as an :class:`Estimate`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

from bertsize import _abi, _html, _validate, module_table, oracle, roofline, validity
from bertsize._backend import kernel
from bertsize.devices import device as lookup_device
from bertsize.families import FAMILIES
from bertsize.heads import HEADS as HEAD_SPECS
from bertsize.metrics import NAMES as METRICS
from bertsize.model import HEADS, Encoder
from bertsize.module_table import ModuleCost, Profile
from bertsize.options import Options
from bertsize.presets import preset
from bertsize.tracer import COMPONENTS
from bertsize.workload import Workload

__all__ = ["METRICS", "ComponentCost", "Estimate", "ModuleCost", "Profile", "breakdown", "count_params", "estimate",
           "profile"]


@dataclass(frozen=True)
class ComponentCost:
    """One row of :meth:`Estimate.breakdown`.

    Attributes:
        component: one of "embeddings", "attention", "ffn", "norms", "pooler", "head".
        params: parameters (tied weights counted where first allocated).
        flops_fwd: forward matmul FLOPs.
        elementwise_flops_fwd: forward elementwise FLOPs.
        activation_bytes: bytes saved for backward (training) by this component's ops.
    """

    component: str
    params: int
    flops_fwd: int
    elementwise_flops_fwd: int
    activation_bytes: int


class Estimate(NamedTuple):
    """Costs of one step of ``workload`` on ``encoder`` with ``head``.

    Counts are exact ints.  FLOPs count the whole batch; bytes are per data-parallel
    rank.  (A ``NamedTuple``: immutable, and built in well under a microsecond.)

    Attributes:
        params: ``sum(p.numel() for p in model.parameters())`` of the HF class.
        flops_fwd: forward matmul FLOPs (2 per multiply-accumulate), what
            ``torch.utils.flop_counter.FlopCounterMode`` counts with eager attention.
        flops_bwd: backward matmul FLOPs of a training step (2 × the forward matmuls
            whose results a loss reads, plus the forward work recomputation repeats);
            0 for inference.
        macs_fwd: ``flops_fwd // 2``.
        elementwise_flops_fwd: softmax, GELU, LayerNorm, bias, residual, dropout work.
        weight_bytes, grad_bytes, optimizer_bytes: model states (see :mod:`bertsize.states`).
        activation_bytes: training: bytes saved for backward at the end of the forward;
            inference: the largest set of simultaneously live activations.
        peak_bytes: training: model states + activations (+ the one layer being
            recomputed, with recomputation); inference: weights + activations.
        latency_s: seconds per step on a device (None without a device).
        encoder, workload, head, num_labels: what was estimated.
        latency_kind: what ``latency_s`` is (:attr:`bertsize.Device.latency_kind`):
            "roofline bound" on a datasheet device (no op runs faster), "calibrated"
            with measured efficiencies; None without a device.
    """

    params: int
    flops_fwd: int
    flops_bwd: int
    macs_fwd: int
    elementwise_flops_fwd: int
    weight_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    activation_bytes: int
    peak_bytes: int
    latency_s: float | None
    encoder: Encoder
    workload: Workload
    head: str
    num_labels: int
    latency_kind: str | None = None

    @property
    def flops_step(self) -> int:
        """Matmul FLOPs of the whole step: forward (+ backward when training)."""
        return self.flops_fwd + self.flops_bwd

    @property
    def sequences_per_s(self) -> float | None:
        """Sequences a second over every data-parallel rank (batch x choices x ranks per
        ``latency_s``); None without a device."""
        if self.latency_s is None:
            return None
        work = self.workload
        return work.batch * work.num_choices * work.data_parallel / self.latency_s

    @property
    def tokens_per_s(self) -> float | None:
        """Tokens a second over every rank (``sequences_per_s`` x seq_len); None without a device."""
        sequences = self.sequences_per_s
        return None if sequences is None else sequences * self.workload.seq_len

    def mfu(self, device: object) -> float:
        """Model-FLOPs utilisation on ``device`` (the one ``latency_s`` was computed for):
        the step's matmul FLOPs over what its peak, at the precision the matmuls compute
        in, does in ``latency_s`` (per rank, as the FLOPs are).

        Raises:
            ValueError: the estimate has no latency (no device was given).
        """
        if self.latency_s is None:
            raise ValueError("mfu needs a latency: estimate with device=...")
        return self.flops_step / (self.latency_s * lookup_device(device).peak_for(self.workload.precision))

    def metrics(self) -> dict[str, int | float]:
        """The :data:`METRICS` as a dict, and ``latency_s`` when a device was given."""
        values: dict[str, int | float] = {name: getattr(self, name) for name in METRICS}
        if self.latency_s is not None:
            values["latency_s"] = self.latency_s
        return values

    def breakdown(self) -> Breakdown:
        """Per-component rows (computed on demand by the pure-Python oracle)."""
        return breakdown(self.encoder, self.workload, self.head, self.num_labels)

    def profile(self, device: object = None, depth: int | None = None) -> Profile:
        """The per-module table of this step (:func:`bertsize.profile`)."""
        return profile(self.encoder, self.workload, self.head, self.num_labels, device, depth)

    def to_dict(self) -> dict[str, object]:
        """Every metric (``latency_s`` None without a device), the encoder and workload
        fields, the head and num_labels: plain values, JSON-ready."""
        return {**{name: getattr(self, name) for name in METRICS}, "latency_s": self.latency_s,
                "latency_kind": self.latency_kind,
                "encoder": dataclasses.asdict(self.encoder), "workload": dataclasses.asdict(self.workload),
                "head": self.head, "num_labels": self.num_labels}

    def _title(self) -> str:
        work = self.workload
        mode = "training" if work.training else "inference"
        return (f"{self.encoder.family} L={self.encoder.layers} H={self.encoder.hidden} A={self.encoder.heads} "
                f"head={self.head}: {mode}, batch {work.batch} x seq {work.seq_len}, {work.precision}, {work.backend}")

    def _rows(self) -> list[tuple[str, str]]:
        """(label, value with units) of each metric worth showing."""
        from bertsize import units

        rows = [("params", units.format_count(self.params)), ("forward", units.format_flops(self.flops_fwd))]
        if self.workload.training:
            rows.append(("backward", units.format_flops(self.flops_bwd)))
        for label, value in (
            ("weights", self.weight_bytes), ("gradients", self.grad_bytes),
            ("optimizer", self.optimizer_bytes), ("activations", self.activation_bytes),
            ("peak memory", self.peak_bytes),
        ):
            if value or label in ("weights", "activations", "peak memory"):
                rows.append((label, units.format_bytes(value)))
        if self.latency_s is not None:
            rows.append(("latency", f"{units.format_seconds(self.latency_s)} ({self.latency_kind})"))
        return rows

    def __str__(self) -> str:
        lines = [f"  {label:<17} {value:>12}" for label, value in self._rows()]
        lines[0] += f"  ({self.params:,})"  # the exact count beside the rounded one
        return "\n".join([self._title(), *lines])

    def _repr_html_(self) -> str:
        rows = self._rows()
        rows[0] = ("params", f"{rows[0][1]} ({self.params:,})")
        return _html.table(["metric", "value"], rows, self._title())


class Breakdown(tuple):
    """The per-component rows of :meth:`Estimate.breakdown` (a tuple of
    :class:`ComponentCost`), shown as a table in notebooks."""

    def _repr_html_(self) -> str:
        from bertsize import units

        rows = [(r.component, units.format_count(r.params), units.format_flops(r.flops_fwd),
                 units.format_flops(r.elementwise_flops_fwd), units.format_bytes(r.activation_bytes)) for r in self]
        return _html.table(["component", "params", "matmul fwd", "elementwise fwd", "saved activations"], rows)


def _as_encoder(encoder: object) -> object:
    """A preset name is its Encoder; anything else is checked by check_arguments."""
    return preset(encoder) if isinstance(encoder, str) else encoder


def check_arguments(encoder: object, workload: object, head: object, num_labels: object) -> int:
    """Validate estimate()'s arguments; returns num_labels as an int (the Encoder's
    when None)."""
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a bertsize.Encoder or a preset name, got {type(encoder).__name__}")
    if not isinstance(workload, Workload):
        raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
    _validate.choice("head", head, HEADS)
    encoder.check_head(head)
    labels = encoder.labels(num_labels)
    if workload.seq_len > encoder.max_seq_len:
        raise ValueError(
            f"seq_len={workload.seq_len} exceeds the {encoder.max_seq_len} positions this encoder "
            f"supports (max_positions={encoder.max_positions})"
        )
    return labels


def estimate(
    encoder: Encoder,
    workload: Workload | None = None,
    head: str = "model",
    num_labels: int | None = None,
    device: object = None,
    *,
    num_choices: int | None = None,
) -> Estimate:
    """Estimate every cost of one step.

    Args:
        encoder: the architecture: an :class:`Encoder` or a preset name
            ("bert-base-uncased", as :func:`bertsize.preset` reads it).
        workload: batch, sequence length, training or inference, precision, …;
            default ``Workload()`` (inference, batch 1, 128 tokens, fp32).
        head: a name of :data:`bertsize.HEADS` (the HF class suffix in snake case:
            "model", "masked_lm", "sequence_classification", "token_classification",
            "question_answering", …).
        num_labels: classes of the sequence- or token-classification head (ALBERT's
            SOP head too); None: the Encoder's (``config.num_labels``, default 2).
            Question answering always has 2 logits per token (start, end).
        device: a :class:`~bertsize.Device` or catalog name: fills ``latency_s``, the
            roofline seconds per step.
        num_choices: multiple choice: sequences per example, as
            ``workload.replace(num_choices=...)`` (``workload.batch`` counts examples).

    Raises:
        TypeError, ValueError: invalid arguments (the message names the field).
        OverflowError: a metric does not fit in int64 (9.2e18).
    """
    if workload is None:
        workload = _DEFAULT_WORKLOAD
    if type(encoder) is str:
        encoder = preset(encoder)
    if num_labels is None and type(encoder) is Encoder:
        num_labels = encoder.num_labels
    if num_choices is not None:
        if not isinstance(workload, Workload):
            raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
        workload = workload.replace(num_choices=num_choices)
    # Fast path of the argument checks (an AutoML loop calls this thousands of times a
    # second); anything unusual goes through the full, message-producing check_arguments.
    if (type(encoder) is not Encoder or type(workload) is not Workload or type(num_labels) is not int
            or not 0 < num_labels <= _INT64_MAX or type(head) is not str
            or (encoder.family, head) not in _VALID_HEADS):
        num_labels = check_arguments(encoder, workload, head, num_labels)
    constants = kind = None
    if device is not None:
        timing = _DEVICES.get((device, workload.precision)) if type(device) is str else None
        if timing is None:
            timing = device_timing(device, workload.precision)
        constants, kind = timing
        if workload.data_parallel > 1:
            check_link(device, workload, constants)
    result = kernel.estimate_tuple(Estimate, encoder, workload, head, _HEAD_CODES[head], num_labels, constants,
                                   kind)
    if type(result) is int:
        raise_status(result, encoder, workload, head, num_labels)
    return result


def device_constants(device: object, workload: Workload) -> tuple[float, ...]:
    """The roofline's device side for a workload (bertsize.roofline.Constants as a
    tuple), cached per device name and precision.

    Raises:
        ValueError: the device does not run the precision, or has no link for a
            data-parallel training step.
    """
    constants = device_timing(device, workload.precision)[0]
    check_link(device, workload, constants)
    return constants


def check_link(device: object, workload: Workload, constants: tuple[float, ...]) -> None:
    """Refuse timing a data-parallel training step on a device with no link bandwidth
    (``constants``: its roofline constants, whose last is the link's bytes/s, 0 for none)."""
    if workload.data_parallel > 1 and workload.training and not constants[4]:
        found = lookup_device(device)
        raise ValueError(f"device {found.name!r} has no link bandwidth: a data-parallel step "
                         f"(data_parallel={workload.data_parallel}) exchanges gradients between ranks over one; "
                         "give it one (bertsize.device(name).replace(link_bandwidth=bytes_per_second))")


def device_timing(device: object, precision: str) -> tuple[tuple[float, ...], str]:
    """:func:`device_constants` and the device's latency kind, cached per device name
    and precision.

    Raises:
        ValueError: the device does not run ``precision`` (:meth:`Device.compute_precision`).
    """
    if isinstance(device, str):
        cached = _DEVICES.get((device, precision))
        if cached is None:
            if len(_DEVICES) > 256:
                _DEVICES.clear()
            cached = _DEVICES[(device, precision)] = device_timing(lookup_device(device), precision)
        return cached
    found = lookup_device(device)
    return dataclasses.astuple(roofline.constants(_Precision(precision), found)), found.latency_kind


class _Precision:
    """What roofline.constants reads of a workload."""

    def __init__(self, precision: str) -> None:
        self.precision = precision


#: (device name, precision) -> its roofline constants and latency kind
_DEVICES: dict[tuple[str, str], tuple] = {}
_INT64_MAX = 2**63 - 1


def raise_status(status: int, encoder: Encoder, workload: Workload, head: str, num_labels: int) -> None:
    """The error a kernel status stands for (see ``estimate_tuple``)."""
    if status < 0:
        raise OverflowError(f"{METRICS[-status - 1]} of this configuration exceeds int64 (2**63 - 1)")
    check_arguments(encoder, workload, head, num_labels)  # a bad sequence length, worded
    rule = FAMILIES[encoder.family].row_constraints[status - 1]
    raise ValueError(validity.describe(rule, row_of(encoder, workload, num_labels), encoder.family))


def row_of(encoder: Encoder, workload: Workload, num_labels: int) -> list[int]:
    """The row of an Encoder, a Workload and a class count (validity.FIELDS order)."""
    return [*_abi.unpack(encoder._row, validity.ENCODER_FIELDS), workload.batch, workload.seq_len, num_labels]


def _options_and_row(encoder: Encoder, workload: Workload, head: str, num_labels: int):
    return (Options.of(encoder.options, workload.options, head),
            dict(zip(validity.FIELDS, row_of(encoder, workload, num_labels))))


def breakdown(encoder: Encoder, workload: Workload, head: str = "model",
              num_labels: int | None = None) -> Breakdown:
    """Per-component parameters, FLOPs and saved activations (pure-Python oracle)."""
    encoder = _as_encoder(encoder)
    labels = check_arguments(encoder, workload, head, num_labels)
    rows = oracle.breakdown(*_options_and_row(encoder, workload, head, labels))
    return Breakdown(ComponentCost(component=name, **rows[name]) for name in COMPONENTS)


def profile(encoder: Encoder | str, workload: Workload | None = None, head: str = "model",
            num_labels: int | None = None, device: object = None, depth: int | None = None) -> Profile:
    """The per-module table of one step, as FLOPs profilers print it: embeddings, the
    layers and their attention / FFN / norms, each primitive, pooler, head (and, for
    training, the optimizer update) — params, weight bytes, forward FLOPs, saved
    activations and, with a ``device``, roofline seconds and whether each op is
    compute- or memory-bound (pure-Python oracle; see :mod:`bertsize.module_table`).

    Args:
        encoder, workload, head, num_labels: as :func:`estimate`.
        device: a :class:`~bertsize.Device` or catalog name: adds latencies.
        depth: keep the rows down to this depth (1: the top-level modules); None: all.
    """
    encoder = _as_encoder(encoder)
    workload = _DEFAULT_WORKLOAD if workload is None else workload
    labels = check_arguments(encoder, workload, head, num_labels)
    if depth is not None:
        _validate.integer("depth", depth, minimum=1)
    constants = None if device is None else roofline.Constants(*device_constants(device, workload))
    table = module_table.build(*_options_and_row(encoder, workload, head, labels), constants)
    return table if depth is None else table.fold(depth)


def count_params(encoder: Encoder, head: str = "model", num_labels: int | None = None) -> int:
    """Parameters of the HF class for ``head`` (tied weights once)."""
    encoder = _as_encoder(encoder)
    labels = check_arguments(encoder, Workload(seq_len=1), head, num_labels)
    values, _ = oracle.metric_values(*_options_and_row(encoder, Workload(seq_len=1), head, labels), names=("params",))
    return values["params"]


_DEFAULT_WORKLOAD = Workload()
_HEAD_CODES = _abi.HEAD_CODES
_VALID_HEADS = frozenset(
    (family, head) for family, spec in FAMILIES.items() for head, kind in HEAD_SPECS.items() if kind.exists_for(spec)
)
