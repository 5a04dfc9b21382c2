"""The CLI does what its flags say: each test here failed before its fix (the
surprises a new user met), on the installed command where the output is what matters."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import bertsize
from bertsize import units
from test_cli import run

AXES = ["--layers", "2:12:2", "--hidden", "128:768:128", "--head-dim", "64", "--ffn-ratio", "4"]


def test_preset_names_with_a_slash_are_presets():
    """google/electra-small-discriminator was taken for a path ("no such config file")."""
    for name in ("google/electra-small-discriminator", "google/bert_uncased_L-2_H-128_A-2",
                 "google-bert/bert-base-uncased"):
        data = json.loads(run("estimate", name, "--json").stdout)
        assert data["params"] == bertsize.count_params(bertsize.preset(name)), name
    failed = run("estimate", "nowhere/config.json", check=False)
    assert failed.returncode == 2 and "no such config file or preset: nowhere/config.json" in failed.stderr


def test_the_demonstration_keeps_an_explicit_precision():
    """`bertsize search --precision fp32` ran fp16."""
    assert "fp32, eager attention" in run("search", "--precision", "fp32").stdout
    assert "fp16, eager attention" in run("search").stdout
    # the demonstration's T4 has no bf16 units: refused, not run at another precision
    failed = run("search", "--precision", "bf16", check=False)
    assert failed.returncode == 2 and "'nvidia-t4' cannot run precision 'bf16'" in failed.stderr


def test_axes_without_a_budget_say_so():
    """Adding an axis dropped the demonstration's budget and workload without a word."""
    result = run("search", "--layers", "2:4", "--count")
    assert "no budget given" in result.stderr and "no budget" in result.stdout
    assert "no budget given" not in run("search", "--layers", "2:4", "--memory", "1GiB", "--count").stderr


@pytest.mark.parametrize(("option", "value", "example"), [("--memory", "16", "16GiB"), ("--latency", "10", "20ms"),
                                                          ("--memory", "4e9", "150MB")])
def test_budgets_without_a_unit_are_refused(option, value, example):
    """--memory 16 was 16 bytes and --latency 10 was 10 seconds, silently."""
    device = ["--device", "nvidia-t4"] if option == "--latency" else []
    failed = run("search", *AXES, *device, option, value, check=False)
    assert failed.returncode == 2
    assert f"{option} {value} has no unit" in failed.stderr and example in failed.stderr
    assert "Traceback" not in failed.stderr


def test_ranking_by_latency_needs_a_device():
    """--by latency_s without --device leaked numpy's "no field of name latency_s"."""
    failed = run("search", *AXES, "--memory", "1GiB", "--by", "latency_s", check=False)
    assert failed.returncode == 2 and "needs a device" in failed.stderr and "no field" not in failed.stderr
    space = bertsize.Space("bert-base-uncased", layers=range(2, 5))
    result = bertsize.search(space, bertsize.Budget(memory="1GiB"))
    for call in (lambda: result.top_k(3, by="latency_s"), lambda: result.pareto(("params", "latency_s"))):
        with pytest.raises(ValueError, match="latency_s.*needs a device"):
            call()


def test_ascending_and_descending_change_the_order_of_every_metric():
    """--ascending changed nothing for metrics other than params."""
    def first_column(*flags):
        rows = json.loads(run("search", *AXES, "--memory", "1GiB", "--by", "flops_fwd", "--top", "36", "--json",
                              *flags).stdout)["rows"]
        return [row["flops_fwd"] for row in rows]

    default, ascending, descending = first_column(), first_column("--ascending"), first_column("--descending")
    assert default == ascending == sorted(default)
    assert descending == sorted(default, reverse=True) and descending != ascending
    failed = run("search", *AXES, "--ascending", "--descending", check=False)
    assert failed.returncode == 2 and "not allowed with argument" in failed.stderr


