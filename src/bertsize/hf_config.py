"""Read a HuggingFace ``config.json`` (path, dict or config object) into an Encoder.

Nothing here imports ``transformers`` or touches the network: a config object is read
through its ``to_dict()``.  Keys missing from a dict take the default of the matching
``transformers`` config class (copied below), exactly as ``AutoConfig`` would.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from bertsize import _validate
from bertsize.model import Encoder

# model_type -> Encoder family
_MODEL_TYPES = {
    "bert": "bert",
    "roberta": "roberta",
    "xlm-roberta": "xlm-roberta",
    "distilbert": "distilbert",
    "albert": "albert",
    "electra": "electra",
}

# Defaults of BertConfig, RobertaConfig, XLMRobertaConfig, DistilBertConfig,
# AlbertConfig and ElectraConfig (transformers 5.x), in their own key names.
_BERT_DEFAULTS = {
    "num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
    "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
}
_DEFAULTS: dict[str, dict[str, object]] = {
    "bert": _BERT_DEFAULTS,
    "roberta": {**_BERT_DEFAULTS, "vocab_size": 50265},
    "xlm-roberta": _BERT_DEFAULTS,
    "distilbert": {
        "n_layers": 6, "dim": 768, "n_heads": 12, "hidden_dim": 3072, "vocab_size": 30522,
        "max_position_embeddings": 512, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1,
        "seq_classif_dropout": 0.2,
    },
    "albert": {
        "num_hidden_layers": 12, "hidden_size": 4096, "num_attention_heads": 64, "intermediate_size": 16384,
        "vocab_size": 30000, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu_new",
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "classifier_dropout_prob": 0.1,
        "embedding_size": 128, "num_hidden_groups": 1, "inner_group_num": 1,
    },
    "electra": {
        "num_hidden_layers": 12, "hidden_size": 256, "num_attention_heads": 4, "intermediate_size": 1024,
        "vocab_size": 30522, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
        "embedding_size": 128,
    },
}


def supported_model_types() -> tuple[str, ...]:
    """The ``model_type`` values :func:`from_hf_config` understands."""
    return tuple(_MODEL_TYPES)


def from_hf_config(config: object) -> Encoder:
    """Build an :class:`Encoder` from a HuggingFace config.

    Args:
        config: a path to a ``config.json`` (``str`` or ``os.PathLike``), a mapping with
            the JSON's keys, or any object with ``to_dict()`` (a ``transformers``
            ``PretrainedConfig``).

    Raises:
        ValueError: no or unsupported ``model_type`` (the message lists the supported
            ones), a feature bertsize does not model (``inner_group_num != 1``, untied
            word embeddings, decoder / cross-attention), or invalid sizes.
        TypeError: ``config`` is none of the accepted kinds.
    """
    raw = _as_dict(config)
    model_type = raw.get("model_type")
    if model_type not in _MODEL_TYPES:
        raise ValueError(
            f"unsupported model_type {model_type!r}{_validate.suggest(str(model_type), _MODEL_TYPES)}; "
            f"supported: {', '.join(_MODEL_TYPES)}"
        )
    values = {**_DEFAULTS[model_type], **raw}
    _reject_unmodelled(model_type, values)
    if model_type == "distilbert":
        return Encoder(
            family="distilbert",
            layers=values["n_layers"], hidden=values["dim"], heads=values["n_heads"],
            intermediate=values["hidden_dim"], vocab=values["vocab_size"],
            max_positions=values["max_position_embeddings"], type_vocab=0,
            activation=values["activation"], hidden_dropout=values["dropout"],
            attention_dropout=values["attention_dropout"], classifier_dropout=values["seq_classif_dropout"],
        )
    family = _MODEL_TYPES[model_type]
    classifier_key = "classifier_dropout_prob" if family == "albert" else "classifier_dropout"
    return Encoder(
        family=family,
        layers=values["num_hidden_layers"], hidden=values["hidden_size"], heads=values["num_attention_heads"],
        intermediate=values["intermediate_size"], vocab=values["vocab_size"],
        max_positions=values["max_position_embeddings"], type_vocab=values["type_vocab_size"],
        embedding=values.get("embedding_size"),
        hidden_groups=values.get("num_hidden_groups"),
        activation=values["hidden_act"], hidden_dropout=values["hidden_dropout_prob"],
        attention_dropout=values["attention_probs_dropout_prob"], classifier_dropout=values.get(classifier_key),
    )


def _as_dict(config: object) -> dict[str, object]:
    if isinstance(config, (str, os.PathLike)):
        with open(config, encoding="utf-8") as handle:
            loaded = json.load(handle)
        if not isinstance(loaded, dict):
            raise ValueError(f"{os.fspath(config)!r} does not hold a JSON object")
        return loaded
    if isinstance(config, Mapping):
        return dict(config)
    to_dict = getattr(config, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(
        f"config must be a path to config.json, a dict, or an object with to_dict(); got {type(config).__name__}"
    )


def _reject_unmodelled(model_type: str, values: Mapping[str, object]) -> None:
    if values.get("inner_group_num", 1) != 1:
        raise ValueError(f"inner_group_num={values['inner_group_num']!r} is not supported (only 1, as every ALBERT checkpoint)")
    if values.get("tie_word_embeddings", True) is False:
        raise ValueError("tie_word_embeddings=False is not supported: bertsize models the tied output embeddings of every HF checkpoint")
    if values.get("is_decoder") or values.get("add_cross_attention"):
        raise ValueError(f"{model_type} as a decoder / with cross-attention is not supported: bertsize sizes encoders")


#: family -> prefix of its transformers classes (BertModel, BertConfig, ...)
HF_CLASS_PREFIX = {"bert": "Bert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta", "distilbert": "DistilBert",
                "albert": "Albert", "electra": "Electra"}
#: head -> suffix of its transformers class (BertModel, BertForMaskedLM, ...)
HF_CLASS_SUFFIX = {"model": "Model", "masked_lm": "ForMaskedLM", "pretraining": "ForPreTraining",
                   "sequence_classification": "ForSequenceClassification"}


def hf_class_name(family: str, head: str) -> str:
    """The ``transformers`` class of ``family`` with ``head``, e.g. "BertForMaskedLM"."""
    return HF_CLASS_PREFIX[family] + HF_CLASS_SUFFIX[head]


def to_hf_config(encoder: Encoder, num_labels: int = 2, attention: str = "eager"):
    """The ``transformers`` config object of ``encoder`` (needs transformers)."""
    import transformers

    if encoder.family == "distilbert":
        config = transformers.DistilBertConfig(
            vocab_size=encoder.vocab, dim=encoder.hidden, n_layers=encoder.layers, n_heads=encoder.heads,
            hidden_dim=encoder.intermediate, max_position_embeddings=encoder.max_positions,
            activation=encoder.activation, dropout=encoder.hidden_dropout,
            attention_dropout=encoder.attention_dropout, seq_classif_dropout=encoder.classifier_dropout,
            num_labels=num_labels,
        )
    else:
        fields = dict(
            vocab_size=encoder.vocab, hidden_size=encoder.hidden, num_hidden_layers=encoder.layers,
            num_attention_heads=encoder.heads, intermediate_size=encoder.intermediate,
            max_position_embeddings=encoder.max_positions, type_vocab_size=encoder.type_vocab,
            hidden_act=encoder.activation, hidden_dropout_prob=encoder.hidden_dropout,
            attention_probs_dropout_prob=encoder.attention_dropout, num_labels=num_labels,
        )
        if encoder.family in ("albert", "electra"):
            fields["embedding_size"] = encoder.embedding_size
        if encoder.family == "albert":
            fields.update(num_hidden_groups=encoder.hidden_groups, classifier_dropout_prob=encoder.classifier_dropout)
        else:
            fields["classifier_dropout"] = encoder.classifier_dropout
        config = getattr(transformers, HF_CLASS_PREFIX[encoder.family] + "Config")(**fields)
    config._attn_implementation = attention
    return config

