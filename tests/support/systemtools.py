"""Helpers of the tests that run Debian's programs on loopback (marker `system`)."""

from __future__ import annotations

import os

import pytest

from tests.support.local_postgres import free_port  # noqa: F401 - one definition for every loopback test


def require(binary: str, package: str) -> None:
    """Skip without the program, but fail in CI, where `make system-deps` must have installed it."""
    if os.access(binary, os.X_OK):
        return
    reason = f"{binary} missing: install {package} from requirements-debian.txt"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
