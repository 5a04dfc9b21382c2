"""DeBERTa-v2's settings beyond its sizes: :class:`Disentangled`.

DeBERTa (He et al. 2021, arXiv:2006.03654; v3: arXiv:2111.09543) scores each (query,
key) pair by content and by relative position.  A table of ``2 x span`` relative-position
embeddings is projected through every layer's query / key projections (a cost that does
not depend on the batch or the sequence length), and two products read it:
content-to-position (c2p: the queries against the projected positions) and
position-to-content (p2c: the keys against them), each gathered to (s, s) and added to
the scores.  DeBERTa-v2 xlarge and xxlarge also convolve the first layer's output
along the sequence.  These settings change parameters, FLOPs and saved tensors; they are
one value of :attr:`bertsize.Encoder.disentangled` and travel with the plan's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bertsize import _validate

#: The largest span: 2 x span rows and their projections stay far inside int64.
MAX_SPAN = 2**32
#: The largest convolution kernel (its FLOPs' constant stays far inside int64).
MAX_KERNEL = 2**16 - 1
#: ``conv_act``: what ACT2FN applies after the convolution ("gelu": the erf form).
CONV_ACTIVATIONS = ("tanh", "gelu", "gelu_new", "relu")
_KINDS = ("c2p", "p2c")


@dataclass(frozen=True)
class Disentangled:
    """How a DeBERTa-v2 / v3 model attends to relative positions (HF's keys in brackets).

    Attributes:
        span: relative distances each side of a token, in positions: the model has
            ``2 x span`` relative-position embeddings (``position_buckets`` when
            positive, else ``max_relative_positions``, else ``max_position_embeddings``).
        c2p, p2c: whether the content-to-position / position-to-content terms are
            scored (``pos_att_type``: "p2c|c2p" in every published checkpoint).
        share_att_key: the positions are projected by the layer's own query and key
            projections (``share_att_key``, DeBERTa-v3); otherwise each scored term has
            its own projection (``pos_key_proj`` for c2p, ``pos_query_proj`` for p2c).
        norm_rel_ebd: a LayerNorm on the relative-position embeddings (``norm_rel_ebd``
            "layer_norm"), applied once per forward.
        position_biased_input: an absolute position table added to the embeddings
            (``position_biased_input``; DeBERTa-v3 has none).
        conv_kernel_size: the kernel of the convolution DeBERTa-v2 applies to the first
            layer's output (``ConvLayer``: Conv1d over the embeddings, its activation,
            a residual add with the layer's output, a LayerNorm); odd, 0 for none.
        conv_act: its activation (``conv_act``), one of :data:`CONV_ACTIVATIONS`.

    The defaults are DeBERTa-v3's (every microsoft/deberta-v3-* config).
    """

    span: int = 256
    c2p: bool = True
    p2c: bool = True
    share_att_key: bool = True
    norm_rel_ebd: bool = True
    position_biased_input: bool = False
    conv_kernel_size: int = 0
    conv_act: str = "tanh"

    def __post_init__(self) -> None:
        span = _validate.integer("Disentangled.span", self.span)
        if span > MAX_SPAN:
            raise ValueError(f"Disentangled.span must be at most {MAX_SPAN:,} (2**32) positions, got {span:,}")
        for name in ("c2p", "p2c", "share_att_key", "norm_rel_ebd", "position_biased_input"):
            _validate.flag(f"Disentangled.{name}", getattr(self, name))
        if not (self.c2p or self.p2c):
            raise ValueError("Disentangled needs c2p, p2c or both (pos_att_type): without either DeBERTa still "
                             "projects its positions and discards them, which bertsize does not model")
        kernel = _validate.integer("Disentangled.conv_kernel_size", self.conv_kernel_size, minimum=0)
        if kernel > MAX_KERNEL or (kernel and kernel % 2 == 0):
            raise ValueError(f"Disentangled.conv_kernel_size must be 0 or odd up to {MAX_KERNEL} (HF pads "
                             f"(k - 1) // 2 each side: an even kernel shortens the sequence), got {kernel}")
        _validate.choice("Disentangled.conv_act", self.conv_act, CONV_ACTIVATIONS)
        if self.share_att_key and not (self.c2p and self.p2c):
            raise ValueError("Disentangled(share_att_key=True) scores both c2p and p2c: with shared keys HF "
                             "projects the positions for both terms whichever pos_att_type names, and bertsize "
                             "does not model the unused projection")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The scored position terms, in HF's order of evaluation ("c2p", then "p2c")."""
        return tuple(kind for kind in _KINDS if getattr(self, kind))

    @classmethod
    def from_hf(cls, values: Mapping[str, object]) -> Disentangled:
        """The settings of a DebertaV2Config's keys (``values``: the config's dict over
        the config class's defaults), read as ``DisentangledSelfAttention`` reads them."""
        width = values.get("attention_head_size")
        heads, hidden = values.get("num_attention_heads"), values.get("hidden_size")
        if width is not None and (type(width) is not int or type(heads) is not int or width * heads != hidden):
            raise ValueError(f"attention_head_size={width!r} is not supported: bertsize models heads of "
                             "hidden_size / num_attention_heads features")
        buckets = values.get("position_buckets", -1)
        relative = values.get("max_relative_positions", -1)
        for key, value in (("position_buckets", buckets), ("max_relative_positions", relative)):
            _validate.integer(key, value, minimum=None)
        span = buckets if buckets > 0 else relative if relative >= 1 else values.get("max_position_embeddings")
        kinds = values.get("pos_att_type") or []
        if isinstance(kinds, str):
            kinds = [kind.strip() for kind in kinds.lower().split("|")]
        elif not isinstance(kinds, (list, tuple)):
            raise TypeError(f"pos_att_type must be a string like 'p2c|c2p' or a list of terms, got {kinds!r}")
        unknown = [kind for kind in kinds if kind not in _KINDS]
        if unknown:
            raise ValueError(f"pos_att_type names {unknown[0]!r}; DeBERTa-v2 scores 'c2p' and 'p2c'")
        norm = values.get("norm_rel_ebd", "none")
        if not isinstance(norm, str):
            raise TypeError(f"norm_rel_ebd must be a string like 'layer_norm' or 'none', got {norm!r}")
        norm = [part.strip() for part in norm.lower().split("|")]
        return cls(span=span, c2p="c2p" in kinds, p2c="p2c" in kinds,
                   share_att_key=values.get("share_att_key", False), norm_rel_ebd="layer_norm" in norm,
                   position_biased_input=values.get("position_biased_input", True),
                   conv_kernel_size=values.get("conv_kernel_size", 0), conv_act=values.get("conv_act", "tanh"))

    def hf_keys(self) -> dict[str, object]:
        """The DebertaV2Config keys that build these settings: the span as
        ``position_buckets`` (HF's log buckets need two at least; a span of 1 is
        ``max_relative_positions``, unbucketed — the same sizes)."""
        buckets = self.span >= 2
        return {"relative_attention": True, "position_buckets": self.span if buckets else -1,
                "max_relative_positions": -1 if buckets else self.span,
                "pos_att_type": "|".join(reversed(self.kinds)), "share_att_key": self.share_att_key,
                "norm_rel_ebd": "layer_norm" if self.norm_rel_ebd else "none",
                "position_biased_input": self.position_biased_input, "conv_kernel_size": self.conv_kernel_size,
                "conv_act": self.conv_act}
