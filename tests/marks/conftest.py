"""Fixtures for the mark tests: the generated sample set, and a skip when no CJK font exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthguard.errors import MissingSystemPackageError
from synthguard.marks import find_font
from synthguard.samples import generate_samples


@pytest.fixture(scope="session")
def mark_samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mark-samples")
    generate_samples(out)
    return out


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    try:
        return find_font()
    except MissingSystemPackageError as exc:
        pytest.skip(f"no CJK font (scripts/setup-system.sh installs one): {exc.message}")