def test_top_limits_a_pareto_front():
    """--top was ignored with --pareto."""
    whole = json.loads(run("search", *AXES, "--memory", "1GiB", "--pareto", "params,flops_fwd", "--json").stdout)
    assert len(whole["rows"]) > 3
    first = json.loads(run("search", *AXES, "--memory", "1GiB", "--pareto", "params,flops_fwd", "--top", "3",
                           "--json").stdout)
    assert first["rows"] == whole["rows"][:3]
    out = run("search", *AXES, "--memory", "1GiB", "--pareto", "params,flops_fwd", "--top", "3").stdout
    assert f"the first 3 of the {len(whole['rows'])}-point Pareto front of params,flops_fwd" in out


def test_count_with_a_plot_is_refused():
    """--count --plot x.png wrote nothing and said nothing."""
    failed = run("search", *AXES, "--count", "--plot", "x.png", check=False)
    assert failed.returncode == 2 and "--plot" in failed.stderr and "drop --count" in failed.stderr


def test_the_plot_draws_the_front_it_was_asked_for(tmp_path, monkeypatch):
    """--plot drew params against peak memory whatever --pareto said, and never said it
    had written the file.  The figure is checked on the object, in-process."""
    pytest.importorskip("matplotlib")
    import matplotlib.figure

    from bertsize import cli

    drawn = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda figure, path, **kw: drawn.append((figure, path)))
    path = str(tmp_path / "front.png")
    assert cli.main(["search", *AXES, "--memory", "1GiB", "--pareto", "params,flops_fwd", "--plot", path]) == 0
    (figure, written), = drawn
    axes = figure.axes[0]
    assert written == path
    assert axes.get_xlabel() == "parameters (M)" and axes.get_ylabel() == "flops fwd (GFLOP)"
    front = bertsize.search(bertsize.Space("bert-base-uncased", layers=range(2, 13, 2), hidden=range(128, 769, 128),
                                           head_dim=64, ffn_ratio=4), bertsize.Budget(memory="1GiB"))
    expected = front.pareto(("params", "flops_fwd"))
    line = next(line for line in axes.get_lines() if line.get_label() == "Pareto front")
    np.testing.assert_allclose(line.get_xdata(), expected["params"] / 1e6)
    np.testing.assert_allclose(line.get_ydata(), expected["flops_fwd"] / 1e9)
    assert "head model, inference" in axes.get_title() and "batch 1 x 128 tokens" in axes.get_title()
    if len(expected) <= 15:
        labels = {text.get_text() for text in axes.texts}
        assert {f"{int(r['layers'])}x{int(r['hidden'])}" for r in expected} == labels
    drawn.clear()
    assert cli.main(["search", *AXES, "--memory", "300MiB", "--plot", path]) == 0
    (figure, _), = drawn
    budget_line = next(line for line in figure.axes[0].get_lines() if line.get_label() == "peak_bytes budget")
    assert budget_line.get_ydata()[0] == pytest.approx(300 / 1024)  # GiB
    written_note = run("search", *AXES, "--memory", "1GiB", "--plot", str(tmp_path / "fits.png"))
    assert f"wrote {tmp_path / 'fits.png'}" in written_note.stderr and (tmp_path / "fits.png").stat().st_size > 0


def test_budget_counts_as_the_cli_writes_them():
    """Budget(params="110M") and Budget(flops="2T") raised TypeError though the CLI
    documents those forms."""
    budget = bertsize.Budget(params="110M", min_params="1.5M", flops="2T")
    assert (budget.params, budget.min_params, budget.flops) == (110_000_000, 1_500_000, 2_000_000_000_000)
    with pytest.raises(ValueError, match="params"):
        bertsize.Budget(params="lots")


def test_estimate_takes_a_preset_name_and_reports_latency_in_metrics():
    """estimate("bert-base-uncased") was refused; Estimate.metrics() left out latency_s."""
    by_name = bertsize.estimate("bert-base-uncased", device="nvidia-t4")
    assert by_name == bertsize.estimate(bertsize.preset("bert-base-uncased"), device="nvidia-t4")
    assert by_name.metrics()["latency_s"] == by_name.latency_s
    assert "latency_s" not in bertsize.estimate("bert-base-uncased").metrics()
    assert bertsize.count_params("bert-base-uncased") == by_name.params


