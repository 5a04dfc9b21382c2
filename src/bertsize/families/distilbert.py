"""DistilBERT (Sanh et al. 2019): six BERT layers, no segment embeddings and no pooler;
no dropout after the attention output; its own config key names."""

from __future__ import annotations

from bertsize.families.bert import NO_SEGMENTS, NOT_FACTORISED
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, PreClassifier, SpanClassifier, TokenClassifier

_SIZES = {"layers": 6, "hidden": 768, "heads": 12, "intermediate": 3072}


def _preset(name: str, vocab: int) -> Preset:
    repository = f"distilbert/{name}"
    return Preset(name, {**_SIZES, "vocab": vocab}, f"https://huggingface.co/{repository}/blob/main/config.json",
                  (repository,))


SPEC = Family(
    name="distilbert",
    hf_prefix="DistilBert",
    config=HFConfig(
        model_types=("distilbert",),
        keys={"layers": "n_layers", "hidden": "dim", "heads": "n_heads", "intermediate": "hidden_dim",
              "vocab": "vocab_size", "max_positions": "max_position_embeddings", "activation": "activation",
              "hidden_dropout": "dropout", "attention_dropout": "attention_dropout",
              "classifier_dropout": "seq_classif_dropout"},
        defaults={"n_layers": 6, "dim": 768, "n_heads": 12, "hidden_dim": 3072, "vocab_size": 30522,
                  "max_position_embeddings": 512, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1,
                  "seq_classif_dropout": 0.2, "qa_dropout": 0.1},
        # DistilBertConfig.attribute_map: the common names set its own keys
        aliases={"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"},
        same_activity={"qa_dropout": "classifier_dropout"},
    ),
    presets=(
        _preset("distilbert-base-uncased", 30522),
        _preset("distilbert-base-cased", 28996),
        _preset("distilbert-base-multilingual-cased", 119547),
    ),
    constraints=(NO_SEGMENTS, NOT_FACTORISED),
    masked_lm=MaskedLMBody(output_bias=False),
    classifier=PreClassifier(),
    pretraining=None,
    defaults={"type_vocab": 0, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": 0.2},
    token_types=False,
    attention_output_dropout=False,
    pooler=False,
    token_classifier=TokenClassifier(dropout="hidden"),
    # qa_dropout: Encoder.classifier_dropout stands for it and seq_classif_dropout alike
    # (a dropout costs the same at any positive rate; from_hf_config checks they agree)
    span_classifier=SpanClassifier(dropout=True),
    choice_classifier=PreClassifier(),
)
