"""Never a crash, a hang or a wrong number: exact answers or clean errors, on both backends.

One test per defect of the adversarial pass (issue 17); the whole module runs against the
kernel and, with BERTSIZE_PUREPYTHON=1, against the pure-Python oracle.  The fuzz of every
public entry point (tests/fuzz_public_api.py) runs in a subprocess, where a crash would be
an exit status.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bertsize
from bertsize import _tables
from bertsize._backend import PURE_PYTHON

INT64_MAX = 2**63 - 1
TINY = bertsize.Encoder(layers=1, hidden=2, heads=1, intermediate=1, vocab=1, max_positions=8)
SMALL = bertsize.Encoder(layers=2, hidden=32, heads=2, intermediate=37, vocab=99, max_positions=64)
TESTS = Path(__file__).parent
search_module = importlib.import_module("bertsize.search")  # (bertsize.search is the function)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bertsize", *args], capture_output=True, text=True, timeout=300)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and all(word in result.stderr for word in words), result.stderr


# ----- 1. crash: threads ----------------------------------------------------------------
@pytest.mark.parametrize("threads", [100_000, 40_000, bertsize.MAX_THREADS + 1])
def test_threads_past_the_cap_are_refused(threads):
    with pytest.raises(ValueError, match=rf"threads must be at most {bertsize.MAX_THREADS}, got {threads}"):
        bertsize.evaluate({"layers": [1, 2]}, threads=threads)
    with pytest.raises(ValueError, match="threads must be at most"):
        bertsize.search(bertsize.Space(layers=[1, 2]), bertsize.Budget(memory="1GiB"), threads=threads)


def test_cli_threads_are_checked():
    one_line_error(cli("search", "--threads", "100000", "--count"), "threads must be at most")
    counted = cli("search", "--threads", "1", "--count", "--layers", "1:4")
    assert counted.returncode == 0 and "valid configurations fit" in counted.stdout


# ----- 2. wrong numbers -------------------------------------------------------------------
def test_huge_num_labels_overflow_instead_of_wrapping():
    """The logits' bytes (batch x num_labels x 4) pass int64 long before the parameters do."""
    work = bertsize.Workload(batch=8, seq_len=4, training=True)
    with pytest.raises(OverflowError, match="exceeds int64"):
        bertsize.estimate(TINY, work, "sequence_classification", num_labels=2**60)
    with pytest.raises(OverflowError):
        bertsize.evaluate({"layers": [1, 1]}, TINY, work, "sequence_classification", num_labels=2**60)
    albert = bertsize.Encoder(family="albert", layers=1, hidden=2, heads=1, intermediate=1, vocab=1,
                              max_positions=8, embedding=2)
    with pytest.raises(OverflowError, match="exceeds int64"):
        bertsize.estimate(albert, work, "pretraining", num_labels=2**61)
    # what does fit is exact: the classifier holds (hidden + 1) x num_labels parameters
    params = [bertsize.evaluate({"layers": [1]}, TINY, work, "sequence_classification", metrics=["params"],
                                num_labels=labels)["params"][0] for labels in (1, 2**60)]
    assert int(params[1]) - int(params[0]) == (2 + 1) * (2**60 - 1)


def test_distilbert_config_with_the_common_key_names():
    """DistilBertConfig maps hidden_size / num_hidden_layers / num_attention_heads onto
    dim / n_layers / n_heads; so does from_hf_config."""
    transformers = pytest.importorskip("transformers")
    config = transformers.DistilBertConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                           hidden_dim=24, vocab_size=50, max_position_embeddings=32)
    real = sum(p.numel() for p in transformers.DistilBertModel(config).parameters())
    as_dict = {"model_type": "distilbert", "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
               "hidden_dim": 24, "vocab_size": 50, "max_position_embeddings": 32}
    assert bertsize.count_params(bertsize.from_hf_config(as_dict)) == real
    assert bertsize.count_params(bertsize.from_hf_config(config)) == real


