"""CamemBERT (Martin et al. 2020): RoBERTa's architecture and heads for French; HF's
``Camembert*`` classes are RoBERTa's under another name."""

from __future__ import annotations

from bertsize.families.bert import bert_sizes
from bertsize.families.roberta import ROBERTA_SIZES, roberta_family
from bertsize.families.spec import Preset

SPEC = roberta_family("camembert", "Camembert", "camembert", {}, (
    # camembert-base's config.json (mirrored with the ONNX export Xenova/camembert-base)
    Preset("camembert-base", {**bert_sizes(12, 768, 32005), **ROBERTA_SIZES},
           "https://huggingface.co/Xenova/camembert-base/blob/main/config.json", ("almanach/camembert-base",)),
))
