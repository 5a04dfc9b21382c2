"""The formula sheet: each family's parameters, forward FLOPs and saved activations in
closed form, derived by hand from the HF modeling code, against the oracle.

Notation: L layers, H hidden, A heads, I intermediate, V vocab, P positions, T token
types, E embedding width, G ALBERT's weight sets, C labels; b batch, s sequence, n = b·s.
Nothing here calls the recipe: only the public estimate() (which both backends answer).
"""

from __future__ import annotations

from hypothesis import given, strategies as st

import bertsize
from strategies import heads_for, small_encoders


def _sizes(e: bertsize.Encoder):
    return e.layers, e.hidden, e.heads, e.intermediate, e.vocab, e.max_positions, e.type_vocab, e.embedding_size


def _projects(e: bertsize.Encoder) -> bool:
    """ALBERT projects its embeddings to hidden; ELECTRA when the widths differ."""
    return e.family == "albert" or (e.family == "electra" and e.embedding_size != e.hidden)


def _mlm_width(e: bertsize.Encoder) -> int:
    return e.embedding_size if e.family in ("albert", "electra") else e.hidden


def _has_pooler(e: bertsize.Encoder, head: str) -> bool:
    if head == "model":
        return e.pooler
    return head != "masked_lm" and e.family in ("bert", "albert")


def params_by_hand(e: bertsize.Encoder, head: str, C: int) -> int:
    L, H, _, I, V, P, T, E = _sizes(e)
    layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H  # q k v o, LN, FFN up/down, LN
    total = (V + P + T) * E + 2 * E + (e.weight_sets if e.family == "albert" else L) * layer
    if _projects(e):
        total += E * H + H
    if _has_pooler(e, head):
        total += H * H + H
    W = _mlm_width(e)
    mlm = H * W + W + 2 * W + V  # transform dense, LayerNorm, decoder bias (its weight is tied)
    if head == "masked_lm":
        total += mlm
    elif head == "pretraining":
        total += {"bert": mlm + 2 * H + 2, "albert": mlm + H * C + C, "electra": H * H + H + H + 1}[e.family]
    elif head == "sequence_classification":
        total += H * C + C if e.family in ("bert", "albert") else H * H + H + H * C + C
    return total


def forward_flops_by_hand(e: bertsize.Encoder, head: str, C: int, b: int, s: int) -> int:
    L, H, _, I, V, _, _, E = _sizes(e)
    n = b * s
    layer = 4 * 2 * n * H * H + 2 * (2 * b * s * s * H) + 2 * 2 * n * H * I  # projections, q·kᵀ and p·v, FFN
    total = L * layer + (2 * n * E * H if _projects(e) else 0)
    if _has_pooler(e, head):
        total += 2 * b * H * H
    W = _mlm_width(e)
    mlm = 2 * n * H * W + 2 * n * W * V
    if head == "masked_lm":
        total += mlm
    elif head == "pretraining":
        total += {"bert": mlm + 2 * b * H * 2, "albert": mlm + 2 * b * H * C,
                  "electra": 2 * n * H * H + 2 * n * H}[e.family]
    elif head == "sequence_classification":
        total += 2 * b * H * C if e.family in ("bert", "albert") else 2 * b * H * H + 2 * b * H * C
    return total


def saved_bytes_by_hand(e: bertsize.Encoder, head: str, b: int, s: int, dropout: bool) -> int:
    """Training, CUDA accounting (Korthikanti et al. 2022), 16-bit, eager attention, GELU,
    every dropout on (or every one off): 2 bytes a tensor element, 1 byte a mask."""
    L, H, A, I, V, _, _, E = _sizes(e)
    n, d = b * s, int(dropout)
    # embeddings: the LayerNorm's input, the dropout mask, the projection's input
    total = 2 * n * E + d * n * E + (2 * n * E if _projects(e) else 0)
    # a layer: the q/k/v input, q, k, v, the out-projection's input, two LayerNorm inputs,
    # the FFN's input; GELU's input and the down-projection's input; the probabilities
    # (their mask and dropped copy too); the two hidden dropout masks, less the one
    # DistilBERT lacks after the attention and the one ALBERT never applies after the FFN
    masks = 2 - (e.family in ("distilbert", "albert"))
    layer = 16 * n * H + 4 * n * I + 2 * b * A * s * s + d * (masks * n * H + 3 * b * A * s * s)
    total += L * layer
    if _has_pooler(e, head):  # the dense saves the whole last hidden state, tanh its output
        total += 2 * n * H + 2 * b * H
    if head == "masked_lm":
        W = _mlm_width(e)
        # the transform's input (the last hidden state), GELU's and the LayerNorm's inputs,
        # the decoder's input; the loss's fp32 log-softmax and its fp32 total weight
        total += 2 * n * H + 3 * 2 * n * W + 4 * n * V + 4
    return total


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_parameters_by_hand(data, encoder):
    head = data.draw(heads_for(encoder))
    C = data.draw(st.integers(1, 6))
    assert bertsize.count_params(encoder, head, C) == params_by_hand(encoder, head, C)


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_forward_flops_by_hand(data, encoder):
    head = data.draw(heads_for(encoder))
    C = data.draw(st.integers(2, 6))
    b, s = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 8))
    work = bertsize.Workload(batch=b, seq_len=s, training=data.draw(st.booleans()))
    result = bertsize.estimate(encoder, work, head, C)
    assert result.flops_fwd == forward_flops_by_hand(encoder, head, C, b, s)
    assert result.flops_bwd == (2 * result.flops_fwd if work.training else 0)


@given(data=st.data(), encoder=small_encoders(max_layers=4))
def test_saved_activations_by_hand(data, encoder):
    head = data.draw(st.sampled_from(["model", "masked_lm"]))
    dropout = data.draw(st.booleans())
    p = 0.1 if dropout else 0.0
    encoder = encoder.replace(activation="gelu", hidden_dropout=p, attention_dropout=p, classifier_dropout=p)
    b, s = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 8))
    work = bertsize.Workload(batch=b, seq_len=s, training=True, precision="bf16")
    assert bertsize.estimate(encoder, work, head).activation_bytes == saved_bytes_by_hand(encoder, head, b, s, dropout)


def test_sheet_against_a_published_count():
    """The sheet itself, on bert-base-uncased's published 110M (109,482,240 in HF)."""
    assert params_by_hand(bertsize.preset("bert-base-uncased"), "model", 2) == 109_482_240
