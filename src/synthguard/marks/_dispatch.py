"""One entry point for the explicit mark of any file, chosen by its sniffed kind."""

from __future__ import annotations

import os
from typing import Any

from synthguard.errors import UsageError
from synthguard.marks._render_audio import mark_audio_file
from synthguard.marks._render_image import mark_image_file
from synthguard.marks._render_text import mark_text_file
from synthguard.marks._render_video import mark_video_file
from synthguard.media import Kind, open_media
from synthguard.requirements import EXPLICIT_LABEL_DEFAULTS
from synthguard.settings import Settings

__all__ = ["mark_file"]


def mark_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    text: str = EXPLICIT_LABEL_DEFAULTS[0],
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Add the explicit mark its kind calls for (R-EXP-2..6): text on images and the opening
    of video, the rhythm before audio, a label line in TXT and Markdown. Returns what was
    done, with ``type`` naming the kind."""
    settings = settings or Settings.load()
    with open_media(src, settings=settings) as media:
        kind, fmt = media.kind, media.format
    if kind is Kind.IMAGE:
        placed = mark_image_file(src, dst, text=text, settings=settings)
        return {"type": "image", **placed.to_dict()}
    if kind is Kind.VIDEO:
        video = mark_video_file(src, dst, text=text, settings=settings)
        return {"type": "video", **video.to_dict()}
    if kind is Kind.AUDIO:
        return {"type": "audio", **mark_audio_file(src, dst, settings=settings).to_dict()}
    if fmt in ("txt", "md"):
        mark_text_file(src, dst, label=text, settings=settings)
        return {"type": "text", "text": text, "position": "start"}
    raise UsageError(f"visible marks are not supported for {fmt} files (txt and md are)")
