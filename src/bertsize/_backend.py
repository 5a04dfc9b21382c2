"""Which implementation answers: the compiled kernel, or its pure-Python twin.

``BERTSIZE_PUREPYTHON=1`` in the environment (read once, at import) runs bertsize on
the twin (:mod:`bertsize._reference`, the oracle row by row), as msgpack's
``MSGPACK_PUREPYTHON`` does; the test suite runs both ways.  Both expose one private
interface: ``kernel`` (one configuration, columns of many) and ``walker`` (searches).
"""

from __future__ import annotations

import os
from types import ModuleType

PURE_PYTHON = os.environ.get("BERTSIZE_PUREPYTHON") == "1"


def _load() -> tuple[ModuleType, ModuleType]:
    if PURE_PYTHON:
        from bertsize import _reference

        return _reference, _reference
    try:
        from bertsize import _kernel, _search
    except ImportError as error:
        raise ImportError(
            "bertsize's compiled kernel is missing: install the package (pip install .) "
            "or set BERTSIZE_PUREPYTHON=1 to run on the pure-Python oracle"
        ) from error
    return _kernel, _search


kernel, walker = _load()
#: Most threads evaluate() and search() accept.
MAX_THREADS = kernel.MAX_THREADS


def build_info() -> dict[str, object]:
    """How this bertsize runs: implementation, compiler, OpenMP and threads."""
    return {
        "implementation": "python" if PURE_PYTHON else "cython",
        "compiler": kernel.compiler(),
        "openmp": kernel.openmp_enabled(),
        "threads": kernel.max_threads(),
    }
