"""The ``bertsize`` command: estimate, compare, search, presets, devices.

Every subcommand prints a table with units people read (or ``--json`` / ``--csv``);
bad flags, unknown names and unreadable units end in a one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence

from bertsize import units
from bertsize.estimate import Estimate, estimate
from bertsize.hf_config import from_hf_config
from bertsize.model import HEADS, Encoder
from bertsize.presets import aliases, preset, presets
from bertsize.workload import ATTENTIONS, BACKENDS, OPTIMIZERS, PRECISIONS, RECOMPUTES, Workload

#: Encoder fields that `--flag value` or `name:field=value` may override.
_OVERRIDES = ("layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab", "embedding",
              "hidden_groups")


class _UsageError(Exception):
    """A problem with what the user typed: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is one line on stderr (and exit code 2), not the usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (_UsageError, ValueError, TypeError, OverflowError, OSError) as error:
        print(f"bertsize: error: {error}", file=sys.stderr)
        return 2


# --------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bertsize",
        description="Exact parameters, FLOPs, memory and latency of BERT-family encoders.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    est = commands.add_parser("estimate", help="costs of one encoder and workload",
                              description="Costs of one encoder and workload, with a per-component breakdown.")
    est.add_argument("model", help="a preset (bertsize presets) or a config.json path")
    _add_encoder_overrides(est)
    _add_workload(est)
    est.add_argument("--json", action="store_true", help="print JSON")
    est.set_defaults(run=_run_estimate)

    cmp_ = commands.add_parser(
        "compare", help="several encoders side by side",
        description="Several encoders side by side, with deltas and ratios to the first.  Each model is a "
                    "preset or config.json, optionally with overrides: bert-base-uncased:layers=24 or "
                    "bert-base-uncased:hidden=1024,heads=16,intermediate=4096.",
    )
    cmp_.add_argument("models", nargs="+", metavar="MODEL", help="PRESET|config.json[:field=value,...]")
    _add_workload(cmp_)
    cmp_.add_argument("--json", action="store_true", help="print JSON")
    cmp_.set_defaults(run=_run_compare)

    pre = commands.add_parser("presets", help="list the presets")
    pre.add_argument("--json", action="store_true", help="print JSON")
    pre.set_defaults(run=_run_presets)
    return parser


