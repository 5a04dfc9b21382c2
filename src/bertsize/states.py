"""Model states: bytes of weights, gradients and optimizer state (pure Python reference).

Walks the parameter inventory of :func:`bertsize.oracle.parameters` tensor by tensor.

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
  factored second moment, 4(r + c) for a matrix, 4n for a vector.
* adamw_8bit (bitsandbytes ``AdamW8bit``): tensors with n ≥ 4096 keep two uint8 states
  plus two fp32 absmax per block of 256: 2n + 8·⌈n/256⌉; smaller tensors keep 32-bit
  states: 8n.

ZeRO stage 1 partitions the optimizer state, stage 2 also the gradients, stage 3 also
the weights over ``data_parallel`` ranks; a partitioned total is divided and rounded up
(each rank holds ⌈total / ranks⌉ bytes).

Inference: weights only — fp32 4, fp16 / bf16 2 bytes per parameter; int8 (LLM.int8)
stores each ``nn.Linear`` weight as 1 byte per element plus one fp32 scale per output
row; int4 (NF4, block 64, no double quantisation) as ⌈n/2⌉ bytes plus one fp32 absmax per
block of 64.  Embeddings (including the tied decoder), LayerNorms and biases stay fp16.
"""

from __future__ import annotations

from dataclasses import dataclass

from bertsize.oracle import ParamTensor
from bertsize.workload import Workload

_EIGHT_BIT_MIN_SIZE = 4096  # bitsandbytes min_8bit_size
_EIGHT_BIT_BLOCK = 256  # bitsandbytes block-wise optimizer quantisation
_NF4_BLOCK = 64  # bitsandbytes Params4bit default blocksize


@dataclass(frozen=True)
class ModelStates:
    """Per-rank bytes of weights, gradients and optimizer state."""

    weight_bytes: int
    grad_bytes: int
    optimizer_bytes: int
    #: The largest total before ZeRO partitioning (bytes must fit int64 before it too).
    unpartitioned: int = 0

    @property
    def total(self) -> int:
        return self.weight_bytes + self.grad_bytes + self.optimizer_bytes


def model_states(params: list[ParamTensor], workload: Workload, autocast_copy_elements: int = 0) -> ModelStates:
    """Bytes of model states for ``params`` under ``workload``.

    Args:
        params: the parameter inventory (tied tensors once).
        workload: precision, optimizer, backend, ZeRO stage and ranks.
        autocast_copy_elements: elements of the matmul weights that CPU autocast casts
            to 16 bits (counted only for ``backend="cpu"`` mixed-precision training).
    """
    if not workload.training:
        weights = sum(p.count * _inference_weight_bytes(p, workload.precision) for p in params)
        return ModelStates(_partition(weights, workload, 3), 0, 0, weights)
    count = sum(p.total for p in params)
    cpu = workload.backend == "cpu"
    if workload.mixed_precision and not cpu:
        weights, grads, master = 2 * count, 2 * count, 4 * count
    else:
        weights, grads, master = 4 * count, 4 * count, 0
        if workload.mixed_precision:
            weights += 2 * autocast_copy_elements
    optimizer = master + sum(p.count * _optimizer_state_bytes(p, workload.optimizer) for p in params)
    return ModelStates(
        weight_bytes=_partition(weights, workload, 3),
        grad_bytes=_partition(grads, workload, 2),
        optimizer_bytes=_partition(optimizer, workload, 1),
        unpartitioned=max(weights, grads, optimizer),
    )


def _partition(total: int, workload: Workload, from_stage: int) -> int:
    if workload.zero_stage < from_stage:
        return total
    ranks = workload.data_parallel
    return -(-total // ranks)


def _optimizer_state_bytes(param: ParamTensor, optimizer: str) -> int:
    n = param.numel
    if optimizer in ("adam", "adamw"):
        return 8 * n
    if optimizer == "sgd":
        return 0
    if optimizer == "sgd_momentum":
        return 4 * n
    if optimizer == "adafactor":
        if len(param.shape) >= 2:
            rows, cols = param.shape
            return 4 * (rows + cols)
        return 4 * n
    # adamw_8bit
    if n < _EIGHT_BIT_MIN_SIZE:
        return 8 * n
    return 2 * n + 8 * -(-n // _EIGHT_BIT_BLOCK)


def _inference_weight_bytes(param: ParamTensor, precision: str) -> int:
    n = param.numel
    if precision == "fp32":
        return 4 * n
    if precision in ("int8", "int4") and param.kind == "linear":
        out_rows = param.shape[0]
        if precision == "int8":
            return n + 4 * out_rows
        return -(-n // 2) + 4 * -(-n // _NF4_BLOCK)
    return 2 * n
