"""synthguard: govern deepfakes and AI-generated content on a self-hosted platform.

The public API is small on purpose::

    import synthguard
    report = synthguard.scan("upload.jpg")       # open_media + labels + detectors + policy
    print(report.to_json())

    with synthguard.open_media("clip.mp4") as media:   # the trusted boundary
        for frame in media.frames(fps=1.0):
            ...
"""

from __future__ import annotations

from synthguard._version import __version__
from synthguard.errors import SynthguardError
from synthguard.media import Kind, Media, MediaInfo, open_media
from synthguard.pipeline import analyze, scan
from synthguard.report import Decision, Detection, Outcome, Report, Segment
from synthguard.settings import Settings

__all__ = [
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
