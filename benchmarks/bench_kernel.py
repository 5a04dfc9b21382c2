"""Kernel throughput, measured as ratios in one run on one data set.

Prints, for N configurations of a BERT masked-LM design space (6 varying columns, bf16
mixed-precision training): evaluate() rows/s of all 10 metrics and of params + flops_fwd,
with 1 and 2 threads, and the bandwidth that implies against this machine's STREAM triad
(measured here, with the kernel's own compiler and OpenMP); the same closed form with
numpy; the ceiling, all metrics in a C loop specialised to this one plan (ceiling.c,
compiled here); the pure-Python oracle in a loop; the cost of compiling a plan; and one
configuration: estimate(), the raw kernel call, and one AutoML trial as
examples/optuna_constraint.py runs it (Encoder.replace + estimate with a device) —
beside the same calls of another build (``--baseline SRC``: the ``src`` directory of a
built checkout, e.g. the commit before the architecture-as-data redesign), timed in the
same run.

    python benchmarks/bench_kernel.py [--rows 20000000] [--baseline ../baseline/src]

Not a test: nothing here asserts a time.  The assertions check that the numpy version
and the ceiling compute the same numbers as the kernel (otherwise a ratio means nothing).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import timeit

# numpy's BLAS threads spin between calls and take a core from the kernel under test
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

import bertsize  # noqa: E402
from bertsize import _abi, _kernel, oracle, program, validity  # noqa: E402
from bertsize.estimate import row_of  # noqa: E402
from bertsize.options import Options  # noqa: E402

BASE = bertsize.preset("bert-base-uncased")
WORK = bertsize.Workload(training=True, precision="bf16", optimizer="adamw", backend="cuda")
HEAD = "masked_lm"


def best_seconds(function, repeats=3):
    function()  # warm: page faults, thread pool
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def stream_triad(rows, threads):
    """Bytes/s of a = b + 3 c over `rows` doubles (STREAM counts 3 x 8 bytes per element)."""
    a, b, c = np.empty(rows), np.ones(rows), np.full(rows, 2.0)
    return 24 * rows / best_seconds(lambda: _kernel.stream_triad(a, b, c, 3.0, threads), repeats=5)


def design_space(rows, seed=0):
    rng = np.random.default_rng(seed)
    heads = rng.integers(1, 17, rows)
    return {
        "layers": rng.integers(1, 49, rows),
        "heads": heads,
        "hidden": heads * rng.integers(1, 129, rows),
        "intermediate": rng.integers(1, 8193, rows),
        "batch": rng.integers(1, 65, rows),
        "seq_len": rng.integers(1, 513, rows),
    }


def numpy_closed_form(c, V=BASE.vocab, P=BASE.max_positions, T=BASE.type_vocab):
    """All 10 metrics of BertForMaskedLM, bf16 mixed-precision training (Korthikanti
    accounting, eager attention, dropout on), written out with numpy broadcasting."""
    L, H, A, I, b, s = c["layers"], c["hidden"], c["heads"], c["intermediate"], c["batch"], c["seq_len"]
    n = b * s
    nH, nI, S = n * H, n * I, b * A * s * s
    params = (V + P + T) * H + 2 * H + L * (4 * H * H + 2 * H * I + 9 * H + I) + (H * H + 3 * H + V)
    flops = 2 * nH * (L * (4 * H + 2 * s + 2 * I) + H + V)
    elementwise = 10 * nH + L * (23 * nH + 6 * nI + 7 * S) + 13 * nH + n * V
    activations = 3 * nH + L * (18 * nH + 4 * nI + 5 * S) + 8 * nH + 4 * n * V + 4
    return {
        "params": params, "flops_fwd": flops, "flops_bwd": 2 * flops, "macs_fwd": flops // 2,
        "elementwise_flops_fwd": elementwise, "weight_bytes": 2 * params, "grad_bytes": 2 * params,
        "optimizer_bytes": 12 * params, "activation_bytes": activations, "peak_bytes": 16 * params + activations,
    }


def compile_ceiling(directory):
    """benchmarks/ceiling.c built with OpenMP as a shared library by the C compiler Python
    was built with, or None and a string saying why it could not be."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()
    source = pathlib.Path(__file__).with_name("ceiling.c")
    library = pathlib.Path(directory) / "ceiling.so"
    # the kernel's own flags where the compiler takes them (setup.py: GCC's SLP
    # vectoriser made the kernel's row loops slower)
    for flags in (["-fopenmp", "-fno-tree-slp-vectorize"], ["-fopenmp"]):
        command = [*compiler, "-O3", "-fPIC", "-shared", *flags, str(source), "-o", str(library)]
        try:
            result = subprocess.run(command, capture_output=True, text=True)
        except OSError as error:  # no such compiler
            return None, str(error)
        if result.returncode == 0:
            ceiling = ctypes.CDLL(str(library)).bench_ceiling
            ceiling.restype = ctypes.c_int64
            ceiling.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int,
                                ctypes.c_double, ctypes.c_double, ctypes.c_double]
            return ceiling, " ".join(flags)
    return None, (result.stderr.strip().splitlines() or [f"{compiler[0]} exited {result.returncode}"])[-1]


