"""Which implementation answers: the Cython kernel, or the pure-Python oracle.

``BERTSIZE_PUREPYTHON=1`` in the environment (read once, at import) runs bertsize on the
oracle alone, as msgpack's ``MSGPACK_PUREPYTHON`` does; the test suite runs both ways.
"""

from __future__ import annotations

import os
from types import ModuleType

PURE_PYTHON = os.environ.get("BERTSIZE_PUREPYTHON") == "1"


def _load_kernel() -> ModuleType | None:
    if PURE_PYTHON:
        return None
    try:
        from bertsize import _kernel
    except ImportError as error:
        raise ImportError(
            "bertsize's compiled kernel is missing: install the package (pip install .) "
            "or set BERTSIZE_PUREPYTHON=1 to run on the pure-Python oracle"
        ) from error
    return _kernel


kernel = _load_kernel()


def build_info() -> dict[str, object]:
    """How this bertsize runs: implementation, compiler, OpenMP and threads."""
    if kernel is None:
        return {"implementation": "python", "compiler": None, "openmp": False, "threads": 1}
    return {
        "implementation": "cython",
        "compiler": kernel.compiler(),
        "openmp": kernel.openmp_enabled(),
        "threads": kernel.max_threads(),
    }
