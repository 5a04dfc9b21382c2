"""ALBERT (Lan et al. 2020): factorised embeddings projected to hidden, and layers that
share ``hidden_groups`` weight sets; trained without dropout (v2)."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.bert import CONFIG_KEYS, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, PooledClassifier, SentenceOrderPrediction


def _preset(name: str, layers: int, hidden: int, heads: int) -> Preset:
    repository = f"albert/{name}"
    return Preset(name, dict(layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden, vocab=30000,
                             embedding=128),
                  f"https://huggingface.co/{repository}/blob/main/config.json", (repository,))


SPEC = Family(
    name="albert",
    hf_prefix="Albert",
    config=HFConfig(
        model_types=("albert",),
        keys={**CONFIG_KEYS, "embedding": "embedding_size", "hidden_groups": "num_hidden_groups",
              "classifier_dropout": "classifier_dropout_prob"},
        defaults={"num_hidden_layers": 12, "hidden_size": 4096, "num_attention_heads": 64, "intermediate_size": 16384,
                  "vocab_size": 30000, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu_new",
                  "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "classifier_dropout_prob": 0.1,
                  "embedding_size": 128, "num_hidden_groups": 1, "inner_group_num": 1},
        # every published ALBERT has one layer per group
        required={"inner_group_num": 1},
    ),
    presets=(
        _preset("albert-base-v2", 12, 768, 12),
        _preset("albert-large-v2", 24, 1024, 16),
        _preset("albert-xlarge-v2", 24, 2048, 16),
        _preset("albert-xxlarge-v2", 12, 4096, 64),
    ),
    constraints=(TOKEN_TYPES, validity.positive("hidden_groups")),
    masked_lm=MaskedLMBody(width="embedding"),
    classifier=PooledClassifier(),
    pretraining=SentenceOrderPrediction(),
    defaults={"type_vocab": 2, "activation": "gelu_new", "hidden_dropout": 0.0, "attention_dropout": 0.0,
              "classifier_dropout": 0.1},
    projection="always",
    weight_sharing=True,
    ffn_output_dropout=False,
)
