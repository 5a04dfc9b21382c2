"""Calibrate a Device's roofline from measured step times.

:func:`calibrate` fits the three free factors of the roofline (compute efficiency,
memory efficiency, seconds per op) to measured ``(encoder, workload, seconds)`` rows by
minimising the squared error of log(predicted / measured) -- relative errors, so that a
1 ms model weighs as much as a 1 s one -- with a Nelder-Mead search over the logarithms
of the three factors (no SciPy needed).  :func:`fit_class` fits one set of factors to
measurements on several devices of a class: the catalog's class defaults, from the
published latencies of ``data/latency_measurements.json`` (:func:`published_measurements`).
:func:`measure` produces such rows by timing real HuggingFace models on this machine
(torch + transformers, optional).
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import resources

from bertsize import _validate, oracle, roofline
from bertsize.devices import MAX_EFFICIENCY, Device
from bertsize.devices import device as lookup_device
from bertsize.estimate import check_arguments, row_of
from bertsize.model import Encoder
from bertsize.options import Options
from bertsize.presets import preset
from bertsize.validity import FIELDS
from bertsize.workload import Workload

Measurement = tuple  # (encoder, workload, seconds) or (encoder, workload, seconds, head)


def calibrate(device: Device | str, measurements: Iterable[Measurement], iterations: int = 600) -> Device:
    """A copy of ``device`` whose efficiencies and per-op overhead best predict the
    measurements (least squares on log time).

    Args:
        device: the device measured (catalog name or Device); its peak and bandwidth stay.
        measurements: rows ``(encoder, workload, seconds)`` or ``(..., head)``.
        iterations: Nelder-Mead iterations.

    Raises:
        ValueError: fewer than three measurements, or a time that is not positive.
    """
    device = lookup_device(device)
    iterations = _validate.integer("iterations", iterations)
    rows = [_row(m, index) for index, m in enumerate(measurements)]
    if len(rows) < 3:
        raise ValueError(f"calibrate needs at least 3 measurements to fit 3 factors, got {len(rows)}")
    best = _fit([(device, _predictor(device, e, w, h), seconds) for e, w, seconds, h in rows], iterations)
    return _candidate(device, best)


def fit_class(measurements: Iterable[tuple[Device, Encoder, Workload, float]],
              iterations: int = 2000) -> dict[str, float]:
    """The one set of factors (compute and memory efficiency, seconds per op) that best
    predicts measurements on several devices of a class: each row ``(device, encoder,
    workload, seconds)`` timed on its own device's peaks (least squares on log time,
    as :func:`calibrate`).  How the catalog's class defaults are derived
    (:func:`published_measurements`; ``benchmarks/bench_latency_validation.py``)."""
    rows = list(measurements)
    if len(rows) < 3:
        raise ValueError(f"fit_class needs at least 3 measurements to fit 3 factors, got {len(rows)}")
    best = _fit([(device.datasheet(), _predictor(device, e, w, "model"), seconds) for device, e, w, seconds in rows],
                iterations)
    return dict(zip(("compute_efficiency", "memory_efficiency", "overhead_s"), (math.exp(v) for v in best)))


def published_measurements() -> list[dict]:
    """The published latencies of ``data/latency_measurements.json``, each a dict with
    ``device`` (a catalog Device), ``encoder``, ``workload`` (an inference), ``seconds``,
    ``role`` ("calibrate": fits its class's defaults; "validate": held out) and
    ``source``."""
    text = resources.files("bertsize").joinpath("data/latency_measurements.json").read_text(encoding="utf-8")
    rows = []
    for entry in json.loads(text)["measurements"]:
        workload = Workload(batch=entry["batch"], seq_len=entry["seq_len"], precision=entry["precision"])
        rows.append({"device": lookup_device(entry["device"]), "encoder": preset(entry["preset"]),
                     "workload": workload, "seconds": entry["milliseconds"] / 1000, "role": entry["role"],
                     "source": entry["source"]})
    return rows


def _fit(predictors: Sequence[tuple[Device, Callable[[Device], float], float]], iterations: int) -> list[float]:
    """Log-factors minimising the squared log error of every row, each timed on its own
    device with the candidate factors."""

    def loss(point: Sequence[float]) -> float:
        total = 0.0
        for device, predict, seconds in predictors:
            candidate = _candidate(device, point)
            if candidate is None:
                return math.inf
            total += math.log(predict(candidate) / seconds) ** 2
        return total

    # start: datasheet efficiencies halved, a microsecond per op
    return _nelder_mead(loss, [math.log(0.5), math.log(0.5), math.log(1e-6)], 1.0, iterations)


def _predictor(device: Device, encoder: Encoder, workload: Workload, head: str) -> Callable[[Device], float]:
    """Seconds of one measured row on a candidate device: its roofline terms are traced
    once, here, and timed for each candidate."""
    check_arguments(encoder, workload, head, 2)
    options = Options.of(encoder.options, workload.options, head)
    terms = oracle.latency_terms(options, dict(zip(FIELDS, row_of(encoder, workload, 2))))
    device.peak_for(workload.precision)  # raise, row by row, what the first evaluation would

    def predict(candidate: Device) -> float:
        return roofline.seconds(terms, roofline.constants(workload, candidate))

    return predict


def _candidate(device: Device, point: Sequence[float]) -> Device | None:
    compute, memory, overhead = (math.exp(v) for v in point)
    if not (1e-6 < compute <= MAX_EFFICIENCY and 1e-6 < memory <= MAX_EFFICIENCY and overhead < 10):
        return None
    return device.replace(compute_efficiency=compute, memory_efficiency=memory, overhead_s=overhead)


def _row(measurement: Measurement, index: int) -> tuple[Encoder, Workload, float, str]:
    if not isinstance(measurement, tuple) or len(measurement) not in (3, 4):
        raise TypeError(f"measurement {index} must be (encoder, workload, seconds[, head]), got {measurement!r}")
    encoder, workload, seconds, *head = measurement
    if not isinstance(encoder, Encoder) or not isinstance(workload, Workload):
        raise TypeError(f"measurement {index}: expected an Encoder and a Workload")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"measurement {index}: seconds must be a positive time, got {seconds!r}")
    return encoder, workload, float(seconds), head[0] if head else "model"


def _nelder_mead(function: Callable[[Sequence[float]], float], start: list[float], step: float,
                 iterations: int) -> list[float]:
    """Minimise ``function`` from ``start`` (standard coefficients 1, 2, 0.5, 0.5)."""
    dimensions = len(start)
    simplex = [list(start)] + [[v + (step if i == j else 0.0) for j, v in enumerate(start)] for i in range(dimensions)]
    values = [function(p) for p in simplex]
    for _ in range(iterations):
        order = sorted(range(dimensions + 1), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        centroid = [sum(p[j] for p in simplex[:-1]) / dimensions for j in range(dimensions)]
        worst = simplex[-1]
        reflected = [c + (c - w) for c, w in zip(centroid, worst)]
        value = function(reflected)
        if values[0] <= value < values[-2]:
            simplex[-1], values[-1] = reflected, value
            continue
        if value < values[0]:
            expanded = [c + 2 * (r - c) for c, r in zip(centroid, reflected)]
            expanded_value = function(expanded)
            simplex[-1], values[-1] = (expanded, expanded_value) if expanded_value < value else (reflected, value)
            continue
        contracted = [c + 0.5 * (w - c) for c, w in zip(centroid, worst)]
        contracted_value = function(contracted)
        if contracted_value < values[-1]:
            simplex[-1], values[-1] = contracted, contracted_value
            continue
        simplex = [simplex[0]] + [[b + 0.5 * (p - b) for b, p in zip(simplex[0], point)] for point in simplex[1:]]
        values = [values[0]] + [function(p) for p in simplex[1:]]
    return simplex[min(range(dimensions + 1), key=values.__getitem__)]


def measure(encoder: Encoder, workload: Workload, head: str = "model", *, repeats: int = 10, warmup: int = 3,
            threads: int | None = None) -> float:
    """Median seconds of the HF model's forward for ``workload`` on this machine's CPU.

    Needs torch and transformers (``pip install '.[validate]'``).  The model is built
    from a config with random weights, in eval mode, fp32 or bf16 (``model.to``), eager
    attention unless the workload says "sdpa"; inputs are random token ids.  Inference
    only: a training workload raises ValueError.
    """
    if workload.training:
        raise ValueError("measure() times inference forwards; pass a Workload with training=False")
    if workload.precision not in ("fp32", "bf16"):
        raise ValueError(f"measure() runs fp32 or bf16 on the CPU, got precision={workload.precision!r}")
    try:
        import torch
        import transformers
    except ImportError as error:
        raise ImportError("measure() needs torch and transformers: pip install torch transformers") from error
    from bertsize.hf_config import hf_class_name, to_hf_config

    if threads is not None:
        torch.set_num_threads(threads)
    config = to_hf_config(encoder, attention="sdpa" if workload.attention == "sdpa" else "eager")
    model_class = getattr(transformers, hf_class_name(encoder.family, head))
    with torch.device("cpu"):
        model = model_class(config).eval()
    if workload.precision == "bf16":
        model = model.to(torch.bfloat16)
    ids = torch.randint(3, encoder.vocab, (workload.batch, workload.seq_len))
    times = []
    with torch.inference_mode():
        for index in range(warmup + repeats):
            start = time.perf_counter()
            model(input_ids=ids)
            if index >= warmup:
                times.append(time.perf_counter() - start)
    return statistics.median(times)