def ceiling_rates(ceiling, columns, kernel_out):
    """Rows/s of the compiled ceiling on the columns with 1 and 2 threads, after checking
    that it computes the kernel's numbers (kernel_out)."""
    rows = len(columns["layers"])
    order = ("layers", "heads", "hidden", "intermediate", "batch", "seq_len")
    inputs = (ctypes.c_void_p * len(order))(*[columns[name].ctypes.data for name in order])
    out = {name: np.zeros(rows, dtype=np.int64) for name in bertsize.METRICS}
    outputs = (ctypes.c_void_p * len(out))(*[out[name].ctypes.data for name in bertsize.METRICS])
    constants = (float(BASE.vocab), float(BASE.max_positions), float(BASE.type_vocab))
    failed = ceiling(inputs, rows, outputs, 2, *constants)
    if failed:
        raise SystemExit(f"ceiling.c refused the benchmark's rows ({failed})")
    for name in bertsize.METRICS:
        np.testing.assert_array_equal(out[name], kernel_out[name], err_msg=name)
    return {threads: rows / best_seconds(lambda t=threads: ceiling(inputs, rows, outputs, t, *constants))
            for threads in (1, 2)}


ONE_CONFIGURATION = """
import timeit, bertsize
base = bertsize.preset("bert-base-uncased")
large = bertsize.preset("bert-large-uncased")
work = bertsize.Workload(training=True, precision="bf16", optimizer="adamw", backend="cuda")
trial_work = bertsize.Workload(batch=32, seq_len=128, training=True, precision="fp16")
n = 200_000
def best(f):
    return min(timeit.repeat(f, number=n, repeat=5)) / n
print(best(lambda: bertsize.estimate(large, work, "masked_lm")))
print(best(lambda: bertsize.estimate(base.replace(hidden=512, heads=8, intermediate=2048, layers=6), trial_work,
                                     device="nvidia-t4")))
"""


