"""The ``bertsize`` command: estimate, compare, search, presets, devices.

Every subcommand prints a table with units people read (or ``--json`` / ``--csv``);
bad flags, unknown names and unreadable units end in a one-line error and exit code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import time
from collections.abc import Sequence

from bertsize import __version__, units
from bertsize._backend import MAX_THREADS
from bertsize.devices import MEMORY_RESERVE, PEAK_KEYS, Device, device, devices
from bertsize.estimate import METRICS, Estimate, count_params, estimate
from bertsize.hf_config import from_hf_config, hf_head
from bertsize.model import HEADS, Encoder
from bertsize.presets import aliases, preset, presets
from bertsize.search import OBJECTIVES, max_batch, max_seq_len, nearest_miss, objective_values, search
from bertsize.space import AXES, Budget, Space, describe_axis
from bertsize.workload import ATTENTIONS, BACKENDS, OPTIMIZERS, PRECISIONS, RECOMPUTES, Workload

#: Encoder fields that `--flag value` or `name:field=value` may override.
_OVERRIDES = ("layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab", "embedding",
              "hidden_groups", "bottleneck")
#: Workload fields a compare column may set (``bert-base-uncased:precision=int8``), and their type.
_WORKLOAD_OVERRIDES = {"batch": int, "seq_len": int, "num_choices": int, "precision": str, "optimizer": str,
                       "attention": str, "recompute": str, "backend": str}


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
        if getattr(args, "device", None) is not None:
            args.device = _device(args.device)
        if getattr(args, "datasheet", False):
            if args.device is None:
                raise _UsageError("--datasheet times the roofline bound of a --device: give one")
            args.device = device(args.device).datasheet()
        return args.run(args)
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _UsageError as error:
        print(f"bertsize: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OverflowError, OSError) as error:
        print(f"bertsize: error: {terminal_words(str(error))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("bertsize: error: out of memory; use fewer axis values, a tighter budget or a smaller --top",
              file=sys.stderr)
        return 2


#: The options whose values the API's messages quote as ``field=value``.
_FLAGS = {**{name: f"--{name.replace('_', '-')}" for name in (
    "batch", "seq_len", "layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab",
    "embedding", "hidden_groups", "bottleneck", "num_labels", "num_choices", "precision", "optimizer", "head", "attention",
    "recompute", "backend", "by", "device", "memory", "latency", "params", "flops", "threads")},
    "zero_stage": "--zero", "data_parallel": "--dp"}
_API_WORDS = [
    (re.compile(r"\bbertsize\.(devices|presets)\(\)"), r"'bertsize \1'"),
    (re.compile(r"\b(?:Budget|Workload|Space)\(((?:\w+=[^,)]*(?:, )?)+)\)"), lambda m: _as_flags(m[1], m[0])),
    (re.compile(r"\bleave (\w+)=None\b"), lambda m: f"leave out {_FLAGS[m[1]]}" if m[1] in _FLAGS else m[0]),
    (re.compile(r"\b(\w+)=('?)([^\s',;:()]+)\2"), lambda m: f"{_FLAGS[m[1]]} {m[3]}" if m[1] in _FLAGS else m[0]),
]


def _as_flags(arguments: str, call: str) -> str:
    """``latency=..., device='nvidia-t4'`` as ``--latency ... --device nvidia-t4`` (the
    call itself when an argument has no flag)."""
    pairs = [argument.split("=", 1) for argument in arguments.split(", ")]
    if any(name not in _FLAGS for name, _ in pairs):
        return call
    return " ".join(f"{_FLAGS[name]} {value.strip(chr(39))}" for name, value in pairs)


def terminal_words(message: str) -> str:
    """An API error in the terminal's words: ``seq_len=1000`` as ``--seq-len 1000``,
    ``bertsize.devices()`` as ``'bertsize devices'``, ``Budget(device=...)`` as ``--device``."""
    for pattern, replacement in _API_WORDS:
        message = pattern.sub(replacement, message)
    return message


# --------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bertsize",
        description="Exact parameters, FLOPs, memory and latency of BERT-family encoders.",
    )
    parser.add_argument("--version", action="version", version=f"bertsize {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    est = commands.add_parser("estimate", help="costs of one encoder and workload",
                              description="Costs of one encoder and workload, with a per-component breakdown.")
    est.add_argument("model", help="a preset (bertsize presets) or a config.json path")
    _add_encoder_overrides(est)
    _add_workload(est)
    est.add_argument("--device", help="a device (bertsize devices) or a device JSON file (Device.save): adds the "
                     "roofline latency and a verdict: whether the step fits its memory")
    _add_datasheet(est)
    est.add_argument("--memory", help="a memory to fit in (default: the device's, less the "
                     f"{MEMORY_RESERVE:.0%} reserve): adds the verdict")
    est.add_argument("--max-batch", action="store_true",
                     help="also the largest batch that fits (needs --device or --memory)")
    est.add_argument("--max-seq-len", action="store_true",
                     help="also the longest sequence that fits (needs --device or --memory)")
    est.add_argument("--modules", action="store_true",
                     help="a per-module table instead of the per-component one: embeddings, layers and their "
                          "attention / FFN / norms, each op, pooler, head; with --device, latency and whether each "
                          "is compute- or memory-bound")
    est.add_argument("--depth", type=_positive_int, metavar="N",
                     help="fold the per-module table to N levels (implies --modules)")
    est.add_argument("--transpose", action="store_true", help="with 'all': a row per column")
    est.add_argument("--json", action="store_true", help="print JSON")
    est.set_defaults(run=_run_estimate)

    cmp_ = commands.add_parser(
        "compare", help="several encoders side by side",
        description="Several encoders side by side, with deltas and ratios to the first.  Each model is a "
                    "preset or config.json, optionally with overrides: bert-base-uncased:layers=24 or "
                    "bert-base-uncased:hidden=1024,heads=16,intermediate=4096.",
    )
    cmp_.add_argument("models", nargs="+", metavar="MODEL",
                      help="PRESET|config.json[:field=value,...]; fields are architecture fields or workload "
                           "fields (bert-base-uncased:precision=int8,batch=8)")
    _add_workload(cmp_)
    cmp_.add_argument("--device", help="a device (bertsize devices): adds the roofline latency and whether each fits")
    _add_datasheet(cmp_)
    cmp_.add_argument("--memory", help="a memory to fit in: adds whether each fits")
    cmp_.add_argument("--transpose", action="store_true", help="a row per model (for many models)")
    cmp_.add_argument("--json", action="store_true", help="print JSON")
    cmp_.set_defaults(run=_run_compare)

    sea = commands.add_parser(
        "search", help="the configurations of a design space that fit a budget",
        description="Count, rank and Pareto-filter the configurations of a design space that fit a budget. "
                    "Axes take START:STOP[:STEP] (inclusive), a comma list, or one value.  With no arguments: "
                    "BERT encoders that fine-tune on a 16 GB T4 (seq 128, batch 32, fp16 AdamW), top 10 by "
                    "parameters.",
    )
    sea.add_argument("--base", default="bert-base-uncased", help="preset or config.json fixing the other fields")
    axes = sea.add_argument_group("axes")
    for name in AXES:
        axes.add_argument(f"--{name.replace('_', '-')}", dest=f"axis_{name}", metavar="SPEC",
                          help=f"the values of {name}: START:STOP[:STEP], a comma list, or one value")
    budget = sea.add_argument_group("budget")
    budget.add_argument("--memory", help="most peak memory, with a unit: 16GiB, 150MB (default: the device's, less 8%%)")
    budget.add_argument("--params", help="most parameters: 110M, 1.5B")
    budget.add_argument("--min-params", help="fewest parameters")
    budget.add_argument("--flops", help="most FLOPs per step: 2T, 500G")
    budget.add_argument("--latency", help="most seconds per step on --device, with a unit: 20ms, 1s")
    budget.add_argument("--device", help="a device (bertsize devices)")
    _add_datasheet(budget)
    _add_workload(sea, shape=False)  # batch and seq_len are axes here
    out = sea.add_argument_group("output")
    out.add_argument("--top", type=_positive_int, metavar="K",
                     help="show the best K (default 10), or the first K points of a --pareto front")
    out.add_argument("--by", type=str.lower, choices=OBJECTIVES, default="params",
                     help="rank by (default order: params largest first, the others smallest first)")
    order = out.add_mutually_exclusive_group()
    order.add_argument("--ascending", action="store_true", help="smallest first")
    order.add_argument("--descending", action="store_true", help="largest first")
    out.add_argument("--pareto", metavar="A,B", help="show the Pareto front of two objectives A and B")
    out.add_argument("--count", action="store_true", help="only count")
    sea.add_argument("--threads", type=_positive_int, metavar="N",
                     help=f"OpenMP threads for counting (1 to {MAX_THREADS}; default: all)")
    out.add_argument("--csv", action="store_true", help="CSV instead of a table")
    out.add_argument("--json", action="store_true", help="JSON instead of a table")
    out.add_argument("--plot", metavar="PNG", help="draw the fits and the Pareto front of --pareto (default "
                     "params against peak memory, or latency with a latency budget; needs matplotlib)")
    sea.set_defaults(run=_run_search)

    dev = commands.add_parser("devices", help="list the device catalog")
    dev.add_argument("--json", action="store_true", help="print JSON")
    dev.set_defaults(run=_run_devices)

    pre = commands.add_parser("presets", help="list the presets")
    pre.add_argument("--json", action="store_true", help="print JSON")
    pre.set_defaults(run=_run_presets)
    for command in commands.choices.values():
        _add_examples(command)
    return parser


#: An example of every option (and positional), appended to its help as "; e.g. --batch 32".
EXAMPLES = {
    "model": "bert-base-uncased, google/electra-small-discriminator or ./config.json",
    "models": "bert-base-uncased distilbert-base-uncased:precision=int8",
    "--head": "--head token_classification", "--num-labels": "--num-labels 9", "--num-choices": "--num-choices 4",
    "--batch": "--batch 32", "--seq-len": "--seq-len 512", "--train": "--train", "--precision": "--precision bf16",
    "--optimizer": "--optimizer adafactor", "--attention": "--attention sdpa", "--recompute": "--recompute full",
    "--zero": "--zero 2 --dp 8", "--dp": "--dp 8", "--backend": "--backend cpu", "--device": "--device nvidia-t4",
    "--memory": "--memory 16GiB", "--max-batch": "--device nvidia-t4 --max-batch",
    "--max-seq-len": "--memory 8GiB --max-seq-len", "--modules": "--modules --device nvidia-a100-40gb",
    "--depth": "--depth 2", "--transpose": "--transpose", "--json": "--json", "--base": "--base roberta-base",
    "--params": "--params 110M", "--min-params": "--min-params 20M", "--flops": "--flops 2T",
    "--latency": "--latency 20ms --device nvidia-t4", "--top": "--top 5", "--by": "--by latency_s --device nvidia-t4",
    "--ascending": "--by params --ascending", "--descending": "--by peak_bytes --descending",
    "--pareto": "--pareto params,peak_bytes", "--count": "--count", "--threads": "--threads 2", "--csv": "--csv",
    "--plot": "--plot fits.png", "--datasheet": "--device nvidia-t4 --datasheet",
}
#: Example values of the architecture fields: overrides take one, search axes a range or list.
_FIELD_EXAMPLES = {"layers": ("6", "2:12:2"), "hidden": ("512", "256:1024:128"), "heads": ("8", "4,8,16"),
                   "head_dim": ("64", "64"), "intermediate": ("2048", "1024:4096:1024"), "ffn_ratio": ("4", "2,4"),
                   "vocab": ("32000", "30522,50265"), "max_positions": ("1024", "512"), "type_vocab": ("1", "1,2"),
                   "embedding": ("128", "128,256"), "hidden_groups": ("1", "1,2"), "bottleneck": ("128", "64,128"),
                   "batch": ("32", "8:64:8"),
                   "seq_len": ("512", "128,512")}


def _add_examples(parser: argparse.ArgumentParser) -> None:
    """Append its example to every action's help (overrides and axes: from the field)."""
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        flag = action.option_strings[0] if action.option_strings else action.dest
        example = EXAMPLES.get(flag)
        field = action.dest.removeprefix("axis_")
        if field in _FIELD_EXAMPLES and (action.dest.startswith("axis_") or flag not in EXAMPLES):
            example = f"{flag} {_FIELD_EXAMPLES[field][1 if action.dest.startswith('axis_') else 0]}"
        action.help = f"{action.help}; e.g. {example}" if action.help else f"e.g. {example}"


