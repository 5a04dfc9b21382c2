"""The Cython kernel equals the pure-Python oracle, metric by metric, exactly.

These tests import the compiled kernel directly, so they check it in both runs of the
suite (with and without BERTSIZE_PUREPYTHON=1).
"""

from __future__ import annotations

import concurrent.futures
import copy
import importlib

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

import bertsize
from bertsize import _abi, oracle, program, validity
from bertsize.estimate import row_of
from bertsize.options import Options
from strategies import EVEN_HEADS, GROUPED, HEAD_WIDTH, NO_SEGMENTS, any_encoders, heads_for, runnable, small_encoders, workloads

kernel = importlib.import_module("bertsize._kernel")
INT64_MAX = 2**63 - 1
ALL = (1 << len(bertsize.METRICS)) - 1


def kernel_metrics(encoder, workload, head, num_labels, mask=ALL):
    """The kernel's selected metrics as a dict, or the OverflowError / ValueError it
    signals; checks on the way that scalar_into() writes what scalar() returns."""
    call = (encoder, workload, _abi.HEAD_CODES[head], num_labels, mask)
    result = kernel.scalar(*call)
    buffer = np.full(kernel.N_METRICS, -1, dtype=np.int64)
    status = kernel.scalar_into(buffer, *call)
    if type(result) is int:
        assert status == result and (buffer == -1).all()  # a failed call leaves the buffer alone
        return OverflowError if result < 0 else ValueError
    assert status == 0 and buffer.tolist() == list(result)
    return {name: value for bit, (name, value) in enumerate(zip(bertsize.METRICS, result)) if mask >> bit & 1}


def oracle_metrics(encoder, workload, head, num_labels):
    if workload.seq_len > encoder.max_seq_len:
        return ValueError
    options = Options.of(encoder.options, workload.options, head)
    values, too_big = oracle.metric_values(options, dict(zip(validity.FIELDS, row_of(encoder, workload, num_labels))))
    return OverflowError if too_big else values


def _extreme(**changes):
    return bertsize.Encoder(**{"layers": 1, "hidden": 1, "heads": 1, "intermediate": 1, "vocab": 1,
                               "max_positions": 1, **changes})


@given(data=st.data(), encoder=any_encoders(), workload=workloads())
@example(data=None, encoder=_extreme(vocab=INT64_MAX), workload=bertsize.Workload(seq_len=1))
@example(data=None, encoder=_extreme(layers=INT64_MAX), workload=bertsize.Workload(seq_len=1))
@example(data=None, encoder=_extreme(hidden=2**31, heads=2**31), workload=bertsize.Workload(seq_len=1))
@example(data=None, encoder=_extreme(max_positions=2**53), workload=bertsize.Workload(batch=2**53 - 1, seq_len=1))
@example(data=None, encoder=_extreme(max_positions=2**53), workload=bertsize.Workload(batch=2**53 + 1, seq_len=1))
def test_kernel_equals_oracle(data, encoder, workload):
    workload = runnable(encoder, workload)
    head, num_labels = "model", 2
    if data is not None:
        head = data.draw(heads_for(encoder))
        num_labels = data.draw(st.one_of(st.integers(1, 8), st.integers(1, 2**40)))
        if data.draw(st.booleans()):  # mostly sequences that fit the position table
            workload = workload.replace(seq_len=max(1, min(workload.seq_len, encoder.max_seq_len)))
    assert kernel_metrics(encoder, workload, head, num_labels) == oracle_metrics(encoder, workload, head, num_labels)


