"""SqueezeBERT (Iandola et al. 2020, arXiv:2006.11316) as HF's ``SqueezeBert*`` classes:
BERT's embeddings and post-LN layers run in the (batch, channels, sequence) layout, every
projection of a layer a 1 x 1 ``nn.Conv1d`` — grouped: q, k, v, the FFN's intermediate
and output in 4 groups, the attention output in 1 —, and the attention its own matmuls
(eager only; no gradient checkpointing).  Every layout change is a view, so what autograd
saves is what BERT's eager layers save.  The base model has no ``add_pooling_layer``:
each head runs the pooler, forward only where it does not read it.  The groups HF lets a
config change are refused unless they are the published checkpoints'.

FlopCounterMode (torch 2.13) counts a grouped convolution's weight gradient as if
groups were 1 (``conv_backward_flop`` builds its shapes without the groups): bertsize
reports the true count, forward and backward alike 2 · rows · in · out / groups a
convolution."""

from __future__ import annotations

import math

from bertsize import validity
from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, NOT_FACTORISED, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, PooledClassifier, TokenClassifier

#: The groups of each projection (the recipe's names) in every published checkpoint
GROUPS = {"layer.attention.query": 4, "layer.attention.key": 4, "layer.attention.value": 4,
          "layer.attention.output": 1, "layer.intermediate": 4, "layer.output": 4}
#: SqueezeBertConfig's keys for them
_GROUP_KEYS = {"q_groups": "layer.attention.query", "k_groups": "layer.attention.key",
               "v_groups": "layer.attention.value", "post_attention_groups": "layer.attention.output",
               "intermediate_groups": "layer.intermediate", "output_groups": "layer.output"}
#: Each grouped convolution's groups divide its input and output channels: hidden is read
#: or written by all six, intermediate by the FFN's two
_HIDDEN_GROUPS = math.lcm(*GROUPS.values())
_INTERMEDIATE_GROUPS = math.lcm(GROUPS["layer.intermediate"], GROUPS["layer.output"])

SPEC = Family(
    name="squeezebert",
    hf_prefix="SqueezeBert",
    config=HFConfig(model_types=("squeezebert",),
                    keys={**{field: key for field, key in CONFIG_KEYS.items() if field != "classifier_dropout"},
                          "embedding": "embedding_size"},
                    defaults={**CONFIG_DEFAULTS, "embedding_size": 768},
                    required={key: GROUPS[name] for key, name in _GROUP_KEYS.items()}),
    presets=(
        Preset("squeezebert/squeezebert-uncased",
               dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30528, max_positions=512, type_vocab=2),
               "https://huggingface.co/squeezebert/squeezebert-uncased/blob/main/config.json; Iandola et al. 2020",
               ("squeezebert-uncased", "squeezebert/squeezebert-mnli", "squeezebert/squeezebert-mnli-headless")),
    ),
    constraints=(TOKEN_TYPES, NOT_FACTORISED,
                 validity.Constraint("divisible", "hidden", k=_HIDDEN_GROUPS,
                                     why=f"groups its q, k, v and FFN convolutions by {_HIDDEN_GROUPS}"),
                 validity.Constraint("divisible", "intermediate", k=_INTERMEDIATE_GROUPS,
                                     why=f"groups its FFN convolutions by {_INTERMEDIATE_GROUPS}")),
    masked_lm=MaskedLMBody(),
    classifier=PooledClassifier(dropout="hidden"),
    pretraining=None,
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
    token_classifier=TokenClassifier(dropout="hidden"),
    choice_classifier=PooledClassifier(dropout="hidden"),
    attentions=("eager",),
    attentions_why="(its layers multiply q, k and v themselves)",
    gradient_checkpointing=False,
    pooler_always=True,
    conv_groups=GROUPS,
)
