"""What a family spec holds: :class:`Family`, its HF config mapping and its presets."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from bertsize import validity
from bertsize.disentangled import Disentangled
from bertsize.heads import PooledClassifier, SpanClassifier, TokenClassifier
from bertsize.validity import Constraint


@dataclass(frozen=True)
class HFConfig:
    """How a transformers config of this family reads into Encoder fields.

    Attributes:
        model_types: the ``model_type`` values of the family's configs.
        keys: Encoder field -> config key (fields without a key take the family's
            default, or are absent: DistilBERT has no ``type_vocab_size``).
        aliases: the config class's ``attribute_map``: alias key -> the key it sets.
        defaults: the config class's defaults, in its own key names (transformers 5.x).
        required: keys that must hold one value (what bertsize does not model yet).
        same_activity: dropout key -> the Encoder field that stands for it too: both
            must be zero or both positive.
        gated: Encoder field -> the flag key without which the field's key is not
            read (the field is 0 then: ERNIE's ``task_type_vocab_size`` under
            ``use_task_id``).
        composites: Encoder field -> the class of its value, which reads it from
            several keys (``from_hf(values)``) and writes them back (``hf_keys()``):
            DeBERTa's :class:`~bertsize.Disentangled`.
        head_width_key: the key of the heads' width, which must be hidden / heads
            when set (nomic-bert's ``head_dim``); None where the config has none.
    """

    model_types: tuple[str, ...]
    keys: Mapping[str, str]
    defaults: Mapping[str, object]
    aliases: Mapping[str, str] = field(default_factory=dict)
    required: Mapping[str, object] = field(default_factory=dict)
    same_activity: Mapping[str, str] = field(default_factory=dict)
    gated: Mapping[str, str] = field(default_factory=dict)
    composites: Mapping[str, type] = field(default_factory=dict)
    head_width_key: str | None = None


@dataclass(frozen=True)
class Preset:
    """A published checkpoint: its hub name, other names, Encoder fields and source."""

    name: str
    fields: Mapping[str, object]
    source: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """Everything particular to one family of HF encoders.

    Architecture traits (what the recipe, :mod:`bertsize.recipe`, asks):
        token_types: a token-type (segment) embedding table (DeBERTa-v2's exists
            when type_vocab > 0).
        position_offset: position rows the model never uses (RoBERTa numbers positions
            from padding_idx + 1 = 2).
        projection: a Linear from the embedding width to hidden after the embeddings:
            "never", "always" (ALBERT) or "when_widths_differ" (ELECTRA).
        weight_sharing: ALBERT: ``hidden_groups`` weight sets shared by the layers.
        norm_position: "post" (BERT: a LayerNorm after each residual add) or "pre"
            (a LayerNorm before the attention and before the FFN, inside the residual
            branch, and one after the last layer: Megatron-BERT, XLM-R XL).
        embedding_norm: a LayerNorm on the embeddings (pre-LN Megatron-BERT and XLM-R
            XL have none).
        attentions: the attention implementations its HF classes accept
            (``config._attn_implementation``; Megatron-BERT's and MPNet's only eager),
            and ``attentions_why`` ends the refusal of another.
        gradient_checkpointing: whether its HF classes checkpoint layers (MPNet's cannot:
            ``recompute="full"`` is refused).
        relative_bias_buckets: buckets of a relative-position bias shared by every layer
            (MPNet: 32), 0 for none.
        task_types: the embeddings may have a task-type table (ERNIE's ``use_task_id``;
            its rows are :attr:`Encoder.task_types`).
        layout: "bert" (the recipe's BERT embeddings and layers, with the traits above),
            "modern" (ModernBERT's: :func:`bertsize.recipe.modernbert_encoder`),
            "deberta" (:func:`bertsize.recipe.deberta_encoder`) or "mobile"
            (:func:`bertsize.recipe.mobilebert_encoder`).
        head_width: the features of a head where the layout fixes it (ModernBERT's RoPE
            tables: 64), 0 where it is hidden / heads.
        poolings: the ``classifier_pooling`` choices of its classifiers, default first
            (ModernBERT: "cls", "mean"); empty where the first token or the pooler is read.
        window: the default sliding window of local-attention layers, in tokens
            (ModernBERT's ``local_attention``: 128); 0 where every layer is global.
        disentangled: the default :class:`~bertsize.Disentangled` settings of a
            family with disentangled attention (DeBERTa-v2 / v3, layout "deberta");
            None for the others.
        attention_output_dropout, ffn_output_dropout: dropout after the attention
            output projection / the FFN (DistilBERT has none after the first; ALBERT
            defines the second and never applies it).
        pooler: the base model can have a pooler (``add_pooling_layer``);
            base_pooler: whether the base model class builds it by default (nomic-bert's
            does not; its sequence classifier does); pooler_always: the base model
            always builds and runs it (SqueezeBERT's has no ``add_pooling_layer``), so
            every head pays for it, forward only where the head does not read it.
        conv_groups: the layers' projections that are 1 x 1 convolutions, recipe name ->
            groups (SqueezeBERT's grouped ``nn.Conv1d``); empty where they are Linears.
        span_kernel: ConvBERT's mixed attention (``conv_kernel_size``: 9): heads /
            ``span_head_ratio`` heads (``head_ratio``: 2) attend at hidden / heads
            features each, and a span-based dynamic convolution of that kernel makes the
            rest of the context; 0 for plain self-attention.
        rotary: RoPE instead of a position table: cos / sin tables (s x head_width)
            computed once a forward rotate every layer's q and k, in the dtype the
            operands promote to (Llama's ``apply_rotary_pos_emb``: nomic-bert,
            Jina v3); ``head_width`` fixes the heads' width.
        linear_bias: the layers' Linears have biases (nomic-bert's have none).
        bottleneck: the default width inside the layers of a family whose layers
            narrow the hidden state (MobileBERT's ``intra_bottleneck_size``: 128), 0
            for the others (their rows' ``bottleneck`` is 0).
        feedforward_networks: the FFNs a layer stacks (MobileBERT's
            ``num_feedforward_networks``: 4); 1 for the others.
        glu: the FFN is a GLU of two Linears, ``down(act(gate(x)) * up(x))`` (nomic-bert's
            SwiGLU), instead of intermediate -> activation -> output.
        masked_lm: the masked-LM head's body; classifier: the sequence-classification
            body; pretraining: the ForPreTraining objective, None without that class;
            token_classifier, span_classifier: the token-classification and
            question-answering bodies (None without a ForQuestionAnswering class);
            next_sentence: the ForNextSentencePrediction objective, None without that
            class; choice_classifier: the multiple-choice body (one score per sequence;
            None without a ForMultipleChoice class); causal_lm_suffix: the class
            suffix of the decoder LM (``LMHeadModel`` for BERT), None without one.
    Defaults of Encoder fields left None: ``defaults`` (type_vocab, activation,
    hidden_dropout, attention_dropout; classifier_dropout None = the hidden dropout).
    """

    name: str
    hf_prefix: str
    config: HFConfig
    presets: tuple[Preset, ...]
    constraints: tuple[Constraint, ...]
    masked_lm: object
    classifier: object
    pretraining: object | None
    defaults: Mapping[str, object]
    token_types: bool = True
    position_offset: int = 0
    projection: str = "never"
    weight_sharing: bool = False
    norm_position: str = "post"
    embedding_norm: bool = True
    attentions: tuple[str, ...] = ("eager", "sdpa", "flash")
    attentions_why: str = "in HF"
    gradient_checkpointing: bool = True
    relative_bias_buckets: int = 0
    task_types: bool = False
    layout: str = "bert"
    head_width: int = 0
    poolings: tuple[str, ...] = ()
    window: int = 0
    disentangled: Disentangled | None = None
    attention_output_dropout: bool = True
    ffn_output_dropout: bool = True
    pooler: bool = True
    base_pooler: bool = True
    pooler_always: bool = False
    conv_groups: Mapping[str, int] = field(default_factory=dict)
    span_kernel: int = 0
    span_head_ratio: int = 1
    rotary: bool = False
    linear_bias: bool = True
    glu: bool = False
    bottleneck: int = 0
    feedforward_networks: int = 1
    token_classifier: TokenClassifier = TokenClassifier()
    span_classifier: SpanClassifier | None = SpanClassifier()
    next_sentence: object | None = None
    choice_classifier: object | None = PooledClassifier()
    causal_lm_suffix: str | None = None

    @property
    def factorised(self) -> bool:
        """Whether the embedding width may differ from hidden."""
        return self.projection != "never"

    @property
    def decodes(self) -> bool:
        """Whether its HF layers honour ``is_decoder`` (exactly the families with a
        decoder LM class; DistilBERT's and ALBERT's ignore the key)."""
        return self.causal_lm_suffix is not None

    @functools.cached_property
    def row_constraints(self) -> tuple[Constraint, ...]:
        """Every constraint on this family's rows, in the order they are reported."""
        return validity.row_constraints(self.constraints, self.position_offset)

    @functools.cached_property
    def encoder_constraints(self) -> tuple[Constraint, ...]:
        """The row constraints that read an Encoder's fields only (what an Encoder can
        check on its own, before a workload is known)."""
        return tuple(c for c in self.row_constraints if {c.field, c.other} <= {*validity.ENCODER_FIELDS, None})
