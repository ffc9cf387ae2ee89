"""The public surface is small and deliberate (STYLE guideline 1): __all__ is explicit and
sorted, every name in it exists, and nothing private leaks."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import synthguard

PUBLIC_MODULES = sorted(
    ["synthguard"]
    + [
        m.name
        for m in pkgutil.walk_packages(synthguard.__path__, "synthguard.")
        if not any(part.startswith("_") for part in m.name.split("."))
        and m.name not in {"synthguard.cli"}
    ]
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported), f"{name}.__all__ is not sorted"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item!r}"


def test_top_level_surface_is_the_documented_one() -> None:
    assert synthguard.__all__ == [
        "Decision",
        "Detection",
        "Kind",
        "Media",
        "MediaInfo",
        "Outcome",
        "Report",
        "Segment",
        "Settings",
        "SynthguardError",
        "__version__",
        "analyze",
        "open_media",
        "scan",
    ]
