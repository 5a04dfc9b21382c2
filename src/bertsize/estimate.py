"""``estimate(encoder, workload)``: every cost of one step, as an :class:`Estimate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from bertsize import _abi, _validate, oracle, roofline, states, units
from bertsize._backend import kernel
from bertsize.devices import device as lookup_device
from bertsize.model import FAMILIES, HEADS, Encoder
from bertsize.workload import Workload

_INT64_MAX = 2**63 - 1

#: Metric names of :class:`Estimate`, in the order ``evaluate()`` returns them.
METRICS = (
    "params", "flops_fwd", "flops_bwd", "macs_fwd", "elementwise_flops_fwd",
    "weight_bytes", "grad_bytes", "optimizer_bytes", "activation_bytes", "peak_bytes",
)


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
        flops_bwd: backward matmul FLOPs of a training step (2 × forward, plus the
            forward work recomputation repeats); 0 for inference.
        macs_fwd: ``flops_fwd // 2``.
        elementwise_flops_fwd: softmax, GELU, LayerNorm, bias, residual, dropout work.
        weight_bytes, grad_bytes, optimizer_bytes: model states (see :mod:`bertsize.states`).
        activation_bytes: training: bytes saved for backward at the end of the forward;
            inference: the largest set of simultaneously live activations.
        peak_bytes: training: model states + activations (+ the one layer being
            recomputed, with recomputation); inference: weights + activations.
        latency_s: seconds per step on a device (None without a device).
        encoder, workload, head, num_labels: what was estimated.
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

    @property
    def flops_step(self) -> int:
        """Matmul FLOPs of the whole step: forward (+ backward when training)."""
        return self.flops_fwd + self.flops_bwd

    def metrics(self) -> dict[str, int]:
        """The :data:`METRICS` as a dict."""
        return {name: getattr(self, name) for name in METRICS}

    def breakdown(self) -> tuple[ComponentCost, ...]:
        """Per-component rows (computed on demand by the pure-Python oracle)."""
        return breakdown(self.encoder, self.workload, self.head, self.num_labels)

    def __str__(self) -> str:
        work = self.workload
        mode = "training" if work.training else "inference"
        lines = [
            f"{self.encoder.family} L={self.encoder.layers} H={self.encoder.hidden} A={self.encoder.heads} "
            f"head={self.head}: {mode}, batch {work.batch} x seq {work.seq_len}, {work.precision}, {work.backend}",
            f"  params            {units.format_count(self.params):>12}  ({self.params:,})",
            f"  forward           {units.format_flops(self.flops_fwd):>12}",
        ]
        if work.training:
            lines.append(f"  backward          {units.format_flops(self.flops_bwd):>12}")
        for label, value in (
            ("weights", self.weight_bytes), ("gradients", self.grad_bytes),
            ("optimizer", self.optimizer_bytes), ("activations", self.activation_bytes),
            ("peak memory", self.peak_bytes),
        ):
            if value or label in ("weights", "activations", "peak memory"):
                lines.append(f"  {label:<17} {units.format_bytes(value):>12}")
        if self.latency_s is not None:
            lines.append(f"  latency           {units.format_seconds(self.latency_s):>12}")
        return "\n".join(lines)


def check_arguments(encoder: object, workload: object, head: object, num_labels: object) -> int:
    """Validate estimate()'s arguments; returns num_labels as an int."""
    if not isinstance(encoder, Encoder):
        raise TypeError(f"encoder must be a bertsize.Encoder (see bertsize.preset), got {type(encoder).__name__}")
    if not isinstance(workload, Workload):
        raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
    _validate.choice("head", head, HEADS)
    encoder.check_head(head)
    labels = _validate.integer("num_labels", num_labels)
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
    num_labels: int = 2,
    device: object = None,
) -> Estimate:
    """Estimate every cost of one step.

    Args:
        encoder: the architecture (:class:`Encoder`, e.g. ``bertsize.preset("bert-base-uncased")``).
        workload: batch, sequence length, training or inference, precision, …;
            default ``Workload()`` (inference, batch 1, 128 tokens, fp32).
        head: "model", "masked_lm", "pretraining" or "sequence_classification".
        num_labels: classes of the classification head (ALBERT's SOP head too).
        device: a :class:`~bertsize.Device` or catalog name: fills ``latency_s``, the
            roofline seconds per step.

    Raises:
        TypeError, ValueError: invalid arguments (the message names the field).
        OverflowError: a metric does not fit in int64 (9.2e18).
    """
    workload = _DEFAULT_WORKLOAD if workload is None else workload
    # Fast path of the argument checks (an AutoML loop calls this thousands of times a
    # second); anything unusual goes through the full, message-producing check_arguments.
    if (
        type(encoder) is not Encoder or type(workload) is not Workload or type(num_labels) is not int
        or num_labels < 1 or type(head) is not str or (encoder.family, head) not in _VALID_HEADS
        or workload.seq_len > encoder.max_positions - 2
    ):
        num_labels = check_arguments(encoder, workload, head, num_labels)
    if kernel is None:
        result = _oracle_estimate(encoder, workload, head, num_labels)
    else:
        result = kernel.estimate_tuple(
            Estimate, encoder, workload, head, _HEAD_CODES[head], num_labels, _abi.pack_encoder, _abi.pack_workload
        )
        if type(result) is int:
            _raise_kernel_status(result, encoder, workload)
    if device is None:
        return result
    return result._replace(latency_s=latency(encoder, workload, head, num_labels, device))


