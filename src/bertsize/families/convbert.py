"""ConvBERT (Jiang et al. 2020, arXiv:2008.02496) as HF's ``ConvBert*`` classes: ELECTRA's
encoder (embeddings of their own width, projected to hidden when they differ; no pooler)
with mixed attention in every layer — half the heads (``head_ratio`` 2) attend, at
hidden / heads features each, and a span-based dynamic convolution (``conv_kernel_size``
9: a separable convolution of the input times the query predicts each token's kernel over
its neighbours) computes the other half of the context.  The masked LM is ELECTRA's
generator head; the sequence classifier RoBERTa's dense head with the configured
activation; multiple choice classifies the last token (ConvBertConfig leaves the sequence
summary at ``"last"``, unprojected).  What HF lets a config change besides sizes is
refused unless it is ConvBertConfig's (YituTech/conv-bert-base's): another head ratio or
kernel, grouped FFN Linears (``num_groups``), a sequence summary."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.bert import CONFIG_DEFAULTS, CONFIG_KEYS, TOKEN_TYPES
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import DenseClassifier, LastTokenClassifier, MaskedLMBody

#: conv_kernel_size and head_ratio of every published checkpoint
KERNEL, HEAD_RATIO = 9, 2
#: What changes the model in ways not modelled: only ConvBertConfig's values.
_REQUIRED = {"head_ratio": HEAD_RATIO, "conv_kernel_size": KERNEL, "num_groups": 1, "summary_type": "last",
             "summary_use_proj": False, "summary_activation": None, "summary_first_dropout": 0,
             "summary_last_dropout": 0}

SPEC = Family(
    name="convbert",
    hf_prefix="ConvBert",
    config=HFConfig(model_types=("convbert",), keys={**CONFIG_KEYS, "embedding": "embedding_size"},
                    defaults={**CONFIG_DEFAULTS, "embedding_size": 768}, required=_REQUIRED),
    presets=(
        # ConvBertConfig's defaults, which its docstring calls "a similar configuration to
        # that of YituTech/conv-bert-base" (its config.json could not be read here); the
        # paper gives ConvBERT-base 106M parameters
        Preset("YituTech/conv-bert-base",
               dict(layers=12, hidden=768, heads=12, intermediate=3072, vocab=30522, max_positions=512, type_vocab=2,
                    embedding=768),
               "transformers 5.24 ConvBertConfig (defaults: 'a similar configuration to that of "
               "YituTech/conv-bert-base'); Jiang et al. 2020, arXiv:2008.02496, Table 2 (106M)",
               ("conv-bert-base",)),
    ),
    constraints=(TOKEN_TYPES, validity.Constraint("divisible", "heads", k=HEAD_RATIO,
                                                  why=f"attends with heads / {HEAD_RATIO} of its heads (head_ratio)")),
    masked_lm=MaskedLMBody(width="embedding", activation="gelu", output_bias=False),
    classifier=DenseClassifier(activation=None),
    pretraining=None,
    choice_classifier=LastTokenClassifier(),
    defaults={"type_vocab": 2, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
    projection="when_widths_differ",
    pooler=False,
    attentions=("eager",),
    attentions_why="(its mixed attention multiplies q, k and v itself)",
    span_kernel=KERNEL,
    span_head_ratio=HEAD_RATIO,
)
