"""Probes for documents: plain text and Markdown, PDF (pypdf), DOCX (zipfile + defusedxml).

A ZIP is checked from its own end-of-central-directory record *before* ``zipfile`` parses the
central directory, so an archive claiming millions of members is refused without building
millions of ``ZipInfo`` objects; then the declared uncompressed sizes are summed (zip bomb).
"""

from __future__ import annotations

import codecs
import logging
import struct
import threading
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from synthguard.errors import (
    CorruptMediaError,
    LimitExceededError,
    MissingDependencyError,
    TruncatedMediaError,
    UnsupportedFormatError,
)
from synthguard.media._sniff import MIME, is_markdown
from synthguard.media._types import MetaBlock
from synthguard.media._walk import Facts, Reader
from synthguard.requirements import DOCX_CUSTOM_PART
from synthguard.settings import MiB, Settings

__all__ = ["probe_docx", "probe_pdf", "probe_text"]

_CHUNK = 1 * MiB


def probe_text(r: Reader, facts: Facts, settings: Settings) -> None:
    """The whole text must decode (UTF-8, or UTF-16 with a BOM) and hold no NUL; counts
    characters. The sniff only looked at the head."""
    head = bytes(r.read_upto(0, 4))
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    chars = 0
    first = ""
    stream = r.stream()
    offset = 0
    try:
        while True:
            chunk = stream.read(_CHUNK)
            final = not chunk
            text = decoder.decode(chunk, final=final)
            if "\x00" in text:
                raise CorruptMediaError(
                    f"expected text without NUL characters, got one near offset {offset:,}"
                )
            if not first:
                first = text[:4096]
            chars += len(text)
            offset += len(chunk)
            if final:
                break
    except UnicodeDecodeError as exc:
        raise CorruptMediaError(
            f"expected {encoding.replace('-sig', '')} text, got an invalid byte sequence near "
            f"offset {offset + exc.start:,}"
        ) from None
    if facts.format == "txt" and is_markdown(first, None):
        facts.format, facts.mime = "md", MIME["md"]
    facts.set(encoding=encoding.replace("-sig", ""), chars=chars)
    if encoding != "utf-16":
        _front_matter(r, facts, settings)


_FENCE = b"---"


def _front_matter(r: Reader, facts: Facts, settings: Settings) -> None:
    """Record the YAML front matter (the lines between a leading ``---`` line and the next
    ``---`` line) in the metadata index (R-FMT-18); searched within the metadata budget."""
    head = bytes(r.read_upto(0, min(settings.max_metadata_bytes, r.size)))
    start = 3 if head.startswith(codecs.BOM_UTF8) else 0
    if not head.startswith(_FENCE, start):
        return
    line_end = head.find(b"\n", start)
    if line_end < 0 or head[start:line_end].rstrip(b"\r \t") != _FENCE:
        return
    body = line_end + 1
    at = body
    while at <= len(head):
        nxt = head.find(b"\n", at)
        line = head[at : nxt if nxt >= 0 else len(head)]
        if line.rstrip(b"\r \t") in (_FENCE, b"..."):
            facts.block("md.frontmatter", body, at - body)
            return
        if nxt < 0:
            return
        at = nxt + 1


