"""Label readers for documents: PDF (R-FMT-17, R-FMT-15), DOCX (R-FMT-16), Markdown
(R-FMT-18).

PDF /Info entries were read by the media probe (pypdf) into the metadata index; the XMP
/Metadata stream is read here with pypdf within the XMP size cap. DOCX ``docProps/custom.xml``
is parsed with defusedxml. Markdown front matter is parsed here without a YAML library: only
what R-FMT-18 needs (a top-level ``AIGC:`` mapping of scalars, or a JSON/flow value on the
same line), bounded by the block.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
import zipfile
from typing import Any

from synthguard.provenance.aigc._collect import Collector, Malformed
from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES
from synthguard.requirements import AIGC_KEY, Carrier

__all__ = ["DOC_READERS", "front_matter_label"]

_MAX_CUSTOM_XML = 1024 * 1024
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def read_pdf(c: Collector) -> None:
    for block in c.blocks("pdf.info"):
        for key, value in block.info:
            if key == "error":
                c.container("the PDF /Info dictionary could not be read", Carrier.PDF_INFO_AIGC)
            elif key == AIGC_KEY:
                c.site(value, Carrier.PDF_INFO_AIGC)
            else:  # R-META-2: the key must contain AIGC, but the carrier is exactly /AIGC
                c.warn("aigc.carrier", "R-FMT-17",
                       f"PDF /Info key {key!r} contains AIGC; R-FMT-17 names /AIGC",
                       Carrier.PDF_INFO_AIGC)
    if any(True for _ in c.blocks("pdf.xmp")):
        c.xmp(_pdf_xmp(c), Carrier.PDF_XMP)


def _pdf_xmp(c: Collector) -> bytes | None:
    try:
        import pypdf
    except ImportError:  # the probe needed it too; here only for completeness
        c.container("pypdf is not installed; PDF XMP not read", Carrier.PDF_XMP)
        return None
    logger = logging.getLogger("pypdf")
    disabled = logger.disabled
    try:
        with warnings.catch_warnings(), c.media.open() as fh:
            warnings.simplefilter("ignore")
            logger.disabled = True
            reader = pypdf.PdfReader(fh, strict=False)
            if reader.is_encrypted:
                reader.decrypt("")
            root: Any = reader.trailer["/Root"].get_object()
            stream: Any = root["/Metadata"].get_object()
            declared = stream.get("/Length", 0)
            declared = declared.get_object() if hasattr(declared, "get_object") else declared
            if int(declared) > MAX_XMP_BYTES:
                c.container(f"expected a PDF XMP stream of at most {MAX_XMP_BYTES:,} bytes, "
                            f"got {int(declared):,}; not read", Carrier.PDF_XMP)
                return None
            data = stream.get_data()
    except Exception as exc:  # noqa: BLE001 - hostile PDFs fail in many ways: a finding
        c.container(f"the PDF XMP /Metadata stream could not be read ({type(exc).__name__})",
                    Carrier.PDF_XMP)
        return None
    finally:
        logger.disabled = disabled
    return bytes(data)


def read_docx(c: Collector) -> None:
    for block in c.blocks("docx.custom"):
        member = block.get("member")
        try:
            with c.media.open() as fh, zipfile.ZipFile(fh) as archive:
                info = archive.getinfo(member)
                if info.file_size > _MAX_CUSTOM_XML:
                    c.container(f"expected {member} of at most {_MAX_CUSTOM_XML:,} bytes, got "
                                f"{info.file_size:,}; not read", Carrier.DOCX_CUSTOM_AIGC)
                    continue
                with archive.open(info) as part:
                    raw = part.read(_MAX_CUSTOM_XML + 1)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError,
                NotImplementedError) as exc:
            c.container(f"{member} could not be read ({exc})", Carrier.DOCX_CUSTOM_AIGC)
            continue
        _custom_properties(c, raw)


def _custom_properties(c: Collector, raw: bytes) -> None:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(raw, forbid_dtd=True)
    except DefusedXmlException as exc:
        c.container(f"custom.xml refused: {type(exc).__name__} (DTDs and entities are not "
                    "allowed)", Carrier.DOCX_CUSTOM_AIGC)
        return
    except (ParseError, ValueError) as exc:
        c.container(f"custom.xml is not well-formed XML: {exc}", Carrier.DOCX_CUSTOM_AIGC)
        return
    for prop in root.iter(f"{{{_CUSTOM_NS}}}property"):
        if prop.get("name") != AIGC_KEY:
            continue
        values = list(prop)
        if not values:
            c.site("", Carrier.DOCX_CUSTOM_AIGC)
            continue
        if values[0].tag != f"{{{_VT_NS}}}lpwstr":
            c.warn("aigc.carrier", "R-FMT-16",
                   f"the AIGC property is {values[0].tag.rsplit('}', 1)[-1]}, expected "
                   "vt:lpwstr", Carrier.DOCX_CUSTOM_AIGC)
        c.site(values[0].text or "", Carrier.DOCX_CUSTOM_AIGC)


# -- Markdown front matter (R-FMT-18) -----------------------------------------------------------

_MAX_LINES = 10_000


def front_matter_label(text: str) -> list[str]:
    """The AIGC values of a front matter block, each as JSON text for :func:`parse_site`.

    Accepted: ``AIGC: {"Label": "1", ...}`` (JSON or a YAML flow mapping on one line),
    ``AIGC: '<json>'`` (a quoted JSON string), or a block mapping of the seven keys indented
    under ``AIGC:``. Scalars follow YAML: quoted values are strings, bare ``1``, ``true``,
    ``null`` are a number, a boolean and null (so ``Label: 1`` is flagged, R-META-1).
    """
    lines = text.splitlines()[:_MAX_LINES]
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        key, sep, rest = line.partition(":")
        i += 1
        if not sep or line[:1].isspace() or _unquote_key(key.strip()) != AIGC_KEY:
            continue
        rest = _strip_comment(rest).strip()
        if rest:
            out.append(_inline_value(rest))
            continue
        pairs: list[tuple[str, Any]] = []
        indent: str | None = None
        while i < len(lines):
            sub = lines[i]
            if not sub.strip() or sub.lstrip().startswith("#"):
                i += 1
                continue
            lead = sub[: len(sub) - len(sub.lstrip())]
            if not lead or (indent is not None and lead != indent):
                break
            indent = lead
            k, sep2, v = sub.strip().partition(":")
            if not sep2:
                raise Malformed(f"expected 'key: value' under AIGC:, got {sub.strip()[:40]!r}")
            pairs.append((_unquote_key(k.strip()), _scalar(_strip_comment(v).strip())))
            i += 1
        # Joined by hand so that a key given twice reaches parse_site's duplicate check.
        out.append("{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}")
    return out


def _unquote_key(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        return key[1:-1]
    return key


def _strip_comment(value: str) -> str:
    """Drop a trailing ``# comment`` outside quotes."""
    quote = ""
    for at, ch in enumerate(value):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (at == 0 or value[at - 1].isspace()):
            return value[:at]
    return value


