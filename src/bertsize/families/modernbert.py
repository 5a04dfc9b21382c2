"""ModernBERT (Warner et al. 2024, arXiv:2412.13663) as HF's ``ModernBert*`` classes: no
position table (RoPE), no biases (weight-only LayerNorms; the MLM decoder keeps its
bias), a fused QKV projection, a GeGLU MLP (``Wi`` is hidden -> 2 x intermediate),
pre-LN layers whose layer 0 has no attention LayerNorm and a final LayerNorm, and
alternating attention: every third layer global, the others within a sliding window of
``local_attention`` tokens (:func:`bertsize.recipe.modernbert_encoder`).

Under eager and SDPA attention the window is a mask over the full scores: it changes no
FLOP and no saved tensor, only adds the mask (from ``seq_len >= local_attention / 2``,
where HF builds it).  With flash attention (``window_size=(w, w)``, w =
``local_attention // 2``) the kernel skips what the window excludes: a local layer's
attention FLOPs are the band's, and no mask exists; what flash saves (q, k, v, the output
and the log-sum-exp) does not depend on the window.  Heads: ``ModernBertPredictionHead``
(dense -> GELU -> LayerNorm) before the decoder or classifier; sequence classification
and multiple choice pool the <cls> token or the mean (``Encoder.pooling``)."""

from __future__ import annotations

from bertsize import validity
from bertsize.families.bert import NO_SEGMENTS, NOT_FACTORISED
from bertsize.families.spec import Family, HFConfig, Preset
from bertsize.heads import SPAN_LOGITS, HeadClassifier, MaskedLMBody

_HUB = "https://huggingface.co"
#: ModernBertConfig's keys (transformers 5.x): mlp_dropout is the hidden dropout, and
#: embedding_dropout must agree with it (one Encoder field stands for both).
_KEYS = {"layers": "num_hidden_layers", "hidden": "hidden_size", "heads": "num_attention_heads",
         "intermediate": "intermediate_size", "vocab": "vocab_size", "max_positions": "max_position_embeddings",
         "activation": "hidden_activation", "hidden_dropout": "mlp_dropout",
         "attention_dropout": "attention_dropout", "classifier_dropout": "classifier_dropout",
         "pooling": "classifier_pooling", "local_attention": "local_attention"}
_DEFAULTS = {"num_hidden_layers": 22, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 1152,
             "vocab_size": 50368, "max_position_embeddings": 8192, "hidden_activation": "gelu", "mlp_dropout": 0.0,
             "embedding_dropout": 0.0, "attention_dropout": 0.0, "classifier_dropout": 0.0,
             "classifier_pooling": "cls", "local_attention": 128}
#: What changes the model in ways not modelled: only ModernBERT's published values.
_REQUIRED = {"norm_bias": False, "attention_bias": False, "mlp_bias": False, "classifier_bias": False,
             "decoder_bias": True, "classifier_activation": "gelu", "global_attn_every_n_layers": 3,
             "sparse_prediction": False}
HEAD_WIDTH = 64  # both checkpoints' (768 / 12, 1024 / 16)


def _preset(name: str, layers: int, hidden: int, intermediate: int, source: str) -> Preset:
    return Preset(name, dict(layers=layers, hidden=hidden, heads=hidden // HEAD_WIDTH, intermediate=intermediate,
                             vocab=50368, max_positions=8192, pooling="mean"), source, (name.split("/")[1],))


SPEC = Family(
    name="modernbert",
    hf_prefix="ModernBert",
    config=HFConfig(model_types=("modernbert",), keys=_KEYS, defaults=_DEFAULTS, required=_REQUIRED,
                    same_activity={"embedding_dropout": "hidden_dropout"}),
    presets=(
        # the configs as published (copied with their values by answerdotai's fine-tunes)
        _preset("answerdotai/ModernBERT-base", 22, 768, 1152,
                f"{_HUB}/answerdotai/ModernBERT-base/blob/main/config.json (as unsloth/ModernBERT-base mirrors it)"),
        _preset("answerdotai/ModernBERT-large", 28, 1024, 2624,
                f"{_HUB}/answerdotai/ModernBERT-large/blob/main/config.json; Warner et al. 2024, Table 3"),
    ),
    constraints=(NO_SEGMENTS, NOT_FACTORISED,
                 validity.Constraint("multiple", "hidden", "heads", k=HEAD_WIDTH,
                                     why=f"is modelled with {HEAD_WIDTH}-wide heads (its RoPE tables' width)")),
    masked_lm=MaskedLMBody(activation="gelu", output_bias=False, transform_bias=False),
    classifier=HeadClassifier(),
    pretraining=None,
    defaults={"type_vocab": 0, "activation": "gelu", "hidden_dropout": 0.0, "attention_dropout": 0.0,
              "classifier_dropout": 0.0},
    token_types=False,
    pooler=False,
    token_classifier=HeadClassifier(),
    span_classifier=HeadClassifier(outputs=SPAN_LOGITS),
    choice_classifier=HeadClassifier(gather=True),
    layout="modern",
    head_width=HEAD_WIDTH,
    poolings=("cls", "mean"),
    window=128,
)
