"""The media boundary: :func:`open_media` is the only place that trusts nothing.

It sniffs the real type from magic bytes, hashes, probes and enforces the limits of
:mod:`synthguard.settings` before anything is decoded; everything after it receives a
:class:`Media`.
"""

from __future__ import annotations

from synthguard.media._open import open_media
from synthguard.media._sniff import Sniffed, sniff
from synthguard.media._types import (
    AudioClip,
    Kind,
    Media,
    MediaInfo,
    MetaBlock,
    Notice,
    StreamInfo,
    VideoFrame,
)

__all__ = [
    "AudioClip",
    "Kind",
    "Media",
    "MediaInfo",
    "MetaBlock",
    "Notice",
    "Sniffed",
    "StreamInfo",
    "VideoFrame",
    "open_media",
    "sniff",
]
