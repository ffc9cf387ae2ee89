"""Write the GB 45438 implicit metadata label into a file: the framework every carrier plugs into.

:func:`write_label` is the one entry point. It opens the source through
:func:`~synthguard.media.open_media` (the trusted boundary), checks the label strictly
(R-META-4), picks the writer module for the sniffed format from :data:`_WRITER_MODULES`, lets it
write the complete new file to a temporary file beside the destination, reads that file back
with the independent reader (R-IMPL-3) and only then renames it over the destination
(atomic: the original is never half-written).

The writer contract (one module per carrier family)::

    def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo

``write`` puts the COMPLETE new file at ``tmp`` (an existing empty file) and returns a
:class:`WriteInfo`. It writes exactly one site (R-META-6): an existing label is replaced in
place (idempotent, R-IMPL-4; a platform's propagation update, R-META-5), and other AIGC sites
that it can remove are removed. Keyed carriers take the bare JSON object (R-META-3), so the
payload is always ``label.to_json()``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from synthguard.errors import LabelWriteError, SynthguardError, UnsupportedFormatError
from synthguard.media import open_media
from synthguard.provenance.aigc._payload import AigcLabel, AigcResult, Verdict

if TYPE_CHECKING:
    from synthguard.media import Media
    from synthguard.settings import Settings

__all__ = [
    "WriteInfo", "WriteResult", "rewritten_between", "supported_write_formats", "write_label",
]

_IMAGE = "synthguard.provenance.aigc._write_image"
_TEXT = "synthguard.provenance.aigc._write_text"
_RIFF = "synthguard.provenance.aigc._write_riff"
_BMFF = "synthguard.provenance.aigc._write_bmff"
_EBML = "synthguard.provenance.aigc._write_ebml"
_TAGS = "synthguard.provenance.aigc._write_tags"
_FLV = "synthguard.provenance.aigc._write_flv"

# Sniffed format (Media.format) -> writer module. Static on purpose: a format is writable only
# when a reviewed module claims it; modules are imported lazily (no work at import time).
_WRITER_MODULES: dict[str, str] = {
    "jpeg": _IMAGE, "png": _IMAGE, "webp": _IMAGE, "tiff": _IMAGE, "gif": _IMAGE,  # R-FMT-1..6
    "docx": _TEXT, "pdf": _TEXT, "md": _TEXT,  # R-FMT-16..18
    "wav": _RIFF, "avi": _RIFF,  # R-FMT-12, R-FMT-10
    "mp4": _BMFF, "mov": _BMFF, "m4a": _BMFF,  # R-FMT-8
    "mkv": _EBML, "webm": _EBML,  # R-FMT-9
    "mp3": _TAGS, "flac": _TAGS, "ogg": _TAGS, "opus": _TAGS,  # R-FMT-13, R-FMT-14
    "flv": _FLV,  # R-FMT-11
}


@dataclass(frozen=True)
class WriteInfo:
    """What one writer did.

    ``rewritten_bytes`` says what the write cost beyond an in-place edit of the original:
    the output bytes that could not stay at their original offset. 0 when the output equals
    the input (the same label again, R-IMPL-4); the appended bytes (plus any header bytes
    patched in place) for an append-only update (PDF incremental update, TIFF IFD0); from the
    first changed byte to the end for an insertion near the head (a full copy: the file size).
    ``note`` says in words what was rewritten and which other AIGC sites were cleared.
    """

    carrier: str  # a Carrier id of synthguard.requirements, e.g. "jpeg.xmp"
    rewritten_bytes: int
    note: str = ""


@dataclass(frozen=True)
class WriteResult:
    """The outcome of :func:`write_label`: where the label went and what changed."""

    path: Path
    carrier: str
    payload: str  # the exact JSON written (bare form, R-META-3, R-META-7)
    rewritten_bytes: int
    note: str
    sha256_before: str
    sha256_after: str

    def to_dict(self) -> dict[str, object]:
        return {
            "path": os.fspath(self.path),
            "carrier": self.carrier,
            "payload": self.payload,
            "rewritten_bytes": self.rewritten_bytes,
            "note": self.note,
            "sha256_before": self.sha256_before,
            "sha256_after": self.sha256_after,
        }


def rewritten_between(old: bytes, new: bytes) -> int:
    """:attr:`WriteInfo.rewritten_bytes` of a file rebuilt in memory: every byte after the
    longest common prefix had to be written (an insertion moves all that follows); only when
    the length is unchanged does a common suffix stay where it was. 0 when nothing changed."""
    a, b = memoryview(old), memoryview(new)
    n = min(len(a), len(b))
    lo, hi = 0, n  # binary search on memoryview slices: no copies, O(n log n) compares
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    if len(a) != len(b):
        return len(b) - prefix
    lo, hi = 0, n - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:] == b[len(b) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return len(b) - prefix - lo


Writer = Callable[["Media", Path, AigcLabel], WriteInfo]


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def supported_write_formats() -> tuple[str, ...]:
    """The sniffed formats a label can be written into now, sorted."""
    return tuple(sorted(fmt for fmt, mod in _WRITER_MODULES.items() if _module_available(mod)))


def _writer_for(fmt: str) -> Writer:
    module_name = _WRITER_MODULES.get(fmt)
    module = None
    if module_name is not None:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # the module exists but one of its imports does not
                raise
    if module is None:
        raise UnsupportedFormatError(
            f"expected a format a label can be written into "
            f"({', '.join(supported_write_formats())}), got {fmt}"
        )
    writer: Writer = module.write
    return writer


def _read_back(tmp: Path, settings: Settings | None) -> tuple[AigcResult, str]:
    # The reader is a separate module with its own parsing (R-IMPL-3: an independent read);
    # imported here, lazily, because it imports the carrier walkers of every format.
    from synthguard.provenance.aigc._read import read_aigc

    with open_media(tmp, settings=settings) as media:
        return read_aigc(media), media.sha256


def _check_read_back(result: AigcResult, payload: str, fmt: str, carrier: str) -> None:
    """R-IMPL-3: exactly one site, compliant, in the carrier written, carrying byte for byte
    what was written."""
    if result.verdict is not Verdict.COMPLIANT or len(result.sites) != 1:
        findings = "; ".join(f.message for f in result.findings) or "no findings"
        raise LabelWriteError(
            f"expected the written {fmt} file to read back with exactly one compliant AIGC "
            f"site (R-IMPL-3, R-META-6), got verdict {result.verdict.value} with "
            f"{len(result.sites)} site(s) ({findings})"
        )
    site = result.sites[0]
    got = json.dumps(site.fields, ensure_ascii=False, separators=(",", ":"))
    if site.carrier != carrier:
        raise LabelWriteError(
            f"expected the written {fmt} file to read back its label from {carrier} "
            f"(R-IMPL-3), got it from {site.carrier}"
        )
    if got != payload or site.raw != payload or site.form != "bare":
        raise LabelWriteError(
            f"expected the written {fmt} file to read back the payload {payload} "
            f"(R-IMPL-3), got {site.raw!r} in {site.carrier}"
        )


def _file_mode(dst: Path, src: Path) -> int:
    for path in (dst, src):
        with contextlib.suppress(OSError):
            return stat.S_IMODE(os.stat(path).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; not every platform or file system lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_label(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    label: AigcLabel,
    *,
    settings: Settings | None = None,
) -> WriteResult:
    """Write ``label`` into a copy of ``src`` at ``dst`` (``src`` may be ``dst``: in place).

    The new file replaces ``dst`` atomically and only after an independent read-back finds
    exactly one compliant site holding exactly the written JSON (R-IMPL-3, R-META-6); on any
    failure ``dst`` is left untouched and no temporary file remains. Writing the same label
    again gives the same bytes (R-IMPL-4); writing a new label replaces the existing one
    (a platform's propagation update, R-META-5).

    Raises :class:`~synthguard.errors.UsageError` for a label that is not strictly valid
    (R-META-4), the :class:`~synthguard.errors.MediaError` subclasses of ``open_media`` for
    refused input, :class:`~synthguard.errors.UnsupportedFormatError` for a format no writer
    handles, and :class:`~synthguard.errors.LabelWriteError` when writing or the read-back fails.
    """
    src_path = Path(os.fsdecode(src))
    dst_path = Path(os.fsdecode(dst))
    label.check_writable()  # strict writer (R-META-4) before any I/O
    payload = label.to_json()  # bare form: every carrier here is keyed (R-META-3)
    with open_media(src_path, settings=settings) as media:
        writer = _writer_for(media.format)
        fmt = media.format
        sha_before = media.sha256
        directory = dst_path.parent
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst_path.name}.", suffix=".tmp", dir=directory)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            try:
                info = writer(media, tmp, label)
            except SynthguardError:
                raise
            except Exception as exc:  # noqa: BLE001 - one failed write never leaves a traceback
                raise LabelWriteError(
                    f"expected to write the AIGC label into the {fmt} file, but the writer "
                    f"failed ({type(exc).__name__}: {exc})"
                ) from exc
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp, _file_mode(dst_path, src_path))
            try:
                result, sha_after = _read_back(tmp, settings)
            except SynthguardError as exc:
                raise LabelWriteError(
                    f"expected the written {fmt} file to open and read back (R-IMPL-3), "
                    f"got {exc.code}: {exc.message}"
                ) from exc
            _check_read_back(result, payload, fmt, info.carrier)
            os.replace(tmp, dst_path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    _fsync_dir(directory)
    return WriteResult(
        path=dst_path,
        carrier=info.carrier,
        payload=payload,
        rewritten_bytes=info.rewritten_bytes,
        note=info.note,
        sha256_before=sha_before,
        sha256_after=sha_after,
    )

