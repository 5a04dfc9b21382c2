"""ERNIE 2.0 / 3.0 (Sun et al. 2020, 2021) as HF's ``Ernie*`` classes: BERT with, when the
config says ``use_task_id``, a task-type embedding table (``task_type_vocab_size`` rows,
:attr:`Encoder.task_types`) added in place to the embeddings' sum."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, NextSentencePrediction, PooledClassifier

_HUB = "https://huggingface.co/nghuyong"


def _preset(name: str, layers: int, hidden: int, task_types: int, source: str) -> Preset:
    return Preset(f"nghuyong/{name}", dict(layers=layers, hidden=hidden, heads=hidden // 64, intermediate=4 * hidden,
                                           vocab=40000, max_positions=2048, type_vocab=4, task_types=task_types),
                  source)


SPEC = Family(
    name="ernie",
    hf_prefix="Ernie",
    config=HFConfig(model_types=("ernie",), keys={**CONFIG_KEYS, "task_types": "task_type_vocab_size"},
                    # ErnieConfig's: BertConfig's, and no task table unless use_task_id
                    defaults={**CONFIG_DEFAULTS, "task_type_vocab_size": 3, "use_task_id": False},
                    gated={"task_types": "use_task_id"}),
    presets=(
        _preset("ernie-3.0-base-zh", 12, 768, 3,
                f"{_HUB}/ernie-3.0-base-zh/blob/8ad12310fa2e9668f9df5dd15e3857e374ab8147/config.json"),
        _preset("ernie-3.0-medium-zh", 6, 768, 16,
                f"{_HUB}/ernie-3.0-medium-zh/blob/85a54b7d0354a67a0b9411544212ae54c542ba92/config.json"),
        _preset("ernie-3.0-xbase-zh", 20, 1024, 16, f"{_HUB}/ernie-3.0-xbase-zh/blob/main/config.json"),
    ),
    constraints=(TOKEN_TYPES, NOT_FACTORISED),
    masked_lm=MaskedLMBody(),
    classifier=PooledClassifier(),
    pretraining=NextSentencePrediction(),
    next_sentence=NextSentencePrediction(),
    causal_lm_suffix="ForCausalLM",
    task_types=True,
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
)
