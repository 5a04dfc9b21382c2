"""RoBERTa-PreLayerNorm (fairseq's ``--encoder-normalize-before``; Madsen et al. 2022's
efficient MLM checkpoints): RoBERTa with each LayerNorm moved before its attention or
FFN, inside the residual branch, and one more after the last layer."""

from __future__ import annotations

from bertsize.families.bert import bert_sizes
from bertsize.families.roberta import ROBERTA_SIZES, roberta_family
from bertsize.families.spec import Preset

SPEC = roberta_family(
    "roberta-prelayernorm", "RobertaPreLayerNorm", "roberta-prelayernorm", {"vocab_size": 50265},
    (Preset("andreasmadsen/efficient_mlm_m0.30", {**bert_sizes(24, 1024, 50265), **ROBERTA_SIZES},
            "https://huggingface.co/andreasmadsen/efficient_mlm_m0.30/blob/refs%2Fpr%2F1/config.json"),),
    norm_position="pre",
)
