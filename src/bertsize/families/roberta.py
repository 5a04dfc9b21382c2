"""RoBERTa (Liu et al. 2019): BERT's encoder with positions numbered from 2 and no
segment pairs; the LM head hard-codes GELU, the classifier reads the first token."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES, bert_sizes
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import DenseClassifier, MaskedLMBody, PooledClassifier

#: RobertaConfig / XLMRobertaConfig: 514 positions (two never used), one token type.
ROBERTA_SIZES = {"max_positions": 514, "type_vocab": 1}
DEFAULTS = {"type_vocab": 1, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
            "classifier_dropout": None}


def roberta_family(name: str, hf_prefix: str, model_type: str, config_defaults: dict, presets, **traits) -> Family:
    """RoBERTa's spec under another name (XLM-R and CamemBERT share every trait; the
    pre-LayerNorm variants change ``traits``); ``config_defaults``: where the config
    class's defaults differ from BertConfig's."""
    return Family(
        name=name,
        hf_prefix=hf_prefix,
        config=HFConfig(model_types=(model_type,), keys=CONFIG_KEYS,
                        defaults={**CONFIG_DEFAULTS, **config_defaults}),
        presets=presets,
        constraints=(TOKEN_TYPES, NOT_FACTORISED),
        masked_lm=MaskedLMBody(activation="gelu"),
        classifier=DenseClassifier(activation="tanh"),
        pretraining=None,
        choice_classifier=PooledClassifier(dropout="hidden"),
        causal_lm_suffix="ForCausalLM",
        defaults=DEFAULTS,
        position_offset=2,
        **traits,
    )


def _preset(name: str, layers: int, hidden: int, repository: str) -> Preset:
    return Preset(name, {**bert_sizes(layers, hidden, 50265), **ROBERTA_SIZES},
                  f"https://huggingface.co/{repository}/blob/main/config.json", (repository,))


SPEC = roberta_family("roberta", "Roberta", "roberta", {"vocab_size": 50265}, (
    _preset("roberta-base", 12, 768, "FacebookAI/roberta-base"),
    _preset("roberta-large", 24, 1024, "FacebookAI/roberta-large"),
    _preset("distilroberta-base", 6, 768, "distilbert/distilroberta-base"),
))
