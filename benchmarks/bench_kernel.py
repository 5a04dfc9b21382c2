"""Kernel throughput, measured as ratios in one run on one data set.

Prints, for N configurations of a BERT masked-LM design space (6 varying columns, all 10
metrics, bf16 mixed-precision training): evaluate() rows/s with 1 and 2 threads and the
bandwidth that implies, against this machine's STREAM triad (measured here, with the
kernel's own compiler and OpenMP); the same closed form vectorised with numpy; the
ceiling, the kernel's work in a C loop specialised to this one plan (ceiling.c, compiled
here); the pure-Python oracle in a loop; and the cost of one estimate() and of the raw
kernel call (into a caller's buffer, and returning a tuple of ints).

    python benchmarks/bench_kernel.py [--rows 20000000]

Not a test: nothing here asserts a time.  The assertions check that the numpy version
and the ceiling compute the same numbers as the kernel (otherwise a ratio means nothing).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import subprocess
import sysconfig
import tempfile
import time
import timeit

import numpy as np

import bertsize
from bertsize import _abi, _kernel
from bertsize.estimate import oracle_values

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--oracle-rows", type=int, default=2_000)
    args = parser.parse_args()
    rows = args.rows
    info = bertsize.build_info()
    print(f"bertsize {bertsize.__version__}: {info['compiler']}, OpenMP {'on' if info['openmp'] else 'off'}, "
          f"{info['threads']} threads, {os.cpu_count()} cores")

    # --- the machine's memory bandwidth, measured now -----------------------------------
    triad = {threads: stream_triad(rows, threads) for threads in (1, 2)}
    for threads, bandwidth in triad.items():
        print(f"STREAM triad, {threads} thread{'s' * (threads > 1)}: {bandwidth / 1e9:.1f} GB/s")

    # --- the kernel ----------------------------------------------------------------------
    columns = design_space(rows)
    out = {name: np.zeros(rows, dtype=np.int64) for name in bertsize.METRICS}
    bytes_per_row = 8 * (len(columns) + len(bertsize.METRICS))  # read + written
    print(f"\nevaluate(): {rows:,} rows, {len(columns)} columns -> {len(out)} metrics "
          f"({bytes_per_row} bytes per row), {HEAD}, {WORK.precision} training, out= buffers")
    rate = {}
    for threads in (1, 2):
        seconds = best_seconds(lambda t=threads: bertsize.evaluate(columns, BASE, WORK, HEAD, out=out, threads=t))
        rate[threads] = rows / seconds
        bandwidth = bytes_per_row * rate[threads]
        print(f"  {threads} thread{'s' * (threads > 1)}: {rate[threads]:.3g} rows/s, {bandwidth / 1e9:.1f} GB/s "
              f"= {100 * bandwidth / triad[threads]:.0f} % of triad")

    # --- numpy, same closed form, same data -----------------------------------------------
    numpy_seconds = best_seconds(lambda: numpy_closed_form(columns), repeats=1)
    reference = numpy_closed_form(columns)
    for name in bertsize.METRICS:
        np.testing.assert_array_equal(reference[name], out[name], err_msg=name)
    numpy_rate = rows / numpy_seconds
    print(f"numpy vectorised closed form: {numpy_rate:.3g} rows/s (identical results) "
          f"-> kernel / numpy = {rate[2] / numpy_rate:.1f}x (2 threads), {rate[1] / numpy_rate:.1f}x (1 thread)")
    del reference

    # --- the ceiling: the same work hand-specialised to this one plan (ceiling.c) ----------
    with tempfile.TemporaryDirectory() as directory:
        ceiling, flags = compile_ceiling(directory)
        if ceiling is None:
            print(f"ceiling not measured: ceiling.c did not compile ({flags})")
        else:
            ceiling_rate = ceiling_rates(ceiling, columns, out)
            bandwidth = bytes_per_row * ceiling_rate[2]
            print(f"ceiling, the same work hand-specialised to this one plan in C (ceiling.c, {flags}, identical "
                  f"results): {ceiling_rate[1]:.3g} rows/s (1 thread), {ceiling_rate[2]:.3g} rows/s (2 threads) "
                  f"= {bandwidth / 1e9:.1f} GB/s = {100 * bandwidth / triad[2]:.0f} % of triad, "
                  f"{ceiling_rate[2] / numpy_rate:.1f}x numpy -> the kernel runs at "
                  f"{100 * rate[2] / ceiling_rate[2]:.0f} % (2 threads), {100 * rate[1] / ceiling_rate[1]:.0f} % "
                  f"(1 thread) of the ceiling")

    # --- the pure-Python oracle --------------------------------------------------------------
    sample = {name: column[: args.oracle_rows] for name, column in columns.items()}

    def oracle_loop():
        for row in range(args.oracle_rows):
            encoder = BASE.replace(**{k: int(sample[k][row]) for k in ("layers", "hidden", "heads", "intermediate")})
            work = WORK.replace(batch=int(sample["batch"][row]), seq_len=int(sample["seq_len"][row]))
            oracle_values(encoder, work, HEAD, 2)

    oracle_rate = args.oracle_rows / best_seconds(oracle_loop, repeats=1)
    print(f"oracle, pure-Python loop: {oracle_rate:.3g} rows/s -> kernel / oracle = {rate[2] / oracle_rate:.3g}x")

    # --- one configuration ---------------------------------------------------------------------
    encoder, workload = bertsize.preset("bert-large-uncased"), WORK
    calls = 200_000
    per_call = min(timeit.repeat(lambda: bertsize.estimate(encoder, workload, HEAD), number=calls, repeat=5)) / calls
    # the raw calls, timed on a statement (no lambda call around them)
    namespace = {"scalar": _kernel.scalar, "scalar_into": _kernel.scalar_into,
                 "array": np.empty(_kernel.N_METRICS, dtype=np.int64), "raw": bytearray(8 * _kernel.N_METRICS),
                 "encoder": _abi.pack_encoder(encoder), "work": _abi.pack_workload(workload),
                 "head": _abi.HEAD_CODES[HEAD], "mask": (1 << len(bertsize.METRICS)) - 1}
    forms = {"bytearray": "scalar_into(raw, encoder, work, head, 2, mask)",
             "array": "scalar_into(array, encoder, work, head, 2, mask)",
             "tuple": "scalar(encoder, work, head, 2, mask)"}
    raw = {form: min(timeit.repeat(statement, globals=namespace, number=calls, repeat=5)) / calls
           for form, statement in forms.items()}
    # one after another, 1,000 configurations of the design space, in steady state (after the
    # first of the timed passes the scalar path's safe corner covers them all), beside the
    # same loop over one configuration repeated
    varied = [(_abi.pack_encoder(BASE.replace(layers=int(columns["layers"][row]), hidden=int(columns["hidden"][row]),
                                              heads=int(columns["heads"][row]),
                                              intermediate=int(columns["intermediate"][row]))),
               _abi.pack_workload(WORK.replace(batch=int(columns["batch"][row]), seq_len=int(columns["seq_len"][row]))))
              for row in range(1_000)]
    namespace.update(varied=varied, repeated=[varied[0]] * len(varied))
    loop = "for e, w in {}: scalar_into(raw, e, w, head, 2, mask)"
    per_row = {name: min(timeit.repeat(loop.format(name), globals=namespace, number=200, repeat=5))
               / (200 * len(varied)) for name in ("varied", "repeated")}
    print(f"\nestimate(): {per_call * 1e6:.2f} us per call; raw kernel scalar call: {raw['bytearray'] * 1e6:.2f} us "
          f"into a reused bytearray ({raw['array'] * 1e6:.2f} us into a numpy int64 array), "
          f"{raw['tuple'] * 1e6:.2f} us returning a tuple of ints; in a Python loop over 1,000 configurations "
          f"of the design space {per_row['varied'] * 1e6:.2f} us per call, loop included "
          f"({per_row['repeated'] * 1e6:.2f} us over one of them repeated)")
    print("(targets: 2 threads >= 15x numpy and >= 70 % of triad; estimate() <= 2 us; raw scalar <= 0.2 us)")


if __name__ == "__main__":
    main()
