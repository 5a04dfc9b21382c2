"""Type stubs of the Cython design-space walker (private: see bertsize.search and
bertsize._reference, its pure-Python twin)."""

import numpy as np

from bertsize._kernel import CompiledProgram, Constants
from bertsize.options import Options
from bertsize.program import Program

LATENCY_CODE: int
KIND_PLAIN: int
KIND_DIVIDED: int
KIND_MULTIPLIED: int

Axis = tuple[int, int, int, np.ndarray]  # target field, source field, kind, values in walk order

class Plan:
    def __init__(self, compiled: CompiledProgram, visiting: CompiledProgram, template: list[int], axes: list[Axis],
                 caps: list[tuple[int, int]], floors: list[tuple[int, int]], pairs: list[tuple[int, int, np.ndarray | tuple[np.ndarray, ...]]],
                 fixed_valid: int, objective: tuple[int, int] = ..., direction: tuple[int, int] = ...,
                 exhaustive: bool = ..., plane: CompiledProgram | None = ..., device: Constants | None = ...,
                 cap_latency: float = ...) -> None: ...
    def count(self, outer: np.ndarray, threads: int) -> int: ...
    def visit(self, mode: int, limit: int, k: int, shards: int,
              shard: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]: ...

def walk(options: Options, constants: tuple[tuple[str, int], ...], names: tuple[str, ...], reported: tuple[str, ...],
         axes: list[Axis], caps: list[tuple[int, int]], floors: list[tuple[int, int]],
         pairs: list[tuple[int, int, np.ndarray | tuple[np.ndarray, ...]]], fixed_valid: int, objectives: tuple[int, int] = ...,
         directions: tuple[int, int] = ..., exhaustive: bool = ..., plane: Program | None = ...,
         device: Constants | None = ..., cap_latency: float = ...) -> Plan: ...
