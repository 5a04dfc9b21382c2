"""The per-module table (bertsize.profile): each module's parameters and forward FLOPs
equal the real HF module's (FlopCounterMode counts per module), the rows add up to the
step's totals, and the compute / memory-bound labels follow the ops' arithmetic intensity."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import bertsize
from strategies import heads_for, runnable, small_encoders, workloads

# The HF module each of our modules is, written out per family from the HF modeling code:
# (our path under "layers", the module under one HF layer).  The attention core is what an
# HF attention module does besides its projections.
LAYER_MODULES = {
    "bert": {
        "attention/layer.attention.query": "attention.self.query",
        "attention/layer.attention.key": "attention.self.key",
        "attention/layer.attention.value": "attention.self.value",
        "attention/layer.attention.output": "attention.output.dense",
        "norms/layer.attention.LayerNorm": "attention.output.LayerNorm",
        "ffn/layer.intermediate": "intermediate.dense",
        "ffn/layer.output": "output.dense",
        "norms/layer.output.LayerNorm": "output.LayerNorm",
    },
    "distilbert": {
        "attention/layer.attention.query": "attention.q_lin",
        "attention/layer.attention.key": "attention.k_lin",
        "attention/layer.attention.value": "attention.v_lin",
        "attention/layer.attention.output": "attention.out_lin",
        "norms/layer.attention.LayerNorm": "sa_layer_norm",
        "ffn/layer.intermediate": "ffn.lin1",
        "ffn/layer.output": "ffn.lin2",
        "norms/layer.output.LayerNorm": "output_layer_norm",
    },
}
# (HF attention module, its projections), whose FLOPs difference is the core's
CORE = {"bert": ("attention.self", ("query", "key", "value")),
        "distilbert": ("attention", ("q_lin", "k_lin", "v_lin", "out_lin"))}
BASE = {"bert": ("bert", "encoder.layer"), "distilbert": ("distilbert", "transformer.layer")}
TOP_MODULES = {
    ("bert", "masked_lm"): {"embeddings": "bert.embeddings", "layers": "bert.encoder", "head": "cls"},
    ("bert", "sequence_classification"): {"embeddings": "bert.embeddings", "layers": "bert.encoder",
                                          "pooler": "bert.pooler", "head/classifier": "classifier"},
    ("distilbert", "masked_lm"): {"embeddings": "distilbert.embeddings", "layers": "distilbert.transformer",
                                  "head/cls.predictions.transform.dense": "vocab_transform",
                                  "head/cls.predictions.transform.LayerNorm": "vocab_layer_norm"},
}
MODELS = {
    "bert": bertsize.preset("bert-mini"),  # L=4, H=256
    "distilbert": bertsize.Encoder(family="distilbert", layers=3, hidden=128, heads=2, intermediate=512, vocab=3000),
}


def _hf_module_flops(model, inputs) -> dict[str, int]:
    """Forward FLOPs per HF module, by its name in ``model.named_modules()``."""
    torch = pytest.importorskip("torch")
    with torch.no_grad(), torch.utils.flop_counter.FlopCounterMode(display=False) as counter:
        model(**inputs)
    prefix = type(model).__name__ + "."
    return {name[len(prefix):]: sum(ops.values()) for name, ops in counter.get_flop_counts().items()
            if name.startswith(prefix)}


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.hf
@pytest.mark.parametrize(("family", "head"), sorted(TOP_MODULES))
@pytest.mark.parametrize(("batch", "seq_len"), [(2, 16), (3, 40)])
def test_modules_are_the_hf_modules(family, head, batch, seq_len):
    hf = pytest.importorskip("hf_reference")
    encoder = MODELS[family]
    model = hf.build(encoder, head, num_labels=3)
    flops = _hf_module_flops(model, hf.inputs(encoder, head, batch, seq_len, num_labels=3))
    modules = dict(model.named_modules())
    rows = {row.module: row for row in bertsize.profile(encoder, bertsize.Workload(batch=batch, seq_len=seq_len),
                                                        head, num_labels=3)}
    base, layers = BASE[family]
    for ours, theirs in LAYER_MODULES[family].items():
        row = rows[f"layers/{ours}"]
        assert row.params == encoder.layers * _params(modules[f"{base}.{layers}.0.{theirs}"]), ours
        assert row.flops_fwd == sum(flops.get(f"{base}.{layers}.{i}.{theirs}", 0) for i in range(encoder.layers)), ours
    attention, projections = CORE[family]
    core = sum(flops[f"{base}.{layers}.{i}.{attention}"] - sum(flops[f"{base}.{layers}.{i}.{attention}.{p}"]
                                                              for p in projections)
               for i in range(encoder.layers))
    assert rows["layers/attention/core"].flops_fwd == core
    for ours, theirs in TOP_MODULES[family, head].items():
        assert rows[ours].params == _params(modules[theirs]) - _tied(model, ours), ours
        assert rows[ours].flops_fwd == flops.get(theirs, 0), ours
    assert sum(row.params for row in rows.values() if row.depth == 1) == _params(model)


def _tied(model, ours: str) -> int:
    """The tied decoder weight is the word embeddings' (declared there, counted once)."""
    if ours != "head" or not model.config.tie_word_embeddings:
        return 0
    return model.get_output_embeddings().weight.numel()


