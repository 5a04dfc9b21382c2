"""MPNet (Song et al. 2020), the base of the most used sentence-embedding models
(sentence-transformers' all-mpnet-base-v2): BERT's post-LN layers without segment
embeddings, positions numbered from 2, and a relative-position bias shared by every
layer — a (32 buckets x heads) table looked up once per forward for every (query, key)
pair, expanded over the batch, and added in place to each layer's attention scores.
HF runs it with its own eager attention only and cannot checkpoint it (no SDPA, no
flash attention, no gradient checkpointing); its heads' dropouts are the hidden dropout
(the config has no ``classifier_dropout``).  The bucketing of relative positions is
index arithmetic on s² integers, not counted as FLOPs (as no other index math is)."""

from __future__ import annotations

from bertsize.families.bert import CONFIG_KEYS, NO_SEGMENTS, NOT_FACTORISED
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import DenseClassifier, MaskedLMBody, PooledClassifier, TokenClassifier

#: MPNetConfig's (transformers 5.x) defaults.
_DEFAULTS = {"num_hidden_layers": 12, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072,
             "vocab_size": 30527, "max_position_embeddings": 512, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
             "attention_probs_dropout_prob": 0.1}
#: compute_position_bias buckets relative positions into 32 whatever the config says,
#: so a table of another size would be read only in part: refused
BUCKETS = 32

SPEC = Family(
    name="mpnet",
    hf_prefix="MPNet",
    config=HFConfig(model_types=("mpnet",),
                    keys={field: key for field, key in CONFIG_KEYS.items()
                          if field not in ("type_vocab", "classifier_dropout")},
                    defaults=_DEFAULTS, required={"relative_attention_num_buckets": BUCKETS}),
    presets=(
        # its config.json (as its many fine-tunes copy it, e.g. lealdaniel/comp-embedding-matching)
        Preset("sentence-transformers/all-mpnet-base-v2",
               dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30527, max_positions=514),
               "https://huggingface.co/sentence-transformers/all-mpnet-base-v2/blob/main/config.json",
               ("all-mpnet-base-v2",)),
    ),
    constraints=(NO_SEGMENTS, NOT_FACTORISED),
    masked_lm=MaskedLMBody(activation="gelu"),
    classifier=DenseClassifier(activation="tanh", dropout="hidden"),
    pretraining=None,
    defaults={"type_vocab": 0, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
    token_types=False,
    position_offset=2,
    token_classifier=TokenClassifier(dropout="hidden"),
    choice_classifier=PooledClassifier(dropout="hidden"),
    relative_bias_buckets=BUCKETS,
    attentions=("eager",),
    gradient_checkpointing=False,
)