def test_inference_flops_past_half_of_int64_do_not_overflow():
    """In inference the backward FLOPs are 0: twice a forward count above 2**62 is no
    overflow (the training formula is never evaluated)."""
    base = bertsize.preset("bert-base-uncased")
    work = bertsize.Workload(batch=4096, seq_len=512)
    per_layer = kernel_metrics(base.replace(layers=2), work, "model", 2)["flops_fwd"] - \
        kernel_metrics(base.replace(layers=1), work, "model", 2)["flops_fwd"]
    encoder = base.replace(layers=3 * 2**61 // per_layer)  # forward ~ 1.5 * 2**62
    result = kernel_metrics(encoder, work, "model", 2)
    assert 2**62 < result["flops_fwd"] < 2**63 and result["flops_bwd"] == 0
    assert result == oracle_metrics(encoder, work, "model", 2)
    columns = bertsize.evaluate({"layers": [encoder.layers, 1]}, base=base, workload=work)
    assert {name: int(array[0]) for name, array in columns.items()} == result


@given(data=st.data(), encoder=small_encoders(max_layers=6), workload=workloads(max_batch=16, max_seq_len=16))
def test_kernel_equals_oracle_on_small_models(data, encoder, workload):
    """Sizes where no metric overflows, so every comparison is of values."""
    workload = runnable(encoder, workload)
    head = data.draw(heads_for(encoder))
    num_labels = data.draw(st.integers(1, 8))
    workload = workload.replace(seq_len=min(workload.seq_len, encoder.max_seq_len))
    expected = oracle_metrics(encoder, workload, head, num_labels)
    assert isinstance(expected, dict)
    assert kernel_metrics(encoder, workload, head, num_labels) == expected


def _forget_safe_corner(encoder, workload, head):
    """A scalar call with other options (num_labels 3; the tests then use 2): the scalar
    path resets its safe corner, so the calls that follow start from none."""
    kernel_metrics(encoder, workload, head, 3)


SEQUENCE_FIELDS = ("layers", "heads", "width", "intermediate", "vocab", "max_positions", "type_vocab", "embedding",
                   "hidden_groups", "bottleneck", "batch", "seq_len")


def _row_call(base, workload, row):
    """The encoder and workload of a row of SEQUENCE_FIELDS on `base` (hidden = heads * width,
    MobileBERT's bottleneck heads * its row value, its embedding at most hidden; the
    fields base's family has)."""
    changes = {name: row[name] for name in ("layers", "heads", "intermediate", "vocab", "max_positions")}
    groups = GROUPED.get(base.family, 1)  # SqueezeBERT's hidden and intermediate: multiples of 4
    if base.family in EVEN_HEADS:  # ConvBERT's
        changes["heads"] = 2 * row["heads"]
    changes["hidden"] = changes["heads"] * HEAD_WIDTH.get(base.family, groups * row["width"])
    changes["intermediate"] = groups * row["intermediate"]
    if base.family not in NO_SEGMENTS:
        changes["type_vocab"] = row["type_vocab"]
    if base.family in ("albert", "electra"):
        changes["embedding"] = row["embedding"]
    if base.family == "albert":
        changes["hidden_groups"] = row["hidden_groups"]
    if base.family == "mobilebert":
        changes.update(embedding=min(row["embedding"], changes["hidden"]), bottleneck=row["heads"] * row["bottleneck"])
    encoder = base.replace(**changes)
    return encoder, workload.replace(batch=row["batch"], seq_len=max(1, min(row["seq_len"], encoder.max_seq_len)))


@given(data=st.data(), base=any_encoders(), workload=workloads())
def test_scalar_calls_in_a_sequence_equal_the_oracle(data, base, workload):
    """The scalar path skips the overflow checks for rows inside sizes it has proved safe
    for the call's options, a corner grown from earlier calls: a sequence of calls that
    differ only in sizes, small and past int64 in any order, each equals the oracle."""
    workload = runnable(base, workload)
    head = data.draw(heads_for(base))
    # small rows with one or two large fields, then rows as large as two of them in every
    # field: the ones a corner grown from both covers
    rows = []
    for _ in range(data.draw(st.integers(2, 5))):
        rows.append({name: data.draw(st.integers(1, 16)) for name in SEQUENCE_FIELDS})
        rows[-1]["max_positions"] += 2  # (room for RoBERTa's offset)
        large = data.draw(st.lists(st.sampled_from(SEQUENCE_FIELDS), min_size=1, max_size=2))
        if "heads" in large:  # hidden and the bottleneck are heads x another field: one of the two large
            large = [name for name in large if name not in ("width", "bottleneck")]
        for name in large:
            rows[-1][name] = data.draw(st.integers(1, data.draw(st.sampled_from([2**12, 2**24, 2**40]))))
    for _ in range(data.draw(st.integers(1, 3))):
        first, second = data.draw(st.permutations(rows))[:2]
        larger = first if first["heads"] * first["width"] >= second["heads"] * second["width"] else second
        rows.append({name: max(first[name], second[name]) for name in SEQUENCE_FIELDS})
        # the larger hidden, heads dividing it (and its bottleneck)
        rows[-1].update(heads=larger["heads"], width=larger["width"], bottleneck=larger["bottleneck"])
    _forget_safe_corner(*_row_call(base, workload, rows[0]), head)
    for row in rows:
        encoder, work = _row_call(base, workload, row)
        assert kernel_metrics(encoder, work, head, 2) == oracle_metrics(encoder, work, head, 2)


_SHARED_FIELDS = ["layers", "hidden", "intermediate", "vocab", "max_positions", "type_vocab", "batch", "seq_len"]


@pytest.mark.parametrize("preset, field", [("bert-base-uncased", field) for field in _SHARED_FIELDS] +
                         [("albert-base-v2", field) for field in _SHARED_FIELDS + ["embedding", "hidden_groups"]])
def test_scalar_path_checks_sizes_beyond_those_it_has_seen(preset, field):
    """After a model's own sizes are proved safe, one field past them is not taken on
    trust: 2**62 in any field the family has overflows (seq_len with a position table as
    long), as the oracle says."""
    base = bertsize.preset(preset)
    work = bertsize.Workload(batch=8, seq_len=128, training=True)
    _forget_safe_corner(base, work, "masked_lm")
    for _ in range(2):  # the second call runs inside the corner the first one proved safe
        assert kernel_metrics(base, work, "masked_lm", 2) == oracle_metrics(base, work, "masked_lm", 2)
    if field in ("batch", "seq_len"):
        encoder = base.replace(max_positions=2**62) if field == "seq_len" else base
        work = work.replace(**{field: 2**62})
    elif field == "hidden":
        encoder = base.replace(hidden=base.heads * 2**58)
    else:
        encoder = base.replace(**{field: 2**62})
    assert oracle_metrics(encoder, work, "masked_lm", 2) is OverflowError
    assert kernel_metrics(encoder, work, "masked_lm", 2) is OverflowError


def test_scalar_path_proves_the_corner_of_two_rows_before_using_it():
    """Two rows each safe, one large in vocab and one in batch: a row as large as both in
    each field overflows (n * vocab = 2**24 * 2**40 fp32 log-softmax values), so the
    corner that covers the two is never proved."""
    work = bertsize.Workload(batch=1, seq_len=1, training=True)
    large_vocab, large_batch = (_extreme(vocab=2**40), work), (_extreme(vocab=16), work.replace(batch=2**24))
    both = (_extreme(vocab=2**40), work.replace(batch=2**24))
    _forget_safe_corner(*large_vocab, "masked_lm")
    for encoder, workload in (large_vocab, large_batch):
        assert kernel_metrics(encoder, workload, "masked_lm", 2) == oracle_metrics(encoder, workload, "masked_lm", 2)
    assert oracle_metrics(*both, "masked_lm", 2) is OverflowError
    assert kernel_metrics(*both, "masked_lm", 2) is OverflowError


def test_scalar_path_forgets_the_corner_when_the_options_change():
    """A corner proved safe for inference does not carry over to training with an MLM head,
    where the same sizes overflow: n * vocab = 256 * 2**55 = 2**63 bytes of fp32 log-softmax."""
    encoder = _extreme(vocab=2**55)
    inference = bertsize.Workload(batch=256, seq_len=1, precision="bf16")
    for _ in range(2):
        assert kernel_metrics(encoder, inference, "model", 2) == oracle_metrics(encoder, inference, "model", 2)
    training = inference.replace(training=True)
    assert oracle_metrics(encoder, training, "masked_lm", 2) is OverflowError
    assert kernel_metrics(encoder, training, "masked_lm", 2) is OverflowError


@pytest.mark.parametrize("selected", ["params", "flops_fwd", "weight_bytes", "peak_bytes", "activation_bytes"])
def test_scalar_calls_return_zero_for_metrics_not_selected(selected):
    """Metrics computed on the way to a selected one (the parameters behind the weight
    bytes, the forward FLOPs behind the backward ones) are not returned."""
    encoder, work = bertsize.preset("bert-base-uncased"), bertsize.Workload(batch=8, seq_len=128, training=True)
    bit = bertsize.METRICS.index(selected)
    call = (encoder, work, _abi.HEAD_CODES["masked_lm"], 2, 1 << bit)
    expected = oracle_metrics(encoder, work, "masked_lm", 2)[selected]
    for _ in range(2):  # checked, then inside the corner the first call proved safe
        values = kernel.scalar(*call)
        assert values[bit] == expected and values[:bit] + values[bit + 1:] == (0,) * (len(values) - 1)


def _params_exactly(target: int) -> bertsize.Encoder:
    """A BertModel with hidden = heads = 1 whose parameter count is `target`:
    params = (vocab + max_positions + type_vocab)·1 + 2 + layers·(4 + 9 + 2I + I) + 2."""
    fixed = bertsize.count_params(_extreme(vocab=1))
    return _extreme(vocab=target - fixed + 1)


@pytest.mark.parametrize("target", [2**53 - 1, 2**53, 2**53 + 1, INT64_MAX])
def test_exact_integers_past_float64(target):
    """2**53 + 1 is not a float64; the kernel returns it exactly, as an int."""
    encoder = _params_exactly(target)
    assert bertsize.count_params(encoder) == target
    result = kernel_metrics(encoder, bertsize.Workload(seq_len=1), "model", 2, mask=1)  # params only
    assert result["params"] == target and type(result["params"]) is int
    columns = bertsize.evaluate({"vocab": [encoder.vocab, 1]}, base=_extreme(vocab=1),
                                workload=bertsize.Workload(seq_len=1), metrics=["params"])
    assert columns["params"].dtype == np.int64 and int(columns["params"][0]) == target


def test_first_value_past_int64_raises():
    encoder = _params_exactly(INT64_MAX).replace(vocab=_params_exactly(INT64_MAX).vocab + 1)
    assert kernel_metrics(encoder, bertsize.Workload(seq_len=1), "model", 2, mask=1) is OverflowError
    with pytest.raises(OverflowError, match=r"params exceeds int64 .* at row 1"):
        bertsize.evaluate({"vocab": [1, encoder.vocab]}, base=_extreme(), workload=bertsize.Workload(seq_len=1),
                          metrics=["params"])


@given(data=st.data(), base=any_encoders(), workload=workloads(max_batch=64, max_seq_len=64))
def test_evaluate_rows_equal_scalar_calls(data, base, workload):
    workload = runnable(base, workload)
    head = data.draw(heads_for(base))
    rows = data.draw(st.integers(1, 12))
    names = ["layers", "hidden", "heads", "intermediate", "vocab", "batch", "seq_len"]
    columns = {}
    groups = GROUPED.get(base.family, 1)  # SqueezeBERT's hidden and intermediate: multiples of 4
    for name in data.draw(st.lists(st.sampled_from(names), unique=True)):
        columns[name] = data.draw(st.lists(st.integers(1, 4096), min_size=rows, max_size=rows))
    if "intermediate" in columns:
        columns["intermediate"] = [groups * value for value in columns["intermediate"]]
    if "heads" in columns and base.family in EVEN_HEADS:  # ConvBERT's
        columns["heads"] = [2 * value for value in columns["heads"]]
    if "heads" in columns or "hidden" in columns:  # keep heads | hidden
        heads = np.array(columns.get("heads", [base.heads] * rows))
        columns["hidden"] = list(heads * (HEAD_WIDTH.get(base.family) or groups * data.draw(st.integers(1, 64))))
        columns["heads"] = list(heads)
        if base.family == "mobilebert":  # heads divide its bottleneck; its embedding at most hidden (0: equal)
            columns["bottleneck"] = list(heads * data.draw(st.integers(1, 64)))
            columns["embedding"] = [0] * rows
    if base.family in ("albert", "electra") and data.draw(st.booleans()):
        # a factorised embedding per row: 0 (= hidden), equal to hidden, or its own width
        # (an ELECTRA projection exists in some rows and not in others)
        hidden = columns.get("hidden", [base.hidden] * rows)
        columns["embedding"] = [data.draw(st.sampled_from([0, int(h), data.draw(st.integers(1, 4096))]))
                                for h in hidden]
    if base.family == "albert" and data.draw(st.booleans()):
        columns["hidden_groups"] = data.draw(st.lists(st.integers(1, 64), min_size=rows, max_size=rows))
    columns["max_positions"] = 4096 + 2
    metrics = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(bertsize.METRICS), min_size=1, unique=True)))
    try:
        result = bertsize.evaluate(columns, base=base, workload=workload, head=head, metrics=metrics)
    except OverflowError:
        return  # the scalar test covers overflow; here the rows that fit
    for row in range(len(next(iter(result.values())))):
        values = {name: column[row] for name, column in columns.items() if isinstance(column, list)}
        encoder = base.replace(max_positions=4098, **{k: v or None if k == "embedding" else v
                                                      for k, v in values.items() if k not in ("batch", "seq_len")})
        work = workload.replace(**{k: v for k, v in values.items() if k in ("batch", "seq_len")})
        mask = sum(1 << bertsize.METRICS.index(name) for name in result)
        expected = kernel_metrics(encoder, work, head, 2, mask)  # = the oracle (the tests above)
        assert {name: int(array[row]) for name, array in result.items()} == expected, row


