"""Type stubs of the Cython design-space walker (private: see bertsize.search)."""

import numpy as np

STEP_FLOPS_CODE: int
LATENCY_CODE: int
KIND_PLAIN: int
KIND_HEAD_DIM: int
KIND_FFN_RATIO: int

class Plan:
    def __init__(self, encoder: bytes, workload: bytes, head: int, num_labels: int,
                 axes: list[tuple[int, int, np.ndarray]], mask: int, caps: tuple[int, int, int, int],
                 pairs: list[tuple[int, int, np.ndarray]], fixed_valid: int, objective: tuple[int, int] = ...,
                 direction: tuple[int, int] = ..., exhaustive: bool = ..., plane: bool = ...,
                 device: tuple[float, float, float, float, float] | None = ..., cap_latency: float = ...) -> None: ...
    def count(self, outer: np.ndarray, threads: int) -> int: ...
    def visit(self, mode: int, limit: int, k: int, shards: int, shard: int) -> tuple[np.ndarray, np.ndarray, bool]: ...
