"""What the encoder is asked to do: :class:`Workload`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bertsize import _abi, _validate
from bertsize.validity import WORKLOAD_FIELDS

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


@dataclass(frozen=True, init=False)
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
        num_choices: multiple choice: sequences per example (``batch`` counts examples,
            each runs ``num_choices`` sequences of ``seq_len``); the other heads run one.
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
    num_choices: int = 1

    def __init__(self, batch=1, seq_len=128, training=False, precision="fp32", optimizer="adamw", attention="eager",
                 recompute="none", zero_stage=0, data_parallel=1, backend="cuda", num_choices=1) -> None:
        self._resolve(batch, seq_len, training, precision, optimizer, attention, recompute, zero_stage, data_parallel,
                      backend, num_choices)

    def _resolve(self, batch, seq_len, training, precision, optimizer, attention, recompute, zero_stage,
                 data_parallel, backend, num_choices) -> None:
        """Validate and pack (see :mod:`bertsize._abi`)."""
        if not (type(batch) is int and batch >= 1):
            batch = _validate.integer("batch", batch)
        if not (type(seq_len) is int and seq_len >= 1):
            seq_len = _validate.integer("seq_len", seq_len)
        _validate.flag("training", training)
        for name, value, allowed in (("precision", precision, PRECISIONS), ("optimizer", optimizer, OPTIMIZERS),
                                     ("attention", attention, ATTENTIONS), ("recompute", recompute, RECOMPUTES),
                                     ("backend", backend, BACKENDS)):
            if type(value) is not str or value not in allowed:
                _validate.choice(name, value, allowed)
        zero_stage = _validate.integer("zero_stage", zero_stage, minimum=0)
        if zero_stage > 3:
            raise ValueError(f"zero_stage must be 0, 1, 2 or 3, got {zero_stage}")
        data_parallel = _validate.integer("data_parallel", data_parallel)
        if training and precision in ("int8", "int4"):
            raise ValueError(f"precision={precision!r} is weight-only quantisation for inference; train in fp32, fp16 or bf16")
        if not training and recompute != "none":
            raise ValueError(f"recompute={recompute!r} only applies to training (training=True)")
        if backend == "cpu" and attention == "flash":
            raise ValueError("attention='flash' needs backend='cuda'; on CPU use 'sdpa' (PyTorch's CPU flash kernel)")
        if backend == "cpu" and recompute == "selective":
            raise ValueError("recompute='selective' is Megatron's CUDA scheme; with backend='cpu' use 'none' or 'full'")
        if type(num_choices) is not int or num_choices < 1:
            num_choices = _validate.integer("num_choices", num_choices)
        row = _abi.pack((batch, seq_len), WORKLOAD_FIELDS)
        _abi.check_int64(("data_parallel", "num_choices"), (data_parallel, num_choices))
        options = (training, precision, optimizer, attention, recompute, backend, zero_stage, data_parallel,
                   num_choices)
        self.__dict__.update(
            batch=batch, seq_len=seq_len, training=training, precision=precision, optimizer=optimizer,
            attention=attention, recompute=recompute, zero_stage=zero_stage, data_parallel=data_parallel,
            backend=backend, num_choices=num_choices, _row=row, _plan_key=_abi.plan_key(options), options=options,
        )

    def __getstate__(self) -> dict[str, object]:
        return {name: self.__dict__[name] for name in _FIELD_NAMES}

    def __setstate__(self, state: dict[str, object]) -> None:
        self._resolve(*(state[name] for name in _FIELD_NAMES))

    @property
    def mixed_precision(self) -> bool:
        """16-bit compute (fp16 / bf16) with fp32 master weights when training."""
        return self.precision in ("fp16", "bf16")

    def replace(self, **changes: object) -> Workload:
        """A copy with some fields changed (validated like a new Workload)."""
        fields = self.__dict__
        for name in changes:
            if name not in _FIELD_SET:
                raise TypeError(f"Workload has no field {name!r}")
        copy = object.__new__(Workload)
        copy._resolve(*(changes[name] if name in changes else fields[name] for name in _FIELD_NAMES))
        return copy


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Workload))
_FIELD_SET = frozenset(_FIELD_NAMES)