@given(data=st.data(), base=any_encoders(), workload=workloads(max_batch=64, max_seq_len=64))
def test_rows_around_2_52_equal_scalar_calls(data, base, workload):
    """The kernel evaluates a stage of rows in double precision when every value is below
    2**52, else in int64: rows on both sides, and stages of both kinds, equal the scalar
    path (int64, checked) row by row."""
    workload = runnable(base, workload)
    head = data.draw(heads_for(base))
    base = base.replace(max_positions=max(base.max_positions, 4096))
    work = workload.replace(seq_len=min(workload.seq_len, base.max_seq_len))
    try:
        # metrics are affine in the layer count: find where the first one reaches 2**52
        one, two = ({name: int(array[row]) for name, array in bertsize.evaluate(
            {"layers": [1, 2]}, base=base, workload=work, head=head).items()} for row in (0, 1))
        crossings = [(2**52 - (one[name] - slope)) // slope
                     for name in bertsize.METRICS if (slope := two[name] - one[name]) > 0]
        centre = min(crossings) + data.draw(st.integers(-40, 40))
        layers = [max(centre + offset, 1) for offset in range(-100, 100)]
        result = bertsize.evaluate({"layers": layers}, base=base, workload=work, head=head)
    except OverflowError:
        return  # past int64 in int64 arithmetic: the scalar tests cover the error
    for row in (0, 1, 62, 63, 64, 65, 98, 99, 100, 101, 126, 127, 128, 129, 199):
        expected = kernel_metrics(base.replace(layers=layers[row]), work, head, 2)
        assert {name: int(array[row]) for name, array in result.items()} == expected, row


