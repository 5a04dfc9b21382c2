"""Presets carry the values of the checkpoints' config.json on the HuggingFace hub."""

from __future__ import annotations

import pytest

import bertsize

# (family, layers, hidden, heads, intermediate, vocab, max_positions, type_vocab, embedding)
# copied from each checkpoint's config.json.
HUB = {
    "bert-base-uncased": ("bert", 12, 768, 12, 3072, 30522, 512, 2, None),
    "bert-large-uncased": ("bert", 24, 1024, 16, 4096, 30522, 512, 2, None),
    "bert-base-cased": ("bert", 12, 768, 12, 3072, 28996, 512, 2, None),
    "bert-large-cased": ("bert", 24, 1024, 16, 4096, 28996, 512, 2, None),
    "bert-base-multilingual-cased": ("bert", 12, 768, 12, 3072, 119547, 512, 2, None),
    "roberta-base": ("roberta", 12, 768, 12, 3072, 50265, 514, 1, None),
    "roberta-large": ("roberta", 24, 1024, 16, 4096, 50265, 514, 1, None),
    "xlm-roberta-base": ("xlm-roberta", 12, 768, 12, 3072, 250002, 514, 1, None),
    "xlm-roberta-large": ("xlm-roberta", 24, 1024, 16, 4096, 250002, 514, 1, None),
    "distilbert-base-uncased": ("distilbert", 6, 768, 12, 3072, 30522, 512, 0, None),
    "distilroberta-base": ("roberta", 6, 768, 12, 3072, 50265, 514, 1, None),
    "albert-base-v2": ("albert", 12, 768, 12, 3072, 30000, 512, 2, 128),
    "albert-large-v2": ("albert", 24, 1024, 16, 4096, 30000, 512, 2, 128),
    "albert-xlarge-v2": ("albert", 24, 2048, 16, 8192, 30000, 512, 2, 128),
    "albert-xxlarge-v2": ("albert", 12, 4096, 64, 16384, 30000, 512, 2, 128),
    "google/electra-small-discriminator": ("electra", 12, 256, 4, 1024, 30522, 512, 2, 128),
    "google/electra-base-discriminator": ("electra", 12, 768, 12, 3072, 30522, 512, 2, 768),
    "google/electra-large-discriminator": ("electra", 24, 1024, 16, 4096, 30522, 512, 2, 1024),
    # BERT-architecture embedders and distilled models (issue 14, item 7)
    "sentence-transformers/all-MiniLM-L6-v2": ("bert", 6, 384, 12, 1536, 30522, 512, 2, None),
    "sentence-transformers/all-MiniLM-L12-v2": ("bert", 12, 384, 12, 1536, 30522, 512, 2, None),
    "microsoft/MiniLM-L12-H384-uncased": ("bert", 12, 384, 12, 1536, 30522, 512, 2, None),
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2": ("bert", 12, 384, 12, 1536, 250037, 512, 2, None),
    "huawei-noah/TinyBERT_General_4L_312D": ("bert", 4, 312, 12, 1200, 30522, 512, 2, None),
    "huawei-noah/TinyBERT_General_6L_768D": ("bert", 6, 768, 12, 3072, 30522, 512, 2, None),
    "BAAI/bge-small-en-v1.5": ("bert", 12, 384, 12, 1536, 30522, 512, 2, None),
    "BAAI/bge-base-en-v1.5": ("bert", 12, 768, 12, 3072, 30522, 512, 2, None),
    "BAAI/bge-large-en-v1.5": ("bert", 24, 1024, 16, 4096, 30522, 512, 2, None),
    "intfloat/e5-small-v2": ("bert", 12, 384, 12, 1536, 30522, 512, 2, None),
    "intfloat/e5-base-v2": ("bert", 12, 768, 12, 3072, 30522, 512, 2, None),
    "intfloat/e5-large-v2": ("bert", 24, 1024, 16, 4096, 30522, 512, 2, None),
    "intfloat/multilingual-e5-small": ("bert", 12, 384, 12, 1536, 250037, 512, 2, None),
    "intfloat/multilingual-e5-base": ("xlm-roberta", 12, 768, 12, 3072, 250002, 514, 1, None),
    "intfloat/multilingual-e5-large": ("xlm-roberta", 24, 1024, 16, 4096, 250002, 514, 1, None),
}
#: The sizes the hub's model cards give (the checkpoints' tensors, pooler included), rounded
MODEL_CARD_PARAMS = {"sentence-transformers/all-MiniLM-L6-v2": "22.7M", "BAAI/bge-small-en-v1.5": "33.4M",
                     "intfloat/e5-small-v2": "33.4M", "intfloat/multilingual-e5-small": "118M",
                     "intfloat/multilingual-e5-base": "278M", "BAAI/bge-base-en-v1.5": "109M",
                     "nomic-ai/nomic-embed-text-v1.5": "137M"}