@pytest.mark.parametrize("value", ["false", "False", 0.0, None])
def test_tie_word_embeddings_that_is_not_a_json_boolean_is_refused(value):
    config = {"model_type": "bert", "tie_word_embeddings": value}
    with pytest.raises(TypeError, match="tie_word_embeddings"):
        bertsize.from_hf_config(config)


def test_tie_word_embeddings_zero_is_untied():
    """0 is false to Python and to HF: the decoder gets its own V x H weight (and bias)."""
    untied = bertsize.from_hf_config({"model_type": "bert", "tie_word_embeddings": 0})
    tied = bertsize.from_hf_config({"model_type": "bert"})
    assert not untied.tie_word_embeddings
    extra = bertsize.count_params(untied, "masked_lm") - bertsize.count_params(tied, "masked_lm")
    assert extra == 30522 * 768 + 30522


@pytest.mark.parametrize("bound", [2**53 + 1, 2**62 + 3, INT64_MAX, 2**63, 2**70 + 1])
def test_integer_budgets_are_exact(bound):
    budget = bertsize.Budget(memory=bound, params=bound, min_params=1, flops=bound)
    assert (budget.memory, budget.params, budget.flops) == (bound, bound, bound)
    assert type(budget.memory) is int


def test_numpy_integer_budgets():
    budget = bertsize.Budget(memory=np.int64(2**40), params=np.uint64(2**63), min_params=np.int32(7))
    assert (budget.memory, budget.params, budget.min_params) == (2**40, 2**63, 7)
    with pytest.raises(TypeError, match="memory"):
        bertsize.Budget(memory=np.float64(2.0**40) + 0.5j)


def test_budgets_past_int64_admit_everything_or_nothing():
    space = bertsize.Space("bert-base-uncased", layers=[1, 2, 3], hidden=[256, 512], heads=8)
    valid = space.size  # every point is a model (8 heads divide both widths)
    for budget in (bertsize.Budget(memory=INT64_MAX), bertsize.Budget(memory=2**63 + 5, params=2**64),
                   bertsize.Budget(flops=float("inf"))):
        assert bertsize.search(space, budget).count == valid
    for budget in (bertsize.Budget(min_params=2**63), bertsize.Budget(min_params=2**70, memory="16GiB")):
        result = bertsize.search(space, budget, limit=0)
        assert result.count == 0 and len(result.top_k(5)) == 0 and len(result.pareto()) == 0


def test_out_buffers_may_not_alias():
    shared = np.empty(4, dtype=np.int64)
    with pytest.raises(ValueError, match="share memory"):
        bertsize.evaluate({"layers": [1, 2]}, metrics=["params", "flops_fwd"],
                          out={"params": shared[:2], "flops_fwd": shared[:2]})
    with pytest.raises(ValueError, match="share memory"):  # overlapping views
        bertsize.evaluate({"layers": [1, 2]}, metrics=["params", "flops_fwd"],
                          out={"params": shared[:2], "flops_fwd": shared[1:3]})
    got = bertsize.evaluate({"layers": [1, 2]}, metrics=["params", "flops_fwd"],
                            out={"params": shared[:2], "flops_fwd": shared[2:]})
    assert shared[:2].tolist() == got["params"].tolist() and shared[2:].tolist() == got["flops_fwd"].tolist()


def _space():
    return bertsize.Space("bert-base-uncased", layers=range(1, 7), hidden=[256, 512, 768], heads=8)