_pdf_lock = threading.Lock()


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf reports recoverable damage as warnings and log records; here they are expected
    (damage is what this boundary looks for), so they are silenced for the call only."""
    logger = logging.getLogger("pypdf")
    with _pdf_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        disabled = logger.disabled
        logger.disabled = True
        try:
            yield
        finally:
            logger.disabled = disabled


def probe_pdf(r: Reader, facts: Facts, settings: Settings) -> None:
    """Page count from the page tree (pypdf, non-strict), checked against ``max_pages``."""
    try:
        import pypdf
    except ImportError:
        raise MissingDependencyError("PDF documents", "text") from None
    with _quiet_pypdf():
        reader = pypdf.PdfReader(r.stream(), strict=False)
        encrypted = bool(reader.is_encrypted)
        if encrypted:
            try:
                reader.decrypt("")
            except Exception:  # noqa: BLE001 - an unsupported cipher leaves it encrypted
                pass
        try:
            pages = len(reader.pages)
        except Exception as exc:
            if encrypted:
                raise UnsupportedFormatError(
                    "expected a PDF that opens without a password, got an encrypted one"
                ) from None
            raise CorruptMediaError(f"expected a readable PDF page tree, got: {exc}") from None
    if pages > settings.max_pages:
        raise LimitExceededError(
            f"expected a PDF of at most {settings.max_pages:,} pages, got {pages:,}"
        )
    if pages == 0:
        raise CorruptMediaError("expected a PDF with at least one page, got none")
    facts.set(pages=pages)
    with _quiet_pypdf():
        _pdf_metadata(reader, facts)
    if encrypted:
        facts.info.setdefault("extra", {})["encrypted"] = True


def _pdf_metadata(reader: Any, facts: Facts) -> None:
    """Record the /Info entries whose key holds AIGC (R-FMT-17) and whether the catalogue has
    an XMP /Metadata stream (R-FMT-15) in the metadata index. Damage here is not the probe's
    business: the label reader reports it."""
    try:
        trailer = reader.trailer
        info: Any = trailer.get("/Info")
        info = info.get_object() if info is not None else None
        pairs: list[tuple[str, str]] = []
        if info is not None and hasattr(info, "items"):
            for key, value in list(info.items())[:_MAX_INFO_KEYS]:
                if "AIGC" in str(key).upper():
                    value = value.get_object() if hasattr(value, "get_object") else value
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    pairs.append((str(key).lstrip("/"), str(value)))
        if pairs:
            facts.metadata.append(MetaBlock("pdf.info", 0, 0, tuple(pairs)))
        root: Any = trailer.get("/Root")
        root = root.get_object() if root is not None else None
        if root is not None and hasattr(root, "get") and root.get("/Metadata") is not None:
            facts.metadata.append(MetaBlock("pdf.xmp", 0, 0))
    except Exception:  # noqa: BLE001 - a broken /Info is the reader's finding, not a refusal
        facts.metadata.append(MetaBlock("pdf.info", 0, 0, (("error", "unreadable"),)))


_MAX_INFO_KEYS = 4096


def _zip_directory(r: Reader) -> tuple[int, int]:
    """(member count, central directory size) from the end records, ZIP64 included."""
    tail_start = max(0, r.size - (22 + 65535))
    at = r.rfind(b"PK\x05\x06", tail_start)
    if at < 0:
        raise TruncatedMediaError(
            "expected a ZIP end-of-central-directory record at the end of the file, found none"
        )
    eocd = r.read(at, 22, "the ZIP end record")
    _sig, _disk, _cd_disk, _n_here, total, cd_size, cd_off, _clen = struct.unpack(
        "<IHHHHIIH", eocd
    )
    if (total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_off == 0xFFFFFFFF) and at >= 20:
        loc = r.read(at - 20, 20, "the ZIP64 locator")
        if bytes(loc[:4]) == b"PK\x06\x07":
            (z64,) = struct.unpack_from("<Q", loc, 8)
            rec = r.read(z64, 56, "the ZIP64 end record")
            if bytes(rec[:4]) != b"PK\x06\x06":
                raise CorruptMediaError("expected a ZIP64 end record where the locator points")
            total, cd_size, cd_off = struct.unpack_from("<QQQ", rec, 32)
    if cd_size > r.size:
        raise TruncatedMediaError(
            f"expected a ZIP central directory of {cd_size:,} bytes, got a file of {r.size:,}"
        )
    return total, cd_size


def probe_docx(r: Reader, facts: Facts, settings: Settings) -> None:
    """Members and sizes within limits, ``word/document.xml`` present; pages and words from
    ``docProps/app.xml`` when the writer recorded them."""
    total, _cd_size = _zip_directory(r)
    if total > settings.max_archive_members:
        raise LimitExceededError(
            f"expected a document archive of at most {settings.max_archive_members:,} members, "
            f"got {total:,}"
        )
    with zipfile.ZipFile(r.stream()) as archive:
        members = archive.infolist()
        if len(members) > settings.max_archive_members:
            raise LimitExceededError(
                f"expected a document archive of at most {settings.max_archive_members:,} "
                f"members, got {len(members):,}"
            )
        unpacked = sum(m.file_size for m in members)
        if unpacked > settings.max_archive_bytes:
            raise LimitExceededError(
                f"expected a document archive of at most {settings.max_archive_bytes:,} "
                f"uncompressed bytes, got {unpacked:,} declared"
            )
        names = {m.filename: m for m in members}
        if "word/document.xml" not in names:
            raise UnsupportedFormatError(
                "expected a Word document (a ZIP with word/document.xml), got a ZIP archive "
                "without one"
            )
        facts.format, facts.mime = "docx", MIME["docx"]
        if DOCX_CUSTOM_PART in names:  # R-FMT-16: read by the label reader from the member
            facts.block("docx.custom", 0, r.size, member=DOCX_CUSTOM_PART)
        app = names.get("docProps/app.xml")
        if app is not None and app.file_size <= 1 * MiB:
            _app_properties(archive.read(app), facts)
    facts.set(extra={"members": len(members), "unpacked_bytes": unpacked,
                     **facts.info.get("extra", {})})


def _app_properties(raw: bytes, facts: Facts) -> None:
    """Pages and Words from the extended properties; entity tricks are refused by defusedxml."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(raw)
    except DefusedXmlException as exc:
        raise CorruptMediaError(
            f"expected plain XML in docProps/app.xml, got a forbidden construct: {exc}"
        ) from None
    except ParseError:
        return  # optional part, unreadable: the document itself may still be fine
    extra = facts.info.setdefault("extra", {})
    for child in root:
        tag = child.tag.rsplit("}", 1)[-1]
        text = (child.text or "").strip()
        if tag in ("Pages", "Words", "Characters") and text.isdigit():
            if tag == "Pages":
                facts.set(pages=int(text))
            else:
                extra[tag.lower()] = int(text)
