"""Every bertsize command, run as a subprocess, including bad input and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import bertsize



def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "bertsize", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_estimate_table_matches_the_api():
    out = run("estimate", "bert-large-uncased", "--train", "--batch", "8", "--seq-len", "512", "--precision", "fp16").stdout
    expected = bertsize.estimate(bertsize.preset("bert-large-uncased"),
                                 bertsize.Workload(batch=8, seq_len=512, training=True, precision="fp16"))
    assert "335.14M" in out and bertsize.units.format_bytes(expected.peak_bytes) in out
    for component in ("embeddings", "attention", "ffn", "norms", "pooler", "head"):
        assert component in out


def test_estimate_json_overrides_and_device(tmp_path):
    data = json.loads(run("estimate", "bert-base-uncased", "--layers", "6", "--device", "t4", "--json").stdout)
    expected = bertsize.estimate(bertsize.preset("bert-base-uncased").replace(layers=6), device="t4")
    assert data["params"] == expected.params and data["latency_s"] == pytest.approx(expected.latency_s)
    assert data["encoder"]["layers"] == 6 and len(data["breakdown"]) == 6
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "roberta", "vocab_size": 50265, "max_position_embeddings": 514,
                                  "type_vocab_size": 1}))
    data = json.loads(run("estimate", str(config), "--json").stdout)
    assert data["params"] == bertsize.count_params(bertsize.preset("roberta-base"))


def test_estimate_every_head_of_the_issue():
    """NER, extractive QA and multiple choice from the terminal (token classification
    used to be refused); parameters against the HF classes on the meta device."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    config = transformers.BertConfig(num_labels=9)
    with torch.device("meta"):
        ner = transformers.BertForTokenClassification(config)
        qa = transformers.BertForQuestionAnswering(transformers.BertConfig())
    data = json.loads(run("estimate", "bert-base-uncased", "--head", "token_classification", "--num-labels", "9",
                          "--json").stdout)
    assert data["params"] == sum(p.numel() for p in ner.parameters())
    data = json.loads(run("estimate", "bert-base-uncased", "--head", "question_answering", "--json").stdout)
    assert data["params"] == sum(p.numel() for p in qa.parameters())
    out = run("estimate", "bert-base-uncased", "--head", "multiple_choice", "--num-choices", "4", "--batch", "8",
              "--train").stdout
    assert "head multiple_choice, training" in out and "batch 8 x 4 choices x 128 tokens" in out
    expected = bertsize.estimate(bertsize.preset("bert-base-uncased"),
                                 bertsize.Workload(batch=32, seq_len=128, training=True), "multiple_choice")
    assert bertsize.units.format_flops(expected.flops_fwd) in out  # 8 examples x 4 choices = 32 sequences


def test_compare_answers_the_seed_question():
    out = run("compare", "bert-base-uncased", "bert-base-uncased:layers=24",
              "bert-base-uncased:hidden=1024,heads=16,intermediate=4096").stdout
    assert "194.54M (+85.05M, x1.777)" in out and "183.99M (+74.50M, x1.681)" in out


def test_search_default_is_the_t4_demonstration():
    out = run("search").stdout
    assert "on nvidia-t4" in out and "top 10 by params" in out
    table = out.split("top 10 by params\n")[1].splitlines()
    assert len(table) == 2 + 10  # header, rule, ten rows


def test_search_count_csv_json_and_pareto():
    axes = ["--layers", "2:12:2", "--hidden", "128:768:128", "--head-dim", "64", "--ffn-ratio", "4", "--memory", "150MB"]
    count = json.loads(run("search", *axes, "--count", "--json").stdout)
    space = bertsize.Space("bert-base-uncased", layers=range(2, 13, 2), hidden=range(128, 769, 128), head_dim=64,
                           ffn_ratio=4)
    assert count["count"] == bertsize.search(space, bertsize.Budget(memory="150MB")).count
    rows = list(csv.DictReader(io.StringIO(run("search", *axes, "--csv", "--top", "5").stdout)))
    assert len(rows) == min(5, count["count"]) and {"layers", "hidden", "params", "peak_bytes"} <= set(rows[0])
    out = run("search", *axes, "--device", "snapdragon-8-gen-2-cpu", "--latency", "20ms",
              "--pareto", "params,latency_s").stdout
    assert "Pareto front of params,latency_s" in out and "latency" in out


def test_search_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "fits.png"
    run("search", "--layers", "2:12", "--hidden", "128:768:64", "--head-dim", "64", "--ffn-ratio", "4",
        "--device", "nvidia-t4", "--latency", "5ms", "--batch", "8", "--plot", str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    import matplotlib.image

    image = matplotlib.image.imread(str(path))
    assert image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0  # not blank


def test_presets_and_devices_list_everything():
    out = run("presets").stdout
    assert all(name in out for name in bertsize.presets())
    out = run("devices").stdout
    assert all(name in out for name in bertsize.devices())
    assert set(json.loads(run("devices", "--json").stdout)) == set(bertsize.devices())


BAD = [
    (["estimate", "bert-base-uncase"], "unknown preset 'bert-base-uncase'"),
    (["estimate", "bert-base-uncased", "--batch", "0"], "expected a positive number, got 0"),
    (["estimate", "bert-base-uncased", "--precision", "fp8"], "invalid choice: 'fp8'"),
    (["estimate", "bert-base-uncased", "--heads", "7"], "--heads 7 does not divide --hidden 768"),
    (["estimate", "bert-base-uncased", "--device", "a200"], "unknown device 'a200'"),
    (["estimate", "missing/config.json"], "no such config file"),
    (["compare", "bert-base-uncased:layers=x"], "needs a whole number"),
    (["compare", "bert-base-uncased:depth=3"], "cannot read override 'depth=3'"),
    (["search", "--layers", "2:x"], "cannot read --layers '2:x'"),
    (["search", "--layers", "2:4", "--memory", "16GiBs"], "memory: unknown unit 'gibs'"),
    (["search", "--layers", "2:4", "--latency", "5ms"], "a latency budget needs a device"),
    (["search", "--layers", "2:4", "--params", "lots"], "cannot read --params 'lots'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_is_one_line_and_exit_code_2(args, message):
    result = run(*args, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