@pytest.mark.parametrize("max_positions", [2**52 - 1, 2**52, 2**52 + 1, 2**60])
def test_fields_at_2_52_take_either_path_with_equal_results(max_positions):
    """A field of 2**52 or more sends its stage to the int64 path (a one-wide ALBERT
    embedding keeps the position table's parameters, and every metric, within int64)."""
    base = bertsize.preset("albert-base-v2").replace(embedding=1)
    work = bertsize.Workload(precision="fp16")
    columns = {"max_positions": [512] * 70 + [max_positions] + [512] * 70, "seq_len": list(range(1, 142))}
    result = bertsize.evaluate(columns, base=base, workload=work)
    for row in (0, 69, 70, 71, 140):
        encoder = base.replace(max_positions=columns["max_positions"][row])
        expected = kernel_metrics(encoder, work.replace(seq_len=row + 1), "model", 2)
        assert {name: int(array[row]) for name, array in result.items()} == expected, row


# Enough rows for both threads to get work from the kernel; the pure-Python path (one
# oracle call per row) gets a few.
ROWS = 40 if bertsize.build_info()["implementation"] == "python" else 200_003


def _big_columns(rows=ROWS):
    rng = np.random.default_rng(7)
    heads = rng.integers(1, 17, rows)
    return {"layers": rng.integers(1, 49, rows), "heads": heads, "hidden": heads * rng.integers(1, 129, rows),
            "intermediate": rng.integers(1, 8193, rows), "batch": rng.integers(1, 65, rows),
            "seq_len": rng.integers(1, 513, rows)}