def test_merge_refuses_repeated_shards_and_different_searches():
    budget = bertsize.Budget(memory="16GiB")
    whole = bertsize.search(_space(), budget)
    parts = [bertsize.search(_space(), budget, shard=(i, 3)) for i in range(3)]
    assert bertsize.Result.merge(parts).count == whole.count
    with pytest.raises(ValueError, match="shard 0 of 1 twice"):
        bertsize.Result.merge([whole, whole])
    with pytest.raises(ValueError, match="shard 1 of 3 twice"):
        bertsize.Result.merge([parts[0], parts[1], parts[1]])
    with pytest.raises(ValueError, match="differ in shard count"):
        bertsize.Result.merge([parts[0], whole])
    with pytest.raises(ValueError, match="differ in budget"):
        bertsize.Result.merge([parts[0], bertsize.search(_space(), bertsize.Budget(memory="8GiB"), shard=(1, 3))])
    other = bertsize.Space("bert-base-uncased", layers=range(1, 8), hidden=[256, 512, 768], heads=8)
    with pytest.raises(ValueError, match="differ in axes"):
        bertsize.Result.merge([parts[0], bertsize.search(other, budget, shard=(1, 3))])
    with pytest.raises(ValueError, match="differ in workload"):
        bertsize.Result.merge([parts[0], bertsize.search(_space(), budget, bertsize.Workload(batch=2), shard=(1, 3))])
    with pytest.raises(TypeError, match="item 1 is a int"):
        bertsize.Result.merge([whole, 5])


# ----- 3. hangs, memory, signals ----------------------------------------------------------
def _many_fits():
    """A space of several thousand fits (more than one heap / front block of the walker)."""
    space = bertsize.Space("bert-base-uncased", layers=range(1, 25), hidden=range(64, 1025, 64),
                           head_dim=64, intermediate=range(256, 4097, 256))
    return space, bertsize.Budget(memory="4GiB"), bertsize.Workload(batch=8, seq_len=128, training=True)


def _brute_front(first: np.ndarray, second: np.ndarray) -> set[tuple[int, int]]:
    """Pairs (larger first, smaller second better) that no other pair beats in both, O(n^2)."""
    pairs = set(zip(first.tolist(), second.tolist()))
    return {(a, b) for a, b in pairs
            if not any(c >= a and d <= b and (c, d) != (a, b) for c, d in pairs)}


@pytest.mark.skipif(PURE_PYTHON, reason="the oracle's brute-force walk of 6,144 points x 3 visits "
                    "is minutes; test_search's small spaces check its top-k and fronts")
def test_top_k_and_pareto_of_thousands_of_fits_equal_brute_force():
    space, budget, work = _many_fits()
    materialised = bertsize.search(space, budget, work, limit=10**6)
    streamed = bertsize.search(space, budget, work, limit=0)
    fits = materialised.to_numpy()
    assert len(fits) == streamed.count > 4096
    k = 3000
    expected = np.sort(fits["params"])[::-1][:k]
    assert streamed.top_k(k)["params"].tolist() == expected.tolist()
    front = streamed.pareto(("params", "peak_bytes"))
    assert set(zip(front["params"].tolist(), front["peak_bytes"].tolist())) == \
        _brute_front(fits["params"], fits["peak_bytes"])


def test_top_k_is_capped_by_the_fit_count_and_a_limit(monkeypatch):
    space = bertsize.Space("bert-base-uncased", layers=range(1, 9), hidden=[256, 512], heads=8)
    result = bertsize.search(space, bertsize.Budget(memory="16GiB"), limit=0)
    assert len(result.top_k(10**12)) == result.count == 16  # k past the fits: every fit, once
    monkeypatch.setattr(search_module, "MAX_TOP_K", 10)
    with pytest.raises(ValueError, match=r"top_k collects at most 10 rows, got k=16 \(of 16 fits\)"):
        result.top_k(10**12)
    assert len(result.top_k(10)) == 10


def _hand_count_within(n: int, offset: int) -> int:
    """Pairs 1 <= seq_len <= n, 1 <= max_positions <= n with seq_len + offset <= max_positions."""
    return sum(max(0, n - s - offset + 1) for s in range(1, n + 1))


