"""Rendering the explicit label on text (R-EXP-2): a label line at the start and/or end.

Plain text gets the label on a line of its own; Markdown gets it as a bold blockquote line
(``> **AI生成**``), inserted *after* a leading front-matter block so that static-site tools
still find their metadata. Marking is idempotent: a label already in place is not repeated.
"""

from __future__ import annotations

import codecs
import os
import re
from typing import TYPE_CHECKING

from synthguard.errors import UnsupportedFormatError, UsageError
from synthguard.marks._io import atomic_output, open_kind
from synthguard.media import Kind
from synthguard.requirements import EXPLICIT_LABEL_DEFAULTS, has_explicit_label_elements

if TYPE_CHECKING:
    from synthguard.settings import Settings

__all__ = ["mark_text", "mark_text_file"]

_FORMATS = ("txt", "md")
_POSITIONS = ("start", "end", "both")
# YAML (---) or TOML (+++) front matter at the very start of a Markdown file.
_FRONT_MATTER = re.compile(r"\A(---|\+\+\+)[ \t]*\r?\n.*?^(?:\1|\.\.\.)[ \t]*(?:\r?\n|\Z)",
                           re.S | re.M)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _label_line(label: str, fmt: str) -> str:
    return f"> **{label}**" if fmt == "md" else f"【{label}】"


def mark_text(
    text: str,
    *,
    fmt: str = "txt",
    position: str = "start",
    label: str = EXPLICIT_LABEL_DEFAULTS[0],
) -> str:
    """``text`` with an explicit label line at the ``start``, the ``end`` or ``both``.

    ``fmt="md"`` writes a Markdown blockquote line and keeps a leading front-matter block
    first. Line endings follow the text's own (``\\r\\n`` or ``\\n``).
    """
    if fmt not in _FORMATS:
        raise UsageError(f"expected fmt in {', '.join(_FORMATS)}, got {fmt!r}")
    if position not in _POSITIONS:
        raise UsageError(f"expected position in {', '.join(_POSITIONS)}, got {position!r}")
    if not has_explicit_label_elements(label):
        raise UsageError(
            "expected a label with an AI element ('AI' or '人工智能') and a synthesis element "
            f"('生成' or '合成') (R-EXP-1), got {label!r}"
        )
    newline = "\r\n" if "\r\n" in text else "\n"
    line = _label_line(label, fmt)
    head = ""
    body = text
    if fmt == "md":
        match = _FRONT_MATTER.match(text)
        if match:
            head, body = text[: match.end()], text[match.end() :]
            if not head.endswith("\n"):
                head += newline
    if position in ("start", "both") and body.lstrip("\r\n").split("\n", 1)[0].rstrip() != line:
        body = line + newline + newline + body
    if position in ("end", "both"):
        stripped = body.rstrip()
        if stripped.rsplit("\n", 1)[-1].strip() != line:
            if body and not body.endswith("\n"):
                body += newline
            body += newline + line + newline
    return head + body


def mark_text_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    position: str = "start",
    label: str = EXPLICIT_LABEL_DEFAULTS[0],
    settings: Settings | None = None,
) -> str:
    """Label the TXT or Markdown file at ``src`` and write ``dst`` atomically, in the source's
    encoding (a byte-order mark is kept). Returns the format used (``txt`` or ``md``)."""
    with open_kind(src, Kind.TEXT, settings) as media:
        fmt = media.format.lower()
        if fmt not in _FORMATS:
            raise UnsupportedFormatError(
                f"expected a TXT or Markdown file to label, got {fmt}: label PDF/DOCX exports "
                "where they are made"
            )
        raw = media.read_bytes()
        encoding = media.info.encoding or "utf-8"
    bom = b""
    for mark, name in _BOMS:
        if raw.startswith(mark):
            bom, encoding = mark, name
            break
    try:
        codec = codecs.lookup(encoding).name
        if codec in ("utf-16", "utf-32"):
            codec = _bom_codec(bom, codec)  # the BOM is stripped here and written back as is
        elif codec == "utf-8-sig":
            codec = "utf-8"
        text = raw[len(bom) :].decode(codec)
    except (LookupError, UnicodeDecodeError) as exc:
        raise UsageError(f"expected text in {encoding}, could not decode it: {exc}") from None
    marked = mark_text(text, fmt=fmt, position=position, label=label)
    try:
        out = marked.encode(codec)
    except UnicodeEncodeError:
        raise UsageError(
            f"expected the label {label!r} to be writable in {codec}, it is not: convert the "
            "file to UTF-8 first"
        ) from None
    with atomic_output(dst) as tmp:
        tmp.write_bytes(bom + out)
    return fmt


def _bom_codec(bom: bytes, family: str) -> str:
    """The byte order a UTF-16/32 BOM announces (the BOM itself is written separately)."""
    if bom in (codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE):
        return family + "-be"
    return family + "-le"
