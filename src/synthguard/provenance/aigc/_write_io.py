"""Shared plumbing of the binary label writers: a plan of pieces, written out by streaming.

A writer describes its output as a list of pieces: ranges of the source copied unchanged
(:class:`Keep`) and new bytes (:class:`New`). :func:`write_plan` streams them to the temporary
file and counts honestly what was rewritten: new bytes, plus kept bytes that land at a different
offset than in the source (they had to move). Kept bytes at the same offset are what an in-place
edit of the original would not have touched.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from synthguard.errors import TruncatedMediaError
from synthguard.media import Media

__all__ = [
    "Keep", "New", "Piece", "PlanStats", "changed_span", "copy_media", "read_at", "write_plan",
]

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Keep:
    """Bytes ``[start, end)`` of the source, copied unchanged."""

    start: int
    end: int


@dataclass(frozen=True)
class New:
    """Bytes written by the label writer (headers it patched, the label itself)."""

    data: bytes


Piece = Keep | New


@dataclass(frozen=True)
class PlanStats:
    size: int  # bytes of output
    new: int  # bytes newly written
    moved: int  # unchanged source bytes that land at another offset
    in_place: int  # unchanged source bytes at their original offset

    @property
    def rewritten(self) -> int:
        return self.new + self.moved

    def describe(self) -> str:
        out = f"wrote {self.new:,} new bytes"
        if self.moved:
            out += f", moved {self.moved:,} unchanged bytes"
        return out + f", copied {self.in_place:,} bytes unchanged in place"


def read_at(fh: BinaryIO, offset: int, n: int, what: str) -> bytes:
    """Exactly ``n`` bytes at ``offset`` (the container was validated by open_media, so a short
    read means the file changed under us)."""
    fh.seek(offset)
    data = fh.read(n)
    if len(data) != n:
        raise TruncatedMediaError(
            f"expected {what} of {n:,} bytes at offset {offset:,}, got {len(data):,}"
        )
    return data


def write_plan(src: BinaryIO, pieces: Sequence[Piece], tmp: Path) -> PlanStats:
    """Stream ``pieces`` to ``tmp``; returns what was new, moved and kept in place."""
    pos = new = moved = in_place = 0
    with open(tmp, "wb") as out:
        for piece in pieces:
            if isinstance(piece, New):
                out.write(piece.data)
                new += len(piece.data)
                pos += len(piece.data)
                continue
            n = piece.end - piece.start
            if n <= 0:
                continue
            src.seek(piece.start)
            left = n
            while left:
                block = src.read(min(_BLOCK, left))
                if not block:
                    raise TruncatedMediaError(
                        f"expected {n:,} bytes at offset {piece.start:,}, but the file ended"
                    )
                out.write(block)
                left -= len(block)
            if piece.start == pos:
                in_place += n
            else:
                moved += n
            pos += n
    return PlanStats(pos, new, moved, in_place)


def copy_media(media: Media, tmp: Path) -> None:
    """A byte-exact copy of the content at ``tmp`` (for writers that edit a copy in place)."""
    if media.path is not None:
        shutil.copyfile(media.path, tmp)
        return
    tmp.write_bytes(media.read_bytes())


def _first_difference(x: bytes, y: bytes) -> int:
    """Index of the first differing byte of two equal-length blocks (vectorised: a Python loop
    over a 1 MiB block cost hundreds of milliseconds)."""
    diff = np.frombuffer(x, np.uint8) != np.frombuffer(y, np.uint8)
    return int(np.argmax(diff)) if diff.any() else len(x)


def changed_span(a: Path, b: Path) -> int:
    """What an edit of ``a`` into ``b`` rewrote (for writers that let a library edit a copy):
    everything after the common prefix when the size changed (those bytes had to move), else
    the bytes between the common prefix and the common suffix."""
    size_a, size_b = a.stat().st_size, b.stat().st_size
    with open(a, "rb") as fa, open(b, "rb") as fb:
        prefix = 0
        limit = min(size_a, size_b)
        while prefix < limit:
            x, y = fa.read(_BLOCK), fb.read(_BLOCK)
            n = min(len(x), len(y))
            if x[:n] == y[:n]:
                prefix += n
                if n == 0:
                    break
                continue
            prefix += _first_difference(x[:n], y[:n])
            break
        prefix = min(prefix, limit)
        if size_a != size_b:
            return size_b - prefix
        suffix = 0
        limit = min(size_a, size_b) - prefix
        while suffix < limit:
            n = min(_BLOCK, limit - suffix)
            fa.seek(size_a - suffix - n)
            fb.seek(size_b - suffix - n)
            x, y = fa.read(n), fb.read(n)
            if x == y:
                suffix += n
                continue
            suffix += _first_difference(x[::-1], y[::-1])
            break
    return size_b - prefix - suffix
