"""XLM-R (Conneau et al. 2020): RoBERTa's architecture with a 250k vocabulary."""

from __future__ import annotations

from bertsize.families.bert import bert_sizes
from bertsize.families.roberta import ROBERTA_SIZES, roberta_family
from bertsize.families.spec import Preset


def _preset(name: str, layers: int, hidden: int) -> Preset:
    repository = f"FacebookAI/{name}"
    return Preset(name, {**bert_sizes(layers, hidden, 250002), **ROBERTA_SIZES},
                  f"https://huggingface.co/{repository}/blob/main/config.json", (repository,))


def _e5(size: str, layers: int, hidden: int) -> Preset:
    """intfloat's multilingual E5 embedders: XLM-R's checkpoints fine-tuned, its config."""
    name = f"intfloat/multilingual-e5-{size}"
    return Preset(name, {**bert_sizes(layers, hidden, 250002), **ROBERTA_SIZES},
                  f"https://huggingface.co/{name}/blob/main/config.json", (name.split("/")[1],))


SPEC = roberta_family("xlm-roberta", "XLMRoberta", "xlm-roberta", {}, (
    _preset("xlm-roberta-base", 12, 768),
    _preset("xlm-roberta-large", 24, 1024),
    _e5("base", 12, 768),
    _e5("large", 24, 1024),
))
