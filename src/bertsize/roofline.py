"""Roofline latency: the ops of a step, and the rule that times them.

Each op takes ``max(FLOPs / (peak x compute_efficiency), bytes / (bandwidth x
memory_efficiency)) + overhead`` seconds.  Bytes moved: the op's activation elements in
the compute precision (4 bytes fp32, else 2) plus its raw bytes (Linear weights in the
weight format — int8 1 byte, int4 half a byte —, dropout masks 1 byte).  A training step
runs each forward op three times (forward, and a backward of twice the work), again for
what recomputation repeats (every layer, or the eager attention core), and adds the
optimizer update: 12 FLOPs per parameter; it reads weights, gradients and optimizer
state and writes weights and optimizer state.

:func:`terms` lists the timed ops with their repeats, in any number domain; the oracle
times them with :func:`seconds`, the C evaluator does the same sum over the compiled
terms (``bs_latency`` in csrc/bs_program.h).
"""

from __future__ import annotations

from dataclasses import dataclass

from bertsize.tracer import Trace


@dataclass(frozen=True)
class Term:
    """``repeats`` ops of ``flops`` FLOPs moving ``elements`` activation elements and
    ``raw_factor`` x ``raw`` raw bytes."""

    flops: object
    elements: object
    raw: object
    raw_factor: float
    repeats: object


@dataclass(frozen=True)
class Constants:
    """The device and precision side of the rule: FLOP/s and bytes/s an op reaches,
    seconds per op, bytes per activation element."""

    flops_per_second: float
    bytes_per_second: float
    overhead: float
    activation_bytes: float


def constants(options, device) -> Constants:
    return Constants(device.peak_for(options.precision) * device.compute_efficiency,
                     device.memory_bandwidth * device.memory_efficiency, device.overhead_s,
                     4.0 if options.precision == "fp32" else 2.0)


def terms(trace: Trace, options, params, per_rank_states) -> list[Term]:
    """The timed ops of one step: the forward's, with their repeats in a training step,
    and the optimizer update.  ``per_rank_states``: (weights, grads, optimizer) bytes."""
    result = op_terms(trace.ops, trace, options)
    if options.training:
        result.append(optimizer_term(params, per_rank_states))
    return result


def op_terms(ops, trace: Trace, options) -> list[Term]:
    """The timed forward ``ops`` of ``trace``: once each for inference; in a training
    step forward and backward, and again where recomputation repeats them."""
    result = []
    for op in ops:
        repeats = op.count
        if options.training:
            repeats = 3 * op.count + (op.count if op.group in trace.recomputed_groups else 0)
        result.append(Term(op.flops, op.elements, op.raw_elements, op.raw_factor, repeats))
    return result


def optimizer_term(params, per_rank_states) -> Term:
    """The optimizer update of a training step: 12 FLOPs per parameter; it reads
    weights, gradients and optimizer state and writes weights and optimizer state."""
    weights, grads, optimizer = per_rank_states
    return Term(12 * params, 0, 2 * weights + grads + 2 * optimizer, 1.0, 1)


def compute_bound(term: Term, device: Constants) -> bool:
    """Whether the op of ``term`` takes longer computing than moving its bytes."""
    return term.flops / device.flops_per_second >= _memory_seconds(term, device)


def _memory_seconds(term: Term, device: Constants) -> float:
    return (device.activation_bytes * term.elements + term.raw_factor * term.raw) / device.bytes_per_second


def seconds(timed: list[Term], device: Constants) -> float:
    """Seconds of the ops ``timed`` on ``device``."""
    total = 0.0
    for term in timed:
        compute = term.flops / device.flops_per_second
        memory = _memory_seconds(term, device)
        total += term.repeats * ((compute if compute > memory else memory) + device.overhead)
    return total
