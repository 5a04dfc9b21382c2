"""Fuzz of the public entry points with arbitrary Python values.

Run by ``test_reliability.test_public_api_fuzz`` in a subprocess (a crash there is a
failing exit status, not a dead test run); not collected on its own (no ``test_`` prefix).

Every call either returns numbers equal to the pure-Python oracle's, or raises a
ValueError, TypeError or OverflowError whose message names the argument or field given the
bad value.  Any other exception, or a crash, fails.
"""

from __future__ import annotations

import dataclasses
import numbers
import os

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import bertsize
from bertsize import oracle, validity
from bertsize.estimate import row_of
from bertsize.options import Options
from bertsize.space import AXES

CLEAN = (ValueError, TypeError, OverflowError)
ENCODER_FIELDS = tuple(f.name for f in dataclasses.fields(bertsize.Encoder))
WORKLOAD_FIELDS = tuple(f.name for f in dataclasses.fields(bertsize.Workload))
BUDGET_FIELDS = ("memory", "params", "min_params", "flops", "latency")
DEVICE_FIELDS = ("memory_bytes", "memory_bandwidth", "compute_efficiency", "memory_efficiency", "overhead_s", "kind")

_dtypes = st.one_of(hnp.boolean_dtypes(), hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(),
                    hnp.floating_dtypes(), hnp.complex_number_dtypes(), hnp.datetime64_dtypes(),
                    hnp.byte_string_dtypes(max_len=3), hnp.unicode_string_dtypes(max_len=3))
#: Anything a user might pass: ints of any size, floats, strings, None, numpy scalars and arrays.
values = st.one_of(
    st.integers(),
    st.integers(-3, 4096),
    st.sampled_from([2**31, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=3),
    _dtypes.flatmap(lambda dtype: hnp.from_dtype(dtype).map(lambda v: np.array(v, dtype=dtype)[()])),
    hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)),
)

