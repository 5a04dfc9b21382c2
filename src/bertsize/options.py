"""The option set of a call: everything but the sizes.

One :class:`Options` value keys one compiled plan (:mod:`bertsize.program`): the family
and head, the encoder's flags, and the workload's choices.  Choices that cannot change a
number are normalised away (the optimizer of an inference, the ranks without ZeRO), so
that calls which cost the same share a plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from bertsize.disentangled import Disentangled
from bertsize.families import FAMILIES
from bertsize.heads import HEADS


@dataclass(frozen=True)
class Options:
    """What a plan is compiled for.

    Attributes:
        family, head: names (:data:`bertsize.FAMILIES`, :data:`bertsize.HEADS`).
        activation: the FFN activation.
        pooler: whether the head's HF class runs the pooler.
        hidden_dropout, attention_dropout, classifier_dropout: whether each dropout has
            a positive probability (a zero dropout saves and costs nothing).
        tied_embeddings: whether the masked-LM decoder is the word-embedding matrix.
        causal: causal self-attention (the encoder's is_decoder, or a causal head).
        training, precision, optimizer, attention, recompute, backend, zero_stage,
        data_parallel, num_choices: the :class:`~bertsize.Workload` choices
            (num_choices is 1 for heads that run one sequence per example).
        task_types: ERNIE's task-type table rows (0: none) — a size, but a structural
            constant of a model (one plan per value, as num_choices).
        pooling: what ModernBERT's classifiers pool, "cls" or "mean" (Encoder.pooling).
        window: ModernBERT's sliding window in tokens (Encoder.local_attention; 0: none).
        disentangled: DeBERTa's relative-position attention (Encoder.disentangled).
    """

    family: str
    head: str
    activation: str
    pooler: bool
    hidden_dropout: bool
    attention_dropout: bool
    classifier_dropout: bool
    tied_embeddings: bool
    causal: bool
    training: bool
    precision: str
    optimizer: str
    attention: str
    recompute: str
    backend: str
    zero_stage: int
    data_parallel: int
    num_choices: int = 1
    task_types: int = 0
    pooling: str = "cls"
    window: int = 0
    disentangled: Disentangled | None = None

    @classmethod
    def of(cls, encoder_options: tuple, workload_options: tuple, head: str) -> Options:
        """From an Encoder's and a Workload's ``options`` tuples and a head name."""
        (family, activation, pooler, hidden, attention_dropout, classifier, tied, decoder, tasks, pooling,
         window, disentangled) = encoder_options
        training, precision, optimizer, attention, recompute, backend, zero_stage, ranks, choices = workload_options
        if not HEADS[head].per_choice:
            choices = 1
        spec = FAMILIES[family]
        if attention not in spec.attentions:
            raise ValueError(f"attention={attention!r}: family {family!r} runs only "
                             f"{', '.join(map(repr, spec.attentions))} attention {spec.attentions_why}")
        if training and recompute == "full" and not spec.gradient_checkpointing:
            raise ValueError(f"recompute='full': family {family!r}'s HF classes do not support gradient "
                             "checkpointing")
        runs_pooler = HEADS[head].runs_pooler(spec, pooler)
        causal = decoder or HEADS[head].causal
        if not training:  # no optimizer, no gradients, no dropout
            optimizer, hidden, attention_dropout, classifier = "adamw", False, False, False
        if zero_stage == 0 and not training:  # replicas then share nothing: one plan for any count
            ranks = 1
        return cls(family, head, activation, runs_pooler, hidden, attention_dropout, classifier, tied, causal, training,
                   precision, optimizer, attention, recompute, backend, zero_stage, ranks, choices, tasks, pooling, window,
                   disentangled)

    @property
    def mixed_precision(self) -> bool:
        return self.precision in ("fp16", "bf16")