@pytest.mark.parametrize("family, offset", [("bert-base-uncased", 0), ("roberta-base", 2)])
def test_position_table_validity_is_linear_in_the_axes(monkeypatch, family, offset):
    """seq_len x max_positions: one run of valid table sizes per sequence length, counted
    exactly with a dense table refused and validity computed a few rows at a time."""
    monkeypatch.setattr(_tables, "MAX_DENSE_CELLS", 100)
    monkeypatch.setattr(_tables, "BLOCK_CELLS", 64)
    n = 60 if PURE_PYTHON else 400
    space = bertsize.Space(family, seq_len=range(1, n + 1), max_positions=range(1, n + 1), layers=1, hidden=64,
                           heads=1, intermediate=64, vocab=16)
    result = bertsize.search(space, bertsize.Budget(memory=2**62), limit=0)
    assert result.count == result.total - result.skipped == _hand_count_within(n, offset)
    shards = [bertsize.search(space, bertsize.Budget(memory=2**62), shard=(i, 7), limit=0) for i in range(7)]
    assert sum(s.count for s in shards) == sum(s.total - s.skipped for s in shards) == result.count


@pytest.mark.skipif(PURE_PYTHON, reason="10**8 validity checks are the kernel's; the monkeypatched case "
                    "above runs the same code on both backends")
def test_ten_thousand_by_ten_thousand_position_tables():
    n = 10_000
    space = bertsize.Space("bert-base-uncased", seq_len=range(1, n + 1), max_positions=range(1, n + 1))
    assert bertsize.search(space, bertsize.Budget(memory=2**62), limit=0).count == n * (n + 1) // 2


def test_divisibility_past_the_dense_cap_is_counted_from_its_valid_pairs(monkeypatch):
    """hidden x heads has no interval form; past the dense cap its valid combinations go
    into a wavelet matrix.  Counted by hand: the head counts 1..8 dividing each width."""
    monkeypatch.setattr(_tables, "MAX_DENSE_CELLS", 100)
    monkeypatch.setattr(_tables, "BLOCK_CELLS", 64)
    space = bertsize.Space("bert-base-uncased", hidden=range(8, 64), heads=range(1, 9), layers=[1, 2])
    budget = bertsize.Budget(memory=2**62)
    expected = 2 * sum(1 for hidden in range(8, 64) for heads in range(1, 9) if hidden % heads == 0)
    result = bertsize.search(space, budget, limit=0)
    assert result.count == result.total - result.skipped == expected
    assert sum(bertsize.search(space, budget, shard=(i, 5), limit=0).count for i in range(5)) == expected
    assert len(result.top_k(10**6)) == expected
    monkeypatch.setattr(_tables, "MAX_SPARSE_PAIRS", 10)
    with pytest.raises(ValueError, match=r"heads and hidden axes \(8 x 56 values\) have more than 10 valid"):
        bertsize.search(space, budget)


@pytest.mark.skipif(PURE_PYTHON, reason="10**8 validity checks are the kernel's; the monkeypatched case "
                    "above runs the same code on both backends")
def test_ten_thousand_by_ten_thousand_divisibility():
    n = 10_000
    space = bertsize.Space("bert-base-uncased", hidden=range(1, n + 1), heads=range(1, n + 1))
    result = bertsize.search(space, bertsize.Budget(memory=2**62), limit=0)
    assert result.count == sum(n // heads for heads in range(1, n + 1))  # multiples of each head count


def test_an_axis_past_the_cap_is_a_clear_error():
    with pytest.raises(ValueError, match=r"axis 'layers' has 1,099,511,627,775 values, more than"):
        bertsize.Space(layers=range(1, 2**40))
    with pytest.raises(ValueError, match=r"axis 'layers': value 4611686018427387905 \(position 0\) is past 2\*\*62"):
        bertsize.Space(layers=range(2**62 + 1, 1, -1))
    one_line_error(cli("search", "--layers", "1:2000000000000", "--count"), "axis 'layers' has")


def test_cli_memory_error_is_one_line(monkeypatch, capsys):
    from bertsize import cli as cli_module

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli_module, "search", exhausted)
    assert cli_module.main(["search", "--count"]) == 2
    assert capsys.readouterr().err.startswith("bertsize: error: out of memory")


