"""evaluate(): columns in, one array per metric out; bad columns name the column and row."""

from __future__ import annotations

import numpy as np
import pytest

import bertsize

TINY = bertsize.preset("bert-tiny")


def test_scalars_broadcast_and_base_fills_the_rest():
    result = bertsize.evaluate({"layers": [2, 4], "batch": 8}, base=TINY, metrics=["params", "flops_fwd"])
    assert set(result) == {"params", "flops_fwd"}
    for row, layers in enumerate((2, 4)):
        expected = bertsize.estimate(TINY.replace(layers=layers), bertsize.Workload(batch=8))
        assert result["params"][row] == expected.params and result["flops_fwd"][row] == expected.flops_fwd


def test_base_by_name_and_default():
    by_name = bertsize.evaluate({"layers": [3]}, base="bert-tiny")
    assert by_name["params"][0] == bertsize.count_params(TINY.replace(layers=3))
    default = bertsize.evaluate({"batch": [1, 2]})
    assert default["params"][0] == bertsize.count_params(bertsize.preset("bert-base-uncased"))


def test_integer_dtypes_are_accepted():
    for dtype in (np.int8, np.int16, np.int32, np.uint16, np.uint32, np.int64, np.uint64):
        result = bertsize.evaluate({"layers": np.array([1, 2], dtype=dtype)}, base=TINY, metrics=["params"])
        assert result["params"].dtype == np.int64


BAD_COLUMNS = [
    # (columns, extra kwargs, error, message pattern)
    ({"layers": [1.0, 2.0]}, {}, TypeError, r"column 'layers' must hold integers, got dtype float64"),
    ({"layers": [True, False]}, {}, TypeError, r"column 'layers' must hold integers, got dtype bool"),
    ({"layers": np.array(["1"])}, {}, TypeError, r"column 'layers' must hold integers"),
    ({"layers": [[1, 2]]}, {}, TypeError, r"column 'layers' must be 1-D"),
    ({"layers": True}, {}, TypeError, r"column 'layers' must hold integers"),
    ({"layers": 2.5}, {}, TypeError, r"column 'layers' must be 1-D \(or an int\)"),
    ({"layers": [1, 2], "hidden": [128, 256, 384]}, {}, ValueError, r"one length; got layers=2, hidden=3"),
    ({"layers": [2, 0, -1]}, {}, ValueError, r"column 'layers', row 1: layers must be positive, got 0"),
    ({"layers": [2, 2, -1]}, {}, ValueError, r"column 'layers', row 2: layers must be positive, got -1"),
    ({"heads": [2, 3]}, {}, ValueError, r"column 'heads', row 1: heads=3 does not divide hidden=128"),
    ({"hidden": [128, 129]}, {}, ValueError, r"row 1: heads=2 does not divide hidden=129"),
    ({"seq_len": [512, 513]}, {}, ValueError, r"column 'seq_len', row 1: seq_len=513 exceeds the 512 positions .*max_positions=512"),
    ({"type_vocab": [2, 0]}, {}, ValueError, r"column 'type_vocab', row 1: type_vocab must be positive, got 0"),
    ({"embedding": [128, 64]}, {}, ValueError, r"column 'embedding', row 1: embedding=64 differs from hidden"),
    ({"hidden_groups": [1]}, {}, ValueError, r"column 'hidden_groups' is ALBERT's layer sharing"),
    ({"layers": np.array([1, 2**64 - 1], dtype=np.uint64)}, {}, OverflowError, r"column 'layers', row 1: .* does not fit in int64"),
    ({"layres": [1]}, {}, ValueError, r"unknown column 'layres' \(did you mean 'layers'\?\)"),
    ({"layers": [1]}, {"metrics": ["parms"]}, ValueError, r"unknown metric 'parms'"),
    ({"layers": [1]}, {"metrics": []}, ValueError, r"at least one metric"),
    ({"layers": [1]}, {"head": "mlm"}, ValueError, r"unknown head 'mlm'"),
    ({"layers": [1]}, {"base": "bert-huge"}, ValueError, r"unknown preset 'bert-huge'"),
    ({"layers": [1]}, {"base": 12}, TypeError, r"base must be a bertsize.Encoder or a preset name"),
    ({"layers": [1]}, {"workload": "train"}, TypeError, r"workload must be a bertsize.Workload"),
    ({"layers": [1]}, {"threads": 0}, ValueError, r"threads must be positive"),
    ({"layers": [1]}, {"num_labels": 0}, ValueError, r"num_labels must be positive"),
    ([1, 2], {}, TypeError, r"columns must be a mapping"),
]


@pytest.mark.parametrize(("columns", "kwargs", "error", "pattern"), BAD_COLUMNS)
def test_bad_columns(columns, kwargs, error, pattern):
    kwargs = {"base": TINY, **kwargs}
    with pytest.raises(error, match=pattern):
        bertsize.evaluate(columns, **kwargs)


BAD_OUT = [
    ({"params": np.empty(2, dtype=np.float64)}, TypeError, r"out\['params'\] must be an int64 numpy array"),
    ({"params": np.empty(3, dtype=np.int64)}, ValueError, r"out\['params'\] must be .* of shape \(2,\)"),
    ({"params": np.empty(4, dtype=np.int64)[::2]}, ValueError, r"C-contiguous"),
    ({}, ValueError, r"out has no array for metric 'params'"),
    ([np.empty(2, dtype=np.int64)], TypeError, r"out must be a mapping"),
]


@pytest.mark.parametrize(("out", "error", "pattern"), BAD_OUT)
def test_bad_out(out, error, pattern):
    with pytest.raises(error, match=pattern):
        bertsize.evaluate({"layers": [1, 2]}, base=TINY, metrics=["params"], out=out)


def test_read_only_out_is_refused():
    buffer = np.empty(2, dtype=np.int64)
    buffer.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        bertsize.evaluate({"layers": [1, 2]}, base=TINY, metrics=["params"], out={"params": buffer})


def test_overflow_names_metric_and_row():
    with pytest.raises(OverflowError, match=r"flops_fwd exceeds int64 .* at row 1"):
        bertsize.evaluate({"batch": [1, 2**40], "seq_len": 512}, base=TINY.replace(max_positions=2**20),
                          metrics=["flops_fwd"])


# Near the edges of the kernel's divisibility check (a double quotient below 2**53, integer
# division above): a quotient within a rounding step of an integer, and both sides of 2**53.
_HEADS_EDGES = [
    (2**53 - 2, 3), (2**53 - 3, 3), (2**53 - 1, 2**26 + 1), (2**53 - 2, 2**52 - 1), (2**53, 2**27),
    (2**53 + 2, 2), (2**53 + 1, 3), (3 * (2**51 - 1), 2**51 - 1), (3 * (2**51 - 1) + 1, 2**51 - 1),
    (2**62, 2**31), (2**62 + 1, 2**31),
]


@pytest.mark.parametrize(("hidden", "heads"), _HEADS_EDGES)
def test_heads_divide_hidden_is_exact_near_2_53(hidden, heads):
    """Python's own % decides: a row whose heads divide hidden passes the check (and its
    parameters then overflow int64), any other is rejected naming heads and the row."""
    columns = {"hidden": [768, hidden], "heads": [12, heads]}
    if hidden % heads == 0:
        with pytest.raises(OverflowError, match="params exceeds int64 .* at row 1"):
            bertsize.evaluate(columns, base=TINY, metrics=["params"])
    else:
        with pytest.raises(ValueError, match=f"row 1: heads={heads} does not divide hidden={hidden}"):
            bertsize.evaluate(columns, base=TINY, metrics=["params"])