def _add_encoder_overrides(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("architecture overrides")
    for field in _OVERRIDES:
        group.add_argument(f"--{field.replace('_', '-')}", dest=field, type=_positive_int, metavar="N",
                           help=f"{field.replace('_', ' ')}, replacing the model's")


def _add_workload(parser: argparse.ArgumentParser, shape: bool = True) -> None:
    """The workload options; with ``shape``, --batch and --seq-len too."""
    group = parser.add_argument_group("workload")
    group.add_argument("--head", type=str.lower, choices=HEADS, help="HF class (default: the class a config.json's "
                       "architectures names, else model)")
    group.add_argument("--num-labels", type=_positive_int, metavar="N",
                       help="classes of the classification heads (default: the config's, else 2)")
    group.add_argument("--num-choices", type=_positive_int, default=1, metavar="N",
                       help="multiple choice: sequences per example; --batch counts examples (default: 1)")
    if shape:
        group.add_argument("--batch", type=_positive_int, default=1, metavar="N",
                           help="sequences per step (per data-parallel rank; default: 1)")
        group.add_argument("--seq-len", type=_positive_int, default=128, metavar="N",
                           help="tokens per sequence (default: 128)")
    group.add_argument("--train", action="store_true", help="a training step (default: inference)")
    group.add_argument("--precision", type=str.lower, choices=(*PRECISIONS, "all"),
                       help="default: fp32 (fp16 in search's demonstration); estimate takes 'all': a column each")
    group.add_argument("--optimizer", type=str.lower, choices=(*OPTIMIZERS, "all"), default="adamw",
                       help="default: adamw; estimate --train takes 'all': a column each")
    group.add_argument("--attention", type=str.lower, choices=ATTENTIONS, default="eager",
                       help="the attention implementation: eager materialises the scores, sdpa and flash fuse "
                            "them (default: eager)")
    group.add_argument("--recompute", type=str.lower, choices=RECOMPUTES, default="none",
                       help="activation recomputation in training: full (gradient checkpointing per layer) or "
                            "selective (the attention core only; default: none)")
    group.add_argument("--zero", type=int, choices=(0, 1, 2, 3), default=0, help="ZeRO stage")
    group.add_argument("--dp", type=_positive_int, default=1, metavar="N", help="data-parallel ranks")
    group.add_argument("--backend", type=str.lower, choices=BACKENDS,
                       help="memory accounting: cuda (Korthikanti et al.) or cpu (what PyTorch saves); default: "
                            "cpu on a CPU --device, else cuda")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _workload(args: argparse.Namespace, precision: str | None = None, optimizer: str | None = None) -> Workload:
    """The Workload of the options of _add_workload (batch and seq_len where given)."""
    shape = {name: getattr(args, name) for name in ("batch", "seq_len") if hasattr(args, name)}
    precision = precision or args.precision or "fp32"
    optimizer = optimizer or args.optimizer
    if "all" in (precision, optimizer):
        raise _UsageError("'all' compares precisions / optimizers in bertsize estimate only")
    return Workload(
        **shape, training=args.train, precision=precision, optimizer=optimizer,
        attention=args.attention, recompute=args.recompute, zero_stage=args.zero, data_parallel=args.dp,
        backend=args.backend or _accounting(args.device), num_choices=args.num_choices,
    )


def _encoder(spec: str, overrides: dict[str, int] | None = None) -> Encoder:
    """A preset or config.json, with ``:field=value,...`` and flag overrides."""
    encoder, work_changes = _column(spec, overrides)
    if work_changes:
        raise _UsageError(f"{', '.join(work_changes)} in {spec!r} are workload fields: give them as flags "
                          "(per model only in compare)")
    return encoder


def _column(spec: str, overrides: dict[str, int] | None = None) -> tuple[Encoder, dict[str, object]]:
    """``PRESET|config.json[:field=value,...]``: the Encoder (fields of :data:`_OVERRIDES`
    and flag overrides applied) and the workload fields the suffix sets."""
    name, _, suffix = spec.partition(":")
    path = _config_path(name)
    encoder = from_hf_config(path) if path is not None else preset(name)
    changes: dict[str, object] = dict(overrides or {})
    work_changes: dict[str, object] = {}
    for item in filter(None, suffix.split(",")):
        field, equals, value = item.partition("=")
        field = field.strip().replace("-", "_")
        if not equals or field not in (*_OVERRIDES, *_WORKLOAD_OVERRIDES):
            raise _UsageError(f"cannot read override {item!r} in {spec!r}; write field=value with field one of "
                              f"{', '.join((*_OVERRIDES, *_WORKLOAD_OVERRIDES))}")
        if field in _WORKLOAD_OVERRIDES and _WORKLOAD_OVERRIDES[field] is str:
            work_changes[field] = value.strip().lower()
            continue
        try:
            (work_changes if field in _WORKLOAD_OVERRIDES else changes)[field] = int(value)
        except ValueError:
            raise _UsageError(f"override {item!r} in {spec!r} needs a whole number") from None
    return (encoder.replace(**changes) if changes else encoder), work_changes


def _config_path(name: str) -> str | None:
    """The config.json a model argument names, or None for a preset name (hub names
    such as google/electra-small-discriminator are presets unless such a file exists)."""
    if os.path.isfile(name):
        return name
    if name.lower() in _PRESET_NAMES:
        return None
    if name.endswith(".json") or os.path.sep in name:
        raise _UsageError(f"no such config file or preset: {name}")
    return None


_PRESET_NAMES = frozenset(name.lower() for preset_name in presets() for name in (preset_name, *aliases(preset_name)))


def _add_datasheet(parser) -> None:
    parser.add_argument("--datasheet", action="store_true",
                        help="time on the device's datasheet peaks with no per-op overhead (a roofline bound) "
                             "instead of its class's calibrated defaults")


def _accounting(chosen: Device | str | None) -> str:
    """The memory accounting a device implies: what PyTorch saves on a CPU device, else cuda's."""
    return "cpu" if chosen is not None and device(chosen).kind == "cpu" else "cuda"


def _device(name: str) -> Device | str:
    """--device: a catalog name, or a device JSON file (what Device.save writes)."""
    if os.path.isfile(name):
        try:
            return Device.load(name)
        except (ValueError, KeyError, TypeError) as error:
            raise _UsageError(f"{name} is not a device file (Device.save writes one): {error}") from None
    if name.endswith(".json"):
        raise _UsageError(f"no such device file: {name}")
    return name


def _head(args: argparse.Namespace, spec: str) -> str:
    """--head, else the head of the config's architectures, else "model"."""
    if args.head is not None:
        return args.head
    path = _config_path(spec.partition(":")[0])
    return (hf_head(path) if path is not None else None) or "model"


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------
def _run_estimate(args: argparse.Namespace) -> int:
    overrides = {field: getattr(args, field) for field in _OVERRIDES if getattr(args, field) is not None}
    encoder = _encoder(args.model, overrides)
    head = _head(args, args.model)
    budget = _fit_budget(args)
    if budget is None and (args.max_batch or args.max_seq_len):
        raise _UsageError("--max-batch and --max-seq-len need a memory to fit in: give --device or --memory")
    if "all" in (args.precision, args.optimizer):
        return _precision_table(args, encoder, head, budget)
    workload = _workload(args)
    result = estimate(encoder, workload, head, args.num_labels, args.device)
    answers = {}
    if budget is not None:
        answers["verdict"] = _verdict(result, budget)
    if args.max_batch:
        answers["max_batch"] = max_batch(encoder, workload, budget, head, args.num_labels)
    if args.max_seq_len:
        answers["max_seq_len"] = max_seq_len(encoder, workload, budget, head, args.num_labels)
    modules = result.profile(args.device, args.depth) if args.modules or args.depth else None
    if args.json:
        if modules is not None:
            answers["modules"] = modules.to_dicts()
        print(json.dumps({**_as_json(result), **answers}, indent=2))
        return 0
    print(_title(args.model, result))
    print(_table(["metric", "value"], _metric_rows(result, args.device)))
    print()
    if modules is not None:
        print(modules.table())
    else:
        rows = [[r.component, units.format_count(r.params), units.format_flops(r.flops_fwd),
                 units.format_flops(r.elementwise_flops_fwd),
                 units.format_bytes(r.activation_bytes) if result.workload.training else "-"]
                for r in result.breakdown()]
        print(_table(["component", "params", "matmul fwd", "elementwise fwd", "saved activations"], rows))
    if budget is not None:
        print()
        print(_verdict_text(answers["verdict"], budget, args.memory is None))
    if args.max_batch:
        found = answers["max_batch"]
        print(f"largest batch that fits: {found:,}" if found else "not even batch 1 fits",
              f"(seq_len {workload.seq_len})")
    if args.max_seq_len:
        found = answers["max_seq_len"]
        limit = " (every position the model has)" if found == encoder.max_seq_len else ""
        print(f"longest sequence that fits: {found:,} tokens{limit}" if found else "not even 1 token fits",
              f"(batch {workload.batch})")
    return 0


def _precision_table(args: argparse.Namespace, encoder: Encoder, head: str, budget: Budget | None) -> int:
    """--precision all / --optimizer all: one column per precision (and optimizer), as
    accelerate's estimate-memory gives them; training runs in fp32, fp16 and bf16 only."""
    if args.max_batch or args.max_seq_len:
        raise _UsageError("--max-batch and --max-seq-len answer for one precision: drop 'all'")
    if args.optimizer == "all" and not args.train:
        raise _UsageError("--optimizer all compares training steps: add --train")
    trainable = [p for p in PRECISIONS if p not in ("int8", "int4")]
    precisions = (trainable if args.train else list(PRECISIONS)) if args.precision == "all" else [args.precision or "fp32"]
    if args.precision == "all" and args.device:  # the precisions the device computes in
        precisions = [p for p in precisions if p in device(args.device).precisions]
    optimizers = list(OPTIMIZERS) if args.optimizer == "all" else [args.optimizer]
    base = _workload(args, precision=precisions[0], optimizer=optimizers[0])
    columns = [(p if len(optimizers) == 1 else f"{p} {o}" if len(precisions) > 1 else o, p, o)
               for p in precisions for o in optimizers]
    results = [estimate(encoder, base.replace(precision=p, optimizer=o), head, args.num_labels, args.device)
               for _, p, o in columns]
    labels = [label for label, _, _ in columns]
    if args.json:
        print(json.dumps({label: {**_as_json(r), **({"verdict": _verdict(r, budget)} if budget else {})}
                          for label, r in zip(labels, results)}, indent=2))
        return 0
    print(f"{args.model}: {encoder.family}, {encoder.layers} layers, hidden {encoder.hidden}")
    print(_comparison(labels, results, budget, args.transpose))
    return 0


#: The parts of peak memory a verdict names, as Estimate fields.
_PARTS = {"weights": "weight_bytes", "gradients": "grad_bytes", "optimizer state": "optimizer_bytes",
          "activations": "activation_bytes"}


def _verdict(result: Estimate, budget: Budget) -> dict[str, object]:
    """Whether the step fits the budget's memory, the margin, and the largest part of
    peak memory (bytes)."""
    parts = {name: getattr(result, field) for name, field in _PARTS.items()}
    largest = max(parts, key=parts.get)
    return {"fits": budget.admits(result), "peak_bytes": result.peak_bytes,
            "memory_bytes": budget.memory, "margin_bytes": budget.memory - result.peak_bytes,
            "largest_part": largest, "largest_part_bytes": parts[largest]}


def _verdict_text(verdict: dict[str, object], budget: Budget, from_device: bool) -> str:
    limit, peak, margin = verdict["memory_bytes"], verdict["peak_bytes"], verdict["margin_bytes"]
    where = (f"on {budget.device.name} ({units.format_bytes(limit)} usable: its memory less the "
             f"{MEMORY_RESERVE:.0%} reserve)" if from_device else f"in {units.format_bytes(limit)}")
    if verdict["fits"]:
        head = (f"verdict: fits {where}: peak {units.format_bytes(peak)}, headroom {units.format_bytes(margin)} "
                f"({margin / limit:.0%})")
    else:
        head = f"verdict: does not fit {where}: peak {units.format_bytes(peak)} exceeds it by {units.format_bytes(-margin)}"
    share = verdict["largest_part_bytes"] / peak if peak else 0.0
    return (f"{head}; the largest part is {verdict['largest_part']}, "
            f"{units.format_bytes(verdict['largest_part_bytes'])} ({share:.0%} of peak)")


def _run_compare(args: argparse.Namespace) -> int:
    workload = _workload(args)
    budget = _fit_budget(args)
    results = []
    for spec in args.models:
        encoder, work_changes = _column(spec)
        results.append(estimate(encoder, workload.replace(**work_changes) if work_changes else workload,
                                _head(args, spec), args.num_labels, args.device))
    if args.json:
        print(json.dumps({spec: {**_as_json(r), **({"verdict": _verdict(r, budget)} if budget else {})}
                          for spec, r in zip(args.models, results)}, indent=2))
        return 0
    print(_comparison(args.models, results, budget, args.transpose))
    return 0


def _comparison(labels: list[str], results: list[Estimate], budget: Budget | None, transpose: bool = False) -> str:
    """Columns of estimates with deltas and ratios against the first (and, with a budget,
    whether each fits); each workload said once, or per column where they differ."""
    first = results[0]
    training = any(r.workload.training for r in results)
    metrics = [(label, name, fmt) for label, name, fmt in _METRIC_FORMATS if training or name not in _TRAINING_ONLY]
    if first.latency_s is not None:
        metrics.append((f"latency ({first.latency_kind})", "latency_s", units.format_seconds))
    rows = []
    for label, name, fmt in metrics:
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
    if budget is not None:
        row = [f"fits {units.format_bytes(budget.memory)}"]
        for result in results:
            verdict = _verdict(result, budget)
            margin = units.format_bytes(abs(verdict["margin_bytes"]))
            row.append(f"yes ({margin} free)" if verdict["fits"] else f"no (over by {margin})")
        rows.append(row)
    texts = [_workload_text(r.workload, r.head) for r in results]
    if len(set(texts)) == 1:
        heading = f"{texts[0]}; deltas and ratios against {labels[0]}"
    else:
        heading = "\n".join(f"{label}: {text}" for label, text in zip(labels, texts))
        heading += f"\ndeltas and ratios against {labels[0]}"
    if transpose:  # a row per model: better for many models
        table = _table(["model", *[row[0] for row in rows]], [[label, *cells] for label, *cells in
                                                             zip(labels, *[row[1:] for row in rows])])
    else:
        table = _table(["metric", *labels], rows)
    return f"{heading}\n{table}"


def _fit_budget(args: argparse.Namespace) -> Budget | None:
    """The memory the verdicts compare against: --memory, else --device's (None without either)."""
    memory = getattr(args, "memory", None)
    if memory is None and args.device is None:
        return None
    return Budget(memory=_with_unit("--memory", memory, "16GiB or 150MB"), device=args.device)


def _run_search(args: argparse.Namespace) -> int:
    if not any(getattr(args, f"axis_{name}") for name in AXES):
        # the demonstration: BERT encoders that fine-tune on a 16 GB T4 at seq 128, batch 32
        args.axis_layers, args.axis_hidden, args.axis_head_dim, args.axis_ffn_ratio = "2:36", "128:2048:128", "64", "4"
        args.axis_batch, args.axis_seq_len = "32", "128"
        args.device = args.device or "nvidia-t4"
        args.train = True
        args.precision = args.precision or "fp16"
    if args.count and args.plot:
        raise _UsageError("--plot draws the fits and needs them: drop --count")
    axes = {name: _spec(name, getattr(args, f"axis_{name}")) for name in AXES if getattr(args, f"axis_{name}")}
    space = Space(_encoder(args.base), **axes)
    budget = Budget(
        memory=_with_unit("--memory", args.memory, "16GiB or 150MB"), params=units.parse_count("--params", args.params),
        min_params=units.parse_count("--min-params", args.min_params),
        flops=units.parse_count("--flops", args.flops), latency=_with_unit("--latency", args.latency, "20ms or 1.5s"),
        device=args.device,
    )
    workload = _workload(args)
    limit = 0 if args.count else 200_000
    head = _head(args, args.base)
    result = search(space, budget, workload, head, num_labels=args.num_labels, limit=limit, threads=args.threads,
                    progress=(_progress_printer(space.size) if sys.stderr.isatty() or os.environ.get("BERTSIZE_PROGRESS")
                              else None))
    if budget.empty:
        print("note: no budget given, so every valid configuration fits (the T4 demonstration's budget and "
              "workload apply only when no axis is given)", file=sys.stderr)
    shape = ", ".join(f"{name} {describe_axis(space.axes[name])}" for name in space.axes)
    reasons = result.skip_reasons() if result.skipped else {}
    why = "".join(f"\n  {count:,} {reason}" for reason, count in reasons.items())
    summary = (f"{result.count:,} of {result.total - result.skipped:,} valid configurations fit "
               f"({result.skipped:,} of {result.total:,} points skipped as invalid){':' if why else ''}{why}\n"
               f"space: {args.base}, {shape}\nbudget: {_budget_text(budget)}\n"
               f"workload: {_search_workload_text(workload, head, space)}")
    miss = None
    if result.count == 0 and not budget.empty and result.total > result.skipped:
        miss = nearest_miss(space, budget, workload, head, num_labels=args.num_labels)
        summary += "\n" + _miss_text(miss)
    if args.count:
        print(json.dumps({"count": result.count, "skipped": result.skipped, "skip_reasons": reasons,
                          "total": result.total, **_setting_json(space, budget, workload, head),
                          **({"nearest_miss": _miss_json(miss)} if miss else {})}) if args.json else summary)
        return 0
    if args.pareto:
        rows = result.pareto(args.pareto)
        title = f"Pareto front of {args.pareto} ({len(rows):,} points)"
        if args.top is not None and args.top < len(rows):
            title = f"the first {args.top} of the {len(rows):,}-point Pareto front of {args.pareto}"
            rows = rows[:args.top]
    else:
        top = 10 if args.top is None else args.top
        ascending = True if args.ascending else False if args.descending else None
        rows = result.top_k(top, by=args.by, ascending=ascending)
        title = f"top {top} by {args.by}"
    if args.plot:
        _plot(result, budget, args.plot, args.pareto, _search_workload_text(workload, head, space))
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        print(json.dumps({"count": result.count, "skipped": result.skipped, "skip_reasons": reasons,
                          "total": result.total, **_setting_json(space, budget, workload, head), "rows": [_row_json(row) for row in rows],
                          **({"nearest_miss": _miss_json(miss)} if miss else {})}, indent=2))
    elif args.csv:
        names = rows.dtype.names
        print(",".join(names))
        for row in rows:
            print(",".join(str(row[name].item()) for name in names))
    else:
        print(summary)
        print(title)
        print(_fits_table(rows, list(axes)))
    return 0


def _with_unit(option: str, text: str | None, example: str) -> str | None:
    """A budget written with its unit: a bare number would be bytes or seconds, which is
    rarely what was meant (--memory 16 is 16 bytes)."""
    if text is not None and re.fullmatch(r"\s*[0-9.eE+-]+\s*", text):
        raise _UsageError(f"{option} {text} has no unit: write e.g. {example}")
    return text


def _search_workload_text(work: Workload, head: str, space: Space) -> str:
    """The workload of a search: batch and seq_len where no axis sets them."""
    fixed = [f"batch {work.batch}" if "batch" not in space.axes else "",
             f"{work.seq_len} tokens" if "seq_len" not in space.axes else ""]
    shape = " x ".join(filter(None, fixed))
    return _workload_text(work, head, with_shape=False) + (f"; {shape}" if shape else "")


def _spec(name: str, text: str) -> range | list[int]:
    """START:STOP[:STEP] inclusive (a range: no list of its values), a,b,c, or one value."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] < 1):
                raise ValueError
            start, stop, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
            return range(start, stop + 1, step)
        return [int(p) for p in text.split(",")]
    except ValueError:
        raise _UsageError(f"cannot read --{name.replace('_', '-')} {text!r}: write START:STOP[:STEP], a,b,c or N") from None


def _progress_printer(total: int):
    """A search progress callback that prints the share done, the fits so far, the rate
    of points walked and the time left (on stderr)."""
    start = time.perf_counter()

    def show(done: float, fits: int) -> None:
        elapsed = time.perf_counter() - start
        rate = done * total / elapsed if elapsed > 0 else 0.0
        left = elapsed * (1 - done) / done if done > 0 else float("inf")
        eta = units.format_seconds(left) if left != float("inf") else "?"
        print(f"\rsearching: {100 * done:5.1f} % done, {fits:,} fits so far, {rate:,.3g} points/s, {eta} left ",
              end="" if done < 1 else "\n", file=sys.stderr, flush=True)

    return show


def _budget_text(budget: Budget) -> str:
    parts = []
    if budget.memory is not None:
        parts.append(f"peak memory <= {units.format_bytes(budget.memory)}")
    if budget.params is not None:
        parts.append(f"params <= {units.format_count(budget.params)}")
    if budget.min_params is not None:
        parts.append(f"params >= {units.format_count(budget.min_params)}")
    if budget.flops is not None:
        parts.append(f"FLOPs <= {units.format_flops(budget.flops)}")
    if budget.latency is not None:
        parts.append(f"latency <= {units.format_seconds(budget.latency)}")
    if budget.device is not None:
        parts.append(f"on {budget.device.name} (latency: {budget.device.latency_kind})")
    return ", ".join(parts) or "no budget"


def _fits_table(rows, axes: list[str]) -> str:
    shown = [a for a in ("layers", "hidden", "heads", "intermediate", "vocab", "embedding", "batch", "seq_len")
             if a in axes or (a == "heads" and "head_dim" in axes) or (a == "intermediate" and "ffn_ratio" in axes)]
    shown = shown or ["layers", "hidden", "heads", "intermediate"]
    headers = [*shown, "params", "FLOPs/step", "peak memory"]
    has_latency = "latency_s" in rows.dtype.names
    if has_latency:
        headers.append("latency")
    table = []
    for row in rows:
        cells = [int(row[a]) for a in shown]
        cells += [units.format_count(int(row["params"])), units.format_flops(int(row["flops_fwd"]) + int(row["flops_bwd"])),
                  units.format_bytes(int(row["peak_bytes"]))]
        if has_latency:
            cells.append(units.format_seconds(float(row["latency_s"])))
        table.append(cells)
    return _table(headers, table)


#: How each bounded quantity is written.
_QUANTITY_FORMATS = {"peak_bytes": ("peak memory", units.format_bytes), "params": ("params", units.format_count),
                     "flops": ("FLOPs", units.format_flops), "latency_s": ("latency", units.format_seconds)}


def _miss_text(miss) -> str:
    """Nothing fits: each bound's best reachable value and the closest configuration."""
    lines = ["nothing fits; the best the space reaches, per bound:"]
    for field, quantity, kind, bound, best, excess in miss.limits:
        label, fmt = _QUANTITY_FORMATS[quantity]
        word = "smallest" if kind == "max" else "largest"
        where = f"{fmt(excess)} beyond the bound of {fmt(bound)}" if excess > 0 else f"within {fmt(bound)}"
        lines.append(f"  {label}: {word} {fmt(best)}, {where}")
    row = miss.closest
    shape = ", ".join(f"{name} {int(row[name])}" for name in ("layers", "hidden", "heads", "intermediate", "batch",
                                                               "seq_len"))
    lines.append(f"closest to fitting ({miss.worst_ratio:.2f}x its tightest bound): {shape}")
    return "\n".join(lines)


def _miss_json(miss) -> dict[str, object]:
    return {"limits": [dict(zip(("field", "quantity", "kind", "bound", "best", "excess"), item))
                       for item in miss.limits],
            "closest": _row_json(miss.closest), "worst_ratio": miss.worst_ratio}


def _setting_json(space: Space, budget: Budget, workload: Workload, head: str) -> dict[str, object]:
    """What a search asked: the space (base and axes), the budget and the workload."""
    return {
        "space": {"base": dataclasses.asdict(space.base), "axes": {n: describe_axis(v) for n, v in space.axes.items()}},
        "budget": {"memory": budget.memory, "params": budget.params, "min_params": budget.min_params,
                   "flops": budget.flops, "latency": budget.latency,
                   "device": None if budget.device is None else budget.device.name},
        "workload": dataclasses.asdict(workload), "head": head,
    }


def _row_json(row) -> dict[str, object]:
    return {name: row[name].item() for name in row.dtype.names}


#: Fronts of at most this many points get a label per point.
_LABELLED_FRONT = 15


def _bound_of(budget: Budget, objective: str) -> float | None:
    """The budget's bound on an objective (memory bounds peak_bytes), or None."""
    return {"peak_bytes": budget.memory, "params": budget.params, "flops": budget.flops,
            "latency_s": budget.latency}.get(objective)


def _plot(result, budget: Budget, path: str, pareto: str | None, workload: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise _UsageError("--plot needs matplotlib: pip install matplotlib") from error
    if pareto:
        x_name, y_name = (name.strip() for name in pareto.split(","))
    else:
        x_name = "params"
        y_name = "latency_s" if budget.device is not None and budget.latency is not None else "peak_bytes"
    front = result.pareto((x_name, y_name))
    (x_label, x_scale), (y_label, y_scale) = _plot_axis(x_name), _plot_axis(y_name)
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    if result.materialised:
        fits = result.to_numpy()
        axes.scatter(objective_values(fits, x_name) / x_scale, objective_values(fits, y_name) / y_scale, s=6,
                     alpha=0.35, label=f"{result.count:,} fits")
    front_x, front_y = objective_values(front, x_name) / x_scale, objective_values(front, y_name) / y_scale
    axes.plot(front_x, front_y, "o-", color="C3", markersize=4, label="Pareto front")
    if len(front) <= _LABELLED_FRONT:  # name each front point by its shape
        for row, x, y in zip(front, front_x, front_y):
            axes.annotate(f"{int(row['layers'])}x{int(row['hidden'])}", (x, y), textcoords="offset points",
                          xytext=(3, 3), fontsize=6)
    for name, draw in ((x_name, axes.axvline), (y_name, axes.axhline)):
        bound = _bound_of(budget, name)
        if bound is not None:
            draw(bound / _plot_axis(name)[1], color="0.4", linestyle="--", linewidth=1, label=f"{name} budget")
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_title(f"bertsize search: {_budget_text(budget)}\n{workload}", fontsize=8)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _plot_axis(name: str) -> tuple[str, float]:
    """An objective's axis label and the divisor into its plotted unit."""
    if name == "latency_s":
        return "latency (ms)", 1e-3
    if name.endswith("_bytes"):
        return f"{name.removesuffix('_bytes').replace('_', ' ')} (GiB)", 2**30
    if name == "params":
        return "parameters (M)", 1e6
    return f"{name.replace('_', ' ')} (GFLOP)", 1e9


def _run_devices(args: argparse.Namespace) -> int:
    names = devices()
    if args.json:
        print(json.dumps({n: json.loads(device(n).to_json()) for n in names}, indent=2))
        return 0
    rows = []
    for name in names:
        d = device(name)
        peaks = [f"{d.peak[k] / 1e12:.1f}" if d.peak[k] else "-" for k in PEAK_KEYS]
        link = f"{d.link_bandwidth / 1e9:.0f}" if d.link_bandwidth else "-"
        rows.append([name, d.device_class, d.latency_kind, units.format_bytes(d.memory_bytes),
                     f"{d.memory_bandwidth / 1e9:.0f}", link, *peaks])
    print(_table(["device", "class", "latency", "memory", "GB/s", "link GB/s", *[f"{k} TFLOP/s" for k in PEAK_KEYS]],
                 rows))
    return 0


def _run_presets(args: argparse.Namespace) -> int:
    names = presets()
    if args.json:
        print(json.dumps({n: {"aliases": list(aliases(n)), **dataclasses.asdict(preset(n))} for n in names}, indent=2))
        return 0
    rows = []
    for name in names:
        e = preset(name)
        rows.append([name, e.family, e.layers, e.hidden, e.heads, e.intermediate, e.vocab,
                     units.format_count(count_params(e)), ", ".join(aliases(name))])
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
#: Metrics that are 0 for inference, left out of its tables.
_TRAINING_ONLY = ("flops_bwd", "grad_bytes", "optimizer_bytes")


def _metric_rows(result: Estimate, device: object) -> list[list[str]]:
    """The metric table's rows (with a latency, from ``device``: throughput and MFU)."""
    rows = []
    for label, name, fmt in _METRIC_FORMATS:
        if not result.workload.training and name in _TRAINING_ONLY:
            continue
        rows.append([label, fmt(getattr(result, name))])
    if result.latency_s is not None:
        rows.append([f"latency ({result.latency_kind})", units.format_seconds(result.latency_s)])
        ranks = result.workload.data_parallel
        over = f" ({ranks} ranks)" if ranks > 1 else ""
        rows.append([f"throughput{over}", f"{result.sequences_per_s:,.1f} sequences/s, "
                                          f"{result.tokens_per_s:,.0f} tokens/s"])
        rows.append(["model FLOPs utilisation", f"{100 * result.mfu(device):.1f}% of peak"])
    return rows


def _workload_text(work: Workload, head: str, with_shape: bool = True) -> str:
    mode = f"training ({work.optimizer}, recompute {work.recompute})" if work.training else "inference"
    examples = f"batch {work.batch} x {work.num_choices} choices" if work.num_choices != 1 else f"batch {work.batch}"
    shape = f"{examples} x {work.seq_len} tokens, " if with_shape else ""
    return f"head {head}, {mode}, {shape}{work.precision}, {work.attention} attention, {work.backend} accounting"


def _title(name: str, result: Estimate) -> str:
    e = result.encoder
    widths = "".join(f", {label} {value}" for label, value in (("embedding", e.embedding), ("bottleneck", e.bottleneck))
                     if value is not None)
    return (f"{name}: {e.family}, {e.layers} layers, hidden {e.hidden}, {e.heads} heads, ffn {e.intermediate}, "
            f"vocab {e.vocab}{widths}\n{_workload_text(result.workload, result.head)}")


def _as_json(result: Estimate) -> dict[str, object]:
    data = {name: getattr(result, name) for name in result._fields if name not in ("encoder", "workload")}
    data["metrics"] = list(METRICS)
    data["encoder"] = dataclasses.asdict(result.encoder)
    data["workload"] = dataclasses.asdict(result.workload)
    data["breakdown"] = [dataclasses.asdict(row) for row in result.breakdown()]
    if result.latency_s is not None:
        data.update(sequences_per_s=result.sequences_per_s, tokens_per_s=result.tokens_per_s)
    return data


def _table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths])] + [line(r) for r in cells[1:]])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
