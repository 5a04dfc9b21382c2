"""Jina Embeddings v3 (Sturua et al. 2024, arXiv:2409.10173) as HF's
``JinaEmbeddingsV3*`` classes: XLM-R's post-LN layers, vocabulary, heads and pooler with
RoPE instead of a position table (Llama's ``apply_rotary_pos_emb``, as nomic-bert's: see
:mod:`bertsize.families.nomic_bert`); biases everywhere, a plain GELU FFN.  HF's classes
carry no LoRA adapters (the published model's task adapters add about 2 % to its
parameters and are not sized); no multiple-choice class."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES
from bertsize.families.nomic_bert import HEAD_WIDTH, ROTARY_HEADS
from bertsize.families.roberta import DEFAULTS
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import DenseClassifier, MaskedLMBody

#: JinaEmbeddingsV3Config's defaults (transformers 5.x): jina-embeddings-v3's sizes
_DEFAULTS = {**CONFIG_DEFAULTS, "vocab_size": 250002, "hidden_size": 1024, "num_hidden_layers": 24,
             "num_attention_heads": 16, "intermediate_size": 4096, "max_position_embeddings": 8194,
             "type_vocab_size": 1}

SPEC = Family(
    name="jina_embeddings_v3",
    hf_prefix="JinaEmbeddingsV3",
    config=HFConfig(model_types=("jina_embeddings_v3",), keys=CONFIG_KEYS, defaults=_DEFAULTS),
    presets=(
        Preset("jinaai/jina-embeddings-v3",
               dict(layers=24, hidden=1024, heads=16, intermediate=4096, vocab=250002, max_positions=8194,
                    type_vocab=1),
               "https://huggingface.co/jinaai/jina-embeddings-v3/blob/main/config.json; transformers' "
               "JinaEmbeddingsV3Config (checkpoint jinaai/jina-embeddings-v3-hf)",
               ("jina-embeddings-v3", "jinaai/jina-embeddings-v3-hf")),
    ),
    constraints=(TOKEN_TYPES, NOT_FACTORISED, ROTARY_HEADS),
    masked_lm=MaskedLMBody(activation="gelu"),
    classifier=DenseClassifier(activation="tanh"),
    pretraining=None,
    defaults=DEFAULTS,
    rotary=True,
    head_width=HEAD_WIDTH,
    choice_classifier=None,
)
