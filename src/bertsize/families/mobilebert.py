"""MobileBERT (Sun et al. 2020, arXiv:2004.02984) as HF's ``MobileBert*`` classes: a
128-wide word table whose trigram (each token beside its neighbours) a Linear projects to
hidden, hidden-wide position and segment tables, NoNorm (``x * weight + bias``) in place
of every LayerNorm of the body, and layers that narrow the hidden state to a bottleneck
(``intra_bottleneck_size``): two bottleneck projections (the residual's, and the one the
query and key share; the value projects the layer's input), attention at the bottleneck
width, four stacked FFNs there, and a projection back to hidden.  The MLM decoder
multiplies by the word embeddings stacked with a dense (hidden - embedding) x vocab block.
What HF lets a config change besides sizes is refused unless it is the published
checkpoint's (trigram input, the shared q/k bottleneck, four FFNs, NoNorm, the pooler's
activation)."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import NextSentencePrediction, PooledClassifier, StackedMaskedLMBody

#: MobileBertConfig's defaults (transformers 5.x): google/mobilebert-uncased's sizes
_DEFAULTS = {**CONFIG_DEFAULTS, "num_hidden_layers": 24, "hidden_size": 512, "num_attention_heads": 4,
             "intermediate_size": 512, "hidden_act": "relu", "hidden_dropout_prob": 0.0, "embedding_size": 128,
             "intra_bottleneck_size": 128}
#: What changes the model in ways not modelled: only the published checkpoint's values.
_REQUIRED = {"trigram_input": True, "use_bottleneck": True, "use_bottleneck_attention": False,
             "key_query_shared_bottleneck": True, "num_feedforward_networks": 4, "normalization_type": "no_norm",
             "classifier_activation": True}
BOTTLENECK = 128

SPEC = Family(
    name="mobilebert",
    hf_prefix="MobileBert",
    config=HFConfig(model_types=("mobilebert",),
                    keys={**CONFIG_KEYS, "embedding": "embedding_size", "bottleneck": "intra_bottleneck_size"},
                    defaults=_DEFAULTS, required=_REQUIRED),
    presets=(
        Preset("google/mobilebert-uncased",
               dict(layers=24, hidden=512, heads=4, intermediate=512, vocab=30522, max_positions=512, type_vocab=2,
                    embedding=128, bottleneck=128),
               "https://huggingface.co/google/mobilebert-uncased/blob/main/config.json; Sun et al. 2020, Table 1",
               ("mobilebert-uncased",)),
    ),
    constraints=(TOKEN_TYPES, validity.positive("bottleneck"),
                 validity.Constraint("divides", "heads", "bottleneck",
                                     why="every attention head needs bottleneck / heads features"),
                 validity.Constraint("within", "embedding", "hidden",
                                     why="the MLM decoder stacks a (hidden - embedding)-row block on the word "
                                         "embeddings")),
    masked_lm=StackedMaskedLMBody(),
    classifier=PooledClassifier(),
    pretraining=NextSentencePrediction(),
    next_sentence=NextSentencePrediction(),
    defaults={"type_vocab": 2, "activation": "relu", "hidden_dropout": 0.0, "attention_dropout": 0.1,
              "classifier_dropout": None},
    projection="always",
    layout="mobile",
    bottleneck=BOTTLENECK,
    feedforward_networks=4,
)