def test_estimate_ends_with_a_verdict():
    """"Will bert-large fine-tune on a T4 at batch 8?" gets a yes / no, the margin and
    what dominates; the figures are the API's."""
    args = ["estimate", "bert-large-uncased", "--train", "--batch", "8", "--seq-len", "512", "--precision", "fp16"]
    work = bertsize.Workload(batch=8, seq_len=512, training=True, precision="fp16")
    expected = bertsize.estimate("bert-large-uncased", work)
    usable = bertsize.device("nvidia-t4").budget_bytes
    out = run(*args, "--device", "nvidia-t4").stdout
    fmt = bertsize.units.format_bytes
    assert expected.peak_bytes <= usable  # 11.95 GiB of the T4's 14.72 usable
    assert f"verdict: fits on nvidia-t4 ({fmt(usable)} usable" in out
    assert f"headroom {fmt(usable - expected.peak_bytes)}" in out
    assert f"the largest part is activations, {fmt(expected.activation_bytes)}" in out
    out = run(*args, "--memory", "8GiB").stdout
    assert f"verdict: does not fit in 8.00 GiB: peak {fmt(expected.peak_bytes)} exceeds it by " \
           f"{fmt(expected.peak_bytes - 8 * 2**30)}" in out
    data = json.loads(run(*args, "--memory", "8GiB", "--json").stdout)
    assert data["verdict"] == {"fits": False, "peak_bytes": expected.peak_bytes, "memory_bytes": 8 * 2**30,
                               "margin_bytes": 8 * 2**30 - expected.peak_bytes, "largest_part": "activations",
                               "largest_part_bytes": expected.activation_bytes}
    assert "verdict" not in run(*args).stdout


def test_max_batch_and_max_seq_len_from_the_cli():
    """The inverse questions: batch N fits and N + 1 does not (checked with estimate)."""
    args = ["estimate", "bert-base-uncased", "--train", "--seq-len", "256", "--precision", "fp16",
            "--device", "nvidia-t4"]
    data = json.loads(run(*args, "--max-batch", "--max-seq-len", "--json").stdout)
    usable = bertsize.device("nvidia-t4").budget_bytes
    batch = data["max_batch"]

    def peak(b, s):
        work = bertsize.Workload(batch=b, seq_len=s, training=True, precision="fp16")
        return bertsize.estimate("bert-base-uncased", work).peak_bytes

    assert peak(batch, 256) <= usable < peak(batch + 1, 256)
    assert data["max_seq_len"] == 512 and peak(1, 512) <= usable  # batch 1 fits every position
    out = run(*args, "--batch", "64", "--max-seq-len").stdout
    longest = int(out.split("longest sequence that fits: ")[1].split(" tokens")[0].replace(",", ""))
    assert peak(64, longest) <= usable < peak(64, longest + 1)
    failed = run("estimate", "bert-base-uncased", "--max-batch", check=False)
    assert failed.returncode == 2 and "give --device or --memory" in failed.stderr