_LONG_WALK = textwrap.dedent("""
    import sys, signal, bertsize
    signal.signal(signal.SIGINT, signal.default_int_handler)  # (a background job ignores SIGINT)
    space = bertsize.Space("bert-base-uncased", layers=range(1, 4001), hidden=range(64, 64 * 401, 64), head_dim=64,
                           intermediate=range(256, 256 * 401, 256))
    # 8-bit AdamW's threshold makes the walk visit every one of 6.4e8 points (minutes)
    budget = bertsize.Budget(memory="64GiB")
    work = bertsize.Workload(training=True, optimizer="adamw_8bit")
    try:  # the signal may come as soon as "walking" is out: inside the try
        print("walking", flush=True)
        bertsize.search(space, budget, work, limit=0)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
    print("finished", flush=True)
""")


@pytest.mark.skipif(PURE_PYTHON, reason="the oracle's walk is Python: Ctrl-C interrupts it between bytecodes")
def test_ctrl_c_interrupts_a_long_walk():
    process = subprocess.Popen([sys.executable, "-c", _LONG_WALK], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "walking"
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)  # a liveness bound, not a timing
    finally:
        process.kill()
    assert process.returncode == 3 and out.strip() == "interrupted"


# ----- 4. unclean errors ------------------------------------------------------------------
def test_zero_length_columns_give_zero_length_metrics():
    got = bertsize.evaluate({"layers": np.array([], dtype=np.int64)})
    assert set(got) == set(bertsize.METRICS) and all(len(v) == 0 and v.dtype == np.int64 for v in got.values())
    assert len(bertsize.evaluate({"layers": []}, metrics=["params"])["params"]) == 0


@pytest.mark.parametrize("field", ["layers", "hidden", "vocab", "max_positions"])
def test_sizes_past_int64_are_overflow_errors_naming_the_field(field):
    with pytest.raises(OverflowError, match=field):
        SMALL.replace(**{field: 2**63})
    with pytest.raises(OverflowError, match=rf"column '{field}', row 1: {2**63} does not fit in int64"):
        bertsize.evaluate({field: [8, 2**63]}, SMALL)
    with pytest.raises(OverflowError, match=rf"column '{field}': {2**64} does not fit in int64"):
        bertsize.evaluate({field: 2**64}, SMALL)
    flag = f"--{field.replace('_', '-')}"  # the CLI names the flag
    one_line_error(cli("estimate", "bert-base-uncased", flag, str(2**63)), flag)


@pytest.mark.parametrize("changes, error, message", [
    ({"overhead_s": float("inf")}, ValueError, "overhead_s must be finite seconds >= 0, got inf"),
    ({"overhead_s": float("nan")}, ValueError, "overhead_s must be finite"),
    ({"overhead_s": "1us"}, TypeError, "overhead_s must be a number of seconds"),
    ({"kind": "tpu"}, ValueError, "unknown kind 'tpu'"),
    ({"kind": None}, TypeError, "kind must be a string"),
])
def test_device_fields_are_checked(changes, error, message):
    with pytest.raises(error, match=message):
        bertsize.device("nvidia-t4").replace(**changes)


def test_device_memory_budget_is_exact():
    device = bertsize.device("nvidia-t4").replace(memory_bytes=2**62 + 1)
    assert bertsize.Budget(device=device).memory == (2**62 + 1) * 92 // 100  # 8 % reserve, no float


@pytest.mark.parametrize("iterations", [-1, 0, 2.5, True])
def test_calibrate_checks_its_iterations(iterations):
    with pytest.raises((ValueError, TypeError), match="iterations"):
        bertsize.calibrate("nvidia-t4", [], iterations=iterations)


def test_a_config_file_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=rf"{path}.* is not a JSON config"):
        bertsize.from_hf_config(path)
    one_line_error(cli("estimate", str(path)), str(path), "is not a JSON config")


# ----- the fuzz -------------------------------------------------------------------------------
def test_public_api_fuzz():
    """tests/fuzz_public_api.py in a subprocess: a crash is a failing exit status."""
    result = subprocess.run([sys.executable, "-m", "pytest", str(TESTS / "fuzz_public_api.py"), "-q",
                             "-p", "no:cacheprovider"], capture_output=True, text=True, timeout=1200,
                            cwd=TESTS.parent, env={**os.environ})
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
