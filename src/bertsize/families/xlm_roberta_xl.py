"""XLM-R XL and XXL (Goyal et al. 2021): XLM-R with pre-LayerNorm layers — a LayerNorm
before the attention and before the FFN, one after the last layer, none on the
embeddings — and no dropout after the FFN.  The parameters are RoBERTa's (the
embeddings' LayerNorm moved to the end); the saved activations are not."""

from __future__ import annotations

from bertsize.families.roberta import ROBERTA_SIZES, roberta_family
from bertsize.families.spec import Preset

_PAPER = "https://arxiv.org/abs/2105.00572 (Table 1); XLMRobertaXLConfig's defaults are XL's (transformers 5.x)"


def _preset(name: str, layers: int, hidden: int, intermediate: int) -> Preset:
    return Preset(name, dict(layers=layers, hidden=hidden, heads=32, intermediate=intermediate, vocab=250880,
                             **ROBERTA_SIZES), _PAPER, (f"facebook/{name}",))


#: XLMRobertaXLConfig's defaults: XL's sizes
_CONFIG_DEFAULTS = {"vocab_size": 250880, "hidden_size": 2560, "num_hidden_layers": 36, "num_attention_heads": 32,
                    "intermediate_size": 10240, "max_position_embeddings": 514, "type_vocab_size": 1}

SPEC = roberta_family("xlm-roberta-xl", "XLMRobertaXL", "xlm-roberta-xl", _CONFIG_DEFAULTS, (
    _preset("xlm-roberta-xl", 36, 2560, 10240),
    _preset("xlm-roberta-xxl", 48, 4096, 16384),
), norm_position="pre", embedding_norm=False, ffn_output_dropout=False)
