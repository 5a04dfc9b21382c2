"""Matmul FLOPs equal torch.utils.flop_counter.FlopCounterMode on the real HF forward / backward."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import bertsize
from strategies import heads_for, small_encoders

torch = pytest.importorskip("torch")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

# Mid-size models, small enough to run forward + backward in well under a second each.
MODELS = {
    "bert-tiny": bertsize.preset("bert-tiny"),
    "bert-mini": bertsize.preset("bert-mini"),
    "roberta-6x256": bertsize.Encoder(family="roberta", layers=6, hidden=256, heads=4, intermediate=1024,
                                      vocab=5000, max_positions=130, type_vocab=1),
    "distilbert-3x128": bertsize.Encoder(family="distilbert", layers=3, hidden=128, heads=2, intermediate=512, vocab=3000),
    "albert-4x256": bertsize.Encoder(family="albert", layers=4, hidden=256, heads=4, intermediate=1024,
                                     vocab=3000, embedding=64),
    # ELECTRA-small's widths (256 hidden, 128-wide embeddings: projected), 4 of its 12 layers
    "electra-small": bertsize.preset("google/electra-small-discriminator").replace(vocab=4000, layers=4),
}
SHAPES = [(1, 16), (3, 40), (2, 128)]


@pytest.mark.parametrize(
    ("name", "head"), [(n, h) for n, e in MODELS.items() for h in bertsize.HEADS if e.has_head(h)]
)
def test_forward_and_backward_flops(name, head):
    encoder = MODELS[name]
    labels = 2 if head == "pretraining" else 3  # ALBERT's SOP loss needs 2 labels
    model = hf.build(encoder, head, num_labels=labels)
    for batch, seq_len in SHAPES:
        forward, backward = hf.measure_flops(model, hf.inputs(encoder, head, batch, seq_len, labels))
        work = bertsize.Workload(batch=batch, seq_len=seq_len, training=True)
        estimate = bertsize.estimate(encoder, work, head=head, num_labels=labels)
        assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward), (batch, seq_len)
        assert estimate.macs_fwd * 2 == forward


@given(data=st.data(), encoder=small_encoders(max_layers=3, min_positions=12))
def test_random_configs(data, encoder):
    head = data.draw(heads_for(encoder))
    batch, seq_len = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 10))
    num_labels = 2 if head == "pretraining" else data.draw(st.integers(2, 4))
    model = hf.build(encoder, head, num_labels)
    forward, backward = hf.measure_flops(model, hf.inputs(encoder, head, batch, seq_len, num_labels))
    estimate = bertsize.estimate(encoder, bertsize.Workload(batch=batch, seq_len=seq_len, training=True), head, num_labels)
    assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward)


@pytest.mark.parametrize("family", ["bert", "roberta", "distilbert", "electra"])
def test_full_recompute_backward_reruns_each_layer(family):
    """HF gradient checkpointing = recompute='full': backward = 2 x forward + every layer's forward."""
    encoder = {"bert": MODELS["bert-mini"], "roberta": MODELS["roberta-6x256"],
               "distilbert": MODELS["distilbert-3x128"], "electra": MODELS["electra-small"]}[family]
    model = hf.build(encoder, "masked_lm")
    model.gradient_checkpointing_enable()
    forward, backward = hf.measure_flops(model, hf.inputs(encoder, "masked_lm", 2, 24))
    work = bertsize.Workload(batch=2, seq_len=24, training=True, recompute="full")
    estimate = bertsize.estimate(encoder, work, "masked_lm")
    assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward)
    assert estimate.flops_bwd > 2 * estimate.flops_fwd


def test_inference_has_no_backward():
    estimate = bertsize.estimate(MODELS["bert-tiny"], bertsize.Workload(batch=2, seq_len=16))
    assert estimate.flops_bwd == 0
    model = hf.build(MODELS["bert-tiny"], "model").eval()
    with torch.no_grad(), torch.utils.flop_counter.FlopCounterMode(display=False) as counter:
        model(**hf.inputs(MODELS["bert-tiny"], "model", 2, 16))
    assert estimate.flops_fwd == counter.get_total_flops()
