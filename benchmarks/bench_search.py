"""Budget search throughput, as ratios in one run.

1. Scan: count the fits of a >= 1e9-point space (BERT masked-LM, bf16 training, 24 GiB)
   with search() and with numpy broadcasting over the same space and budget (the closed
   form written out below, chunk by chunk); points per second of each and the ratio.
2. Count: the exact number of fits of a >= 1e12-point space under an 80 GiB budget, and
   the time it takes.  The walk's cost grows with the boundary between fitting and
   failing configurations, not with the size of the space: here every architecture's
   (seq_len, batch) plane is counted in closed form.
3. Ranking: Pareto fronts of up to 1e5 points and top-k of up to 1e5 rows, time per row.

    python benchmarks/bench_search.py

Not a test: the one assertion checks that numpy and search() count the same fits.
"""

from __future__ import annotations

import time

import numpy as np

import bertsize

WORK = bertsize.Workload(training=True, precision="bf16", optimizer="adamw")
HEAD = "masked_lm"


def scan_space():
    return bertsize.Space(
        "bert-base-uncased",
        layers=range(1, 49), hidden=range(64, 4097, 64), head_dim=[32, 64, 128], ffn_ratio=[1, 2, 3, 4],
        vocab=[30522, 50265, 119547, 250002], batch=range(1, 257), seq_len=range(8, 513, 8),
    )


def numpy_count(space, memory):
    """Fits of `space` by numpy broadcasting: BertForMaskedLM, bf16 mixed-precision AdamW
    (16 bytes per parameter), Korthikanti activations with dropout, eager attention."""
    a = space.axes
    P, T = space.base.max_positions, space.base.type_vocab
    head_dim = np.array(a["head_dim"])[:, None, None, None, None]
    ratio = np.array(a["ffn_ratio"])[None, :, None, None, None]
    V = np.array(a["vocab"])[None, None, :, None, None]
    b = np.array(a["batch"])[None, None, None, :, None]
    s = np.array(a["seq_len"])[None, None, None, None, :]
    n = b * s
    total = 0
    for L in a["layers"]:
        for H in a["hidden"]:
            A = H // head_dim
            I = ratio * H
            valid = (H % head_dim == 0) & (s <= P)
            params = (V + P + T) * H + 2 * H + L * (4 * H * H + 2 * H * I + 9 * H + I) + (H * H + 3 * H + V)
            nH = n * H
            activations = 3 * nH + L * (18 * nH + 4 * n * I + 5 * b * A * s * s) + 8 * nH + 4 * n * V + 4
            total += int(np.count_nonzero((16 * params + activations <= memory) & valid))
    return total


def timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def main():
    info = bertsize.build_info()
    print(f"bertsize {bertsize.__version__}: {info['compiler']}, OpenMP {'on' if info['openmp'] else 'off'}, "
          f"{info['threads']} threads")

    space = scan_space()
    budget = bertsize.Budget(memory="24GiB")
    print(f"\nscan: {space}")
    print(f"  budget: peak memory <= 24 GiB, {HEAD}, bf16 mixed-precision AdamW training")
    for threads in (1, 2):
        result, seconds = timed(lambda t=threads: bertsize.search(space, budget, WORK, HEAD, limit=0, threads=t))
        print(f"  search(), {threads} thread{'s' * (threads > 1)}: {result.count:,} fits of {space.size:,} points "
              f"({result.skipped:,} skipped) in {seconds:.3f} s = {space.size / seconds:.3g} points/s")
    count, numpy_seconds = timed(lambda: numpy_count(space, budget.memory))
    assert count == result.count, (count, result.count)
    print(f"  numpy broadcasting: the same {count:,} fits in {numpy_seconds:.1f} s = "
          f"{space.size / numpy_seconds:.3g} points/s -> search() / numpy = {numpy_seconds / seconds:.0f}x")

    # >= 1e12 points: capacity planning of encoder training on one 80 GiB GPU, the
    # (seq_len, batch) plane of every architecture counted in closed form
    big = bertsize.Space(
        bertsize.preset("bert-base-uncased").replace(max_positions=2048),
        layers=range(1, 129), hidden=range(32, 4097, 32), head_dim=32, ffn_ratio=[2, 4],
        batch=range(1, 16385), seq_len=range(1, 2049),
    )
    work = WORK.replace(recompute="full", attention="flash")
    budget = bertsize.Budget(memory="80GiB")
    print(f"\ncount: {big}")
    print("  budget: peak memory <= 80 GiB, BertModel, bf16 AdamW training, flash attention, full recomputation")
    for threads in (1, 2):
        result, seconds = timed(lambda t=threads: bertsize.search(big, budget, work, "model", limit=0, threads=t))
        valid = big.size - result.skipped
        print(f"  {threads} thread{'s' * (threads > 1)}: {result.count:,} of {valid:,} configurations fit "
              f"({100 * result.count / valid:.1f} %), counted exactly in {seconds:.3f} s ({big.size / seconds:.3g} points/s)")
    print("(targets: scan >= 15x numpy and >= 1e10 points/s on 2 threads; count of >= 1e12 points <= 1 s)")

    ranking()


def ranking():
    """Pareto fronts of 2.5e4..1e5 points and top-k of 1e4..1e5 rows: the time per row
    stays flat as they grow (O(n log n)), where a quadratic front or an unbounded top-k
    would grow with n."""
    print("\nranking: Pareto fronts (params up, FLOPs down: every layer count of a BERT-base is on the front)")
    for layers in (25_000, 50_000, 100_000):
        space = bertsize.Space("bert-base-uncased", layers=range(1, layers + 1))
        result = bertsize.search(space, bertsize.Budget(), limit=0)
        front, seconds = timed(lambda r=result: r.pareto(("params", "flops_fwd")))
        print(f"  {len(front):,}-point front of {result.count:,} fits in {seconds:.3f} s "
              f"({seconds / len(front) * 1e6:.2f} us per front point)")
    space = bertsize.Space("bert-base-uncased", layers=range(1, 201), hidden=range(64, 4097, 64), head_dim=64,
                           intermediate=range(256, 16385, 256))
    result = bertsize.search(space, bertsize.Budget(memory="24GiB"), WORK, HEAD, limit=0)
    print(f"ranking: top-k by params of {result.count:,} fits ({space})")
    for k in (10_000, 30_000, 100_000):
        rows, seconds = timed(lambda k=k: result.top_k(k))
        print(f"  top_k({k:,}): {len(rows):,} rows in {seconds:.3f} s ({seconds / len(rows) * 1e6:.2f} us per row)")


if __name__ == "__main__":
    main()