def test_version_device_files_case_and_suggestions(tmp_path):
    """bertsize --version; --device takes what Device.save writes; choices ignore case;
    a near-miss name suggests the obvious target."""
    assert run("--version").stdout.strip() == f"bertsize {bertsize.__version__}"
    custom = bertsize.device("nvidia-t4").replace(name="my-t4", memory_bytes=8 * 2**30)
    path = tmp_path / "my-t4.json"
    custom.save(path)
    out = run("estimate", "bert-base-uncased", "--device", str(path)).stdout
    assert "on my-t4" in out
    expected = bertsize.estimate("bert-base-uncased", device=custom)
    data = json.loads(run("estimate", "bert-base-uncased", "--device", str(path), "--json").stdout)
    assert data["latency_s"] == pytest.approx(expected.latency_s)
    assert data["verdict"]["memory_bytes"] == custom.budget_bytes
    missing = run("estimate", "bert-base-uncased", "--device", str(tmp_path / "none.json"), check=False)
    assert missing.returncode == 2 and "no such device file" in missing.stderr
    assert "fp16, eager attention" in run("estimate", "bert-base-uncased", "--precision", "FP16").stdout
    assert "head masked_lm" in run("estimate", "bert-base-uncased", "--head", "Masked_LM").stdout
    failed = run("estimate", "bert-large", check=False)
    assert failed.returncode == 2 and "did you mean 'bert-large-uncased', 'bert-large-cased'" in failed.stderr
    failed = run("estimate", "bert-base-uncased", "--device", "a100", check=False)
    assert "'nvidia-a100-40gb', 'nvidia-a100-80gb'" in failed.stderr


def test_precision_and_optimizer_tables():
    """`--precision all` / `--optimizer all`: a column each, as accelerate's estimate-memory
    gives them; each column is the API's estimate of that precision."""
    data = json.loads(run("estimate", "bert-large-uncased", "--precision", "all", "--seq-len", "512",
                          "--device", "nvidia-t4", "--json").stdout)
    assert list(data) == list(bertsize.device("nvidia-t4").precisions)  # what a T4 runs: no bf16
    for precision, column in data.items():
        expected = bertsize.estimate("bert-large-uncased", bertsize.Workload(seq_len=512, precision=precision),
                                     device="nvidia-t4")
        assert (column["weight_bytes"], column["peak_bytes"]) == (expected.weight_bytes, expected.peak_bytes)
        assert column["verdict"]["fits"] == (expected.peak_bytes <= bertsize.device("nvidia-t4").budget_bytes)
    data = json.loads(run("estimate", "bert-base-uncased", "--train", "--precision", "all", "--optimizer", "all",
                          "--json").stdout)
    assert len(data) == 3 * len(bertsize.OPTIMIZERS) and "bf16 adamw_8bit" in data  # no int8 / int4 training
    sgd = bertsize.estimate("bert-base-uncased", bertsize.Workload(training=True, precision="fp16", optimizer="sgd"))
    assert data["fp16 sgd"]["optimizer_bytes"] == sgd.optimizer_bytes
    out = run("estimate", "bert-base-uncased", "--precision", "all", "--memory", "400MiB").stdout
    assert "fits 400.00 MiB" in out and "no (over by" in out and "yes (" in out
    failed = run("estimate", "bert-base-uncased", "--optimizer", "all", check=False)
    assert failed.returncode == 2 and "add --train" in failed.stderr
    failed = run("search", "--precision", "all", check=False)
    assert failed.returncode == 2 and "'all'" in failed.stderr


def test_compare_takes_workload_fields_per_column_and_transposes():
    models = ["bert-base-uncased", "bert-base-uncased:precision=int8", "bert-base-uncased:precision=fp16,batch=8"]
    data = json.loads(run("compare", *models, "--device", "nvidia-t4", "--json").stdout)
    expected = bertsize.estimate("bert-base-uncased", bertsize.Workload(batch=8, precision="fp16"), device="nvidia-t4")
    assert data[models[2]]["peak_bytes"] == expected.peak_bytes
    assert data[models[2]]["latency_s"] == pytest.approx(expected.latency_s)
    assert data[models[1]]["workload"]["precision"] == "int8"
    out = run("compare", *models, "--device", "nvidia-t4").stdout
    latency_row = next(line for line in out.splitlines() if line.startswith("latency"))
    assert latency_row.startswith("latency (calibrated)")  # what the latency is: the T4's class default
    assert latency_row.count("(") == 3 and "x" in latency_row  # then deltas against the first, like every row
    transposed = run("compare", *models, "--transpose").stdout.splitlines()
    assert transposed[-3].startswith("bert-base-uncased ") and transposed[-1].startswith(models[2])
    failed = run("estimate", "bert-base-uncased:precision=int8", check=False)
    assert failed.returncode == 2 and "workload fields" in failed.stderr


