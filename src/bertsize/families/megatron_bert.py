"""Megatron-BERT (Shoeybi et al. 2019): BERT with pre-LayerNorm layers — a LayerNorm
before the attention and before the FFN, one after the last layer, none on the
embeddings — and BERT's heads, whose dropouts are all the hidden dropout (the config
has no ``classifier_dropout``).  HF runs it with eager attention only."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, NextSentencePrediction, PooledClassifier, TokenClassifier

_KEYS = {field: key for field, key in CONFIG_KEYS.items() if field != "classifier_dropout"}
_DEFAULTS = {key: value for key, value in CONFIG_DEFAULTS.items() if key != "classifier_dropout"}
# MegatronBertConfig's: the 345M checkpoints' sizes, the cased one's vocabulary
_DEFAULTS.update(vocab_size=29056, num_hidden_layers=24, hidden_size=1024, num_attention_heads=16,
                 intermediate_size=4096)


def _preset(name: str, layers: int, hidden: int, heads: int, vocab: int, source: str, **fields) -> Preset:
    return Preset(name, dict(layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden, vocab=vocab,
                             **fields), source)


SPEC = Family(
    name="megatron-bert",
    hf_prefix="MegatronBert",
    config=HFConfig(model_types=("megatron-bert",), keys=_KEYS, defaults=_DEFAULTS),
    presets=(
        _preset("EMBO/BioMegatron345mUncased", 24, 1024, 16, 30592,
                "https://huggingface.co/EMBO/BioMegatron345mUncased/blob/ca20cb379c72bcb8f8db431b77ef501a485a8b2f/"
                "config.json", activation="gelu_new"),
        _preset("IDEA-CCNL/Erlangshen-MegatronBert-3.9B-Chinese", 48, 2560, 40, 21248,
                "https://huggingface.co/spaces/horiyouta/chinoTTS/blame/b5e3368d5f009a6fedb3683f432eb6b724a82f8e/"
                "bert/Erlangshen-MegatronBert-3.9B-Chinese/config.json (the checkpoint's config.json, copied)"),
    ),
    constraints=(TOKEN_TYPES, NOT_FACTORISED),
    masked_lm=MaskedLMBody(),
    classifier=PooledClassifier(dropout="hidden"),
    pretraining=NextSentencePrediction(),
    next_sentence=NextSentencePrediction(),
    token_classifier=TokenClassifier(dropout="hidden"),
    choice_classifier=PooledClassifier(dropout="hidden"),
    causal_lm_suffix="ForCausalLM",
    norm_position="pre",
    embedding_norm=False,
    attentions=("eager",),  # MegatronBertPreTrainedModel supports neither SDPA nor flash attention
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
)