SMALL = bertsize.Encoder(layers=2, hidden=32, heads=2, intermediate=37, vocab=99, max_positions=64)
FUZZ = settings(max_examples=int(os.environ.get("BERTSIZE_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=list(HealthCheck))


def _names(error: Exception, *names: str) -> None:
    """The error is a clean one and names one of ``names``."""
    if not isinstance(error, CLEAN):
        raise AssertionError(f"{type(error).__name__} is not a clean error: {error}") from error
    message = str(error)
    if not any(name in message for name in names):
        raise AssertionError(f"{type(error).__name__}({message!r}) names none of {names}") from error


def _oracle(encoder, workload, head, num_labels):
    num_labels = encoder.num_labels if num_labels is None else num_labels  # None: the Encoder's classes
    options = Options.of(encoder.options, workload.options, head)
    values, too_big = oracle.metric_values(options, dict(zip(validity.FIELDS, row_of(encoder, workload, num_labels))))
    return None if too_big else values


def _same_as_oracle(encoder, workload, head="model", num_labels=2):
    num_labels = int(num_labels) if isinstance(num_labels, numbers.Integral) else num_labels
    try:
        result = bertsize.estimate(encoder, workload, head, num_labels)
    except OverflowError as error:
        if "of this configuration exceeds int64" not in str(error):
            raise  # an argument past int64: the caller checks that the error names it
        assert _oracle(encoder, workload, head, num_labels) is None
        return
    except ValueError as error:
        if "seq_len" not in str(error):
            raise  # a bad argument: the caller checks that the error names it
        return  # a sequence longer than the position table
    expected = _oracle(encoder, workload, head, num_labels)
    assert expected is not None and all(getattr(result, name) == value for name, value in expected.items())


@FUZZ
@given(field=st.sampled_from(ENCODER_FIELDS), value=values)
def test_encoder_fields(field, value):
    try:
        encoder = SMALL.replace(**{field: value})
    except Exception as error:  # noqa: BLE001 - the assertion is on the kind of error
        _names(error, field)
        return
    _same_as_oracle(encoder, bertsize.Workload(batch=2, seq_len=16))


@FUZZ
@given(field=st.sampled_from(WORKLOAD_FIELDS), value=values)
def test_workload_fields(field, value):
    try:
        workload = bertsize.Workload(**{field: value})
    except Exception as error:  # noqa: BLE001
        _names(error, field)
        return
    _same_as_oracle(SMALL, workload)


@FUZZ
@given(head=st.one_of(st.sampled_from(bertsize.HEADS), values), num_labels=values)
def test_estimate_head_and_labels(head, num_labels):
    try:
        _same_as_oracle(SMALL, bertsize.Workload(batch=2, seq_len=16), head, num_labels)
    except CLEAN as error:
        _names(error, "head", "num_labels")


@FUZZ
@given(column=st.sampled_from(bertsize.COLUMNS), value=values, threads=st.one_of(st.none(), values))
def test_evaluate_columns(column, value, threads):
    workload = bertsize.Workload(batch=2, seq_len=16)
    try:
        got = bertsize.evaluate({column: value}, SMALL, workload, threads=threads)
    except Exception as error:  # noqa: BLE001
        _names(error, column, "threads")
        return
    sizes = np.atleast_1d(np.asarray(value)).astype(np.int64).tolist()  # accepted: integers
    for row, size in enumerate(sizes):
        if column in WORKLOAD_FIELDS:
            expected = _oracle(SMALL, workload.replace(**{column: size}), "model", 2)
        else:  # an embedding column's 0 means "equal to hidden" (evaluate's docstring)
            expected = _oracle(SMALL.replace(**{column: size or None}), workload, "model", 2)
        assert expected is not None and all(int(got[name][row]) == expected[name] for name in expected)


@FUZZ
@given(field=st.sampled_from(BUDGET_FIELDS), value=values)
def test_budget_fields(field, value):
    try:
        budget = bertsize.Budget(**{field: value}, device="nvidia-t4")
    except Exception as error:  # noqa: BLE001
        _names(error, field)
        return
    bound = getattr(budget, field)
    assert bound is None or bound >= 0


@FUZZ
@given(axis=st.sampled_from(AXES), value=values)
def test_space_axes(axis, value):
    try:
        space = bertsize.Space("bert-base-uncased", **{axis: value})
        result = bertsize.search(space, bertsize.Budget(memory="1GiB"), limit=0)
    except Exception as error:  # noqa: BLE001
        _names(error, axis, "heads", "seq_len", "intermediate", "embedding", "points")
        return
    assert 0 <= result.count <= result.total - result.skipped


@FUZZ
@given(field=st.sampled_from(DEVICE_FIELDS), value=values)
def test_device_fields(field, value):
    arguments = {"name": "fuzz", "memory_bytes": 2**34, "memory_bandwidth": 1e12, "peak": {"fp16": 1e14}}
    try:
        device = bertsize.Device(**{**arguments, field: value})
    except Exception as error:  # noqa: BLE001
        _names(error, field)
        return
    seconds = bertsize.estimate(SMALL, bertsize.Workload(batch=2, seq_len=16, precision="fp16"), device=device).latency_s
    assert seconds > 0  # (inf only past a double's range: a bandwidth of 5e-324 B/s)


@FUZZ
@given(key=st.sampled_from(["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                            "vocab_size", "max_position_embeddings", "type_vocab_size", "tie_word_embeddings",
                            "hidden_act", "model_type", "dim", "n_layers"]), value=values)
def test_hf_config_values(key, value):
    config = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 37, "vocab_size": 99, "max_position_embeddings": 64, key: value}
    try:
        encoder = bertsize.from_hf_config(config)
    except Exception as error:  # noqa: BLE001
        _names(error, key, "model_type", "hidden", "heads", "layers", "intermediate", "vocab", "max_positions",
               "type_vocab", "activation")
        return
    _same_as_oracle(encoder, bertsize.Workload(batch=2, seq_len=16))
