"""Visible and audible labels (GB 45438 section 5): render them, and verify them on the output.

Rendering (:func:`mark_image`, :func:`mark_image_file`, :func:`mark_video_file`,
:func:`mark_audio_file`, :func:`mark_text`, :func:`mark_text_file`) and verification
(:func:`verify_image_mark`, :func:`verify_video_mark`, :func:`find_rhythm_mark`,
:func:`verify_audio_mark`) live in separate modules (R-IMPL-5): the verifiers re-measure the
final encoded output and trust nothing the renderers report.

Visible marks need a CJK font (Debian ``fonts-wqy-microhei``, see :func:`find_font`); audio and
video need the ``video`` extra (PyAV).
"""

from __future__ import annotations

from synthguard.marks._dispatch import mark_file
from synthguard.marks._fonts import find_font
from synthguard.marks._render_audio import (
    AudioMarkResult,
    mark_audio_file,
    rhythm_mark,
    spoken_mark,
)
from synthguard.marks._render_image import (
    MarkPlacement,
    mark_image,
    mark_image_file,
    render_overlay,
    required_height_px,
)
from synthguard.marks._render_text import mark_text, mark_text_file
from synthguard.marks._render_video import VideoMarkResult, mark_video_file
from synthguard.marks._verify import Finding, MarkCheck, verify_image_mark
from synthguard.marks._verify_audio import (
    AudioMarkCheck,
    RhythmHit,
    find_rhythm_mark,
    find_rhythm_marks,
    verify_audio_mark,
)
from synthguard.marks._verify_video import VideoMarkCheck, verify_video_mark

__all__ = [
    "AudioMarkCheck",
    "AudioMarkResult",
    "Finding",
    "MarkCheck",
    "MarkPlacement",
    "RhythmHit",
    "VideoMarkCheck",
    "VideoMarkResult",
    "find_font",
    "find_rhythm_mark",
    "find_rhythm_marks",
    "mark_audio_file",
    "mark_file",
    "mark_image",
    "mark_image_file",
    "mark_text",
    "mark_text_file",
    "mark_video_file",
    "render_overlay",
    "required_height_px",
    "rhythm_mark",
    "spoken_mark",
    "verify_audio_mark",
    "verify_image_mark",
    "verify_video_mark",
]
