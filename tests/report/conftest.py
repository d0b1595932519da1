"""Fixtures for the reporter tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def lib_path(tmp_path: Path) -> Path:
    """A library path inside the test's temporary folder (file not created yet)."""
    return tmp_path / "library.sqlite"
