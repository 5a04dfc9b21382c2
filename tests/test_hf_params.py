"""Parameter counts equal sum(p.numel() for p in model.parameters()) of the real HF class."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

import bertsize
from strategies import heads_for, small_encoders

torch = pytest.importorskip("torch")
hf = pytest.importorskip("hf_reference")

pytestmark = pytest.mark.hf


def _first_of_each_family() -> set[str]:
    first: dict[str, str] = {}
    for name in bertsize.presets():
        first.setdefault(bertsize.preset(name).family, name)
    return set(first.values())


FAMILY_FIRSTS = _first_of_each_family()


@pytest.mark.parametrize("name", bertsize.presets())
def test_every_preset_and_head_matches_hf(name):
    """Every preset's base model at its published sizes; every head of each family's
    first preset (the heads of every family at small sizes: test_random_configs_match_hf)."""
    encoder = bertsize.preset(name)
    heads = bertsize.HEADS if name in FAMILY_FIRSTS else ("model",)
    for head in heads:
        if not encoder.has_head(head):
            continue
        # The meta device allocates no storage: building xlm-roberta-large costs nothing.
        with torch.device("meta"):
            model = hf.build(encoder, head, num_labels=3)
        assert bertsize.count_params(encoder, head, num_labels=3) == hf.count_params(model), head
        assert bertsize.estimate(encoder, head=head, num_labels=3).params == hf.count_params(model), head


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_random_configs_match_hf(data, encoder):
    head = data.draw(heads_for(encoder))
    num_labels = data.draw(st.integers(1, 5)) if head == "sequence_classification" else 2
    with torch.device("meta"):
        model = hf.build(encoder, head, num_labels=num_labels)
    assert bertsize.count_params(encoder, head, num_labels) == hf.count_params(model)


def test_pooler_flag_is_add_pooling_layer():
    encoder = bertsize.preset("bert-base-uncased")
    without = encoder.replace(pooler=False)
    with torch.device("meta"):
        model = hf.build(without, "model")
    assert model.pooler is None
    assert bertsize.count_params(without) == hf.count_params(model)
    # the pooler is one hidden x hidden Linear with bias
    assert bertsize.count_params(encoder) - bertsize.count_params(without) == 768 * 768 + 768
