"""Hypothesis strategies for encoders and workloads."""

from __future__ import annotations

from hypothesis import strategies as st

import bertsize


@st.composite
def small_encoders(draw, families=bertsize.FAMILIES, max_layers: int = 3, min_positions: int = 8) -> bertsize.Encoder:
    """Tiny encoders of any family: every structural option, sizes a CPU runs in ms."""
    family = draw(st.sampled_from(families))
    heads = draw(st.integers(1, 4))
    hidden = heads * draw(st.integers(1, 8))
    fields = dict(
        family=family,
        layers=draw(st.integers(1, max_layers)),
        hidden=hidden,
        heads=heads,
        intermediate=draw(st.integers(1, 48)),
        vocab=draw(st.integers(4, 64)),
        max_positions=draw(st.integers(min_positions + 2, min_positions + 16)),
        activation=draw(st.sampled_from(bertsize.ACTIVATIONS)),
        hidden_dropout=draw(st.sampled_from((0.0, 0.1))),
        attention_dropout=draw(st.sampled_from((0.0, 0.1))),
        classifier_dropout=draw(st.sampled_from((0.0, 0.2))),
    )
    if family != "distilbert":
        fields["type_vocab"] = draw(st.integers(1, 3))
    if family in ("albert", "electra"):
        fields["embedding"] = draw(st.integers(1, 24))
    if family == "albert":
        fields["hidden_groups"] = draw(st.integers(1, 3))
    if family not in ("distilbert", "electra"):
        fields["pooler"] = draw(st.booleans())
    return bertsize.Encoder(**fields)


def heads_for(encoder: bertsize.Encoder) -> st.SearchStrategy[str]:
    return st.sampled_from([h for h in bertsize.HEADS if encoder.has_head(h)])