def test_search_says_its_whole_setting():
    """Batch and sequence length always; the accounting from the device; --json carries
    the space, budget and workload."""
    out = run("search", *AXES, "--memory", "1GiB", "--count").stdout
    assert "cuda accounting; batch 1 x 128 tokens" in out
    out = run("search", *AXES, "--batch", "1,8", "--device", "snapdragon-8-gen-2-cpu", "--count").stdout
    assert "cpu accounting; 128 tokens" in out  # a CPU device counts what PyTorch saves on CPU
    assert "cuda accounting" in run("search", *AXES, "--device", "snapdragon-8-gen-2-cpu", "--backend", "cuda",
                                    "--count").stdout
    data = json.loads(run("search", *AXES, "--memory", "1GiB", "--json", "--top", "2").stdout)
    assert data["space"]["axes"]["layers"] == "2..12 step 2" and data["budget"]["memory"] == 2**30
    assert data["workload"]["seq_len"] == 128 and data["head"] == "model" and len(data["rows"]) == 2


def test_progress_shows_a_rate_and_the_time_left(capsys):
    from bertsize import cli

    show = cli._progress_printer(1_000_000)
    show(0.25, 12)
    show(1.0, 40)
    err = capsys.readouterr().err
    assert "25.0 % done, 12 fits so far" in err and "points/s" in err and "left" in err
    assert err.endswith("\n")


def test_notebooks_render_tables_and_dicts_carry_latency():
    estimate = bertsize.estimate("bert-base-uncased", device="nvidia-t4")
    html = estimate._repr_html_()
    assert html.startswith("<table>") and "109,482,240" in html and "latency" in html
    assert estimate.to_dict()["latency_s"] == estimate.latency_s
    assert json.loads(json.dumps(estimate.to_dict()))["encoder"]["hidden"] == 768
    rows = estimate.breakdown()
    assert "<td style=\"text-align:left\">attention</td>" in rows._repr_html_() and rows[1].component == "attention"
    space = bertsize.Space("bert-base-uncased", layers=range(2, 6))
    result = bertsize.search(space, bertsize.Budget(device="nvidia-t4"))
    assert "4 of 4 valid configurations fit" in result._repr_html_()
    pytest.importorskip("pandas")
    frame = result.to_pandas()
    expected = [bertsize.estimate(bertsize.preset("bert-base-uncased").replace(layers=n), device="nvidia-t4").latency_s
                for n in range(2, 6)]
    assert sorted(frame["latency_s"]) == pytest.approx(sorted(expected))
    empty = bertsize.search(space, bertsize.Budget(params=1))
    assert "0 of 4 valid configurations fit" in empty._repr_html_()


