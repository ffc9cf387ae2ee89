"""Deepfake and AI-generation detectors.

The detector framework (registry by declared capabilities, ONNX runtime, model cards, the
shared contract test) arrives with the first detector (issues #5 and #6). Until then no
detector is registered and :func:`run_detectors` returns no detections, which the policy
treats as "no detector evidence".
"""

from __future__ import annotations

from synthguard.media import Media
from synthguard.report import Detection
from synthguard.settings import Settings

__all__ = ["run_detectors"]


def run_detectors(
    media: Media, settings: Settings, names: list[str] | None = None
) -> list[Detection]:
    """Run the registered detectors that accept ``media`` (none are registered yet)."""
    if names:
        from synthguard.errors import UsageError

        raise UsageError(f"unknown detector(s): {', '.join(names)}; no detector is installed yet")
    return []