def _add_encoder_overrides(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("architecture overrides")
    for field in _OVERRIDES:
        group.add_argument(f"--{field.replace('_', '-')}", dest=field, type=_positive_int, metavar="N")


def _add_workload(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("workload")
    group.add_argument("--head", choices=HEADS, default="model", help="HF class (default: model)")
    group.add_argument("--num-labels", type=_positive_int, default=2, metavar="N")
    group.add_argument("--batch", type=_positive_int, default=1, metavar="N")
    group.add_argument("--seq-len", type=_positive_int, default=128, metavar="N")
    group.add_argument("--train", action="store_true", help="a training step (default: inference)")
    group.add_argument("--precision", choices=PRECISIONS, default="fp32")
    group.add_argument("--optimizer", choices=OPTIMIZERS, default="adamw")
    group.add_argument("--attention", choices=ATTENTIONS, default="eager")
    group.add_argument("--recompute", choices=RECOMPUTES, default="none")
    group.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0, help="ZeRO stage")
    group.add_argument("--dp", type=_positive_int, default=1, metavar="N", help="data-parallel ranks")
    group.add_argument("--backend", choices=BACKENDS, default="cuda",
                       help="memory accounting: cuda (Korthikanti et al.) or cpu (what PyTorch saves)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _workload(args: argparse.Namespace) -> Workload:
    return Workload(
        batch=args.batch, seq_len=args.seq_len, training=args.train, precision=args.precision,
        optimizer=args.optimizer, attention=args.attention, recompute=args.recompute,
        zero_stage=args.zero, data_parallel=args.dp, backend=args.backend,
    )


def _encoder(spec: str, overrides: dict[str, int] | None = None) -> Encoder:
    """A preset or config.json, with ``:field=value,...`` and flag overrides."""
    name, _, suffix = spec.partition(":")
    if name.endswith(".json") or os.path.sep in name:
        if not os.path.exists(name):
            raise _UsageError(f"no such config file: {name}")
        encoder = from_hf_config(name)
    else:
        encoder = preset(name)
    changes = dict(overrides or {})
    for item in filter(None, suffix.split(",")):
        field, equals, value = item.partition("=")
        field = field.strip().replace("-", "_")
        if not equals or field not in _OVERRIDES:
            raise _UsageError(f"cannot read override {item!r} in {spec!r}; write field=value with field one of "
                              f"{', '.join(_OVERRIDES)}")
        try:
            changes[field] = int(value)
        except ValueError:
            raise _UsageError(f"override {item!r} in {spec!r} needs a whole number") from None
    return encoder.replace(**changes) if changes else encoder


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------
def _run_estimate(args: argparse.Namespace) -> int:
    overrides = {field: getattr(args, field) for field in _OVERRIDES if getattr(args, field) is not None}
    encoder = _encoder(args.model, overrides)
    result = estimate(encoder, _workload(args), args.head, args.num_labels)
    if args.json:
        print(json.dumps(_as_json(result), indent=2))
        return 0
    print(_title(args.model, result))
    print(_table(["metric", "value"], _metric_rows(result)))
    print()
    rows = [[r.component, units.format_count(r.params), units.format_flops(r.flops_fwd),
             units.format_flops(r.elementwise_flops_fwd),
             units.format_bytes(r.activation_bytes) if result.workload.training else "-"]
            for r in result.breakdown()]
    print(_table(["component", "params", "matmul fwd", "elementwise fwd", "saved activations"], rows))
    return 0


def _run_compare(args: argparse.Namespace) -> int:
    workload = _workload(args)
    results = [estimate(_encoder(spec), workload, args.head, args.num_labels) for spec in args.models]
    if args.json:
        print(json.dumps({spec: _as_json(r) for spec, r in zip(args.models, results)}, indent=2))
        return 0
    first = results[0]
    headers = ["metric", *args.models]
    rows = []
    for label, name, fmt in _METRIC_FORMATS:
        if not workload.training and name in ("flops_bwd", "grad_bytes", "optimizer_bytes"):
            continue
        row = [label]
        for result in results:
            value, base = getattr(result, name), getattr(first, name)
            cell = fmt(value)
            if result is not first:
                delta = value - base
                ratio = f"x{value / base:.3f}" if base else "-"
                cell += f" ({'+' if delta >= 0 else '-'}{fmt(abs(delta))}, {ratio})"
            row.append(cell)
        rows.append(row)
    print(f"{_workload_text(workload, args.head)}; deltas and ratios against {args.models[0]}")
    print(_table(headers, rows))
    return 0


def _run_presets(args: argparse.Namespace) -> int:
    names = presets()
    if args.json:
        print(json.dumps({n: {"aliases": list(aliases(n)), **_encoder_json(preset(n))} for n in names}, indent=2))
        return 0
    rows = []
    for name in names:
        e = preset(name)
        rows.append([name, e.family, e.layers, e.hidden, e.heads, e.intermediate, e.vocab,
                     units.format_count(estimate(e, Workload(seq_len=1)).params), ", ".join(aliases(name))])
    print(_table(["preset", "family", "layers", "hidden", "heads", "ffn", "vocab", "params", "aliases"], rows))
    return 0


# --------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------
_METRIC_FORMATS = [
    ("parameters", "params", units.format_count),
    ("forward (matmul)", "flops_fwd", units.format_flops),
    ("backward (matmul)", "flops_bwd", units.format_flops),
    ("forward (elementwise)", "elementwise_flops_fwd", units.format_flops),
    ("weights", "weight_bytes", units.format_bytes),
    ("gradients", "grad_bytes", units.format_bytes),
    ("optimizer state", "optimizer_bytes", units.format_bytes),
    ("activations", "activation_bytes", units.format_bytes),
    ("peak memory", "peak_bytes", units.format_bytes),
]


def _metric_rows(result: Estimate) -> list[list[str]]:
    rows = []
    for label, name, fmt in _METRIC_FORMATS:
        if not result.workload.training and name in ("flops_bwd", "grad_bytes", "optimizer_bytes"):
            continue
        rows.append([label, fmt(getattr(result, name))])
    if result.latency_s is not None:
        rows.append(["latency", units.format_seconds(result.latency_s)])
    return rows


def _workload_text(work: Workload, head: str) -> str:
    mode = f"training ({work.optimizer}, recompute {work.recompute})" if work.training else "inference"
    return (f"head {head}, {mode}, batch {work.batch} x {work.seq_len} tokens, {work.precision}, "
            f"{work.attention} attention, {work.backend} accounting")


def _title(name: str, result: Estimate) -> str:
    e = result.encoder
    return (f"{name}: {e.family}, {e.layers} layers, hidden {e.hidden}, {e.heads} heads, ffn {e.intermediate}, "
            f"vocab {e.vocab}\n{_workload_text(result.workload, result.head)}")


def _encoder_json(encoder: Encoder) -> dict[str, object]:
    return {field: getattr(encoder, field) for field in encoder.__dataclass_fields__}


def _as_json(result: Estimate) -> dict[str, object]:
    data = {name: getattr(result, name) for name in result._fields if name not in ("encoder", "workload")}
    data["encoder"] = _encoder_json(result.encoder)
    data["workload"] = {f: getattr(result.workload, f) for f in result.workload.__dataclass_fields__}
    data["breakdown"] = [dataclasses.asdict(row) for row in result.breakdown()]
    return data


def _table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths])] + [line(r) for r in cells[1:]])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
