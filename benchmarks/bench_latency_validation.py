"""The latency model against published measurements (issue 19): per device class, the
default factors fit on the measurements marked "calibrate" (bertsize.calibration.fit_class),
then every measurement marked "validate" — held out of the fit — predicted and compared.

    PYTHONPATH=src python benchmarks/bench_latency_validation.py

Prints the fit, the catalog's stored defaults beside it (they must agree: the catalog is
this fit's output), and per class the held-out rows, their median and worst absolute
error.  Classes without a citable PyTorch measurement stay roofline bounds and say so.
"""

from __future__ import annotations

import statistics

import bertsize
from bertsize import calibration
from bertsize.devices import DEVICE_CLASSES, class_defaults


def main() -> None:
    rows = calibration.published_measurements()
    stored = class_defaults()
    for name in DEVICE_CLASSES:
        members = [r for r in rows if r["device"].device_class == name]
        if not members:
            print(f"{name}: no published PyTorch measurement catalogued; its devices stay roofline bounds\n")
            continue
        train = [(r["device"], r["encoder"], r["workload"], r["seconds"]) for r in members if r["role"] == "calibrate"]
        fit = calibration.fit_class(train)
        print(f"{name}: fit on {len(train)} measurements: compute efficiency {fit['compute_efficiency']:.3f}, "
              f"memory efficiency {fit['memory_efficiency']:.3f}, {fit['overhead_s'] * 1e6:.1f} us per op")
        catalog = stored[name]
        same = catalog is not None and all(abs(catalog[k] / fit[k] - 1) < 1e-9 for k in fit)
        print(f"  catalog defaults: {'the same' if same else 'DIFFER: ' + repr(catalog)}")
        print(f"  {'held out (validate)':<46} {'published':>10} {'predicted':>10} {'error':>7}")
        errors = []
        for r in members:
            if r["role"] != "validate":
                continue
            work = r["workload"]
            predicted = bertsize.estimate(r["encoder"], work, device=r["device"]).latency_s
            error = predicted / r["seconds"] - 1
            errors.append(abs(error))
            label = f"{r['device'].name} {work.precision} b{work.batch} s{work.seq_len}"
            print(f"  {label:<46} {r['seconds'] * 1e3:>8.2f}ms {predicted * 1e3:>8.2f}ms {error:>+7.0%}")
        print(f"  {len(errors)} held out: median |error| {statistics.median(errors):.0%}, worst {max(errors):.0%} "
              "(targets: 25 %, 60 %)\n")


if __name__ == "__main__":
    main()
