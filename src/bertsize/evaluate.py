"""``evaluate(columns)``: every metric for millions of configurations in one call."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from bertsize import _validate, validity
from bertsize._backend import MAX_THREADS, kernel
from bertsize.estimate import METRICS, device_constants, row_of
from bertsize.families import FAMILIES
from bertsize.model import HEADS, Encoder
from bertsize.options import Options
from bertsize.presets import as_encoder
from bertsize.workload import Workload

#: Names ``evaluate()`` accepts as columns: the Encoder's integer fields, then the
#: Workload's numeric fields.
COLUMNS = validity.FIELDS[:-1]
_INT64_MAX = 2**63 - 1


def evaluate(
    columns: Mapping[str, object],
    base: Encoder | str | None = None,
    workload: Workload | None = None,
    head: str = "model",
    metrics: Sequence[str] | None = None,
    out: Mapping[str, np.ndarray] | None = None,
    *,
    num_labels: int | None = None,
    threads: int | None = None,
    device: object = None,
) -> dict[str, np.ndarray]:
    """Every metric of :class:`~bertsize.Estimate` for many configurations at once.

    Args:
        columns: column name (one of :data:`COLUMNS`) -> 1-D integer array, or an int
            that applies to every row.  Arrays share one length (0 is allowed).
        base: the Encoder (or preset name) that supplies the family, pooler, activation,
            dropout and every size without a column; default ``"bert-base-uncased"``.
            ``embedding`` 0 in a column means "equal to hidden".
        workload: the categorical choices (precision, optimizer, attention, …) and the
            batch / seq_len of rows without those columns; default ``Workload()``.
        head: a name of :data:`bertsize.HEADS` (the HF class suffix in snake case:
            "model", "masked_lm", "sequence_classification", "token_classification",
            "question_answering", …).
        metrics: names from :data:`bertsize.METRICS` (and "latency_s" with a device) to
            compute (default all); only these are computed and written.
        out: metric name -> preallocated C-contiguous writable int64 array of the row
            count, a distinct one for each computed metric (allocating fresh pages costs
            25-45 % of the kernel's time on large calls).
        num_labels: classes of the sequence- or token-classification head; None: the
            base Encoder's.
        threads: OpenMP threads, 1 to :data:`bertsize.MAX_THREADS` (default: all the
            runtime offers).
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
    num_labels = base.labels(num_labels)
    names = _metric_names(metrics, device is not None)
    constants = None if device is None else device_constants(device, workload)
    arrays, rows = _columns(columns, base)
    outputs = _outputs(out, names, rows)
    threads = check_threads(threads)
    template = row_of(base, workload, num_labels)
    varying = {}
    for name, array in arrays.items():
        if array.shape[0] == rows and rows != 1:
            varying[validity.FIELD_INDEX[name]] = array
        else:
            template[validity.FIELD_INDEX[name]] = int(array[0])
    integer_names = tuple(name for name in names if name != "latency_s")
    options = Options.of(base.options, workload.options, head)
    bad_row, constraint, overflow_row, overflow_output = kernel.evaluate_columns(
        options, integer_names, tuple(template), varying, rows, [outputs[name] for name in integer_names], threads,
        constants, outputs.get("latency_s"),
    )
    if bad_row >= 0 or overflow_row >= 0:
        def row_values(row: int) -> list[int]:
            values = list(template)
            for k, column in varying.items():
                values[k] = int(column[row])
            return values

        if bad_row >= 0:
            rule = FAMILIES[base.family].row_constraints[constraint]
            where = (f"column {rule.field!r}, row {bad_row}" if rule.field in arrays
                     else f"{rule.field} (from the base/workload) at row {bad_row}")
            raise ValueError(f"{where}: {validity.describe(rule, row_values(bad_row), base.family)}")
        raise OverflowError(
            f"{integer_names[overflow_output]} exceeds int64 (2**63 - 1) at row {overflow_row}: "
            + ", ".join(f"{k}={v}" for k, v in zip(COLUMNS, row_values(overflow_row)))
        )
    return outputs


def check_threads(threads: object) -> int:
    """``threads`` as an int in [1, MAX_THREADS]; None means the runtime's default."""
    if threads is None:
        return kernel.max_threads()
    threads = _validate.integer("threads", threads)
    if threads > MAX_THREADS:
        raise ValueError(f"threads must be at most {MAX_THREADS}, got {threads}")
    return threads


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
        if name == "hidden_groups" and not FAMILIES[base.family].weight_sharing:
            raise ValueError(f"column 'hidden_groups' is ALBERT's layer sharing; the base family is {base.family!r}")
        if name == "bottleneck" and not FAMILIES[base.family].bottleneck:
            raise ValueError(f"column 'bottleneck' is MobileBERT's intra-block width; the base family is "
                             f"{base.family!r}")
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"column {name!r} must hold integers, got {value!r} (bool)")
        if isinstance(value, numbers.Integral):
            if not -(2**63) <= int(value) <= _INT64_MAX:
                raise OverflowError(f"column {name!r}: {int(value)} does not fit in int64")
            arrays[name] = np.array([int(value)], dtype=np.int64)
            continue
        array = np.asarray(value)
        if array.dtype.kind in "fO" and array.ndim == 1 and not isinstance(value, np.ndarray):
            _check_int64_items(name, value)  # a list of Python ints past int64 reads as float or object
        if array.ndim != 1:
            raise TypeError(f"column {name!r} must be 1-D (or an int), got shape {array.shape}")
        if array.dtype.kind not in "iu":
            if array.size == 0 and array.dtype.kind == "f":  # [] reads as float64: no rows
                array = array.astype(np.int64)
            else:
                raise TypeError(f"column {name!r} must hold integers, got dtype {array.dtype}")
        if array.dtype.kind == "u" and array.size and int(array.max()) > _INT64_MAX:
            row = int(np.argmax(array > _INT64_MAX))
            raise OverflowError(f"column {name!r}, row {row}: {int(array[row])} does not fit in int64")
        arrays[name] = np.ascontiguousarray(array, dtype=np.int64)
        lengths[name] = array.shape[0]
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(f"columns must have one length; got {described}")
    rows = next(iter(lengths.values())) if lengths else 1
    return arrays, rows


