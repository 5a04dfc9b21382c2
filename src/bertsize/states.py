"""Model states: bytes of weights, gradients and optimizer state, tensor by tensor.

The rules, over the parameter inventory the recipe registers (:class:`Parameter` rows),
in any number domain of :mod:`bertsize.tracer`:

Training, ``backend="cuda"`` (the ZeRO paper's accounting, Rajbhandari et al. 2020, §3.1):

* fp32: weights 4, gradients 4 bytes per parameter.
* fp16 / bf16 mixed precision: 16-bit weights 2 and gradients 2 bytes per parameter;
  the optimizer also keeps an fp32 master copy (4 bytes).  With Adam that is the
  paper's 2 + 2 + 12 = 16 bytes per parameter.

Training, ``backend="cpu"`` (``torch.autocast`` on fp32 parameters, what PyTorch does):

* fp32 parameters 4 and gradients 4 bytes per parameter and no master copy; in
  mixed precision autocast also keeps a 16-bit copy of every matmul weight it casts
  (2 bytes per element), saved for backward: counted as weight bytes.

Optimizer state per parameter tensor of n elements (shape r×c when 2-D):

* adam, adamw: exp_avg + exp_avg_sq, fp32: 8n.
* sgd: none.  sgd_momentum: the momentum buffer: 4n.
* adafactor (HF ``transformers.optimization.Adafactor`` defaults, ``beta1=None``):
  factored second moment, 4(r + c) for a matrix (4·o·(r + c) for an o x r x c tensor:
  a convolution's weight), 4n for a vector.
* adamw_8bit (bitsandbytes ``AdamW8bit``): tensors with n ≥ 4096 keep two uint8 states
  plus two fp32 absmax per block of 256: 2n + 8·⌈n/256⌉; smaller tensors keep 32-bit
  states: 8n.

ZeRO stage 1 partitions the optimizer state, stage 2 also the gradients, stage 3 also
the weights over ``data_parallel`` ranks (:func:`per_rank_bytes`: each rank holds
⌈total / ranks⌉ bytes).

Inference: weights only — fp32 4, fp16 / bf16 2 bytes per parameter; int8 (LLM.int8)
stores each ``nn.Linear`` weight as 1 byte per element plus one fp32 scale per output
row; int4 (NF4, block 64, no double quantisation) as ⌈n/2⌉ bytes plus one fp32 absmax per
block of 64.  Embeddings (including the tied decoder), LayerNorms and biases stay fp16.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bertsize.tracer import Exact, Parameter

EIGHT_BIT_MIN_SIZE = 4096  # bitsandbytes min_8bit_size
EIGHT_BIT_BLOCK = 256  # bitsandbytes block-wise optimizer quantisation
NF4_BLOCK = 64  # bitsandbytes Params4bit default blocksize
#: ZeRO stage from which each state is partitioned over the data-parallel ranks.
PARTITIONED_FROM = {"weights": 3, "grads": 2, "optimizer": 1}


@dataclass(frozen=True)
class ModelStates:
    """Per-rank bytes of weights, gradients and optimizer state."""

    weight_bytes: object
    grad_bytes: object
    optimizer_bytes: object

    @property
    def total(self):
        return self.weight_bytes + self.grad_bytes + self.optimizer_bytes


def replica_bytes(state: str, params: Iterable[Parameter], options, num, autocast_copy_elements=0):
    """Bytes of ``state`` ("weights", "grads" or "optimizer") in one replica, before ZeRO.

    Args:
        params: the parameter inventory (tied tensors once).
        options: a :class:`~bertsize.options.Options` (or anything with the workload's
            fields: training, precision, optimizer, backend, zero_stage, data_parallel).
        num: the number domain.
        autocast_copy_elements: elements of the matmul weights that CPU autocast casts
            to 16 bits (counted only for ``backend="cpu"`` mixed-precision training).
    """
    if not options.training:
        if state != "weights":
            return 0
        return sum((p.count * _inference_weight_bytes(p, options.precision, num) for p in params), 0)
    # a parameter the forward never reads gets no gradient and no optimizer state
    trained = [p for p in params if p.kind != "unused"]
    count = sum((p.total for p in trained), 0)
    cuda_mixed = _cuda_mixed(options)
    if state == "grads":
        return (2 if cuda_mixed else 4) * count
    if state == "weights":
        every = sum((p.total for p in params), 0)
        if cuda_mixed:
            return 2 * every
        cpu_mixed = options.precision in ("fp16", "bf16")
        return 4 * every + (2 * autocast_copy_elements if cpu_mixed else 0)
    master = 4 * count if cuda_mixed else 0
    return sum((p.count * _optimizer_state_bytes(p, options.optimizer, num) for p in trained), master)


def exchanged_bytes(params: Iterable[Parameter], options, num) -> tuple:
    """What data-parallel ranks exchange of one replica, in bytes: its gradients (as the
    replica holds them) and its weights (in the dtype the model computes in: the 16-bit
    copy under CUDA mixed precision, else fp32; autocast's copies stay local)."""
    params = list(params)
    grads = replica_bytes("grads", params, options, num)
    return grads, (2 if _cuda_mixed(options) else 4) * sum((p.total for p in params), 0)


def _cuda_mixed(options) -> bool:
    """16-bit weights and gradients beside fp32 master weights (the ZeRO paper's
    accounting); CPU autocast keeps fp32 parameters instead."""
    return options.precision in ("fp16", "bf16") and options.backend != "cpu"


def per_rank_bytes(state: str, params: Iterable[Parameter], options, num, autocast_copy_elements=0):
    """One rank's bytes of ``state``: the replica's, partitioned by ZeRO."""
    total = replica_bytes(state, params, options, num, autocast_copy_elements)
    if options.zero_stage < PARTITIONED_FROM[state]:
        return total
    return num.ceil_div(total, options.data_parallel)


def model_states(params: Iterable[Parameter], options, num=None, autocast_copy_elements=0) -> ModelStates:
    """The three states of one rank (exact ints unless another domain is given)."""
    num = Exact() if num is None else num
    params = list(params)
    return ModelStates(*(per_rank_bytes(state, params, options, num, autocast_copy_elements)
                         for state in ("weights", "grads", "optimizer")))


def _optimizer_state_bytes(param: Parameter, optimizer: str, num):
    n = param.numel
    if optimizer in ("adam", "adamw"):
        return 8 * n
    if optimizer == "sgd":
        return 0
    if optimizer == "sgd_momentum":
        return 4 * n
    if optimizer == "adafactor":
        if len(param.shape) >= 2:  # factored over the last two dimensions
            *leading, rows, cols = param.shape
            outer = 1
            for size in leading:
                outer = outer * size
            return 4 * outer * (rows + cols)
        return 4 * n
    # adamw_8bit
    return num.where(num.compare("ge", n, EIGHT_BIT_MIN_SIZE),
                     2 * n + 8 * num.ceil_div(n, EIGHT_BIT_BLOCK), 8 * n)


def _inference_weight_bytes(param: Parameter, precision: str, num):
    n = param.numel
    if precision == "fp32":
        return 4 * n
    if precision in ("int8", "int4") and param.kind == "linear":
        out_rows = param.shape[0]
        if precision == "int8":
            return n + 4 * out_rows
        return num.ceil_div(n, 2) + 4 * num.ceil_div(n, NF4_BLOCK)
    return 2 * n
