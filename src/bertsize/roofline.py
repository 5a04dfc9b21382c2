"""Roofline latency: the ops of a step, and the rule that times them.

Each op takes ``max(FLOPs / (peak x compute_efficiency), bytes / (bandwidth x
memory_efficiency)) + overhead`` seconds.  Bytes moved: the op's activation elements in
the compute precision (4 bytes fp32, else 2) plus its raw bytes (Linear weights in the
weight format — int8 1 byte, int4 half a byte —, dropout masks 1 byte).  A training step
runs each forward op three times (forward, and a backward of twice the work), again for
what recomputation repeats (every layer, or the eager attention core), and adds the
optimizer update: 12 FLOPs per parameter; it reads weights, gradients and optimizer
state and writes weights and optimizer state.  A data-parallel step over N ranks also
exchanges, over the device's link (ring collectives, each rank sending and receiving
(N - 1) / N of the data; not overlapped with compute — an upper bound where frameworks
overlap them): without ZeRO an all-reduce of the gradients (2 (N - 1) / N of their
bytes); with ZeRO 1 and 2 a reduce-scatter of the gradients and an all-gather of the
updated weights (the same volume); with ZeRO 3 also an all-gather of the weights before
the forward and again before the backward (1.5 x; Rajbhandari et al. 2020, §7).

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
    ``raw_factor`` x ``raw`` raw bytes; with ``link``, a transfer of ``raw_factor`` x
    ``raw`` bytes over the link between ranks (no FLOPs, no per-op overhead)."""

    flops: object
    elements: object
    raw: object
    raw_factor: float
    repeats: object
    link: bool = False


@dataclass(frozen=True)
class Constants:
    """The device and precision side of the rule: FLOP/s and bytes/s an op reaches,
    seconds per op, bytes per activation element, and bytes/s one way over the link
    between ranks (0 where the device has none)."""

    flops_per_second: float
    bytes_per_second: float
    overhead: float
    activation_bytes: float
    link_bytes_per_second: float


def constants(options, device) -> Constants:
    return Constants(device.peak_for(options.precision) * device.compute_efficiency,
                     device.memory_bandwidth * device.memory_efficiency, device.overhead_s,
                     4.0 if options.precision == "fp32" else 2.0, device.link_bandwidth or 0.0)


def terms(trace: Trace, options, params, per_rank_states, exchanged) -> list[Term]:
    """The timed ops of one step: the forward's, with their repeats in a training step,
    the optimizer update and the data-parallel exchange.  ``per_rank_states``:
    (weights, grads, optimizer) bytes of a rank; ``exchanged``: (gradient, weight) bytes
    of a replica (:func:`bertsize.states.exchanged_bytes`)."""
    result = op_terms(trace.ops, trace, options)
    if options.training:
        result.append(optimizer_term(params, per_rank_states))
        result.extend(collective_terms(options, *exchanged))
    return result


def collective_terms(options, grad_bytes, weight_bytes) -> list[Term]:
    """The ring collectives of a data-parallel training step (the module docstring): each
    rank moves (N - 1) / N of the gradients' bytes twice without ZeRO, once and the
    weights' once with ZeRO 1 and 2, the weights' three times with ZeRO 3."""
    ranks = options.data_parallel
    if ranks == 1:
        return []
    share = (ranks - 1) / ranks
    if options.zero_stage == 0:
        return [Term(0, 0, grad_bytes, 2 * share, 1, link=True)]
    weight_passes = 3 if options.zero_stage == 3 else 1
    return [Term(0, 0, grad_bytes, share, 1, link=True), Term(0, 0, weight_bytes, weight_passes * share, 1, link=True)]


def op_terms(ops, trace: Trace, options) -> list[Term]:
    """The timed forward ``ops`` of ``trace``: once each for inference; in a training
    step forward and backward, and again where recomputation repeats them."""
    result = []
    for op in ops:
        repeats = op.count
        if options.training and op.group != "forward_only":
            repeats = 3 * op.count + (op.count if op.group in trace.recomputed_groups else 0)
        result.append(Term(op.flops, op.elements, op.raw_elements, op.raw_factor, repeats))
    return result


def optimizer_term(params, per_rank_states) -> Term:
    """The optimizer update of a training step: 12 FLOPs per parameter; it reads
    weights, gradients and optimizer state and writes weights and optimizer state."""
    weights, grads, optimizer = per_rank_states
    return Term(12 * params, 0, 2 * weights + grads + 2 * optimizer, 1.0, 1)


def compute_bound(term: Term, device: Constants) -> bool:
    """Whether the op of ``term`` takes longer computing than moving its bytes (a
    transfer between ranks never is)."""
    return not term.link and term.flops / device.flops_per_second >= _memory_seconds(term, device)


def _memory_seconds(term: Term, device: Constants) -> float:
    return (device.activation_bytes * term.elements + term.raw_factor * term.raw) / device.bytes_per_second


def seconds(timed: list[Term], device: Constants) -> float:
    """Seconds of the ops ``timed`` on ``device``."""
    total = 0.0
    for term in timed:
        if term.link:
            total += term.repeats * term.raw_factor * term.raw / device.link_bytes_per_second
            continue
        compute = term.flops / device.flops_per_second
        memory = _memory_seconds(term, device)
        total += term.repeats * ((compute if compute > memory else memory) + device.overhead)
    return total
