"""Roofline latency, op by op, from the oracle's trace (the pure-Python reference of
csrc/bs_latency.h).

Each op of the forward takes ``max(FLOPs / (peak x compute_efficiency), bytes /
(bandwidth x memory_efficiency)) + overhead`` seconds.  A training step adds the backward
(each forward op twice), what recomputation repeats (every layer, or the eager attention
core) and the optimizer update (12 FLOPs per parameter; it reads weights, gradients and
optimizer state and writes weights and optimizer state).
"""

from __future__ import annotations

from bertsize.devices import Device
from bertsize.oracle import Trace
from bertsize.states import ModelStates
from bertsize.workload import Workload


def latency_seconds(trace: Trace, states: ModelStates, params: int, workload: Workload, device: Device) -> float:
    """Seconds per step of the traced model on ``device``."""
    peak = device.peak_for(workload.precision) * device.compute_efficiency
    bandwidth = device.memory_bandwidth * device.memory_efficiency

    def seconds(flops: float, moved: float) -> float:
        return max(flops / peak, moved / bandwidth) + device.overhead_s

    forward = sum(count * seconds(flops, moved) for flops, moved, count, _ in trace.ops)
    if not workload.training:
        return forward
    total = 3 * forward  # backward: twice each forward op
    if workload.recompute == "full":
        total += sum(count * seconds(f, m) for f, m, count, group in trace.ops if group in ("layer", "core"))
    elif workload.recompute == "selective" and trace.recompute_flops:  # the eager core only
        total += sum(count * seconds(f, m) for f, m, count, group in trace.ops if group == "core")
    moved = 2 * states.weight_bytes + states.grad_bytes + 2 * states.optimizer_bytes
    return total + seconds(12 * params, moved)
