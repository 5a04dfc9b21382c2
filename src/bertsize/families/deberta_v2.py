"""DeBERTa-v2 and DeBERTa-v3 (He et al. 2021, arXiv:2006.03654 and arXiv:2111.09543) as
HF's ``DebertaV2*`` classes: BERT's post-LN layers with disentangled attention
(:class:`bertsize.Disentangled`, :func:`bertsize.recipe.deberta_encoder`).

Every layer projects the ``2 x span`` relative-position embeddings through its query and
key projections — 2 · (2 span) · hidden² multiply-accumulates a layer that do not depend
on the batch or the sequence length — and adds the content-to-position and
position-to-content products, (s x 2 span) each, to the scores.  The embeddings have no
position table (v3) or an absolute one (``position_biased_input``), a segment table only
when ``type_vocab_size`` > 0, and ``embed_proj`` (no bias) when ``embedding_size`` differs
from hidden.  The classifiers read ``ContextPooler`` (dense -> GELU on the first token);
the masked LM is the legacy head (``legacy=True``, every published config: BERT's
transform to the embedding width and a decoder tied to the word embeddings).

DeBERTa-v2 xlarge and xxlarge convolve the embeddings after the first layer
(``conv_kernel_size``; the layers then run as two groups with their own weights).  HF runs
it with its own eager attention only.  Not modelled (refused, naming the key): a grouped
convolution (``conv_groups``), ``legacy=False``'s head, an ``attention_head_size`` other
than hidden / heads, a ``pooler_dropout`` or ``pooler_hidden_act`` other than the default,
and ``relative_attention=False``.
The relative positions' bucketing and the gathers' indices are integer arithmetic, not
counted as FLOPs (as no other index math is).
"""

from __future__ import annotations

from bertsize import validity
from bertsize.disentangled import Disentangled
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import MaskedLMBody, PreClassifier, TokenClassifier

#: DebertaV2Config's keys (transformers 5.x); cls_dropout, when set, is the classifier's.
_KEYS = {"layers": "num_hidden_layers", "hidden": "hidden_size", "heads": "num_attention_heads",
         "intermediate": "intermediate_size", "vocab": "vocab_size", "max_positions": "max_position_embeddings",
         "type_vocab": "type_vocab_size", "embedding": "embedding_size", "activation": "hidden_act",
         "hidden_dropout": "hidden_dropout_prob", "attention_dropout": "attention_probs_dropout_prob",
         "classifier_dropout": "cls_dropout"}
_DEFAULTS = {"num_hidden_layers": 24, "hidden_size": 1536, "num_attention_heads": 24, "intermediate_size": 6144,
             "vocab_size": 128100, "max_position_embeddings": 512, "type_vocab_size": 0, "hidden_act": "gelu",
             "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "cls_dropout": None,
             "relative_attention": False, "max_relative_positions": -1, "position_biased_input": True,
             "pos_att_type": None}
#: What changes the model in ways not modelled: only the values HF builds by default.
_REQUIRED = {"relative_attention": True, "conv_groups": 1, "legacy": True, "pooler_dropout": 0,
             "pooler_hidden_act": "gelu"}
_HUB = "https://huggingface.co"
_V2_CONV = Disentangled(conv_kernel_size=3, conv_act="gelu")
#: DeBERTa-v3's vocabulary (its 128K-token SentencePiece model, as the configs give it).
V3_VOCAB = 128100


def _preset(name: str, layers: int, hidden: int, heads: int, vocab: int = V3_VOCAB, **fields) -> Preset:
    return Preset(name, dict(layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden, vocab=vocab,
                             max_positions=512, **fields), f"{_HUB}/{name}/blob/main/config.json",
                  (name.split("/")[1],))


SPEC = Family(
    name="deberta-v2",
    hf_prefix="DebertaV2",
    config=HFConfig(model_types=("deberta-v2",), keys=_KEYS, defaults=_DEFAULTS, required=_REQUIRED,
                    composites={"disentangled": Disentangled}),
    presets=(
        # each config.json has position_buckets 256, pos_att_type "p2c|c2p", share_att_key,
        # norm_rel_ebd "layer_norm", position_biased_input false, type_vocab_size 0
        _preset("microsoft/deberta-v3-xsmall", 12, 384, 6),
        _preset("microsoft/deberta-v3-small", 6, 768, 12),
        _preset("microsoft/deberta-v3-base", 12, 768, 12),
        _preset("microsoft/deberta-v3-large", 24, 1024, 16),
        _preset("microsoft/mdeberta-v3-base", 12, 768, 12, vocab=251000),
        # v2's largest: the same attention settings, and a convolution (kernel 3, GELU)
        # after the first layer; He et al. 2021 report 900M and 1.5B parameters
        _preset("microsoft/deberta-v2-xlarge", 24, 1536, 24, disentangled=_V2_CONV),
        _preset("microsoft/deberta-v2-xxlarge", 48, 1536, 24, disentangled=_V2_CONV),
    ),
    constraints=(validity.Constraint("at_least", "type_vocab", k=0, why="0 means no segment table"),),
    masked_lm=MaskedLMBody(width="embedding"),
    classifier=PreClassifier(dense="pooler.dense", activation="gelu", gathers_labels=True),
    pretraining=None,
    defaults={"type_vocab": 0, "activation": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
              "classifier_dropout": None},
    projection="when_widths_differ",
    pooler=False,
    attentions=("eager",),
    attentions_why="(its DisentangledSelfAttention)",
    token_classifier=TokenClassifier(dropout="hidden"),
    choice_classifier=PreClassifier(dense="pooler.dense", activation="gelu"),
    layout="deberta",
    disentangled=Disentangled(),
)
