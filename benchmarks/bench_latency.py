"""Roofline latency against real HuggingFace BertModel forwards on this CPU.

Measures >= 20 configurations (bert-tiny up to bert-base sizes, several sequence
lengths), calibrates the roofline of this machine on half of them, and prints the
prediction error on the other half.  The device's peak and bandwidth are measured here
first: a large fp32 matmul (torch) and the STREAM triad (bertsize's kernel).

    python benchmarks/bench_latency.py            # needs torch + transformers

Not a test: prints a table (the README quotes it).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

import bertsize
from bertsize import _kernel

THREADS = 2
CONFIGS = [  # (preset, batch, seq_len)
    (name, batch, seq)
    for name in ("bert-tiny", "bert-mini", "bert-small", "bert-medium",
                 "google/bert_uncased_L-6_H-512_A-8", "google/bert_uncased_L-12_H-256_A-4", "bert-base-uncased")
    for batch, seq in ((1, 64), (4, 128), (2, 256))
]


def machine() -> bertsize.Device:
    import torch

    torch.set_num_threads(THREADS)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    for _ in range(3):
        a @ b
    start, runs = time.perf_counter(), 0
    while time.perf_counter() - start < 1.5:
        a @ b
        runs += 1
    peak = runs * 2 * 2048**3 / (time.perf_counter() - start)
    n = 20_000_000
    x, y, z = np.empty(n), np.ones(n), np.ones(n)
    _kernel.stream_triad(x, y, z, 3.0, THREADS)
    best = min(_time(lambda: _kernel.stream_triad(x, y, z, 3.0, THREADS)) for _ in range(5))
    bandwidth = 24 * n / best
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    print(f"this machine: {THREADS} threads, fp32 matmul {peak / 1e9:.1f} GFLOP/s (torch, 2048^3), "
          f"STREAM triad {bandwidth / 1e9:.1f} GB/s, {memory / 2**30:.0f} GiB")
    return bertsize.Device(name="this-cpu", kind="cpu", memory_bytes=memory, memory_bandwidth=bandwidth,
                           peak={"fp32": peak})


def _time(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    device = machine()
    rows = []
    for name, batch, seq in CONFIGS:
        encoder = bertsize.preset(name)
        work = bertsize.Workload(batch=batch, seq_len=seq)
        seconds = bertsize.measure(encoder, work, repeats=7, warmup=2, threads=THREADS)
        rows.append((name, encoder, work, seconds))
    fit = rows[0::2]  # the odd rows are held out
    calibrated = bertsize.calibrate(device, [(e, w, s) for _, e, w, s in fit])
    print(f"calibrated on {len(fit)}: compute efficiency {calibrated.compute_efficiency:.3f}, "
          f"memory efficiency {calibrated.memory_efficiency:.3f}, {calibrated.overhead_s * 1e6:.1f} us per op\n")
    print(f"{'model':36s} {'batch':>5s} {'seq':>4s} {'measured':>10s} {'predicted':>10s} {'error':>7s}  set")
    errors = []
    for index, (name, encoder, work, seconds) in enumerate(rows):
        predicted = bertsize.estimate(encoder, work, device=calibrated).latency_s
        error = predicted / seconds - 1
        held = index % 2 == 1
        if held:
            errors.append(abs(error))
        print(f"{name:36s} {work.batch:5d} {work.seq_len:4d} {seconds * 1e3:8.2f}ms {predicted * 1e3:8.2f}ms "
              f"{100 * error:+6.1f}%  {'held out' if held else 'fit'}")
    print(f"\nheld out ({len(errors)} configurations): median absolute error {100 * statistics.median(errors):.1f} %, "
          f"worst {100 * max(errors):.1f} %  (targets: median <= 15 %, worst <= 35 %)")


if __name__ == "__main__":
    main()