def latency(encoder: Encoder, workload: Workload, head: str, num_labels: int, device: object) -> float:
    """Roofline seconds per step of ``workload`` on ``device`` (see :mod:`bertsize.roofline`)."""
    device = lookup_device(device)
    if kernel is None:
        return roofline.latency_seconds(*_oracle_model(encoder, workload, head, num_labels), workload, device)
    seconds = kernel.latency(_abi.pack_encoder(encoder), _abi.pack_workload(workload), _HEAD_CODES[head], num_labels,
                             _abi.pack_device(device, workload.precision))
    if type(seconds) is int:
        _raise_kernel_status(seconds, encoder, workload)
    return seconds


def _oracle_model(
    encoder: Encoder, workload: Workload, head: str, num_labels: int
) -> tuple[oracle.Trace, states.ModelStates, int]:
    """The pure-Python oracle's forward trace, model states and parameter count: what
    :func:`bertsize.roofline.latency_seconds` takes before the workload and device."""
    params = oracle.parameters(encoder, head, num_labels)
    forward = oracle.trace(encoder, workload, head, num_labels)
    model_states = states.model_states(params, workload, autocast_copy_elements=_autocast_copies(params, encoder, head))
    return forward, model_states, sum(p.total for p in params)


def _autocast_copies(params: list, encoder: Encoder, head: str) -> int:
    return sum(p.numel * p.used_count for p in params if p.kind == "linear") + oracle.decoder_weight_numel(encoder, head)


_DEFAULT_WORKLOAD = Workload()
_VALID_HEADS = frozenset(
    (family, head) for family in FAMILIES for head in HEADS if Encoder(family=family).has_head(head)
)
_HEAD_CODES = _abi.HEAD_CODES


def _raise_kernel_status(status: int, encoder: Encoder, workload: Workload) -> None:
    if status < 0:
        raise OverflowError(f"{METRICS[-status - 1]} of this configuration exceeds int64 (2**63 - 1)")
    # Encoder and Workload validate themselves, so only the sequence length can fail the
    # row check; check_arguments gives the message.
    check_arguments(encoder, workload, "model", 1)
    raise RuntimeError(f"bertsize kernel returned status {status} for a valid configuration")  # a kernel bug


def _oracle_estimate(encoder: Encoder, workload: Workload, head: str, num_labels: int) -> Estimate:
    values, too_big = oracle_values(encoder, workload, head, num_labels)
    for name in METRICS:
        if name in too_big:
            raise OverflowError(f"{name} of this configuration exceeds int64 (2**63 - 1)")
    return Estimate(*values, None, encoder, workload, head, num_labels)


def oracle_values(encoder: Encoder, workload: Workload, head: str, num_labels: int) -> tuple[tuple[int, ...], set[str]]:
    """The :data:`METRICS` by the pure-Python oracle, exact, and the names of those that
    break the int64 contract.

    The contract (the kernel's): a metric is reported only when it and what it is built
    from fit in int64 — ``macs_fwd`` and ``flops_bwd`` are built from ``flops_fwd``; the
    model-state bytes from ``params`` and their totals before ZeRO partitioning;
    ``peak_bytes`` from the model states and ``activation_bytes``.
    """
    forward, model_states, params = _oracle_model(encoder, workload, head, num_labels)
    flops_fwd = sum(forward.matmul_flops.values())
    if workload.training:
        flops_bwd = 2 * flops_fwd + forward.recompute_flops
        activations = sum(forward.saved_bytes.values())
        peak = model_states.total + activations + forward.recompute_transient_bytes
    else:
        flops_bwd = 0
        activations = forward.live_peak_bytes
        peak = model_states.weight_bytes + activations
    values = (
        params, flops_fwd, flops_bwd, flops_fwd // 2, sum(forward.elementwise_flops.values()),
        model_states.weight_bytes, model_states.grad_bytes, model_states.optimizer_bytes, activations, peak,
    )
    too_big = {name for name, value in zip(METRICS, values) if value > _INT64_MAX}
    if "flops_fwd" in too_big:
        too_big |= {"macs_fwd", "flops_bwd"}
    if "params" in too_big or model_states.unpartitioned > _INT64_MAX:
        too_big |= {"weight_bytes", "grad_bytes", "optimizer_bytes"}
    if too_big & {"weight_bytes", "grad_bytes", "optimizer_bytes", "activation_bytes"}:
        too_big.add("peak_bytes")
    return values, too_big


def breakdown(encoder: Encoder, workload: Workload, head: str = "model", num_labels: int = 2) -> tuple[ComponentCost, ...]:
    """Per-component parameters, FLOPs and saved activations (pure-Python oracle)."""
    labels = check_arguments(encoder, workload, head, num_labels)
    params = oracle.parameters(encoder, head, labels)
    forward = oracle.trace(encoder, workload, head, labels)
    return tuple(
        ComponentCost(
            component=name,
            params=sum(p.total for p in params if p.component == name),
            flops_fwd=forward.matmul_flops[name],
            elementwise_flops_fwd=forward.elementwise_flops[name],
            activation_bytes=forward.saved_bytes[name],
        )
        for name in oracle.COMPONENTS
    )


def count_params(encoder: Encoder, head: str = "model", num_labels: int = 2) -> int:
    """Parameters of the HF class for ``head`` (tied weights once)."""
    check_arguments(encoder, Workload(seq_len=1), head, num_labels)
    return sum(p.total for p in oracle.parameters(encoder, head, num_labels))