@given(data=st.data(), encoder=small_encoders(max_layers=3, min_positions=16))
def test_rows_add_up_to_the_estimate(data, encoder):
    """On both backends: the top-level rows sum to estimate()'s params, FLOPs, saved
    activations, inference weights and latency, and every row is the sum of its children."""
    head = data.draw(heads_for(encoder))
    work = runnable(encoder, data.draw(workloads(max_batch=4, max_seq_len=16)))
    # a data-parallel training step needs a link between the ranks
    linked = not (work.training and work.data_parallel > 1)
    runs = [name for name in bertsize.devices() if work.precision in bertsize.device(name).precisions
            and (linked or bertsize.device(name).link_bandwidth)]
    device = data.draw(st.sampled_from(runs))
    estimate = bertsize.estimate(encoder, work, head, device=device)
    table = estimate.profile(device)
    total = table.total
    assert (total.params, total.flops_fwd, total.elementwise_flops_fwd) == (
        estimate.params, estimate.flops_fwd, estimate.elementwise_flops_fwd)
    assert total.activation_bytes == (estimate.activation_bytes if work.training else 0)
    if not work.training:  # one replica's weights; ZeRO-3 gives each rank a part
        ranks = work.data_parallel if work.zero_stage == 3 else 1
        assert -(-total.weight_bytes // ranks) == estimate.weight_bytes
    assert total.latency_s == pytest.approx(estimate.latency_s, rel=1e-12)
    by_path = {row.module: row for row in table}
    for row in table:
        children = [r for r in table if r.module.rpartition("/")[0] == row.module]
        if children:
            for name in ("params", "flops_fwd", "elementwise_flops_fwd", "activation_bytes", "weight_bytes"):
                assert getattr(row, name) >= sum(getattr(c, name) for c in children), (row.module, name)
        assert row.module.rpartition("/")[0] in ("", *by_path)
    folded = table.fold(1)
    assert all(row.depth == 1 for row in folded) and folded.total == total


def test_children_sum_to_their_parent_by_hand():
    """bert-tiny inference: a layer's attention holds q, k, v, output (4 H² + 4 H) and
    its norms two LayerNorms (2 · 2H), per layer, x L."""
    h, layers = 128, 2
    rows = {row.module: row for row in bertsize.profile("bert-tiny", depth=2)}
    assert rows["layers"].repeats == layers
    assert rows["layers/attention"].params == layers * (4 * h * h + 4 * h)
    assert rows["layers/norms"].params == layers * 4 * h
    assert rows["layers"].params == rows["layers/attention"].params + rows["layers/norms"].params \
        + rows["layers/ffn"].params


def test_bounds_follow_arithmetic_intensity():
    """A projection over 32k tokens reuses each weight 32k times: compute-bound on an
    A100's datasheet; over one token it reads its weights for two FLOPs each:
    memory-bound.  A LayerNorm does 7 FLOPs per 4 bytes moved: memory-bound at any size."""
    a100 = bertsize.device("a100-40gb").datasheet()
    big = {r.module: r for r in bertsize.profile("bert-base-uncased", bertsize.Workload(batch=64, seq_len=512,
                                                                                        precision="fp16"),
                                                 device=a100)}
    small = {r.module: r for r in bertsize.profile("bert-base-uncased", bertsize.Workload(batch=1, seq_len=1,
                                                                                          precision="fp16"),
                                                   device=a100)}
    assert big["layers/attention/layer.attention.query"].bound == "compute"
    assert small["layers/attention/layer.attention.query"].bound == "memory"
    assert big["layers/norms/layer.output.LayerNorm"].bound == "memory"
    assert big["layers"].bound.startswith("mixed")
    assert bertsize.profile("bert-tiny")[0].bound is None  # no device, no latency


def test_training_adds_the_optimizer_update():
    work = bertsize.Workload(batch=2, seq_len=32, training=True)
    rows = bertsize.profile("bert-tiny", work, device="t4", depth=1)
    assert [r.module for r in rows] == ["embeddings", "layers", "pooler", "optimizer"]
    assert rows[-1].params == 0 and rows[-1].latency_s > 0


def test_bad_depth_is_refused():
    with pytest.raises(ValueError, match="depth"):
        bertsize.profile("bert-tiny", depth=0)
    with pytest.raises(TypeError, match="depth"):
        bertsize.profile("bert-tiny", depth="2")
