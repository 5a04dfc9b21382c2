"""Multiple choice against the real HF classes: a (batch, num_choices, seq_len) input,
one score per choice, a softmax over the choices; ``Workload.batch`` counts examples."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import bertsize
from strategies import attention_for, families_with, small_encoders

torch = pytest.importorskip("torch")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf

MODELS = {
    "bert": bertsize.preset("bert-mini"),
    "roberta": bertsize.Encoder(family="roberta", layers=2, hidden=64, heads=2, intermediate=160, vocab=500,
                                max_positions=66, type_vocab=1),
    "xlm-roberta": bertsize.Encoder(family="xlm-roberta", layers=1, hidden=48, heads=3, intermediate=96, vocab=400,
                                    max_positions=66, type_vocab=1),
    "distilbert": bertsize.Encoder(family="distilbert", layers=2, hidden=64, heads=4, intermediate=128, vocab=500),
    "albert": bertsize.Encoder(family="albert", layers=3, hidden=64, heads=4, intermediate=128, vocab=500,
                               embedding=16, hidden_groups=2),
    "electra": bertsize.Encoder(family="electra", layers=2, hidden=64, heads=2, intermediate=128, vocab=500,
                                embedding=32),
}
SHAPES = [(1, 9, 4), (3, 20, 2), (2, 33, 5)]  # (examples, seq_len, choices)
MODES = [(precision, attention) for precision in ("fp32", "bf16") for attention in ("eager", "sdpa")]


def _workload(batch, seq_len, choices, precision="fp32", attention="eager"):
    return bertsize.Workload(batch=batch, seq_len=seq_len, training=True, precision=precision, attention=attention,
                             backend="cpu", num_choices=choices)


@pytest.mark.parametrize("family", MODELS)
def test_parameters_flops_and_saved_activations(family):
    encoder = MODELS[family]
    model = hf.build(encoder, "multiple_choice")
    assert bertsize.count_params(encoder, "multiple_choice") == hf.count_params(model)
    for batch, seq_len, choices in SHAPES:
        inputs = hf.inputs(encoder, "multiple_choice", batch, seq_len, num_choices=choices)
        forward, backward = hf.measure_flops(model, inputs)
        estimate = bertsize.estimate(encoder, _workload(batch, seq_len, choices), "multiple_choice")
        assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward), (batch, seq_len, choices)
        # the keyword is the workload field
        keyword = bertsize.estimate(encoder, _workload(batch, seq_len, 1), "multiple_choice", num_choices=choices)
        assert keyword == estimate
    for precision, attention in MODES:
        model = hf.build(encoder, "multiple_choice", attention=attention)
        inputs = hf.inputs(encoder, "multiple_choice", 2, 11, num_choices=3)
        saved, casts = hf.measure_saved(model, inputs, torch.bfloat16 if precision == "bf16" else None)
        estimate = bertsize.estimate(encoder, _workload(2, 11, 3, precision, attention), "multiple_choice")
        assert estimate.activation_bytes == saved, (precision, attention)
        assert estimate.weight_bytes - 4 * estimate.params == casts, (precision, attention)


@given(data=st.data(), encoder=small_encoders(families_with("multiple_choice"), max_layers=3, min_positions=12))
def test_random_configs(data, encoder):
    batch, seq_len, choices = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 10)), data.draw(st.integers(1, 4))
    precision, attention = data.draw(st.sampled_from(MODES))
    attention = attention_for(encoder.family, attention)
    model = hf.build(encoder, "multiple_choice", attention=attention)
    inputs = hf.inputs(encoder, "multiple_choice", batch, seq_len, num_choices=choices)
    saved, casts = hf.measure_saved(model, inputs, torch.bfloat16 if precision == "bf16" else None)
    # FlopCounterMode sees no FLOPs in CPU SDPA kernels: FLOPs on the eager build
    forward, backward = hf.measure_flops(hf.build(encoder, "multiple_choice"), inputs)
    estimate = bertsize.estimate(encoder, _workload(batch, seq_len, choices, precision, attention), "multiple_choice")
    assert (estimate.flops_fwd, estimate.flops_bwd) == (forward, backward)
    assert (estimate.activation_bytes, estimate.weight_bytes - 4 * estimate.params) == (saved, casts)


def test_other_heads_run_one_sequence_per_example():
    """num_choices belongs to multiple choice: the other heads size batch sequences."""
    encoder = MODELS["bert"]
    for head in ("model", "sequence_classification", "token_classification"):
        one = bertsize.estimate(encoder, _workload(2, 16, 1), head)
        assert bertsize.estimate(encoder, _workload(2, 16, 4), head).flops_fwd == one.flops_fwd
    choice = bertsize.estimate(encoder, _workload(2, 16, 4), "multiple_choice")
    examples = bertsize.estimate(encoder, _workload(8, 16, 1), "multiple_choice")
    assert choice.flops_fwd == examples.flops_fwd  # 2 examples x 4 choices = 8 sequences