def one_configuration(source: str | None) -> tuple[float, float]:
    """Seconds of estimate() and of one AutoML trial, with the bertsize of ``source``
    (a src directory) or this one, in a subprocess."""
    env = {**os.environ, "PYTHONPATH": source} if source else dict(os.environ)
    out = subprocess.run([sys.executable, "-c", ONE_CONFIGURATION], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def plan_costs() -> tuple[float, float]:
    """Median seconds to compile a new option set's plan (the recipe on symbols), over
    six option sets, and to lay out the benchmark call's program from its plan."""
    samples = []
    for head in ("model", "masked_lm", "sequence_classification"):
        for precision in ("fp32", "bf16"):
            options = Options.of(BASE.options, WORK.replace(precision=precision).options, head)
            program.compile_plan.cache_clear()
            start = time.perf_counter()
            program.compile_plan(options)
            samples.append(time.perf_counter() - start)
    plan = program.compile_plan(Options.of(BASE.options, WORK.options, HEAD))
    constants = {n: v for n, v in zip(validity.FIELDS, row_of(BASE, WORK, 2))
                 if n not in ("layers", "heads", "hidden", "intermediate", "batch", "seq_len")}
    start = time.perf_counter()
    program.emit(plan, constants, tuple(bertsize.METRICS))
    return statistics.median(samples), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--oracle-rows", type=int, default=2_000)
    parser.add_argument("--baseline", help="the src directory of another built bertsize, timed beside this one")
    args = parser.parse_args()
    rows = args.rows
    info = bertsize.build_info()
    print(f"bertsize {bertsize.__version__}: {info['compiler']}, OpenMP {'on' if info['openmp'] else 'off'}, "
          f"{info['threads']} threads, {os.cpu_count()} cores, {platform.processor() or platform.machine()}")

    # --- the machine's memory bandwidth, measured now -----------------------------------
    triad = {threads: stream_triad(rows, threads) for threads in (1, 2)}
    for threads, bandwidth in triad.items():
        print(f"STREAM triad, {threads} thread{'s' * (threads > 1)}: {bandwidth / 1e9:.1f} GB/s")

    # --- the kernel ----------------------------------------------------------------------
    columns = design_space(rows)
    out = {name: np.zeros(rows, dtype=np.int64) for name in bertsize.METRICS}
    rate = {}
    for names in (bertsize.METRICS, ("params", "flops_fwd")):
        selected = {name: out[name] for name in names}
        bytes_per_row = 8 * (len(columns) + len(names))  # read + written
        print(f"\nevaluate(): {rows:,} rows, {len(columns)} columns -> {len(names)} metrics ({bytes_per_row} bytes "
              f"per row), {HEAD}, {WORK.precision} training, out= buffers")
        for threads in (1, 2):
            seconds = best_seconds(lambda t=threads: bertsize.evaluate(columns, BASE, WORK, HEAD, metrics=names,
                                                                       out=selected, threads=t))
            rate[len(names), threads] = rows / seconds
            bandwidth = bytes_per_row * rate[len(names), threads]
            print(f"  {threads} thread{'s' * (threads > 1)}: {rate[len(names), threads]:.3g} rows/s, "
                  f"{bandwidth / 1e9:.1f} GB/s = {100 * bandwidth / triad[threads]:.0f} % of triad")

    # --- numpy, same closed form, same data -----------------------------------------------
    numpy_seconds = best_seconds(lambda: numpy_closed_form(columns), repeats=1)
    reference = numpy_closed_form(columns)
    for name in bertsize.METRICS:
        np.testing.assert_array_equal(reference[name], out[name], err_msg=name)
    numpy_rate = rows / numpy_seconds
    print(f"\nnumpy vectorised closed form of all 10: {numpy_rate:.3g} rows/s (identical results) -> kernel / numpy = "
          f"{rate[10, 2] / numpy_rate:.1f}x (2 threads), {rate[10, 1] / numpy_rate:.1f}x (1 thread)")
    del reference

    # --- the ceiling: the same work hand-specialised to this one plan (ceiling.c) ----------
    with tempfile.TemporaryDirectory() as directory:
        ceiling, flags = compile_ceiling(directory)
        if ceiling is None:
            print(f"ceiling not measured: ceiling.c did not compile ({flags})")
        else:
            ceiling_rate = ceiling_rates(ceiling, columns, out)
            bandwidth = 128 * ceiling_rate[2]
            print(f"ceiling, all 10 hand-specialised to this one plan in C (ceiling.c, {flags}, identical "
                  f"results): {ceiling_rate[1]:.3g} rows/s (1 thread), {ceiling_rate[2]:.3g} rows/s (2 threads) "
                  f"= {bandwidth / 1e9:.1f} GB/s = {100 * bandwidth / triad[2]:.0f} % of triad -> the kernel runs at "
                  f"{100 * rate[10, 2] / ceiling_rate[2]:.0f} % (2 threads), {100 * rate[10, 1] / ceiling_rate[1]:.0f} % "
                  f"(1 thread) of the ceiling")

    # --- the pure-Python oracle --------------------------------------------------------------
    options = Options.of(BASE.options, WORK.options, HEAD)
    sample = {name: column[: args.oracle_rows] for name, column in columns.items()}
    template = dict(zip(validity.FIELDS, row_of(BASE, WORK, 2)))

    def oracle_loop():
        for row in range(args.oracle_rows):
            oracle.metric_values(options, {**template, **{k: int(v[row]) for k, v in sample.items()}})

    oracle_rate = args.oracle_rows / best_seconds(oracle_loop, repeats=1)
    print(f"oracle, pure-Python loop: {oracle_rate:.3g} rows/s -> kernel / oracle = {rate[10, 2] / oracle_rate:.3g}x")

    # --- plans ---------------------------------------------------------------------------------
    compiling, laying_out = plan_costs()
    print(f"\nplan of a new option set: compiled in {compiling * 1e3:.1f} ms (the recipe on symbols, its branches "
          f"explored), a call's program laid out from it in {laying_out * 1e3:.2f} ms")

    # --- one configuration ---------------------------------------------------------------------
    calls = 200_000
    namespace = {"scalar_into": _kernel.scalar_into, "raw": bytearray(8 * _kernel.N_METRICS),
                 "encoder": bertsize.preset("bert-large-uncased"), "work": WORK,
                 "head": _abi.HEAD_CODES[HEAD], "mask": (1 << len(bertsize.METRICS)) - 1}
    raw = min(timeit.repeat("scalar_into(raw, encoder, work, head, 2, mask)", globals=namespace, number=calls,
                            repeat=5)) / calls
    estimate_here, trial_here = one_configuration(None)
    print(f"\nestimate(): {estimate_here * 1e6:.2f} us per call; raw kernel call (scalar_into): {raw * 1e6:.2f} us; "
          f"one AutoML trial (Encoder.replace + estimate with a device): {trial_here * 1e6:.2f} us")
    if args.baseline:
        estimate_then, trial_then = one_configuration(args.baseline)
        print(f"the baseline ({args.baseline}), same run: estimate() {estimate_then * 1e6:.2f} us, AutoML trial "
              f"{trial_then * 1e6:.2f} us -> this build {estimate_here / estimate_then:.2f}x and "
              f"{trial_here / trial_then:.2f}x their time")
    print("(targets: evaluate() of all metrics >= 60 % of triad, of params + flops_fwd >= 75 % (2 threads); "
          "estimate() no slower than the baseline, <= 1 us; an AutoML trial <= 3 us)")


if __name__ == "__main__":
    main()