def test_thread_count_does_not_change_results():
    columns = _big_columns()
    work = bertsize.Workload(training=True, precision="bf16", backend="cpu")
    one = bertsize.evaluate(columns, workload=work, head="masked_lm", threads=1)
    two = bertsize.evaluate(columns, workload=work, head="masked_lm", threads=2)
    for name in bertsize.METRICS:
        np.testing.assert_array_equal(one[name], two[name])


def test_concurrent_python_threads_get_identical_results():
    columns = _big_columns(min(ROWS, 50_000))
    reference = bertsize.evaluate(columns)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: bertsize.evaluate(columns), range(8)))
    for result in results:
        for name in bertsize.METRICS:
            np.testing.assert_array_equal(result[name], reference[name])


def test_first_bad_row_is_the_same_with_any_thread_count():
    columns = _big_columns()
    columns["hidden"] = columns["hidden"].copy()
    late, first = (3 * ROWS) // 4, ROWS // 7  # the first bad row is in the first thread's block
    columns["hidden"][[late, first]] = 0
    for threads in (1, 2):
        with pytest.raises(ValueError, match=rf"row {first}\b.*hidden.*positive"):
            bertsize.evaluate(columns, threads=threads)


def test_checked_and_unchecked_blocks_agree():
    """A block whose column-wise maximum could overflow is evaluated with checked
    arithmetic, the others unchecked: both give the scalar path's numbers."""
    columns = _big_columns(min(ROWS, 10_000))
    rows = len(columns["layers"])
    columns["layers"] = columns["layers"].copy()
    # ~1.2e18 parameters: past the 2**59 bound that allows unchecked arithmetic, within int64
    columns["layers"][rows // 2] = 10**11
    result = bertsize.evaluate(columns, metrics=["params", "weight_bytes"])
    base, work = bertsize.preset("bert-base-uncased"), bertsize.Workload()
    for row in (0, rows // 2 - 1, rows // 2, rows - 1):
        encoder = base.replace(**{k: int(columns[k][row]) for k in ("layers", "hidden", "heads", "intermediate")})
        workload = work.replace(batch=int(columns["batch"][row]), seq_len=int(columns["seq_len"][row]))
        expected = kernel_metrics(encoder, workload, "model", 2, mask=0b100001)
        assert {k: int(v[row]) for k, v in result.items()} == {k: expected[k] for k in result}, row


def test_out_buffers_are_filled_in_place():
    columns = _big_columns(min(ROWS, 1000))
    out = {name: np.full(len(columns["layers"]), -1, dtype=np.int64) for name in ("params", "peak_bytes")}
    result = bertsize.evaluate(columns, metrics=["params", "peak_bytes"], out=out)
    assert result["params"] is out["params"] and result["peak_bytes"] is out["peak_bytes"]
    assert set(result) == {"params", "peak_bytes"}
    assert (out["params"] > 0).all()
    np.testing.assert_array_equal(out["params"], bertsize.evaluate(columns, metrics=["params"])["params"])


def test_scalar_into_takes_any_writable_buffer_of_ten_int64():
    call = (bertsize.preset("bert-base-uncased"), bertsize.Workload(), _abi.HEAD_CODES["model"], 2, ALL)
    expected = list(kernel.scalar(*call))
    raw = bytearray(8 * kernel.N_METRICS + 1)
    unaligned = memoryview(raw)[1:]  # one byte in: the values need not be 8-byte aligned
    assert kernel.scalar_into(unaligned, *call) == 0
    assert list(unaligned.cast("q")) == expected
    assert kernel.scalar_into(raw, *call) == 0 and list(memoryview(raw)[:-1].cast("q")) == expected
    with pytest.raises(ValueError, match=r"out holds 72 bytes; the 10 metrics need 80"):
        kernel.scalar_into(np.zeros(kernel.N_METRICS - 1, dtype=np.int64), *call)
    with pytest.raises(BufferError):
        kernel.scalar_into(bytes(8 * kernel.N_METRICS), *call)  # read-only
    with pytest.raises(TypeError):
        kernel.scalar_into([0] * kernel.N_METRICS, *call)  # no buffer


def test_build_info():
    info = bertsize.build_info()
    assert set(info) == {"implementation", "compiler", "openmp", "threads"}
    assert kernel.openmp_enabled() in (True, False)
    if info["implementation"] == "cython":
        assert info["compiler"] and info["threads"] >= 1


def test_abi_sizes_agree():
    """The Python side and the C evaluator agree on the row, the program layout and the
    packings' headers; a program of another version is refused."""
    assert kernel.N_FIELDS == len(validity.FIELDS) and bertsize.COLUMNS == validity.FIELDS[:kernel.N_FIELDS - 1]
    assert kernel.N_METRICS == len(bertsize.METRICS)
    options = Options.of(bertsize.preset("bert-tiny").options, bertsize.Workload().options, "model")
    source = program.specialised(options, (), ("params",), False)
    assert kernel.run_row(kernel.CompiledProgram(source), row_of(bertsize.preset("bert-tiny"), bertsize.Workload(), 2)) \
        == (bertsize.count_params(bertsize.preset("bert-tiny")),)
    stale = program.Program(**{**source.__dict__, "header": source.header.copy()})
    stale.header[0] += 1
    with pytest.raises(ValueError, match="does not match this kernel"):
        kernel.CompiledProgram(stale)
    encoder = bertsize.preset("bert-tiny")
    short = f"a packing of {8 * len(validity.ENCODER_FIELDS)} bytes"  # the header word and one field short
    for row, message in ((encoder._row[:-8], short), (b"\0" * 8 + encoder._row[8:], "header")):
        stale = copy.copy(encoder)
        stale.__dict__["_row"] = row
        with pytest.raises(ValueError, match=message):
            kernel.scalar(stale, bertsize.Workload(), 0, 2, ALL)
