"""backend="cpu": saved activations equal, byte for byte, what PyTorch saves for backward.

Measured with torch.autograd.graph.saved_tensors_hooks on a training-mode forward:
each storage once, parameters and the caller's (integer) inputs excluded; autocast's
16-bit copies of parameters are compared separately with the weight bytes.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, strategies as st

import bertsize
from strategies import attention_for, heads_for, small_encoders

torch = pytest.importorskip("torch")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

PRESETS = [
    "bert-base-uncased", "bert-tiny", "roberta-base", "xlm-roberta-base", "distilbert-base-uncased",
    "albert-base-v2", "google/electra-small-discriminator",
]
MODES = [(precision, attention) for precision in ("fp32", "bf16") for attention in ("eager", "sdpa")]


@functools.lru_cache(maxsize=1)
def _model(name: str):
    return hf.build(bertsize.preset(name), "masked_lm")


def _workload(batch, seq_len, precision, attention, recompute="none"):
    return bertsize.Workload(batch=batch, seq_len=seq_len, training=True, precision=precision,
                             attention=attention, backend="cpu", recompute=recompute)


def _measure(model, encoder, head, batch, seq_len, precision, num_labels=2):
    dtype = torch.bfloat16 if precision == "bf16" else None
    return hf.measure_saved(model, hf.inputs(encoder, head, batch, seq_len, num_labels), dtype)


def _autocast_copy_bytes(estimate):
    """The 16-bit weight copies bertsize adds to the weight bytes of CPU mixed precision."""
    return estimate.weight_bytes - 4 * estimate.params


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("name", PRESETS)
def test_presets_masked_lm(name, attention):
    """Each preset is built once (its random initialisation is most of the cost) and run
    under both attentions, switched as HF switches them (``set_attn_implementation``)."""
    encoder = bertsize.preset(name)
    model = _model(name)
    model.set_attn_implementation(attention)
    assert model.config._attn_implementation == attention
    for precision in ("fp32", "bf16"):
        saved, casts = _measure(model, encoder, "masked_lm", 1, 8, precision)
        estimate = bertsize.estimate(encoder, _workload(1, 8, precision, attention), "masked_lm")
        assert estimate.activation_bytes == saved, precision
        assert _autocast_copy_bytes(estimate) == casts, precision


@given(data=st.data(), encoder=small_encoders(max_layers=3, min_positions=12))
def test_random_configs_every_head(data, encoder):
    head = data.draw(heads_for(encoder))
    precision, attention = data.draw(st.sampled_from(MODES))
    attention = attention_for(encoder.family, attention)
    batch, seq_len = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 10))
    num_labels = 2 if head == "pretraining" else data.draw(st.integers(1, 4))
    model = hf.build(encoder, head, num_labels, attention)
    saved, casts = _measure(model, encoder, head, batch, seq_len, precision, num_labels)
    estimate = bertsize.estimate(encoder, _workload(batch, seq_len, precision, attention), head, num_labels)
    assert estimate.activation_bytes == saved
    assert _autocast_copy_bytes(estimate) == casts


@given(data=st.data(), encoder=small_encoders(families=("bert", "roberta", "xlm-roberta", "distilbert", "electra"),
                                              min_positions=12))
def test_full_recompute_is_hf_gradient_checkpointing(data, encoder):
    """Only each layer's input survives the forward; autocast copies inside layers are not saved."""
    precision = data.draw(st.sampled_from(("fp32", "bf16")))
    batch, seq_len = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 10))
    model = hf.build(encoder, "masked_lm")
    model.gradient_checkpointing_enable()
    saved, _ = _measure(model, encoder, "masked_lm", batch, seq_len, precision)
    estimate = bertsize.estimate(encoder, _workload(batch, seq_len, precision, "eager", "full"), "masked_lm")
    assert estimate.activation_bytes == saved


def test_albert_shared_layers_save_per_call_but_cast_once():
    """ALBERT's shared layer counts parameters once, saves activations on every call,
    and autocast casts each shared weight once (its cache holds leaf casts)."""
    one = bertsize.Encoder(family="albert", layers=1, hidden=32, heads=4, intermediate=64, vocab=50, embedding=16)
    three = one.replace(layers=3)
    for encoder in (one, three):
        model = hf.build(encoder, "masked_lm")
        saved, casts = _measure(model, encoder, "masked_lm", 2, 6, "bf16")
        estimate = bertsize.estimate(encoder, _workload(2, 6, "bf16", "eager"), "masked_lm")
        assert (estimate.activation_bytes, _autocast_copy_bytes(estimate)) == (saved, casts)
    assert bertsize.count_params(one) == bertsize.count_params(three)
    workload = _workload(2, 6, "bf16", "eager")
    assert bertsize.estimate(three, workload).activation_bytes > bertsize.estimate(one, workload).activation_bytes
