"""Verifying the visible label of a video on its decoded frames (R-EXP-6, R-EXP-7, R-IMPL-5).

Frames are sampled from the start; each is measured by :mod:`._verify` (the first one searched,
later ones where the mark was found) until the mark is no longer there.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from synthguard.errors import UsageError
from synthguard.marks._io import open_kind
from synthguard.marks._render_image import MarkPlacement
from synthguard.marks._verify import Finding, MarkCheck, _check
from synthguard.media import Kind
from synthguard.requirements import VIDEO_MARK_MIN_SECONDS, VIDEO_SHORT_NOTE

if TYPE_CHECKING:
    from synthguard.settings import Settings

__all__ = ["VideoMarkCheck", "verify_video_mark"]


@dataclass(frozen=True)
class VideoMarkCheck:
    """The visible mark of a video: how long it is continuously visible from the first frame
    (``visible_seconds``, to the precision of the sampling rate) and how high its text is."""

    passed: bool
    visible_seconds: float
    required_seconds: float
    duration: float | None
    frames_checked: int
    measured_height_px: int | None  # smallest over the frames where the mark was visible
    required_height_px: int
    notes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    frames: tuple[MarkCheck, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "visible_seconds": self.visible_seconds,
            "required_seconds": self.required_seconds,
            "duration": self.duration,
            "frames_checked": self.frames_checked,
            "measured_height_px": self.measured_height_px,
            "required_height_px": self.required_height_px,
            "notes": list(self.notes),
            "findings": [f.to_dict() for f in self.findings],
        }



def verify_video_mark(
    src: str | os.PathLike[str],
    *,
    placement: MarkPlacement | None = None,
    expected_text: str | None = None,
    window_s: float = 4.0,
    fps: float = 10.0,
    settings: Settings | None = None,
) -> VideoMarkCheck:
    """Measure the visible label of a video on its decoded frames (R-EXP-6, R-EXP-7).

    Frames of the first ``window_s`` seconds are sampled at ``fps``; the mark must be found
    from the first frame on, continuously for at least ``VIDEO_MARK_MIN_SECONDS`` (the whole
    clip when it is shorter), with text at least 5 % of the frame's shortest side high. The mark
    found on the first frame is followed at its place on the later frames.
    ``placement`` and ``expected_text`` are as for :func:`verify_image_mark`.
    """
    if not fps > 0 or not window_s > 0:
        raise UsageError(f"expected fps > 0 and window_s > 0, got {fps} and {window_s}")
    with open_kind(src, Kind.VIDEO, settings) as media:
        duration = media.info.duration
        end = window_s if duration is None else min(window_s, duration)
        checks: list[MarkCheck] = []
        visible: float | None = None
        hint: MarkPlacement | tuple[int, int, int, int] | None = placement
        limit = math.ceil(end * fps) + 2
        for frame in media.frames(fps=fps, end=end, max_frames=limit):
            # The first frame is searched; later ones are measured where the mark was found (a
            # label that moves elsewhere is not the one that stayed visible).
            check = _check(frame.rgb, hint, expected_text, None, search=not checks)
            checks.append(check)
            if not check.passed:
                visible = frame.time
                break
            if check.plate_box is not None:
                x, y, w, h = check.plate_box
                hint = (x, y, x + w, y + h)
    if visible is None:
        visible = end if checks else 0.0
    short = duration is not None and duration < VIDEO_MARK_MIN_SECONDS
    required_s = duration if short and duration is not None else VIDEO_MARK_MIN_SECONDS
    # Sampling resolves time to one sample; a clip labelled throughout must not fail on the
    # rounding of its probed duration.
    ok_time = visible >= required_s - (1.0 / fps if short else 1e-6)
    heights = [c.measured_height_px for c in checks if c.passed and c.measured_height_px]
    required_px = checks[0].required_height_px if checks else 0
    findings = [
        Finding(
            "mark.duration",
            "R-EXP-6" if not short else "R-EXP-7",
            ok_time,
            f"expected the label visible from the first frame for at least {required_s:.2f} s, "
            f"measured {visible:.2f} s",
        )
    ]
    if checks and not checks[0].passed:
        findings.extend(f for f in checks[0].findings if not f.passed)
    return VideoMarkCheck(
        passed=ok_time and bool(checks) and checks[0].passed,
        visible_seconds=round(visible, 3),
        required_seconds=required_s,
        duration=duration,
        frames_checked=len(checks),
        measured_height_px=min(heights) if heights else None,
        required_height_px=required_px,
        notes=(VIDEO_SHORT_NOTE,) if short else (),
        findings=tuple(findings),
        frames=tuple(checks),
    )
