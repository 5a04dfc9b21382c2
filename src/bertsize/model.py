"""The architecture of a BERT-family encoder: :class:`Encoder`.

An :class:`Encoder` holds exactly the hyperparameters that change parameter counts,
FLOPs or saved activations of the matching HuggingFace ``transformers`` model.  Fields
left as ``None`` take the family's default at construction (for example
``type_vocab=None`` becomes 2 for BERT, 1 for RoBERTa and 0 for DistilBERT), so a
constructed Encoder always carries concrete values.  What each family allows is its
spec's (:mod:`bertsize.families`); the size rules are the row constraints of
:mod:`bertsize.validity`, checked here and by every other entry point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bertsize import _abi, _validate, validity
from bertsize._backend import kernel
from bertsize.disentangled import Disentangled
from bertsize.families import FAMILIES as _SPECS
from bertsize.heads import HEADS as _HEAD_SPECS

#: Supported families, in the order of the registry (:mod:`bertsize.families`).
FAMILIES = tuple(_SPECS)
#: Activation functions of the FFN (``hidden_act`` / DistilBERT's ``activation``).
#: Only the implementation matters: "gelu" is ``F.gelu`` (erf form), "gelu_new" is
#: HF's Python tanh approximation (it saves four tensors for backward), "relu" is
#: ``nn.ReLU``, "silu" is ``F.silu`` (x·sigmoid(x); nomic-bert's).
ACTIVATIONS = ("gelu", "gelu_new", "relu", "silu")
#: Heads: the HF class suffixes (:mod:`bertsize.heads`).
HEADS = tuple(_HEAD_SPECS)

_SIZE_FIELDS = ("layers", "hidden", "heads", "intermediate", "vocab", "max_positions", "type_vocab")


_CHECKERS = {name: (spec.encoder_constraints, validity.compile_checker(spec.encoder_constraints,
                                                                         validity.ENCODER_FIELDS))
             for name, spec in _SPECS.items()}


@dataclass(frozen=True, init=False)
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
        family: one of :data:`bertsize.FAMILIES`.
        hidden_groups: ALBERT only: distinct weight sets shared by the layers
            (``num_hidden_groups``); ``None`` = 1 for ALBERT.
        activation: FFN activation, one of :data:`ACTIVATIONS`; ``None`` = family default.
        hidden_dropout, attention_dropout, classifier_dropout: dropout probabilities;
            only whether each is zero matters to memory (a zero dropout saves nothing).
        tie_word_embeddings: whether the masked-LM decoder shares the word-embedding
            matrix (HF's default, and every published checkpoint); False gives the
            decoder its own weight (and BERT / RoBERTa / ALBERT their own decoder bias).
        num_labels: the classes of the classification heads when a call passes none
            (``config.num_labels``; :func:`bertsize.from_hf_config` reads it).
        is_decoder: causal self-attention for every head (HF's ``is_decoder``); the
            ``causal_lm`` head is causal either way.
        task_types: ERNIE only: rows of the task-type embedding table
            (``task_type_vocab_size`` when ``use_task_id``); 0 or ``None``: no table.
        pooling: ModernBERT only: how sequence classification and multiple choice pool
            the last hidden state (``classifier_pooling``): "cls" or "mean"; ``None``:
            the config class's default ("cls").
        local_attention: ModernBERT only: the sliding window of its local layers, in
            tokens (``local_attention``, 2 to 2**32; ``None``: 128, the config class's default).
        disentangled: DeBERTa-v2 only: its relative-position attention
            (:class:`bertsize.Disentangled`); ``None``: DeBERTa-v3's settings.
        bottleneck: MobileBERT only: the width inside its layers
            (``intra_bottleneck_size``: attention and FFNs run at it, the heads divide
            it); ``None``: 128, the config class's default.
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
    tie_word_embeddings: bool = True
    num_labels: int = 2
    is_decoder: bool = False
    task_types: int | None = None
    pooling: str | None = None
    local_attention: int | None = None
    disentangled: Disentangled | None = None
    bottleneck: int | None = None

    def __init__(self, layers=12, hidden=768, heads=12, intermediate=None, vocab=30522, max_positions=512,
                 type_vocab=None, embedding=None, pooler=None, family="bert", hidden_groups=None, activation=None,
                 hidden_dropout=None, attention_dropout=None, classifier_dropout=None, tie_word_embeddings=True,
                 num_labels=2, is_decoder=False, task_types=None, pooling=None, local_attention=None,
                 disentangled=None, bottleneck=None) -> None:
        self._resolve(layers, hidden, heads, intermediate, vocab, max_positions, type_vocab, embedding, pooler,
                      family, hidden_groups, activation, hidden_dropout, attention_dropout, classifier_dropout,
                      tie_word_embeddings, num_labels, is_decoder, task_types, pooling, local_attention, disentangled,
                      bottleneck)

    def _resolve(self, layers, hidden, heads, intermediate, vocab, max_positions, type_vocab, embedding, pooler,
                 family, hidden_groups, activation, hidden_dropout, attention_dropout, classifier_dropout,
                 tie_word_embeddings, num_labels, is_decoder, task_types, pooling, local_attention,
                 disentangled, bottleneck) -> None:
        """Validate, fill in the family's defaults, and pack (see :mod:`bertsize._abi`).
        Written for speed (an AutoML loop builds an Encoder per trial): plain checks for
        the common values, the message-producing validators for the rest."""
        spec = _SPECS.get(family) if type(family) is str else None
        if spec is None:
            _validate.choice("family", family, FAMILIES)
        defaults = spec.defaults
        if intermediate is None:
            intermediate = 4 * hidden if type(hidden) is int else hidden
        if type_vocab is None:
            type_vocab = defaults["type_vocab"]
        if not (type(layers) is int and type(hidden) is int and type(heads) is int and type(intermediate) is int
                and type(vocab) is int and type(max_positions) is int and type(type_vocab) is int):
            layers, hidden, heads, intermediate, vocab, max_positions, type_vocab = (
                _validate.integer(name, value, minimum=None) for name, value in zip(
                    _SIZE_FIELDS, (layers, hidden, heads, intermediate, vocab, max_positions, type_vocab)))
        if embedding is not None and type(embedding) is not int or embedding is not None and embedding < 1:
            embedding = _validate.integer("embedding", embedding)
        if pooler is None:
            pooler = spec.pooler and spec.base_pooler
        elif (pooler is not True and pooler is not False and _validate.flag("pooler", pooler)) or (
                pooler and not spec.pooler):
            raise ValueError(f"pooler=True is impossible for family {family!r}: its HF model has no pooler")
        elif not pooler and spec.pooler_always:
            raise ValueError(f"pooler=False is impossible for family {family!r}: its HF model always has a pooler "
                             "(no add_pooling_layer)")
        if spec.weight_sharing:
            if hidden_groups is None:
                hidden_groups = 1
            elif type(hidden_groups) is not int:
                hidden_groups = _validate.integer("hidden_groups", hidden_groups, minimum=None)
        elif hidden_groups is not None:
            raise ValueError(
                f"hidden_groups={hidden_groups!r} is ALBERT's layer sharing; family {family!r} "
                "has one weight set per layer (leave hidden_groups=None)"
            )
        if spec.bottleneck:
            if bottleneck is None:
                bottleneck = spec.bottleneck
            elif type(bottleneck) is not int:
                bottleneck = _validate.integer("bottleneck", bottleneck, minimum=None)
        elif bottleneck is not None:
            raise ValueError(f"bottleneck={bottleneck!r} is MobileBERT's intra-block width; family {family!r} has "
                             "none (leave bottleneck=None)")
        if activation is None:
            activation = defaults["activation"]
        elif type(activation) is not str or activation not in _ACTIVATION_SET:
            _validate.choice("activation", activation, ACTIVATIONS)
        if hidden_dropout is None:
            hidden_dropout = defaults["hidden_dropout"]
        elif type(hidden_dropout) is not float or not 0.0 <= hidden_dropout < 1.0:
            hidden_dropout = _validate.probability("hidden_dropout", hidden_dropout)
        if attention_dropout is None:
            attention_dropout = defaults["attention_dropout"]
        elif type(attention_dropout) is not float or not 0.0 <= attention_dropout < 1.0:
            attention_dropout = _validate.probability("attention_dropout", attention_dropout)
        if classifier_dropout is None:
            classifier_dropout = defaults["classifier_dropout"]
            classifier_dropout = hidden_dropout if classifier_dropout is None else classifier_dropout
        elif type(classifier_dropout) is not float or not 0.0 <= classifier_dropout < 1.0:
            classifier_dropout = _validate.probability("classifier_dropout", classifier_dropout)
        if tie_word_embeddings is not True and tie_word_embeddings is not False:
            tie_word_embeddings = _validate.flag("tie_word_embeddings", tie_word_embeddings)
        if type(num_labels) is not int or not 0 < num_labels <= _abi.INT64_MAX:
            num_labels = check_num_labels(num_labels)
        if is_decoder is not True and is_decoder is not False:
            is_decoder = _validate.flag("is_decoder", is_decoder)
        if is_decoder and not spec.decodes:
            raise ValueError(f"is_decoder=True is impossible for family {family!r}: its HF layers have no causal mode")
        if task_types is not None and (type(task_types) is not int or task_types < 0):
            task_types = _validate.integer("task_types", task_types, minimum=0)
        task_types = task_types or None  # 0: no table, as None
        if task_types and not spec.task_types:
            raise ValueError(f"task_types={task_types!r} is ERNIE's task-type embedding; family {family!r} has none "
                             "(leave task_types=None)")
        if pooling is not None or spec.poolings:
            if pooling is None:
                pooling = spec.poolings[0]
            elif not spec.poolings:
                raise ValueError(f"pooling={pooling!r} is ModernBERT's classifier pooling; family {family!r} "
                                 "classifies its first token or pooled output (leave pooling=None)")
            else:
                _validate.choice("pooling", pooling, spec.poolings)
        if local_attention is not None or spec.window:
            if not spec.window:
                raise ValueError(f"local_attention={local_attention!r} is ModernBERT's sliding window; family "
                                 f"{family!r} attends globally (leave local_attention=None)")
            local_attention = spec.window if local_attention is None else _validate.integer(
                "local_attention", local_attention, minimum=2)
            if local_attention > MAX_WINDOW:
                raise ValueError(f"local_attention must be at most {MAX_WINDOW:,} tokens (2**32: the flash band's "
                                 f"constants stay in int64), got {local_attention:,}")
        if disentangled is not None or spec.disentangled is not None:
            if spec.disentangled is None:
                raise ValueError(f"disentangled={disentangled!r} is DeBERTa's relative-position attention; family "
                                 f"{family!r} has none (leave disentangled=None)")
            if disentangled is None:
                disentangled = spec.disentangled
            elif type(disentangled) is not Disentangled:
                raise TypeError(f"disentangled must be a bertsize.Disentangled, got {disentangled!r} "
                                f"({type(disentangled).__name__})")
        values = (layers, hidden, heads, intermediate, vocab, max_positions, type_vocab,
                  0 if embedding is None else embedding, 1 if hidden_groups is None else hidden_groups,
                  0 if bottleneck is None else bottleneck)
        row = _abi.pack(values, validity.ENCODER_FIELDS)
        constraints, checker = _CHECKERS[family]
        bad = checker(values)
        if bad >= 0:
            raise ValueError(validity.describe(constraints[bad], values, family))
        options = (family, activation, pooler, hidden_dropout > 0, attention_dropout > 0, classifier_dropout > 0,
                   tie_word_embeddings, is_decoder, task_types or 0, pooling or "cls", local_attention or 0,
                   disentangled)
        self.__dict__.update(layers=layers, hidden=hidden, heads=heads, intermediate=intermediate, vocab=vocab,
                             max_positions=max_positions, type_vocab=type_vocab, embedding=embedding, pooler=pooler,
                             family=family, hidden_groups=hidden_groups, activation=activation,
                             hidden_dropout=hidden_dropout, attention_dropout=attention_dropout,
                             classifier_dropout=classifier_dropout, tie_word_embeddings=tie_word_embeddings,
                             num_labels=num_labels, is_decoder=is_decoder, task_types=task_types, pooling=pooling,
                             local_attention=local_attention, disentangled=disentangled, bottleneck=bottleneck,
                             _row=row, _plan_key=_abi.plan_key(options), options=options)

    # ----- pickling: the fields only (the packing is rebuilt where it lands) -----------
    def __getstate__(self) -> dict[str, object]:
        return {name: self.__dict__[name] for name in _FIELD_NAMES}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._resolve(*(state[name] for name in _FIELD_NAMES))

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
        return self.hidden_groups if _SPECS[self.family].weight_sharing else self.layers

    @property
    def max_seq_len(self) -> int:
        """Longest sequence the HF model accepts (RoBERTa reserves two position rows)."""
        return self.max_positions - _SPECS[self.family].position_offset

    def has_head(self, head: str) -> bool:
        """Whether HF has a ``<Family><head>`` class for this family."""
        _validate.choice("head", head, HEADS)
        return _HEAD_SPECS[head].exists_for(_SPECS[self.family])

    def check_head(self, head: str) -> None:
        """Raise ``ValueError`` if this family has no HF class for ``head``."""
        if not self.has_head(head):
            raise ValueError(f"head={head!r} does not exist for family {self.family!r}: HF has no "
                             f"{self.family} {_HEAD_SPECS[head].hf_suffix} class; use 'masked_lm'")

    def labels(self, num_labels: object = None) -> int:
        """The classes a call sizes: ``num_labels``, or this Encoder's when None.

        Raises:
            TypeError, ValueError, OverflowError: not an int from 1 to 2**63 - 1.
        """
        if num_labels is None:
            return self.num_labels
        if type(num_labels) is int and 0 < num_labels <= _abi.INT64_MAX:
            return num_labels
        return check_num_labels(num_labels)

    def uses_pooler(self, head: str) -> bool:
        """Whether the HF class for ``head`` runs the pooler."""
        return _HEAD_SPECS[head].runs_pooler(_SPECS[self.family], self.pooler)

    def replace(self, **changes: object) -> Encoder:
        """A copy with some fields changed (validated like a new Encoder).

        New sizes of plain ints (an AutoML loop's trials) take a short path in the
        kernel (``replace_sizes``): the other fields are this Encoder's, already
        resolved, so only the sizes are checked — against the same row constraints —
        and packed."""
        copy = kernel.replace_sizes(self, changes, _SIZE_POSITION)
        if type(copy) is Encoder:
            return copy
        if copy is not None:
            values = _abi.unpack(self._row, validity.ENCODER_FIELDS)
            values = tuple(changes.get(name, value) for name, value in zip(validity.ENCODER_FIELDS, values))
            constraints, _ = _CHECKERS[self.family]
            raise ValueError(validity.describe(constraints[copy], values, self.family))
        fields = [self.__dict__[name] for name in _FIELD_NAMES]
        for name, value in changes.items():
            position = _FIELD_POSITION.get(name)
            if position is None:
                raise TypeError(f"Encoder has no field {name!r}")
            fields[position] = value
        copy = object.__new__(Encoder)
        copy._resolve(*fields)
        return copy


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Encoder))
#: The largest sliding window (ModernBERT's local_attention): w = window / 2 keeps the flash
#: band's w (w + 1) in int64.
MAX_WINDOW = 2**32
_FIELD_POSITION = {name: position for position, name in enumerate(_FIELD_NAMES)}
#: The sizes Encoder.replace changes on its short path, and their index in the row.
_SIZE_POSITION = {name: validity.FIELD_INDEX[name] for name in _SIZE_FIELDS}
_ACTIVATION_SET = frozenset(ACTIVATIONS)


def check_num_labels(num_labels: object) -> int:
    """``num_labels`` as an int from 1 to 2**63 - 1, or the error naming it."""
    labels = _validate.integer("num_labels", num_labels)
    if labels > _abi.INT64_MAX:
        raise OverflowError(f"num_labels={labels} does not fit in int64 (at most 2**63 - 1)")
    return labels
