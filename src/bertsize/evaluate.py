"""``evaluate(columns)``: every metric for millions of configurations in one call."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from bertsize import _abi, _validate
from bertsize._backend import kernel
from bertsize.devices import device as lookup_device
from bertsize.estimate import METRICS, latency, oracle_values
from bertsize.model import HEADS, Encoder
from bertsize.presets import as_encoder
from bertsize.workload import Workload

#: Names ``evaluate()`` accepts as columns: the Encoder's integer fields, then the
#: Workload's numeric fields.
COLUMNS = _abi.FIELDS

# Why a row is invalid, in the order of enum bs_reason (csrc/bs_evaluate.h).
_OK, _NOT_POSITIVE, _HEADS_DIVIDE, _NOT_ZERO, _NEGATIVE, _NOT_FACTORISED, _TOO_LONG = range(7)
_N_REASONS = 7
_POSITIVE = ("layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "batch", "seq_len")


def evaluate(
    columns: Mapping[str, object],
    base: Encoder | str | None = None,
    workload: Workload | None = None,
    head: str = "model",
    metrics: Sequence[str] | None = None,
    out: Mapping[str, np.ndarray] | None = None,
    *,
    num_labels: int = 2,
    threads: int | None = None,
    device: object = None,
) -> dict[str, np.ndarray]:
    """Every metric of :class:`~bertsize.Estimate` for many configurations at once.

    Args:
        columns: column name (one of :data:`COLUMNS`) -> 1-D integer array, or an int
            that applies to every row.  Arrays share one length.
        base: the Encoder (or preset name) that supplies the family, pooler, activation,
            dropout and every size without a column; default ``"bert-base-uncased"``.
            ``embedding`` 0 in a column means "equal to hidden".
        workload: the categorical choices (precision, optimizer, attention, …) and the
            batch / seq_len of rows without those columns; default ``Workload()``.
        head: "model", "masked_lm", "pretraining" or "sequence_classification".
        metrics: names from :data:`bertsize.METRICS` (and "latency_s" with a device) to
            compute (default all); only these are computed and written.
        out: metric name -> preallocated C-contiguous writable int64 array of the row
            count, for each computed metric (allocating fresh pages costs 25-45 % of the
            kernel's time on large calls).
        num_labels: classes of the classification head.
        threads: OpenMP threads (default: all the runtime offers).
        device: a :class:`~bertsize.Device` or catalog name: adds "latency_s" (float64,
            roofline seconds per step).

    Returns:
        metric name -> int64 array (float64 for latency_s) with one value per row (the
        ``out`` arrays when given).

    Raises:
        TypeError: a column that is not integer (floats, booleans, objects) or not 1-D.
        ValueError: unknown names, mismatched lengths, or a row that is not a valid
            model — the message names the column, the first bad row and its value.
        OverflowError: a metric past int64 — naming the metric and the first row.
    """
    base = as_encoder(base)
    workload = Workload() if workload is None else workload
    if not isinstance(workload, Workload):
        raise TypeError(f"workload must be a bertsize.Workload, got {type(workload).__name__}")
    _validate.choice("head", head, HEADS)
    base.check_head(head)
    num_labels = _validate.integer("num_labels", num_labels)
    device = None if device is None else lookup_device(device)
    names = _metric_names(metrics, device is not None)
    arrays, rows = _columns(columns, base)
    outputs = _outputs(out, names, rows)
    threads = _threads(threads)
    if kernel is None:
        _evaluate_with_oracle(arrays, rows, base, workload, head, num_labels, outputs, device)
        return outputs
    constants, varying = {}, {}
    for name, array in arrays.items():
        if array.shape[0] == rows and rows > 1:
            varying[COLUMNS.index(name)] = array
        else:
            constants[COLUMNS.index(name)] = int(array[0])
    integer_outputs = {METRICS.index(name): array for name, array in outputs.items() if name != "latency_s"}
    packed_device = _abi.pack_device(device, workload.precision) if "latency_s" in outputs else None
    bad_row, bad_code, overflow_row, overflow_metric = kernel.evaluate_columns(
        _abi.pack_encoder(base), _abi.pack_workload(workload), _abi.HEAD_CODES[head], num_labels,
        constants, varying, rows, integer_outputs, threads, packed_device, outputs.get("latency_s"),
    )
    if bad_row >= 0 or overflow_row >= 0:
        row_values = _row_values(base, workload, arrays)
        if bad_row >= 0:
            _raise_bad_row(bad_row, bad_code, row_values(bad_row), arrays, base)
        raise OverflowError(
            f"{METRICS[overflow_metric]} exceeds int64 (2**63 - 1) at row {overflow_row}: "
            + ", ".join(f"{k}={v}" for k, v in row_values(overflow_row).items())
        )
    return outputs


def _metric_names(metrics: Sequence[str] | None, with_latency: bool) -> tuple[str, ...]:
    known = (*METRICS, "latency_s") if with_latency else METRICS
    if metrics is None:
        return known
    if isinstance(metrics, str):
        metrics = (metrics,)
    names = tuple(metrics)
    for name in names:
        if name == "latency_s" and not with_latency:
            raise ValueError("metric 'latency_s' needs a device (evaluate(..., device='nvidia-t4'))")
        _validate.choice("metric", name, known)
    if not names:
        raise ValueError("metrics must name at least one metric (or be None for all)")
    return tuple(name for name in known if name in names)


def _columns(columns: Mapping[str, object], base: Encoder) -> tuple[dict[str, np.ndarray], int]:
    """int64 C-contiguous arrays (length n, or 1 for a scalar) and the row count n."""
    if not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping of column name to integer array, got {type(columns).__name__}")
    arrays: dict[str, np.ndarray] = {}
    lengths: dict[str, int] = {}
    for name, value in columns.items():
        _validate.choice("column", name, COLUMNS)
        if name == "hidden_groups" and base.family != "albert":
            raise ValueError(f"column 'hidden_groups' is ALBERT's layer sharing; the base family is {base.family!r}")
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"column {name!r} must hold integers, got {value!r} (bool)")
        if isinstance(value, numbers.Integral):
            if not -(2**63) <= int(value) < 2**63:
                raise ValueError(f"column {name!r}: {int(value)} does not fit in int64")
            arrays[name] = np.array([int(value)], dtype=np.int64)
            continue
        array = np.asarray(value)
        if array.ndim != 1:
            raise TypeError(f"column {name!r} must be 1-D (or an int), got shape {array.shape}")
        if array.dtype.kind not in "iu":
            raise TypeError(f"column {name!r} must hold integers, got dtype {array.dtype}")
        if array.dtype.kind == "u" and array.size and int(array.max()) > 2**63 - 1:
            row = int(np.argmax(array > 2**63 - 1))
            raise ValueError(f"column {name!r}, row {row}: {int(array[row])} does not fit in int64")
        arrays[name] = np.ascontiguousarray(array, dtype=np.int64)
        lengths[name] = array.shape[0]
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"columns must have one length; got {described}")
    rows = next(iter(lengths.values())) if lengths else 1
    return arrays, rows


def _outputs(out: Mapping[str, np.ndarray] | None, names: tuple[str, ...], rows: int) -> dict[str, np.ndarray]:
    if out is None:
        return {name: np.empty(rows, dtype=np.float64 if name == "latency_s" else np.int64) for name in names}
    if not isinstance(out, Mapping):
        raise TypeError(f"out must be a mapping of metric name to int64 array, got {type(out).__name__}")
    outputs = {}
    for name in names:
        if name not in out:
            raise ValueError(f"out has no array for metric {name!r}")
        array = out[name]
        dtype = np.float64 if name == "latency_s" else np.int64
        if not isinstance(array, np.ndarray) or array.dtype != dtype:
            raise TypeError(f"out[{name!r}] must be an {np.dtype(dtype).name} numpy array")
        if array.shape != (rows,) or not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"out[{name!r}] must be writable, C-contiguous and of shape ({rows},), got {array.shape}")
        outputs[name] = array
    return outputs


def _threads(threads: int | None) -> int:
    if threads is None:
        return kernel.max_threads() if kernel is not None else 1
    return _validate.integer("threads", threads)


def _row_values(base: Encoder, workload: Workload, arrays: dict[str, np.ndarray]):
    """row -> {field: value} of that row, columns over base / workload values."""
    defaults = dict(zip(COLUMNS, _abi.encoder_values(base) + (workload.batch, workload.seq_len)))

    def values(row: int) -> dict[str, int]:
        result = dict(defaults)
        for name, array in arrays.items():
            result[name] = int(array[row] if array.shape[0] > 1 else array[0])
        return result

    return values


def _raise_bad_row(row: int, code: int, values: dict[str, int], arrays: dict[str, np.ndarray], base: Encoder) -> None:
    field, reason = divmod(code, _N_REASONS)
    name = COLUMNS[field]
    where = f"column {name!r}, row {row}" if name in arrays else f"{name} (from the base/workload) at row {row}"
    value = values[name]
    if reason == _NOT_POSITIVE:
        problem = f"{name} must be positive, got {value}"
    elif reason == _HEADS_DIVIDE:
        problem = f"heads={values['heads']} does not divide hidden={values['hidden']}"
    elif reason == _NOT_ZERO:
        problem = f"type_vocab must be 0 for family 'distilbert' (it has no segment embeddings), got {value}"
    elif reason == _NEGATIVE:
        problem = f"embedding must be >= 0 (0 means equal to hidden), got {value}"
    elif reason == _NOT_FACTORISED:
        problem = (f"embedding={value} differs from hidden={values['hidden']}, but only ALBERT and ELECTRA "
                   f"factorise their embeddings (family {base.family!r})")
    else:
        limit = values["max_positions"] - (base.max_positions - base.max_seq_len)
        problem = (f"seq_len={value} exceeds the {limit} positions this encoder supports "
                   f"(max_positions={values['max_positions']})")
    raise ValueError(f"{where}: {problem}")


def _check_row(values: dict[str, int], base: Encoder) -> int:
    """The pure-Python twin of bs_check_row: 0, or field * _N_REASONS + reason."""
    for name in _POSITIVE:
        if values[name] < 1:
            return COLUMNS.index(name) * _N_REASONS + _NOT_POSITIVE
    if values["hidden"] % values["heads"]:
        return COLUMNS.index("heads") * _N_REASONS + _HEADS_DIVIDE
    type_vocab = COLUMNS.index("type_vocab") * _N_REASONS
    if base.family == "distilbert" and values["type_vocab"] != 0:
        return type_vocab + _NOT_ZERO
    if base.family != "distilbert" and values["type_vocab"] < 1:
        return type_vocab + _NOT_POSITIVE
    embedding = COLUMNS.index("embedding") * _N_REASONS
    if values["embedding"] < 0:
        return embedding + _NEGATIVE
    if values["embedding"] not in (0, values["hidden"]) and base.family not in ("albert", "electra"):
        return embedding + _NOT_FACTORISED
    if base.family == "albert" and values["hidden_groups"] < 1:
        return COLUMNS.index("hidden_groups") * _N_REASONS + _NOT_POSITIVE
    if values["seq_len"] > values["max_positions"] - (base.max_positions - base.max_seq_len):
        return COLUMNS.index("seq_len") * _N_REASONS + _TOO_LONG
    return _OK


def _evaluate_with_oracle(arrays, rows, base, workload, head, num_labels, outputs, device) -> None:
    """The pure-Python path: one oracle evaluation per row (BERTSIZE_PUREPYTHON=1)."""
    row_values = _row_values(base, workload, arrays)
    for row in range(rows):
        values = row_values(row)
        code = _check_row(values, base)
        if code:
            _raise_bad_row(row, code, values, arrays, base)
        encoder_changes = {k: values[k] for k in arrays if k in _abi.ENCODER_FIELDS}
        if encoder_changes.get("embedding") == 0:
            encoder_changes["embedding"] = None
        encoder = base.replace(**encoder_changes)
        work = workload.replace(**{k: values[k] for k in arrays if k in _abi.WORKLOAD_FIELDS})
        metrics, too_big = oracle_values(encoder, work, head, num_labels)
        if "latency_s" in outputs:
            outputs["latency_s"][row] = latency(encoder, work, head, num_labels, device)
        for name, value in zip(METRICS, metrics):
            if name in outputs:
                if name in too_big:
                    raise OverflowError(
                        f"{name} exceeds int64 (2**63 - 1) at row {row}: "
                        + ", ".join(f"{k}={v}" for k, v in values.items())
                    )
                outputs[name][row] = value
