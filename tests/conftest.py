"""Shared test configuration.

* Hypothesis profiles: "default" for development, "ci" (selected by CI=1) with more
  examples and no deadline (the machines are shared and noisy).
* ``BERTSIZE_REQUIRE_HF=1`` (set by ``.ci/run``) turns a missing torch / transformers
  into a collection error, so the validation tests can never be skipped silently in CI.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, max_examples=40)
settings.register_profile(
    "ci", deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("BERTSIZE_REQUIRE_HF") == "1":
        missing = [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(
                f"BERTSIZE_REQUIRE_HF=1 but {', '.join(missing)} is not installed: "
                "install the validation extras (pip install 'torch==2.13.0' '.[validate]')"
            )
