"""Shared plumbing of the mark writers: the trusted input boundary and atomic output."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthguard.errors import MissingDependencyError, UsageError
from synthguard.media import Kind, Media, open_media
from synthguard.settings import Settings

__all__ = ["atomic_output", "import_av", "open_kind", "rhythm_value"]


def open_kind(
    src: str | os.PathLike[str], kind: Kind, settings: Settings | None = None
) -> Media:
    """``open_media`` (the only trusted boundary), refusing any kind but ``kind``."""
    media = open_media(src, settings=settings)
    if media.kind != kind:
        media.close()
        raise UsageError(f"expected {kind.value} input, got {media.kind.value} ({media.format})")
    return media


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``dst`` that replaces it only when the block succeeds: a failed
    write never leaves a half-written file under the destination name."""
    target = Path(os.fspath(dst))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"expected an existing output directory, got {str(parent)!r}")
    fd, name = tempfile.mkstemp(dir=parent, prefix=".synthguard-", suffix=target.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def import_av(what: str) -> Any:
    try:
        import av
    except ImportError:
        raise MissingDependencyError(what, "video") from None
    return av


def rhythm_value(key: str) -> float:
    """A number of ``AUDIO_RHYTHM`` (a dict of mixed values) typed as a float."""
    from synthguard.requirements import AUDIO_RHYTHM

    value = AUDIO_RHYTHM[key]
    if not isinstance(value, (int, float)):
        raise TypeError(f"AUDIO_RHYTHM[{key!r}] is not a number: {value!r}")
    return float(value)
