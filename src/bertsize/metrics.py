"""The metric registry: every number bertsize reports, its unit, and its formula.

A formula reads a forward :class:`~bertsize.tracer.Trace` and the option set, in any
number domain: the oracle evaluates it on exact ints, the plan compiler on polynomials
(:mod:`bertsize.program`), and the C evaluator runs what that yields.  A new metric is a
new entry here.

Overflow contract (both evaluators): a metric is reported when its exact value fits in
int64 — and, for a value divided on the way (ZeRO's partitions, ``macs_fwd``), when the
dividend does too; otherwise it is an ``OverflowError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bertsize import states
from bertsize.tracer import Trace

INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Metric:
    """One reported number.

    Attributes:
        name: its name in :class:`~bertsize.Estimate`, ``evaluate()`` and searches.
        unit: "parameters", "FLOPs" or "bytes".
        description: one line.
        formula: ``formula(trace, options, num)`` in the domain ``num``.
    """

    name: str
    unit: str
    description: str
    formula: Callable


def _params(trace: Trace, options, num):
    return sum((p.total for p in trace.parameters.values()), 0)


def _flops_fwd(trace: Trace, options, num):
    return sum(trace.matmul_flops.values(), 0)


def _flops_bwd(trace: Trace, options, num):
    # input and weight gradients: twice the forward a loss reads; plus what recomputation repeats
    return 2 * trace.graded_flops + trace.recompute_flops if options.training else 0


def _macs_fwd(trace: Trace, options, num):
    return num.floor_div(_flops_fwd(trace, options, num), 2)


def _elementwise(trace: Trace, options, num):
    return sum(trace.elementwise_flops.values(), 0)


def _state(name: str) -> Callable:
    def formula(trace: Trace, options, num):
        return states.per_rank_bytes(name, trace.parameters.values(), options, num, trace.matmul_weight_elements)

    return formula


def _activations(trace: Trace, options, num):
    return sum(trace.saved_bytes.values(), 0) if options.training else trace.live_peak_bytes


def _peak(trace: Trace, options, num):
    weights = _state("weights")(trace, options, num)
    if not options.training:
        return weights + trace.live_peak_bytes
    held = _state("grads")(trace, options, num) + _state("optimizer")(trace, options, num)
    return weights + held + _activations(trace, options, num) + trace.recompute_transient_bytes


def _flops_step(trace: Trace, options, num):
    return _flops_fwd(trace, options, num) + _flops_bwd(trace, options, num)


#: The integer metrics, in the order of :data:`bertsize.METRICS` and ``evaluate()``.
METRICS: dict[str, Metric] = {metric.name: metric for metric in (
    Metric("params", "parameters", "sum(p.numel() for p in model.parameters()), tied weights once", _params),
    Metric("flops_fwd", "FLOPs", "forward matmul FLOPs (FlopCounterMode, eager attention)", _flops_fwd),
    Metric("flops_bwd", "FLOPs", "backward matmul FLOPs of a training step (0 for inference)", _flops_bwd),
    Metric("macs_fwd", "MACs", "flops_fwd // 2", _macs_fwd),
    Metric("elementwise_flops_fwd", "FLOPs", "forward softmax, GELU, LayerNorm, bias, residual, dropout",
           _elementwise),
    Metric("weight_bytes", "bytes", "weights per rank", _state("weights")),
    Metric("grad_bytes", "bytes", "gradients per rank (training)", _state("grads")),
    Metric("optimizer_bytes", "bytes", "optimizer state per rank (training)", _state("optimizer")),
    Metric("activation_bytes", "bytes", "training: saved for backward; inference: the largest live set",
           _activations),
    Metric("peak_bytes", "bytes", "training: states + activations (+ a recomputed layer); inference: "
           "weights + activations", _peak),
)}
#: Budget and ranking quantities computed like metrics but not reported by estimate().
DERIVED: dict[str, Metric] = {
    "flops": Metric("flops", "FLOPs", "matmul FLOPs of the step: forward (+ backward when training)", _flops_step),
}
#: Everything a plan can compute, in the order of the kernel's outputs.
QUANTITIES: dict[str, Metric] = {**METRICS, **DERIVED}
NAMES = tuple(METRICS)
