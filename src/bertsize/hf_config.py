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

    Besides the sizes it reads ``tie_word_embeddings``, ``is_decoder`` and the classes of the
    classification heads (``id2label``, else ``num_labels``, else 2, as
    ``PretrainedConfig`` does) into the Encoder; :func:`hf_head` reads the head.

    Raises:
        ValueError: no or unsupported ``model_type`` (the message lists the supported
            ones), a feature bertsize does not model (named by its key: cross-attention, ALBERT's ``inner_group_num`` other than 1, a
            ``problem_type`` whose loss differs from the one num_labels implies), a file
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
    _reject_unmodelled(model_type, values, mapping)
    fields = {name: values[key] for name, key in mapping.keys.items() if key in values}
    fields.update({name: kind.from_hf(values) for name, kind in mapping.composites.items()})
    for name, gate in mapping.gated.items():
        if not _flag(gate, values.get(gate, False)):
            fields[name] = 0
    num_labels = _num_labels(values)
    _check_problem_type(values.get("problem_type"), num_labels)
    _check_head_width(values, mapping)
    encoder = Encoder(family=spec.name, **fields, num_labels=num_labels,
                      tie_word_embeddings=_flag("tie_word_embeddings", values.get("tie_word_embeddings", True)),
                      # families whose layers ignore is_decoder read as HF builds them
                      is_decoder=spec.decodes and _flag("is_decoder", values.get("is_decoder", False)))
    for key, field_name in mapping.same_activity.items():
        if _active(key, values.get(key)) != (getattr(encoder, field_name) > 0):
            raise ValueError(f"{key}={values.get(key)!r} with {field_name}={getattr(encoder, field_name)!r} is not "
                             "supported: bertsize models both dropouts by one field, so both must be zero or both "
                             "positive")
    return encoder


def hf_head(config: object) -> str | None:
    """The head (a name of :data:`bertsize.HEADS`) of the config's ``architectures``:
    its first class, e.g. "BertForTokenClassification" -> "token_classification";
    None when the config names no class of its family that bertsize sizes."""
    raw = _as_dict(config)
    spec = MODEL_TYPES.get(raw.get("model_type")) if isinstance(raw.get("model_type"), str) else None
    architectures = raw.get("architectures")
    if spec is None or not isinstance(architectures, list) or not architectures:
        return None
    first = architectures[0]
    for name, head in HEADS.items():
        if head.exists_for(spec) and first == spec.hf_prefix + head.class_suffix(spec):
            return name
    return None


def _num_labels(values: Mapping[str, object]) -> int:
    """``len(id2label)`` when the config has one, else ``num_labels`` (default 2)."""
    id2label = values.get("id2label")
    if id2label is None:
        return values.get("num_labels", 2)
    if not isinstance(id2label, Mapping) or not id2label:
        raise ValueError(f"id2label must be a non-empty mapping of class ids to names, got {id2label!r}")
    stated = values.get("num_labels")
    if stated is not None and stated != len(id2label):
        raise ValueError(f"num_labels={stated!r} disagrees with the {len(id2label)} classes of id2label")
    return len(id2label)


def _check_problem_type(problem_type: object, num_labels: int) -> None:
    """bertsize sizes HF's default losses: regression (MSE) for one label,
    single-label cross-entropy for more; a problem_type asking for another is refused."""
    implied = "regression" if num_labels == 1 else "single_label_classification"
    if problem_type is not None and problem_type != implied:
        raise ValueError(f"problem_type={problem_type!r} with num_labels={num_labels} is not supported: bertsize "
                         f"sizes the {implied} loss HF chooses for {num_labels} label(s)")


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


def _reject_unmodelled(model_type: str, values: Mapping[str, object], mapping) -> None:
    for key, expected in mapping.required.items():
        if values.get(key, expected) != expected:
            raise ValueError(f"{key}={values[key]!r} is not supported (only {expected!r}, as every published "
                             f"{model_type} checkpoint)")
    pruned = values.get("pruned_heads")
    if pruned:  # a mapping of layer -> heads removed (transformers 4.x's prune_heads)
        raise ValueError(f"pruned_heads={pruned!r} is not supported yet: the checkpoint's layers have fewer heads "
                         "than num_attention_heads (transformers 5.x no longer prunes: it builds such a config "
                         "full-size and cannot load the pruned tensors), and bertsize does not size layers of "
                         "different shapes yet")
    for key, feature in _UNMODELLED_FLAGS.items():
        if _flag(key, values.get(key, False)):
            raise ValueError(f"{model_type} with {key}=true ({feature}) is not supported yet: bertsize sizes "
                             "encoders and decoder-only LMs, not encoder-decoder pairs")


def _check_head_width(values: Mapping[str, object], mapping) -> None:
    """A heads' width other than hidden / heads changes every projection's shape: refused."""
    key = mapping.head_width_key
    width = values.get(key) if key else None
    if width is None:
        return
    hidden, heads = values.get(mapping.keys["hidden"]), values.get(mapping.keys["heads"])
    if not (type(hidden) is int and type(heads) is int and heads > 0 and width == hidden // heads):
        raise ValueError(f"{key}={width!r} is not supported: bertsize models heads of hidden_size / "
                         f"num_attention_heads features ({hidden!r} / {heads!r})")


def _active(key: str, probability: object) -> bool:
    """Whether a dropout probability of the config is positive."""
    if isinstance(probability, bool) or not isinstance(probability, (int, float)):
        raise TypeError(f"{key} must be a probability, got {probability!r}")
    return probability > 0


def hf_class_name(family: str, head: str) -> str:
    """The ``transformers`` class of ``family`` with ``head``, e.g. "BertForMaskedLM"."""
    spec = FAMILIES[family]
    return spec.hf_prefix + HEADS[head].class_suffix(spec)


def to_hf_config(encoder: Encoder, num_labels: int = 2, attention: str = "eager"):
    """The ``transformers`` config object of ``encoder`` (needs transformers)."""
    import transformers

    spec = FAMILIES[encoder.family]
    fields = {key: getattr(encoder, name) for name, key in spec.config.keys.items()}
    if "embedding" in spec.config.keys:
        fields[spec.config.keys["embedding"]] = encoder.embedding_size
    for key, field_name in spec.config.same_activity.items():
        fields[key] = getattr(encoder, field_name)
    for name in spec.config.composites:
        fields.update(getattr(encoder, name).hf_keys())
    for name, gate in spec.config.gated.items():
        fields[gate] = getattr(encoder, name) > 0
        if not fields[gate]:
            fields[spec.config.keys[name]] = spec.config.defaults[spec.config.keys[name]]
    config = getattr(transformers, spec.hf_prefix + "Config")(
        **fields, num_labels=num_labels, tie_word_embeddings=encoder.tie_word_embeddings,
        is_decoder=encoder.is_decoder)
    config._attn_implementation = attention
    return config
