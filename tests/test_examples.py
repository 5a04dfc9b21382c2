"""Every example runs (skipped only where its optional dependency is missing; CI installs them)."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

import bertsize

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
NEEDS = {"optuna_constraint.py": "optuna", "dask_search.py": "dask.distributed"}
# the Dask example walks 11.5 million points: the compiled walker's job, not the oracle's
KERNEL_ONLY = {"dask_search.py"}
PURE = bertsize.build_info()["implementation"] == "python"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_runs(name):
    if PURE and name in KERNEL_ONLY:
        pytest.skip(f"{name} searches 11.5 million points; it runs in the compiled pass of the suite")
    module = NEEDS.get(name)
    if module and importlib.util.find_spec(module.split(".")[0]) is None:
        pytest.skip(f"{name} needs {module}")
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", str(EXAMPLES / name)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