# Turc et al. 2019 ("Well-Read Students Learn Better"): L x H grid, A = H / 64, I = 4H.
for layers in (2, 4, 6, 8, 10, 12):
    for hidden in (128, 256, 512, 768):
        HUB[f"google/bert_uncased_L-{layers}_H-{hidden}_A-{hidden // 64}"] = (
            "bert", layers, hidden, hidden // 64, 4 * hidden, 30522, 512, 2, None)


@pytest.mark.parametrize("name", HUB)
def test_preset_values(name):
    encoder = bertsize.preset(name)
    family, layers, hidden, heads, intermediate, vocab, positions, types, embedding = HUB[name]
    assert (encoder.family, encoder.layers, encoder.hidden, encoder.heads, encoder.intermediate) == (
        family, layers, hidden, heads, intermediate)
    assert (encoder.vocab, encoder.max_positions, encoder.type_vocab) == (vocab, positions, types)
    assert encoder.embedding_size == (embedding or hidden)
    assert encoder.activation == ("gelu_new" if family == "albert" else "gelu")
    assert encoder.hidden_dropout == (0.0 if family == "albert" else 0.1)


@pytest.mark.parametrize("name", MODEL_CARD_PARAMS)
def test_embedders_have_their_model_cards_sizes(name):
    stated = MODEL_CARD_PARAMS[name]
    digits = len(stated.rstrip("M").replace(".", ""))
    assert f"{bertsize.count_params(name) / 1e6:.{digits - 2 if '.' in stated else 0}f}M" == stated


def test_all_minilm_l6_v2_by_hand():
    """22,713,216: word, position and segment tables and their LayerNorm; six layers of
    q, k, v, o (384 x 384 and biases), two LayerNorms, a 384 -> 1536 -> 384 FFN; the pooler."""
    V, P, T, H, I, L = 30522, 512, 2, 384, 1536, 6
    layer = 4 * (H * H + H) + 2 * (2 * H) + (H * I + I) + (I * H + H)
    assert bertsize.count_params("all-MiniLM-L6-v2") == (V + P + T) * H + 2 * H + L * layer + H * H + H == 22_713_216


def test_required_presets_and_aliases():
    assert set(HUB) <= set(bertsize.presets())
    assert len([n for n in bertsize.presets() if n.startswith("google/bert_uncased_L-")]) == 24
    for alias, canonical in {
        "bert-tiny": "google/bert_uncased_L-2_H-128_A-2",
        "bert-mini": "google/bert_uncased_L-4_H-256_A-4",
        "bert-small": "google/bert_uncased_L-4_H-512_A-8",
        "bert-medium": "google/bert_uncased_L-8_H-512_A-8",
        "prajjwal1/bert-tiny": "google/bert_uncased_L-2_H-128_A-2",
        "google-bert/bert-base-uncased": "bert-base-uncased",
        "FacebookAI/roberta-large": "roberta-large",
        "distilbert/distilbert-base-uncased": "distilbert-base-uncased",
        "albert/albert-base-v2": "albert-base-v2",
        "electra-small-discriminator": "google/electra-small-discriminator",
        "BERT-BASE-UNCASED": "bert-base-uncased",
    }.items():
        assert bertsize.preset(alias) == bertsize.preset(canonical), alias


def test_presets_are_immutable_values():
    encoder = bertsize.preset("bert-base-uncased")
    with pytest.raises(AttributeError):
        encoder.layers = 24  # type: ignore[misc]
    assert encoder.replace(layers=24).layers == 24
    assert bertsize.preset("bert-base-uncased").layers == 12
