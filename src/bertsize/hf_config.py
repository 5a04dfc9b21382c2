"""Read a HuggingFace ``config.json`` (path, dict or config object) into an Encoder.

Nothing here imports ``transformers`` or touches the network: a config object is read
through its ``to_dict()``.  Each family's spec (:mod:`bertsize.families`) says which
keys hold which Encoder fields, which aliases its config class maps onto them
(``attribute_map``) and the class's defaults, so a dict reads exactly as ``AutoConfig``
would read it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from bertsize import _validate
from bertsize.families import FAMILIES, MODEL_TYPES
from bertsize.heads import HEADS
from bertsize.model import Encoder

#: Keys that change what HF builds into something bertsize does not size (yet): truthy
#: values are refused, naming the key.
_UNMODELLED_FLAGS = {
    "is_decoder": "a decoder",
    "add_cross_attention": "cross-attention",
}


def supported_model_types() -> tuple[str, ...]:
    """The ``model_type`` values :func:`from_hf_config` understands."""
    return tuple(MODEL_TYPES)


def from_hf_config(config: object) -> Encoder:
    """Build an :class:`Encoder` from a HuggingFace config.

    Args:
        config: a path to a ``config.json`` (``str`` or ``os.PathLike``), a mapping with
            the JSON's keys, or any object with ``to_dict()`` (a ``transformers``
            ``PretrainedConfig``).

    Raises:
        ValueError: no or unsupported ``model_type`` (the message lists the supported
            ones), a feature bertsize does not model (named by its key: untied word
            embeddings, a decoder, ALBERT's ``inner_group_num`` other than 1), a file
            that is not JSON, or invalid sizes.
        TypeError: ``config`` is none of the accepted kinds, or a flag is not a bool.
    """
    raw = _as_dict(config)
    model_type = raw.get("model_type")
    spec = MODEL_TYPES.get(model_type) if isinstance(model_type, str) else None
    if spec is None:
        raise ValueError(
            f"unsupported model_type {model_type!r}{_validate.suggest(str(model_type), MODEL_TYPES)}; "
            f"supported: {', '.join(MODEL_TYPES)}"
        )
    mapping = spec.config
    values = dict(mapping.defaults)
    for key, value in raw.items():
        values[mapping.aliases.get(key, key)] = value
    _reject_unmodelled(model_type, values, mapping.required)
    fields = {name: values[key] for name, key in mapping.keys.items() if key in values}
    return Encoder(family=spec.name, **fields)


def _as_dict(config: object) -> dict[str, object]:
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        with open(path, encoding="utf-8") as handle:
            try:
                loaded = json.load(handle)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path!r} is not a JSON config: {error}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"{path!r} does not hold a JSON object")
        return loaded
    if isinstance(config, Mapping):
        return dict(config)
    to_dict = getattr(config, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(
        f"config must be a path to config.json, a dict, or an object with to_dict(); got {type(config).__name__}"
    )


def _flag(key: str, value: object) -> bool:
    """A config's boolean as HF reads it: JSON true / false (and 0 / 1, which Python
    treats alike); anything else is refused rather than guessed."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise TypeError(f"{key} must be true or false, got {value!r}")


def _reject_unmodelled(model_type: str, values: Mapping[str, object], required: Mapping[str, object]) -> None:
    for key, expected in required.items():
        if values.get(key, expected) != expected:
            raise ValueError(f"{key}={values[key]!r} is not supported (only {expected!r}, as every published "
                             f"{model_type} checkpoint)")
    if not _flag("tie_word_embeddings", values.get("tie_word_embeddings", True)):
        raise ValueError("tie_word_embeddings=False is not supported: bertsize models the tied output embeddings "
                         "of every HF checkpoint")
    for key, feature in _UNMODELLED_FLAGS.items():
        if _flag(key, values.get(key, False)):
            raise ValueError(f"{model_type} with {key}=true ({feature}) is not supported: bertsize sizes encoders")


def hf_class_name(family: str, head: str) -> str:
    """The ``transformers`` class of ``family`` with ``head``, e.g. "BertForMaskedLM"."""
    return FAMILIES[family].hf_prefix + HEADS[head].hf_suffix


def to_hf_config(encoder: Encoder, num_labels: int = 2, attention: str = "eager"):
    """The ``transformers`` config object of ``encoder`` (needs transformers)."""
    import transformers

    spec = FAMILIES[encoder.family]
    fields = {key: getattr(encoder, name) for name, key in spec.config.keys.items()}
    if "embedding" in spec.config.keys:
        fields[spec.config.keys["embedding"]] = encoder.embedding_size
    config = getattr(transformers, spec.hf_prefix + "Config")(**fields, num_labels=num_labels)
    config._attn_implementation = attention
    return config
