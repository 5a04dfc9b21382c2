"""The oracle: the recipe on exact Python ints.

Every metric of one configuration, exact, straight from the recipe's walk of the HF
forward (:mod:`bertsize.recipe`) and the metric formulas (:mod:`bertsize.metrics`).  It
is the reference the compiled plans are tested against, the fallback under
``BERTSIZE_PUREPYTHON=1``, and the source of the per-component breakdown.  Tests check
it against real ``transformers`` models (``tests/test_hf_*.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

from bertsize import metrics, roofline, states
from bertsize.options import Options
from bertsize.recipe import Model, Sizes, trace as trace_recipe
from bertsize.tracer import COMPONENTS, Exact, Trace, Tracer
from bertsize.validity import FIELDS


def trace(options: Options, row: Mapping[str, int], profile: bool = False) -> Trace:
    """The forward of ``options``' HF class at the sizes of ``row`` (field -> int);
    ``profile``: with its per-module tallies (:mod:`bertsize.module_table`)."""
    num = Exact()
    sizes = Sizes.of(row, num, options)
    return trace_recipe(Tracer(num, options, sizes, profile=profile), Model.of(options, sizes))


def metric_values(options: Options, row: Mapping[str, int], forward: Trace | None = None,
                  names=metrics.NAMES) -> tuple[dict[str, int], set[str]]:
    """The metrics ``names`` (default every integer metric), exact, and the names of
    those that break the int64 contract (:mod:`bertsize.metrics`)."""
    forward = trace(options, row) if forward is None else forward
    values, too_big = {}, set()
    for name in names:
        num = Exact()
        value = metrics.QUANTITIES[name].formula(forward, options, num)
        values[name] = value
        if value > metrics.INT64_MAX or any(d > metrics.INT64_MAX for d in num.dividends):
            too_big.add(name)
    return values, too_big


def latency_terms(options: Options, row: Mapping[str, int], forward: Trace | None = None) -> list[roofline.Term]:
    """The roofline's timed ops of one step, exact (:func:`bertsize.roofline.terms`)."""
    forward = trace(options, row) if forward is None else forward
    return roofline.terms(forward, options, *_update_inputs(options, forward), _exchanged(options, forward))


def optimizer_term(options: Options, forward: Trace) -> roofline.Term:
    """The roofline term of a training step's optimizer update."""
    return roofline.optimizer_term(*_update_inputs(options, forward))


def collective_terms(options: Options, forward: Trace) -> list[roofline.Term]:
    """The roofline terms of a data-parallel training step's collectives."""
    return roofline.collective_terms(options, *_exchanged(options, forward))


def _exchanged(options: Options, forward: Trace) -> tuple[int, int]:
    return states.exchanged_bytes(forward.parameters.values(), options, Exact())


def _update_inputs(options: Options, forward: Trace) -> tuple[int, list[int]]:
    """What the optimizer update reads: the parameter count and the per-rank bytes of
    weights, gradients and optimizer state."""
    num = Exact()
    params = metrics.QUANTITIES["params"].formula(forward, options, num)
    per_rank = [states.per_rank_bytes(state, forward.parameters.values(), options, num,
                                      forward.matmul_weight_elements) for state in ("weights", "grads", "optimizer")]
    return params, per_rank


def latency(options: Options, row: Mapping[str, int], device: roofline.Constants, forward: Trace | None = None) -> float:
    """Roofline seconds of one step on a device (its :class:`~bertsize.roofline.Constants`)."""
    return roofline.seconds(latency_terms(options, row, forward), device)


def breakdown(options: Options, row: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """Per component: parameters, forward matmul and elementwise FLOPs, saved bytes."""
    forward = trace(options, row)
    params = dict.fromkeys(COMPONENTS, 0)
    for p in forward.parameters.values():
        params[p.component] += p.total
    return {name: {"params": params[name], "flops_fwd": forward.matmul_flops[name],
                   "elementwise_flops_fwd": forward.elementwise_flops[name],
                   "activation_bytes": forward.saved_bytes[name]}
            for name in COMPONENTS}


def row_of(values: Mapping[str, int]) -> dict[str, int]:
    """A full row from ``values`` (every field of :data:`~bertsize.validity.FIELDS`)."""
    return {name: values[name] for name in FIELDS}