def test_nothing_fits_says_the_nearest_miss():
    """An empty table said nothing of which limit failed or by how much.  The best value
    per bound is checked against every point of the space, evaluated."""
    space = bertsize.Space("bert-base-uncased", layers=range(2, 13, 2), hidden=range(128, 769, 128), head_dim=64,
                           ffn_ratio=4)
    budget = bertsize.Budget(memory="10MB", device="snapdragon-8-gen-2-cpu", latency="1ms")
    assert bertsize.search(space, budget).count == 0
    miss = bertsize.nearest_miss(space, budget)
    layers, hidden = np.meshgrid(np.arange(2, 13, 2), np.arange(128, 769, 128), indexing="ij")
    columns = {"layers": layers.ravel(), "hidden": hidden.ravel(), "heads": hidden.ravel() // 64,
               "intermediate": 4 * hidden.ravel()}
    every = bertsize.evaluate(columns, "bert-base-uncased", device="snapdragon-8-gen-2-cpu")
    (memory, peak, _, bound, best, excess), (_, _, _, _, fastest, slack) = miss.limits
    assert (memory, peak, bound) == ("memory", "peak_bytes", 10_000_000)
    assert best == int(every["peak_bytes"].min()) and excess == best - 10_000_000 > 0
    assert fastest == pytest.approx(float(every["latency_s"].min())) and slack < 0  # latency alone can be met
    ratios = np.maximum(every["peak_bytes"] / 10_000_000, every["latency_s"] / 1e-3)
    assert miss.worst_ratio == pytest.approx(float(ratios.min()))
    out = run("search", *AXES, "--memory", "10MB", "--device", "snapdragon-8-gen-2-cpu", "--latency", "1ms").stdout
    fmt = bertsize.units.format_bytes
    assert f"peak memory: smallest {fmt(best)}, {fmt(excess)} beyond the bound of {fmt(10_000_000)}" in out
    assert "latency: smallest" in out and "closest to fitting" in out and "layers 2, hidden 128" in out
    data = json.loads(run("search", *AXES, "--memory", "10MB", "--count", "--json").stdout)
    assert data["count"] == 0 and data["nearest_miss"]["limits"][0]["best"] == best
    with pytest.raises(ValueError, match="at least one bound"):
        bertsize.nearest_miss(space, bertsize.Budget())


def test_per_module_table_with_depth():
    """Issue 16, item 4: the per-module table, folded by --depth, with latency shares and
    bounds on a device; --json carries the rows."""
    out = run("estimate", "bert-base-uncased", "--modules", "--device", "a100-40gb", "--precision", "fp16",
              "--batch", "32", "--seq-len", "512").stdout
    header = next(line for line in out.splitlines() if line.startswith("module"))
    for column in ("params", "weights", "matmul fwd", "latency", "bound"):
        assert column in header
    assert "layers x12" in out and "layer.attention.query" in out and "compute" in out and "memory" in out
    folded = run("estimate", "bert-base-uncased", "--depth", "1", "--head", "masked_lm").stdout
    body = folded[folded.index("module"):].splitlines()[2:]
    assert [line.split()[0] for line in body] == ["embeddings", "layers", "head", "total"]
    data = json.loads(run("estimate", "bert-base-uncased", "--depth", "2", "--device", "t4", "--json").stdout)
    rows = {row["module"]: row for row in data["modules"]}
    expected = bertsize.estimate("bert-base-uncased", device="t4")
    assert sum(row["params"] for row in data["modules"] if "/" not in row["module"]) == expected.params
    assert rows["layers/attention"]["bound"] is not None and "layers/attention/core" not in rows
    assert run("estimate", "bert-base-uncased", "--depth", "0", check=False).returncode == 2


def test_skipped_points_are_counted_by_reason():
    """Issue 16, item 5: the skipped points by the first rule each breaks, against a
    brute force over every point with the rules written out here."""
    layers, hidden, heads, seq_len = range(2, 13, 2), range(100, 801, 50), [4, 8, 12], [128, 512, 1024]
    space = bertsize.Space("bert-base-uncased", layers=layers, hidden=hidden, heads=heads, seq_len=seq_len)
    expected = {}
    for _, h, a, s in itertools.product(layers, hidden, heads, seq_len):
        reason = ("heads does not divide hidden" if h % a else
                  "seq_len beyond the position table (max_positions)" if s > 512 else None)
        if reason:
            expected[reason] = expected.get(reason, 0) + 1
    result = bertsize.search(space, bertsize.Budget(params="200M"))
    assert result.skip_reasons() == expected and sum(expected.values()) == result.skipped
    derived = bertsize.search(bertsize.Space("bert-base-uncased", hidden=hidden, head_dim=[64, 50]),
                              bertsize.Budget(params="200M"))
    assert derived.skip_reasons() == {"head_dim does not divide hidden": sum(h % d != 0 for h in hidden
                                                                             for d in (64, 50))}
    sharded = [bertsize.search(space, bertsize.Budget(params="200M"), shard=(i, 3)) for i in range(3)]
    assert bertsize.Result.merge(sharded).skip_reasons() == expected
    out = run("search", "--layers", "2:12:2", "--hidden", "100:800:50", "--heads", "4,8,12",
              "--seq-len", "128,512,1024", "--params", "200M", "--count").stdout
    assert f"{expected['heads does not divide hidden']:,} heads does not divide hidden" in out
    data = json.loads(run("search", "--layers", "2:12:2", "--hidden", "100:800:50", "--heads", "4,8,12",
                          "--seq-len", "128,512,1024", "--params", "200M", "--count", "--json").stdout)
    assert data["skip_reasons"] == expected


