"""The architecture of a BERT-family encoder: :class:`Encoder`.

An :class:`Encoder` holds exactly the hyperparameters that change parameter counts,
FLOPs or saved activations of the matching HuggingFace ``transformers`` model.  Fields
left as ``None`` take the family's default at construction (for example
``type_vocab=None`` becomes 2 for BERT, 1 for RoBERTa and 0 for DistilBERT), so a
constructed Encoder always carries concrete values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bertsize import _validate

#: Supported families, in the order ``Encoder.family_code`` numbers them (the C kernel
#: receives the code, so the order is part of the kernel ABI).
FAMILIES = ("bert", "roberta", "xlm-roberta", "distilbert", "albert", "electra")

#: Activation functions of the FFN (``hidden_act`` / DistilBERT's ``activation``).
#: Only the implementation matters: "gelu" is ``F.gelu`` (erf form), "gelu_new" is
#: HF's Python tanh approximation (it saves four tensors for backward), "relu" is
#: ``nn.ReLU``.  Order = ``Encoder.activation_code``.
ACTIVATIONS = ("gelu", "gelu_new", "relu")

#: Heads: the HF classes ``<Family>Model``, ``ForMaskedLM``, ``ForPreTraining`` and
#: ``ForSequenceClassification``.  Order = kernel head code.
HEADS = ("model", "masked_lm", "pretraining", "sequence_classification")

# Families whose factorised embedding size may differ from the hidden size.
_FACTORISED = ("albert", "electra")
# Families whose HF base model never has a pooler.
_NO_POOLER = ("distilbert", "electra")
# Families without an HF ``ForPreTraining`` class.
_NO_PRETRAINING = ("roberta", "xlm-roberta", "distilbert")
# RoBERTa numbers positions from padding_idx + 1 = 2, so two rows are never used.
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2}

_DEFAULT_TYPE_VOCAB = {"roberta": 1, "xlm-roberta": 1, "distilbert": 0}
_DEFAULT_ACTIVATION = {"albert": "gelu_new"}
# ALBERT v2 trains without dropout; DistilBERT's classifier uses seq_classif_dropout.
_DEFAULT_DROPOUT = {"albert": 0.0}
_DEFAULT_CLASSIFIER_DROPOUT = {"albert": 0.1, "distilbert": 0.2}


@dataclass(frozen=True)
class Encoder:
    """Architecture hyperparameters of a BERT-family encoder.

    Sizes are counts (layers, features, tokens), never bytes.

    Attributes:
        layers: transformer layers executed (``num_hidden_layers`` / ``n_layers``).
        hidden: hidden size (``hidden_size`` / ``dim``).
        heads: attention heads; must divide ``hidden``.
        intermediate: FFN inner size; ``None`` means ``4 * hidden``.
        vocab: vocabulary size (rows of the word-embedding matrix).
        max_positions: rows of the position-embedding matrix.
        type_vocab: token-type (segment) embeddings; ``None`` = family default
            (2; RoBERTa / XLM-R 1; DistilBERT 0 — it has no segment embeddings).
        embedding: factorised embedding size of ALBERT / ELECTRA; ``None`` = ``hidden``.
        pooler: whether ``head="model"`` includes the pooler (``add_pooling_layer``);
            ``None`` = family default (DistilBERT and ELECTRA have none).  The other
            heads always build what their HF class builds.
        family: one of :data:`FAMILIES`.
        hidden_groups: ALBERT only: distinct weight sets shared by the layers
            (``num_hidden_groups``); ``None`` = 1 for ALBERT.
        activation: FFN activation, one of :data:`ACTIVATIONS`; ``None`` = family default.
        hidden_dropout, attention_dropout, classifier_dropout: dropout probabilities;
            only whether each is zero matters to memory (a zero dropout saves nothing).
    """

    layers: int = 12
    hidden: int = 768
    heads: int = 12
    intermediate: int | None = None
    vocab: int = 30522
    max_positions: int = 512
    type_vocab: int | None = None
    embedding: int | None = None
    pooler: bool | None = None
    family: str = "bert"
    hidden_groups: int | None = None
    activation: str | None = None
    hidden_dropout: float | None = None
    attention_dropout: float | None = None
    classifier_dropout: float | None = None

    def __post_init__(self) -> None:
        family = _validate.choice("family", self.family, FAMILIES)
        resolved: dict[str, object] = {}
        for name in ("layers", "hidden", "heads", "vocab", "max_positions"):
            resolved[name] = _validate.integer(name, getattr(self, name))
        hidden = resolved["hidden"]
        if hidden % resolved["heads"]:
            raise ValueError(
                f"heads={resolved['heads']} does not divide hidden={hidden}: "
                "every attention head needs hidden / heads features"
            )
        intermediate = 4 * hidden if self.intermediate is None else self.intermediate
        resolved["intermediate"] = _validate.integer("intermediate", intermediate)

        type_vocab = _DEFAULT_TYPE_VOCAB.get(family, 2) if self.type_vocab is None else self.type_vocab
        if family == "distilbert":
            resolved["type_vocab"] = _validate.integer("type_vocab", type_vocab, minimum=0)
            if resolved["type_vocab"]:
                raise ValueError(f"type_vocab must be 0 for family 'distilbert' (it has no segment embeddings), got {type_vocab}")
        else:
            # HF builds BertConfig(type_vocab_size=0) but cannot run a forward with it.
            resolved["type_vocab"] = _validate.integer("type_vocab", type_vocab)

        if self.embedding is not None:
            embedding = _validate.integer("embedding", self.embedding)
            if family not in _FACTORISED and embedding != hidden:
                raise ValueError(
                    f"embedding={embedding} differs from hidden={hidden}, but only ALBERT and ELECTRA "
                    f"factorise their embeddings (family {family!r}); leave embedding=None"
                )
            resolved["embedding"] = embedding

        default_pooler = family not in _NO_POOLER
        pooler = default_pooler if self.pooler is None else _validate.flag("pooler", self.pooler)
        if pooler and not default_pooler:
            raise ValueError(f"pooler=True is impossible for family {family!r}: its HF model has no pooler")
        resolved["pooler"] = pooler

        if family == "albert":
            groups = 1 if self.hidden_groups is None else self.hidden_groups
            resolved["hidden_groups"] = _validate.integer("hidden_groups", groups)
        elif self.hidden_groups is not None:
            raise ValueError(
                f"hidden_groups={self.hidden_groups!r} is ALBERT's layer sharing; family {family!r} "
                "has one weight set per layer (leave hidden_groups=None)"
            )

        activation = _DEFAULT_ACTIVATION.get(family, "gelu") if self.activation is None else self.activation
        resolved["activation"] = _validate.choice("activation", activation, ACTIVATIONS)

        dropout = _DEFAULT_DROPOUT.get(family, 0.1)
        for name in ("hidden_dropout", "attention_dropout"):
            value = dropout if getattr(self, name) is None else getattr(self, name)
            resolved[name] = _validate.probability(name, value)
        classifier = self.classifier_dropout
        if classifier is None:
            classifier = _DEFAULT_CLASSIFIER_DROPOUT.get(family, resolved["hidden_dropout"])
        resolved["classifier_dropout"] = _validate.probability("classifier_dropout", classifier)

        for name, value in resolved.items():
            object.__setattr__(self, name, value)

    # ----- derived sizes -------------------------------------------------------------
    @property
    def embedding_size(self) -> int:
        """Width of the embedding tables (``embedding`` or, when None, ``hidden``)."""
        return self.hidden if self.embedding is None else self.embedding

    @property
    def head_dim(self) -> int:
        """Features per attention head, ``hidden // heads``."""
        return self.hidden // self.heads

    @property
    def weight_sets(self) -> int:
        """Distinct transformer-layer weight sets: ``layers``, or ALBERT's ``hidden_groups``."""
        return self.hidden_groups if self.family == "albert" else self.layers

    @property
    def max_seq_len(self) -> int:
        """Longest sequence the HF model accepts (RoBERTa reserves two position rows)."""
        return self.max_positions - _POSITION_OFFSET.get(self.family, 0)

    @property
    def projects_embeddings(self) -> bool:
        """True when a Linear maps the embeddings to the hidden size (ALBERT always;
        ELECTRA when ``embedding != hidden``)."""
        return self.family == "albert" or (self.family == "electra" and self.embedding_size != self.hidden)

    def has_head(self, head: str) -> bool:
        """Whether HF has a ``<Family><head>`` class for this family."""
        _validate.choice("head", head, HEADS)
        return not (head == "pretraining" and self.family in _NO_PRETRAINING)

    def check_head(self, head: str) -> None:
        """Raise ``ValueError`` if this family has no HF class for ``head``."""
        if not self.has_head(head):
            raise ValueError(
                f"head={head!r} does not exist for family {self.family!r}: HF has no "
                f"{self.family} ForPreTraining class; use 'masked_lm'"
            )

    def uses_pooler(self, head: str) -> bool:
        """Whether the HF class for ``head`` runs the pooler."""
        if head == "model":
            return self.pooler
        if head == "masked_lm":
            return False
        return self.family in ("bert", "albert")

    def replace(self, **changes: object) -> Encoder:
        """A copy with some fields changed (validated like a new Encoder)."""
        return dataclasses.replace(self, **changes)