def _check_int64_items(name: str, values: object) -> None:
    """Name the first integer of a sequence that int64 cannot hold (OverflowError)."""
    for row, item in enumerate(values):
        if isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)) \
                and not -(2**63) <= int(item) <= _INT64_MAX:
            raise OverflowError(f"column {name!r}, row {row}: {int(item)} does not fit in int64")


def _outputs(out: Mapping[str, np.ndarray] | None, names: tuple[str, ...], rows: int) -> dict[str, np.ndarray]:
    if out is None:
        return {name: np.empty(rows, dtype=np.float64 if name == "latency_s" else np.int64) for name in names}
    if not isinstance(out, Mapping):
        raise TypeError(f"out must be a mapping of metric name to int64 array, got {type(out).__name__}")
    outputs: dict[str, np.ndarray] = {}
    for name in names:
        if name not in out:
            raise ValueError(f"out has no array for metric {name!r}")
        array = out[name]
        dtype = np.float64 if name == "latency_s" else np.int64
        if not isinstance(array, np.ndarray) or array.dtype != dtype:
            raise TypeError(f"out[{name!r}] must be an {np.dtype(dtype).name} numpy array")
        if array.shape != (rows,) or not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"out[{name!r}] must be writable, C-contiguous and of shape ({rows},), got {array.shape}")
        for other, taken in outputs.items():
            if np.shares_memory(array, taken):
                raise ValueError(f"out[{name!r}] and out[{other!r}] share memory: each metric needs its own array")
        outputs[name] = array
    return outputs
