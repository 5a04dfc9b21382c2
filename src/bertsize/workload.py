"""What the encoder is asked to do: :class:`Workload`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bertsize import _validate

#: Numeric formats.  fp16 / bf16 mean mixed precision when training; int8 / int4 are
#: weight-only quantisation for inference (activations in fp16).  Order = kernel code.
PRECISIONS = ("fp32", "fp16", "bf16", "int8", "int4")
#: Optimizers; memory per parameter is documented in :mod:`bertsize.states`.
OPTIMIZERS = ("adamw", "adam", "sgd", "sgd_momentum", "adafactor", "adamw_8bit")
#: Attention implementations: HF ``attn_implementation`` "eager", "sdpa", or a fused
#: FlashAttention kernel ("flash", CUDA only).
ATTENTIONS = ("eager", "sdpa", "flash")
#: Activation recomputation (Korthikanti et al. 2022): none, selective (the attention
#: core), full (every layer keeps only its input).
RECOMPUTES = ("none", "selective", "full")
#: Memory accounting: "cuda" follows Korthikanti et al. 2022 (16-bit activations,
#: 1-byte dropout masks); "cpu" is byte-exactly what PyTorch on CPU saves.
BACKENDS = ("cuda", "cpu")


@dataclass(frozen=True)
class Workload:
    """One forward (inference) or training step of a batch.

    Attributes:
        batch: sequences per step (per data-parallel rank).
        seq_len: tokens per sequence (no padding: every position is attended).
        training: a training step (forward + backward + optimizer) instead of a forward.
        precision: one of :data:`PRECISIONS`.
        optimizer: one of :data:`OPTIMIZERS` (training only).
        attention: one of :data:`ATTENTIONS`.
        recompute: one of :data:`RECOMPUTES` (training only).
        zero_stage: ZeRO stage 0-3 (Rajbhandari et al. 2020): 1 partitions optimizer
            state, 2 also gradients, 3 also weights over ``data_parallel`` ranks.
        data_parallel: data-parallel ranks; figures are per rank.
        backend: one of :data:`BACKENDS`.
    """

    batch: int = 1
    seq_len: int = 128
    training: bool = False
    precision: str = "fp32"
    optimizer: str = "adamw"
    attention: str = "eager"
    recompute: str = "none"
    zero_stage: int = 0
    data_parallel: int = 1
    backend: str = "cuda"

    def __post_init__(self) -> None:
        object.__setattr__(self, "batch", _validate.integer("batch", self.batch))
        object.__setattr__(self, "seq_len", _validate.integer("seq_len", self.seq_len))
        _validate.flag("training", self.training)
        _validate.choice("precision", self.precision, PRECISIONS)
        _validate.choice("optimizer", self.optimizer, OPTIMIZERS)
        _validate.choice("attention", self.attention, ATTENTIONS)
        _validate.choice("recompute", self.recompute, RECOMPUTES)
        _validate.choice("backend", self.backend, BACKENDS)
        stage = _validate.integer("zero_stage", self.zero_stage, minimum=0)
        if stage > 3:
            raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {stage}")
        object.__setattr__(self, "zero_stage", stage)
        object.__setattr__(self, "data_parallel", _validate.integer("data_parallel", self.data_parallel))
        if self.training and self.precision in ("int8", "int4"):
            raise ValueError(f"precision={self.precision!r} is weight-only quantisation for inference; train in fp32, fp16 or bf16")
        if not self.training and self.recompute != "none":
            raise ValueError(f"recompute={self.recompute!r} only applies to training (training=True)")
        if self.backend == "cpu" and self.attention == "flash":
            raise ValueError("attention='flash' needs backend='cuda'; on CPU use 'sdpa' (PyTorch's CPU flash kernel)")
        if self.backend == "cpu" and self.recompute == "selective":
            raise ValueError("recompute='selective' is Megatron's CUDA scheme; with backend='cpu' use 'none' or 'full'")

    @property
    def mixed_precision(self) -> bool:
        """16-bit compute (fp16 / bf16) with fp32 master weights when training."""
        return self.precision in ("fp16", "bf16")

    def replace(self, **changes: object) -> Workload:
        """A copy with some fields changed (validated like a new Workload)."""
        return dataclasses.replace(self, **changes)
