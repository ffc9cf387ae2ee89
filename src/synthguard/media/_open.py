""":func:`open_media`, the boundary: read once, hash, sniff, walk, probe, check every limit.

Order matters and is the whole point:

1. for a path, ``os.stat`` first: only a regular file is opened (a FIFO is never opened, so
   it can never block us), and the size limits are checked before a byte is read;
2. one read (small files, the hot path) or 1 MiB chunks (large ones) feeding SHA-256;
3. the type is sniffed from the content (:mod:`._sniff`), never from the name;
4. our own bounded walkers check the structure and the limits the headers declare
   (R-IMPL-1), and only then do Pillow / PyAV / pypdf / zipfile see the bytes, for headers.

Nothing here decodes pixels, samples or frames. Any exception a library raises on hostile
input is converted to a :class:`~synthguard.errors.MediaError`; no raw exception escapes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from synthguard.errors import (
    CorruptMediaError,
    EmptyFileError,
    FileTooLargeError,
    MissingDependencyError,
    OutOfMemoryError,
    SymlinkLoopError,
    SynthguardError,
    UnreadableError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.media._documents import probe_docx, probe_pdf, probe_text
from synthguard.media._ebml import walk_ebml
from synthguard.media._images import IMAGE_WALKERS
from synthguard.media._isobmff import walk_isobmff
from synthguard.media._probe import probe_media, probe_pillow, raise_pillow_limit
from synthguard.media._riff import walk_avi, walk_wav
from synthguard.media._sniff import sniff
from synthguard.media._streams import STREAM_WALKERS
from synthguard.media._types import Kind, Media, MediaInfo, Notice
from synthguard.media._walk import WALK_READ_BYTES, Budget, Facts, Reader
from synthguard.settings import MiB, Settings

__all__ = ["open_media"]

# Files up to this size are read with one read() and walked in memory (the hot path); larger
# ones are hashed in chunks and walked through seeks, so memory stays flat.
IN_MEMORY_BYTES = 64 * MiB
_CHUNK = 1 * MiB
# Bytes of a large file kept for sniffing (an ID3 tag or PDF preamble may push magic back).
_HEAD_BYTES = 64 * 1024

Walker = Callable[[Reader, Facts, Budget], None]
Prober = Callable[[Reader, Facts, Settings], None]

_WALKERS: dict[str, Walker] = {
    **IMAGE_WALKERS,
    **STREAM_WALKERS,
    "heic": walk_isobmff, "avif": walk_isobmff,
    "mp4": walk_isobmff, "mov": walk_isobmff, "m4a": walk_isobmff,
    "mkv": walk_ebml, "webm": walk_ebml,
    "wav": walk_wav, "avi": walk_avi,
}
# JPEG and PNG are fully described by their walkers (size, mode, frames): skipping Pillow there
# keeps 1,000 small JPEGs within 2x of read+hash. The others are confirmed by Pillow. Audio and
# video go through probe_media, which skips PyAV where the walker read every fact (_probe).
_PROBERS: dict[str, Prober] = {
    **{fmt: probe_pillow for fmt in ("gif", "webp", "tiff", "bmp", "heic", "avif")},
    **{fmt: probe_media for fmt in ("wav", "mp3", "aac", "flac", "ogg", "opus", "m4a", "mp4",
                                 "mov", "mkv", "webm", "avi", "flv")},
    "txt": probe_text, "md": probe_text, "pdf": probe_pdf, "zip": probe_docx,
}

# Extensions we know, and the sniffed formats each may honestly hold.
_EXTENSIONS: dict[str, frozenset[str]] = {}
for _exts, _fmts in (
    ("jpg jpeg jpe jfif jif", "jpeg"), ("png apng", "png"), ("webp", "webp"), ("gif", "gif"),
    ("tif tiff", "tiff"), ("bmp dib", "bmp"), ("heic heif hif heics", "heic"), ("avif", "avif"),
    ("wav wave", "wav"), ("mp3", "mp3"), ("flac", "flac"), ("ogg oga opus", "ogg opus"),
    ("m4a m4b m4p", "m4a mp4"), ("aac", "aac m4a"), ("mp4 m4v", "mp4 m4a mov"),
    ("mov qt", "mov mp4"), ("mkv mka mk3d", "mkv webm"), ("webm", "webm mkv"), ("avi", "avi"),
    ("flv", "flv"), ("txt text", "txt md"), ("md markdown", "md txt"), ("pdf", "pdf"),
    ("docx", "docx"),
):
    for _ext in _exts.split():
        _EXTENSIONS["." + _ext] = frozenset(_fmts.split())


def open_media(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    name: str | None = None,
    settings: Settings | None = None,
) -> Media:
    """Open untrusted input as :class:`Media`: check it is a readable regular file within
    ``max_file_bytes``, hash it, sniff its real type, walk its structure and probe its headers,
    refusing anything past the limits of ``settings`` (default :meth:`Settings.load`).

    ``source`` is a path, the content as ``bytes``, or a binary stream (read into memory up to
    ``max_file_bytes``). ``name`` is used for display and for the extension check; it defaults
    to the path. Raises a :class:`~synthguard.errors.MediaError` subclass for refused input,
    :class:`~synthguard.errors.MissingDependencyError` when an extra is needed.
    """
    settings = settings or Settings.load()
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), settings)
        return _open_bytes(data, name or "<bytes>", settings)
    if isinstance(source, (str, os.PathLike)):
        return _open_path(Path(os.fsdecode(source)), name, settings)
    if hasattr(source, "read"):
        data = _read_stream(source, settings)
        label = name or (source.name if isinstance(getattr(source, "name", None), str)
                         else "<stream>")
        return _open_bytes(data, label, settings)
    raise UsageError(
        f"expected a path, bytes or a binary stream, got {type(source).__name__}"
    )


def _check_size(size: int, settings: Settings) -> None:
    if size == 0:
        raise EmptyFileError("expected some content, got an empty file (0 bytes)")
    if size > settings.max_file_bytes:
        raise FileTooLargeError(
            f"expected at most {settings.max_file_bytes:,} bytes, got {size:,}"
        )


def _read_stream(stream: Any, settings: Settings) -> bytes:
    limit = settings.max_file_bytes
    parts: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = stream.read(min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            if not isinstance(chunk, (bytes, bytearray)):
                raise UsageError(f"expected a binary stream, got one that reads {type(chunk)}")
            parts.append(bytes(chunk))
            total += len(chunk)
            if total > limit:
                raise FileTooLargeError(
                    f"expected at most {limit:,} bytes, got a stream with more"
                )
    except OSError as exc:
        raise UnreadableError(f"could not read the stream: {exc.strerror or exc}") from None
    data = b"".join(parts)
    _check_size(len(data), settings)
    return data


_KIND_NAMES = {
    stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _os_error(exc: OSError, shown: str) -> UnreadableError:
    if exc.errno == errno.ELOOP:
        return SymlinkLoopError(f"could not open {shown}: too many levels of symbolic links")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return UnreadableError(f"could not read {shown}: permission denied")
    if exc.errno == errno.ENOENT:
        return UnreadableError(f"could not read {shown}: no such file")
    return UnreadableError(f"could not read {shown}: {exc.strerror or exc}")


def _open_path(path: Path, name: str | None, settings: Settings) -> Media:
    label = name or os.fsdecode(path)
    shown = repr(label)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _os_error(exc, shown) from None
    if not stat.S_ISREG(st.st_mode):
        what = _KIND_NAMES.get(stat.S_IFMT(st.st_mode), "not a regular file")
        raise UnreadableError(f"expected a regular file, got {what}: {shown}")
    _check_size(st.st_size, settings)
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the stat, open cannot block.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _os_error(exc, shown) from None
    with open(fd, "rb", buffering=0) as fh:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableError(f"expected a regular file, got something else: {shown}")
            size = st.st_size
            _check_size(size, settings)
            if size <= IN_MEMORY_BYTES:
                data = _read_small(fh, size, settings)
                digest = hashlib.sha256(data).hexdigest()
                reader = Reader(len(data), data=data)
                head = data
            else:
                digest, size, head = _hash_chunks(fh, settings)
                reader = Reader(size, fh=fh, cap=WALK_READ_BYTES + settings.max_metadata_bytes)
        except OSError as exc:
            raise _os_error(exc, shown) from None
        facts, notices = _examine(reader, head, label, settings)
    return _media(facts, notices, label, settings, digest, reader.size, path=path)


def _read_small(fh: BinaryIO, size: int, settings: Settings) -> bytes:
    """The whole file in one read() (the hot path). Asking for one byte more than the stat
    said tells a complete read (exactly ``size`` bytes) from a short read or a file that
    changed since; those go on in bounded chunks until the end of the file."""
    data = fh.read(size + 1)
    if len(data) != size:
        parts = [data]
        total = len(data)
        while True:
            chunk = fh.read(min(_CHUNK, settings.max_file_bytes + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            if total > settings.max_file_bytes:
                raise FileTooLargeError(
                    f"expected at most {settings.max_file_bytes:,} bytes, "
                    "got a file that grew past it"
                )
        data = b"".join(parts)
    _check_size(len(data), settings)
    return data


def _hash_chunks(fh: BinaryIO, settings: Settings) -> tuple[str, int, bytes]:
    hasher = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    head = b""
    total = 0
    while True:
        n = fh.readinto(buf)  # type: ignore[attr-defined]
        if not n:
            break
        if total < _HEAD_BYTES:
            head += bytes(view[: min(n, _HEAD_BYTES - total)])
        hasher.update(view[:n])
        total += n
        if total > settings.max_file_bytes:
            raise FileTooLargeError(
                f"expected at most {settings.max_file_bytes:,} bytes, got a file that grew past it"
            )
    _check_size(total, settings)
    return hasher.hexdigest(), total, head


def _open_bytes(data: bytes, label: str, settings: Settings) -> Media:
    digest = hashlib.sha256(data).hexdigest()
    reader = Reader(len(data), data=data)
    facts, notices = _examine(reader, data, label, settings)
    return _media(facts, notices, label, settings, digest, len(data), data=data)


def _media(
    facts: Facts, notices: list[Notice], label: str, settings: Settings, digest: str, size: int,
    *, path: Path | None = None, data: bytes | None = None,
) -> Media:
    return Media(
        name=label, path=path, data=data, sha256=digest, size=size, kind=facts.kind,
        format=facts.format, mime=facts.mime, info=MediaInfo(**facts.info), settings=settings,
        warnings=tuple(notices), metadata=tuple(facts.metadata),
    )


def _extension(label: str) -> str:
    base = label.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _examine(
    reader: Reader, head: bytes, label: str, settings: Settings
) -> tuple[Facts, list[Notice]]:
    """Sniff, walk and probe; every failure becomes a MediaError."""
    ext = _extension(label)
    sniffed = sniff(head, size=reader.size, name=label)
    if sniffed is None:
        says = f" (the name says {ext})" if ext else ""
        raise UnsupportedFormatError(
            "could not recognise the content as any supported image, audio, video or text "
            f"format{says}"
        )
    if sniffed.format == "ogg" and sniffed.kind is Kind.VIDEO:
        # FFmpeg decodes Theora, but nothing here can make or test it: refused, not guessed.
        raise UnsupportedFormatError(
            "expected Ogg audio (Opus, Vorbis, FLAC, Speex), got Ogg Theora video, "
            "which is not supported"
        )
    facts = Facts(sniffed.kind, sniffed.format, sniffed.mime)
    try:
        walker = _WALKERS.get(facts.format)
        if walker is not None:
            walker(reader, facts, Budget(settings))
        prober = _PROBERS.get(facts.format)
        if prober is not None:
            prober(reader, facts, settings)
        if facts.kind is Kind.IMAGE:
            # JPEG and PNG skip Pillow here, but the decoder will open them with Pillow: its
            # bomb limit must already admit everything that passed ours.
            raise_pillow_limit(settings)
    except (SynthguardError, MissingDependencyError):
        raise
    except MemoryError:
        raise OutOfMemoryError(
            f"ran out of memory reading the {facts.format} headers"
        ) from None
    except RecursionError:
        raise CorruptMediaError(
            f"expected {facts.format} headers of reasonable depth, got a structure too deep "
            "to read"
        ) from None
    except Exception as exc:  # noqa: BLE001 - the boundary: library failures become values
        raise CorruptMediaError(
            f"expected a well-formed {facts.format} file, got one whose headers could not be "
            f"read ({type(exc).__name__}: {exc})"
        ) from None
    notices: list[Notice] = []
    allowed = _EXTENSIONS.get(ext)
    if allowed is not None and facts.format not in allowed:
        notices.append(
            Notice(
                code="extension_mismatch",
                message=f"the name says {ext}, but the content is {facts.format} "
                f"({facts.mime}); scanned as {facts.format}",
            )
        )
    return facts, notices
