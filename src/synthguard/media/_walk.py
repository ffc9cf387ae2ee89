"""Shared machinery of the structural walkers: a bounded reader, a budget, limit checks.

R-IMPL-1: readers are bounded and untrusted-input safe. Every walker reads through one
:class:`Reader` (which counts the bytes it hands out and refuses reads past the end with
:class:`TruncatedMediaError`) and charges one :class:`Budget` for metadata bytes, nesting depth
and element count. Payload (``mdat``, ``IDAT``, clusters, sample data) is skipped by offset,
never read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from synthguard.errors import (
    LimitExceededError,
    MetadataTooLargeError,
    NestingTooDeepError,
    TooLongError,
    TooManyFramesError,
    TooManyPixelsError,
    TooManyStreamsError,
    TruncatedMediaError,
)
from synthguard.media._types import Kind, MetaBlock, StreamInfo
from synthguard.settings import MiB, Settings

__all__ = ["Budget", "Facts", "Reader"]

# Bytes a walker may read from a file that is not held in memory, beyond the metadata budget.
# Structure (box headers, sample tables, IFDs) is small next to this; payload is never read.
WALK_READ_BYTES = 64 * MiB
# Boxes/chunks/elements/tags one walker may visit: far above any real file, low enough that a
# file made of millions of empty boxes costs milliseconds, not minutes.
MAX_ELEMENTS = 200_000


class Reader:
    """Random access to the content with every read bounded and counted.

    Over bytes held in memory, reads are zero-copy ``memoryview`` slices; over a file they are
    ``seek`` + ``read``. A read that would run past the end raises ``TruncatedMediaError``
    naming what was being read.
    """

    def __init__(
        self, size: int, *, data: bytes | None = None, fh: BinaryIO | None = None,
        cap: int = WALK_READ_BYTES,
    ) -> None:
        self.size = size
        self.data = data
        self._view = memoryview(data) if data is not None else None
        self._fh = fh
        self._cap = cap
        self.bytes_read = 0

    def read(self, offset: int, n: int, what: str) -> bytes | memoryview:
        """Exactly ``n`` bytes at ``offset``, or ``TruncatedMediaError``."""
        if offset < 0 or n < 0 or offset + n > self.size:
            raise TruncatedMediaError(
                f"expected {what} of {n:,} bytes at offset {offset:,}, "
                f"but the file ends at {self.size:,} bytes"
            )
        return self.read_upto(offset, n)

    def read_upto(self, offset: int, n: int) -> bytes | memoryview:
        """Up to ``n`` bytes at ``offset`` (fewer at the end of the file)."""
        n = max(0, min(n, self.size - offset))
        if self._view is not None:
            return self._view[offset : offset + n]
        self.bytes_read += n
        if self.bytes_read > self._cap:
            raise LimitExceededError(
                f"expected the container structure to fit in {self._cap:,} bytes of headers, "
                f"got more (the walk read {self.bytes_read:,} bytes)"
            )
        assert self._fh is not None
        self._fh.seek(offset)
        return self._fh.read(n)

    def rfind(self, needle: bytes, start: int, end: int | None = None) -> int:
        """Offset of the last ``needle`` in ``[start, end)``, or -1; scans backwards in windows
        so that a file ending with the needle costs one small read."""
        end = self.size if end is None else end
        if self.data is not None:
            return self.data.rfind(needle, start, end)
        window = 1 * MiB
        hi = end
        while hi > start:
            lo = max(start, hi - window)
            chunk = bytes(self.read_upto(lo, hi - lo))
            at = chunk.rfind(needle)
            if at >= 0:
                return lo + at
            hi = lo + len(needle) - 1 if lo > start else lo
        return -1

    def stream(self) -> BinaryIO:
        """A binary stream at offset 0 for libraries (Pillow, PyAV, pypdf, zipfile)."""
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self._fh is not None
        self._fh.seek(0)
        return self._fh


@dataclass
class Facts:
    """What probing learnt, filled in by the walkers and the library probes, then turned into
    a :class:`~synthguard.media.MediaInfo`; and where the metadata blocks are (the metadata
    index). ``kind``/``format``/``mime`` override the sniffed ones (an audio-only MP4 becomes
    ``m4a``)."""

    kind: Kind
    format: str
    mime: str
    info: dict[str, Any] = field(default_factory=dict)
    metadata: list[MetaBlock] = field(default_factory=list)  # where the metadata blocks are
    # Every stream as the walker read it from the headers (WAV, FLAC, MP4, Matroska), for the
    # native probe (_probe.probe_media) to use instead of PyAV when nothing is missing; None
    # when the walker cannot list them all (cover art FFmpeg would turn into a stream, a live
    # file, a fragmented movie).
    streams: list[StreamInfo] | None = None

    def block(self, carrier: str, offset: int, length: int, **info: str) -> None:
        """Record where a metadata block lies (see :class:`~synthguard.media.MetaBlock`)."""
        self.metadata.append(MetaBlock(carrier, offset, length, tuple(info.items())))

    def set(self, **values: Any) -> None:
        """Set the fields that are not ``None``."""
        for key, value in values.items():
            if value is not None:
                self.info[key] = value


class Budget:
    """The limits one walk charges: metadata bytes, nesting depth and element count."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metadata = 0
        self.elements = 0

    def metadata_bytes(self, n: int, what: str) -> None:
        self.metadata += n
        limit = self.settings.max_metadata_bytes
        if self.metadata > limit:
            raise MetadataTooLargeError(
                f"expected at most {limit:,} bytes of metadata, got {self.metadata:,} "
                f"(reached in {what})"
            )

    def depth(self, depth: int, what: str) -> None:
        limit = self.settings.max_nesting
        if depth > limit:
            raise NestingTooDeepError(
                f"expected {what} nested at most {limit} deep, got deeper than {depth - 1}"
            )

    def tick(self, what: str) -> None:
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise LimitExceededError(
                f"expected at most {MAX_ELEMENTS:,} {what}, got more"
            )


def check_pixels(width: int, height: int, settings: Settings, what: str = "an image") -> None:
    """TooManyPixelsError when ``width x height`` exceeds ``max_pixels``."""
    limit = settings.max_pixels
    if width * height > limit:
        raise TooManyPixelsError(
            f"expected {what} of at most {limit:,} pixels, "
            f"got {width}x{height} ({width * height:,})"
        )


def check_duration(seconds: float | None, settings: Settings) -> None:
    limit = settings.max_duration_s
    if seconds is not None and seconds > limit:
        raise TooLongError(
            f"expected at most {_secs(limit)} seconds of media, got {_secs(seconds)} seconds"
        )


def _secs(value: float) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".")


def check_frames(frames: int | None, settings: Settings, how: str = "") -> None:
    limit = settings.max_frames
    if frames is not None and frames > limit:
        raise TooManyFramesError(
            f"expected at most {limit:,} frames, got {frames:,}{how}"
        )


def check_streams(count: int, settings: Settings) -> None:
    limit = settings.max_streams
    if count > limit:
        raise TooManyStreamsError(f"expected at most {limit} streams, got {count}")
