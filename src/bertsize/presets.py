"""Published BERT-family checkpoints as :class:`~bertsize.Encoder` presets.

The presets are the family specs' (:mod:`bertsize.families`), each with the
``config.json`` it is copied from.  Names are the hub ids users paste; the short legacy
ids (``bert-base-uncased``) and the namespaced ones (``google-bert/bert-base-uncased``)
both work, case-insensitively.
"""

from __future__ import annotations

from bertsize import _validate
from bertsize.families import FAMILIES, Preset
from bertsize.model import Encoder

# canonical name -> (encoder, preset)
_TABLE: dict[str, tuple[Encoder, Preset]] = {
    entry.name: (Encoder(family=family, **entry.fields), entry)
    for family, spec in FAMILIES.items() for entry in spec.presets
}
_LOOKUP: dict[str, str] = {
    key.lower(): name for name, (_, entry) in _TABLE.items() for key in (name, *entry.aliases)
}


def presets() -> tuple[str, ...]:
    """Canonical names of every preset (each also answers to its aliases)."""
    return tuple(_TABLE)


def aliases(name: str) -> tuple[str, ...]:
    """Other names the preset ``name`` answers to."""
    return _TABLE[_canonical(name)][1].aliases


def source(name: str) -> str:
    """Where the preset's numbers come from (its ``config.json``)."""
    return _TABLE[_canonical(name)][1].source


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
