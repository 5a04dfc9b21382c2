"""Published BERT-family checkpoints as :class:`~bertsize.Encoder` presets.

Every value is copied from the checkpoint's ``config.json`` on the HuggingFace hub.
Names are the hub ids users paste; the short legacy ids (``bert-base-uncased``) and
the namespaced ones (``google-bert/bert-base-uncased``) both work.
"""

from __future__ import annotations

from bertsize import _validate
from bertsize.model import Encoder


def _bert(layers: int, hidden: int, vocab: int = 30522) -> Encoder:
    return Encoder(layers=layers, hidden=hidden, heads=hidden // 64, intermediate=4 * hidden, vocab=vocab)


def _roberta(layers: int, hidden: int, vocab: int, family: str = "roberta") -> Encoder:
    return Encoder(
        family=family, layers=layers, hidden=hidden, heads=hidden // 64, intermediate=4 * hidden,
        vocab=vocab, max_positions=514, type_vocab=1,
    )


def _albert(layers: int, hidden: int, heads: int) -> Encoder:
    return Encoder(
        family="albert", layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden,
        vocab=30000, embedding=128,
    )


def _electra(layers: int, hidden: int, heads: int, embedding: int) -> Encoder:
    return Encoder(
        family="electra", layers=layers, hidden=hidden, heads=heads, intermediate=4 * hidden,
        embedding=embedding,
    )


def _distilbert(vocab: int) -> Encoder:
    return Encoder(family="distilbert", layers=6, hidden=768, heads=12, intermediate=3072, vocab=vocab)


# canonical name -> (encoder, aliases)
_TABLE: dict[str, tuple[Encoder, tuple[str, ...]]] = {
    "bert-base-uncased": (_bert(12, 768), ("google-bert/bert-base-uncased",)),
    "bert-large-uncased": (_bert(24, 1024), ("google-bert/bert-large-uncased",)),
    "bert-base-cased": (_bert(12, 768, 28996), ("google-bert/bert-base-cased",)),
    "bert-large-cased": (_bert(24, 1024, 28996), ("google-bert/bert-large-cased",)),
    "bert-base-multilingual-cased": (_bert(12, 768, 119547), ("google-bert/bert-base-multilingual-cased",)),
    "bert-base-multilingual-uncased": (_bert(12, 768, 105879), ("google-bert/bert-base-multilingual-uncased",)),
    "roberta-base": (_roberta(12, 768, 50265), ("FacebookAI/roberta-base",)),
    "roberta-large": (_roberta(24, 1024, 50265), ("FacebookAI/roberta-large",)),
    "xlm-roberta-base": (_roberta(12, 768, 250002, "xlm-roberta"), ("FacebookAI/xlm-roberta-base",)),
    "xlm-roberta-large": (_roberta(24, 1024, 250002, "xlm-roberta"), ("FacebookAI/xlm-roberta-large",)),
    "distilbert-base-uncased": (_distilbert(30522), ("distilbert/distilbert-base-uncased",)),
    "distilbert-base-cased": (_distilbert(28996), ("distilbert/distilbert-base-cased",)),
    "distilbert-base-multilingual-cased": (_distilbert(119547), ("distilbert/distilbert-base-multilingual-cased",)),
    "distilroberta-base": (_roberta(6, 768, 50265), ("distilbert/distilroberta-base",)),
    "albert-base-v2": (_albert(12, 768, 12), ("albert/albert-base-v2",)),
    "albert-large-v2": (_albert(24, 1024, 16), ("albert/albert-large-v2",)),
    "albert-xlarge-v2": (_albert(24, 2048, 16), ("albert/albert-xlarge-v2",)),
    "albert-xxlarge-v2": (_albert(12, 4096, 64), ("albert/albert-xxlarge-v2",)),
    "google/electra-small-discriminator": (_electra(12, 256, 4, 128), ("electra-small-discriminator",)),
    "google/electra-base-discriminator": (_electra(12, 768, 12, 768), ("electra-base-discriminator",)),
    "google/electra-large-discriminator": (_electra(24, 1024, 16, 1024), ("electra-large-discriminator",)),
}

# The 24 "Well-Read Students Learn Better" miniatures (Turc et al. 2019), with the
# names their README gives the four best known.
_MINIATURE_ALIASES = {(2, 128): "bert-tiny", (4, 256): "bert-mini", (4, 512): "bert-small", (8, 512): "bert-medium"}
for _layers in (2, 4, 6, 8, 10, 12):
    for _hidden in (128, 256, 512, 768):
        _name = f"google/bert_uncased_L-{_layers}_H-{_hidden}_A-{_hidden // 64}"
        _alias = _MINIATURE_ALIASES.get((_layers, _hidden))
        _aliases = (_alias, f"prajjwal1/{_alias}") if _alias else ()
        _TABLE[_name] = (_bert(_layers, _hidden), _aliases)

_LOOKUP: dict[str, str] = {}
for _canonical, (_encoder, _aliases) in _TABLE.items():
    for _key in (_canonical, *_aliases):
        _LOOKUP[_key.lower()] = _canonical


def presets() -> tuple[str, ...]:
    """Canonical names of every preset (each also answers to its aliases)."""
    return tuple(_TABLE)


def aliases(name: str) -> tuple[str, ...]:
    """Other names the preset ``name`` answers to."""
    return _TABLE[_canonical(name)][1]


def preset(name: str) -> Encoder:
    """The :class:`Encoder` of a published checkpoint, by hub id (case-insensitive).

    Raises:
        ValueError: unknown name (the message suggests close matches).
    """
    return _TABLE[_canonical(name)][0]


def as_encoder(base: object) -> Encoder:
    """``base`` as an Encoder: an Encoder passes through, a name is a preset, None is bert-base-uncased."""
    if base is None:
        return preset("bert-base-uncased")
    if isinstance(base, str):
        return preset(base)
    if not isinstance(base, Encoder):
        raise TypeError(f"base must be a bertsize.Encoder or a preset name, got {type(base).__name__}")
    return base


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a string, got {name!r}")
    key = name.lower()
    if key not in _LOOKUP:
        raise ValueError(
            f"unknown preset {name!r}{_validate.suggest(key, _LOOKUP)}; "
            "bertsize.presets() lists them all"
        )
    return _LOOKUP[key]