def test_every_flag_has_help_with_an_example_that_parses():
    """Issue 16, item 7: help text and an example for every flag, and each example is a
    command line the parser accepts."""
    import argparse
    import shlex

    from bertsize import cli

    parser = cli._parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    required = {"estimate": ["bert-base-uncased"], "compare": ["bert-base-uncased"]}
    checked = 0
    for name, command in commands.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and "e.g. " in action.help, (name, action.dest)
            if action.option_strings:
                example = shlex.split(action.help.rsplit("e.g. ", 1)[1].split(" or ")[0].rstrip(")"))
                parsed = command.parse_args([*required.get(name, []), *example])
                assert getattr(parsed, action.dest) not in (None, False) or action.default is not None, example
                checked += 1
    assert checked > 80


@pytest.mark.parametrize(("args", "words", "api_words"), [
    (["estimate", "bert-base-uncased", "--seq-len", "1000"], "--seq-len 1000 exceeds", "seq_len="),
    (["estimate", "bert-base-uncased", "--device", "foo"], "'bertsize devices' lists", "bertsize.devices()"),
    (["search", "--layers", "1:4", "--by", "latency_s", "--params", "100M"], "search with --device", "Budget("),
    (["estimate", "bert-base-uncased", "--hidden-groups", "2"], "leave out --hidden-groups", "=None"),
])
def test_errors_are_worded_for_the_terminal(args, words, api_words):
    result = run(*args, check=False)
    assert result.returncode == 2 and words in result.stderr and api_words not in result.stderr


def test_latency_label_and_precision_refusal_at_the_terminal():
    """The terminal says what a latency is, and refuses a precision the device lacks."""
    out = run("estimate", "bert-base-uncased", "--device", "t4", "--precision", "fp16").stdout
    assert "latency (calibrated)" in out  # the datacentre-gpu class default
    out = run("estimate", "bert-base-uncased", "--device", "rtx-4090", "--precision", "fp16").stdout
    assert "latency (roofline bound)" in out  # a class no published measurement calibrates
    out = run("estimate", "bert-base-uncased", "--device", "t4", "--precision", "fp16", "--datasheet").stdout
    assert "latency (roofline bound)" in out  # the T4's datasheet, asked for
    bound = bertsize.estimate("bert-base-uncased", bertsize.Workload(precision="fp16"),
                              device=bertsize.device("t4").datasheet())
    assert units.format_seconds(bound.latency_s) in out
    out = run("search", "--layers", "2,4", "--memory", "16GiB", "--device", "t4", "--datasheet", "--count").stdout
    assert "on nvidia-t4 (latency: roofline bound)" in out
    failed = run("estimate", "bert-base-uncased", "--datasheet", check=False)
    assert failed.returncode == 2 and "--datasheet times the roofline bound of a --device" in failed.stderr
    failed = run("estimate", "bert-base-uncased", "--device", "t4", "--precision", "bf16", check=False)
    assert failed.returncode == 2 and "cannot run precision 'bf16'" in failed.stderr
    assert "Traceback" not in failed.stderr
    out = run("search", "--layers", "2,4", "--memory", "16GiB", "--device", "t4", "--count").stdout
    assert "on nvidia-t4 (latency: calibrated)" in out