def _inline_value(rest: str) -> str:
    if rest[0] in "'\"":
        value = _scalar(rest)
        if not isinstance(value, str):
            raise Malformed("expected the quoted AIGC value to be a string")
        return value
    return rest  # JSON (a YAML flow mapping of quoted scalars is JSON)


def _scalar(raw: str) -> Any:
    if not raw:
        return None
    if raw[0] == '"':
        try:
            value = json.loads(raw)  # YAML double-quoted escapes are JSON's for our charset
        except ValueError:
            raise Malformed(f"expected a closed double-quoted value, got {raw[:40]!r}") from None
        if not isinstance(value, str):
            raise Malformed(f"expected a double-quoted string, got {raw[:40]!r}")
        return value
    if raw[0] == "'":
        if len(raw) < 2 or raw[-1] != "'":
            raise Malformed(f"expected a closed single-quoted value, got {raw[:40]!r}")
        return raw[1:-1].replace("''", "'")
    if raw in ("null", "~", "Null", "NULL"):
        return None
    if raw in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return raw.lower() == "true"
    if _INT.fullmatch(raw):
        return int(raw, 10)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    return raw


_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def read_markdown(c: Collector) -> None:
    for block in c.blocks("md.frontmatter"):
        data = c.read(block, Carrier.MD_FRONTMATTER_AIGC)
        if data is None:
            continue
        try:
            values = front_matter_label(data.decode("utf-8"))
        except (Malformed, UnicodeDecodeError) as exc:
            c.container(f"front matter not read: {exc}", Carrier.MD_FRONTMATTER_AIGC)
            continue
        for value in values:
            c.site(value, Carrier.MD_FRONTMATTER_AIGC)


DOC_READERS = {
    "pdf": read_pdf,
    "docx": read_docx,
    "md": read_markdown,
    "txt": read_markdown,
}
