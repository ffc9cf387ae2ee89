"""Document writers: DOCX custom property, PDF Info entry, Markdown front matter (R-FMT-16..18).

The content is never touched: DOCX members other than the custom-properties part (and, when
they must register it, ``_rels/.rels`` and ``[Content_Types].xml``) keep their uncompressed
bytes; a PDF gets an incremental update appended, so every original byte stays where it was;
a Markdown body after the front matter is copied byte for byte.

Exactly one site (R-META-6): DOCX custom properties whose name contains ``AIGC`` other than the
one written are removed; a PDF catalogue XMP packet holding ``TC260:AIGC`` loses that property
in the same incremental update; a Markdown front matter keeps one ``AIGC:`` mapping.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from synthguard.errors import (
    CorruptMediaError,
    LimitExceededError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_xmp import declared_namespaces, serialise_xml, xmp_with_aigc
from synthguard.provenance.aigc._writers import WriteInfo, rewritten_between
from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES
from synthguard.requirements import (
    AIGC_FIELDS,
    AIGC_KEY,
    DOCX_CUSTOM_PART,
    DOCX_CUSTOM_PROPERTIES_FMTID,
    XMP_TC260_NAMESPACE,
    Carrier,
)

__all__ = ["write"]


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write the whole labelled document to ``tmp`` (the framework contract of ``_writers``)."""
    value = label.to_json()  # bare: every carrier here is keyed (R-META-3)
    data = media.read_bytes()
    if media.format == "docx":
        out = _docx(data, value, media)
        tmp.write_bytes(out)
        return WriteInfo(Carrier.DOCX_CUSTOM_AIGC, rewritten_between(data, out),
                         "ZIP rebuilt member by member; other members' contents unchanged")
    if media.format == "pdf":
        out, note = _pdf(data, value)
        tmp.write_bytes(out)
        appended = len(out) - len(data)
        return WriteInfo(Carrier.PDF_INFO_AIGC, appended, note)
    if media.format == "md":
        out = _markdown(data, label, media)
        tmp.write_bytes(out)
        return WriteInfo(Carrier.MD_FRONTMATTER_AIGC, rewritten_between(data, out),
                         "front matter rebuilt, body copied unchanged")
    raise UnsupportedFormatError(f"expected docx, pdf or md, got {media.format}")


# -- DOCX (R-FMT-16) ---------------------------------------------------------------------------

_CP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_CUSTOM_REL_TYPE = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)
_CUSTOM_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # new members: a fixed date keeps rewrites identical


def _parse_xml(raw: bytes, what: str) -> Element:
    if len(raw) > MAX_XMP_BYTES:
        raise LimitExceededError(
            f"expected {what} of at most {MAX_XMP_BYTES:,} bytes, got {len(raw):,}")
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise CorruptMediaError(f"{what} refused: DTDs and entities are not allowed") from None
    except (SafeET.ParseError, ValueError) as exc:
        raise CorruptMediaError(f"expected {what} to be well-formed XML, got: {exc}") from None
    return root


def _xml_bytes(root: Element, declared: list[tuple[str, str]]) -> bytes:
    return _XML_DECL + serialise_xml(root, declared).encode("utf-8")


def _set_custom_property(raw: bytes | None, value: str) -> bytes:
    if raw is None:
        root = Element(f"{{{_CP_NS}}}Properties")
        declared = [("", _CP_NS), ("vt", _VT_NS)]
    else:
        root = _parse_xml(raw, "docProps/custom.xml")
        declared = declared_namespaces(raw)
    if not any(uri == _VT_NS for _, uri in declared):
        declared.append(("vt", _VT_NS))
    prop_tag = f"{{{_CP_NS}}}property"
    props = [p for p in root if p.tag == prop_tag]
    # R-META-2: any property whose name holds AIGC is a label site; one remains (R-META-6).
    sites = [p for p in props if AIGC_KEY in p.get("name", "").upper()]
    home = next((p for p in sites if p.get("name") == AIGC_KEY), None)
    for p in sites:
        if p is not home:
            root.remove(p)
    if home is None:
        pids = [int(p.get("pid", "0")) for p in props if p.get("pid", "").isdigit()]
        home = SubElement(root, prop_tag, {
            "fmtid": DOCX_CUSTOM_PROPERTIES_FMTID,
            "pid": str(max([1, *pids]) + 1),  # pid 0 and 1 are reserved: >= 2, unique
            "name": AIGC_KEY,
        })
    for child in list(home):
        home.remove(child)
    SubElement(home, f"{{{_VT_NS}}}lpwstr").text = value
    return _xml_bytes(root, declared)


def _register_part(rels: bytes | None, types: bytes | None, part: str) -> tuple[
        bytes | None, bytes | None, str]:
    """The custom part's name from the package relationships, registering it when missing.
    Returns new ``_rels/.rels`` and ``[Content_Types].xml`` bytes (None: unchanged)."""
    new_rels: bytes | None = None
    if rels is None:
        raise CorruptMediaError("expected a DOCX with _rels/.rels, got none")
    root = _parse_xml(rels, "_rels/.rels")
    rel_tag = f"{{{_REL_NS}}}Relationship"
    found = next((r for r in root if r.tag == rel_tag and r.get("Type") == _CUSTOM_REL_TYPE),
                 None)
    if found is not None:
        part = found.get("Target", part).lstrip("/")
    else:
        ids = {r.get("Id") for r in root}
        n = 1
        while f"rId{n}" in ids:
            n += 1
        SubElement(root, rel_tag, {"Id": f"rId{n}", "Type": _CUSTOM_REL_TYPE, "Target": part})
        new_rels = _xml_bytes(root, declared_namespaces(rels))
    new_types: bytes | None = None
    if types is None:
        raise CorruptMediaError("expected a DOCX with [Content_Types].xml, got none")
    root = _parse_xml(types, "[Content_Types].xml")
    override = f"{{{_CT_NS}}}Override"
    if not any(o.tag == override and o.get("PartName", "").lstrip("/") == part for o in root):
        SubElement(root, override, {"PartName": "/" + part, "ContentType": _CUSTOM_CONTENT_TYPE})
        new_types = _xml_bytes(root, declared_namespaces(types))
    return new_rels, new_types, part


def _docx(data: bytes, value: str, media: Media) -> bytes:
    settings = media.settings
    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CorruptMediaError(f"expected a readable DOCX (ZIP), got: {exc}") from None
    with zin:
        infos = zin.infolist()
        if len(infos) > settings.max_archive_members:
            raise LimitExceededError(
                f"expected at most {settings.max_archive_members:,} DOCX members, "
                f"got {len(infos):,}")
        total = sum(i.file_size for i in infos)
        if total > settings.max_archive_bytes:
            raise LimitExceededError(
                f"expected at most {settings.max_archive_bytes:,} uncompressed DOCX bytes, "
                f"got {total:,}")
        names = {i.filename for i in infos}

        def read(name: str) -> bytes | None:
            return zin.read(name) if name in names else None

        new_rels, new_types, part = _register_part(
            read("_rels/.rels"), read("[Content_Types].xml"), DOCX_CUSTOM_PART)
        custom = _set_custom_property(read(part), value)
        replaced = {"_rels/.rels": new_rels, "[Content_Types].xml": new_types, part: custom}
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zout:
            for info in infos:
                content = replaced.get(info.filename)
                if content is None:
                    content = zin.read(info)  # the same uncompressed bytes (CRC-checked)
                zout.writestr(_copy_info(info), content)
            if part not in names:
                new = zipfile.ZipInfo(part, _FIXED_TIME)
                new.compress_type = zipfile.ZIP_DEFLATED
                zout.writestr(new, custom)
    return buf.getvalue()


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, info.date_time)
    new.compress_type = info.compress_type
    new.external_attr = info.external_attr
    new.create_system = info.create_system
    new.comment = info.comment
    return new


# -- PDF (R-FMT-17) ----------------------------------------------------------------------------


def _pdf_literal(value: str) -> bytes:
    """A PDF literal string; the value is printable ASCII (R-META-4), so PDFDocEncoding is
    the identity and only backslash and parentheses need escaping."""
    escaped = value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("ascii") + b")"


def _pdf(data: bytes, value: str) -> tuple[bytes, str]:
    try:
        import pypdf
        from pypdf.generic import (
            DictionaryObject,
            IndirectObject,
            StreamObject,
        )
    except ImportError:
        raise MissingDependencyError("PDF documents", "text") from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        trailer: Any = reader.trailer
        if "/Encrypt" in trailer:
            raise UnsupportedFormatError(
                "expected an unencrypted PDF, got an encrypted one (the label string would "
                "have to be encrypted; not written)")
        info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
        info = info_ref.get_object() if info_ref is not None else None
        if info is not None and not isinstance(info, DictionaryObject):
            raise CorruptMediaError("expected the PDF /Info entry to be a dictionary")
        aigc_keys = [k for k in (info or {}) if AIGC_KEY in str(k).upper()]
        current = info.get(f"/{AIGC_KEY}") if info is not None else None
        root_obj: Any = trailer["/Root"].get_object()
        meta_ref = root_obj.raw_get("/Metadata") if "/Metadata" in root_obj else None
        meta_packet: bytes | None = None
        if isinstance(meta_ref, IndirectObject):
            meta = meta_ref.get_object()
            if isinstance(meta, StreamObject):
                meta_packet = meta.get_data()
        xmp_has_label = (meta_packet is not None
                         and XMP_TC260_NAMESPACE.encode() in meta_packet)
        if (current is not None and str(current) == value and aigc_keys == [f"/{AIGC_KEY}"]
                and not xmp_has_label):
            return data, "the PDF already holds this label: unchanged (R-IMPL-4)"
        start = data.rfind(b"startxref")
        prev = int(data[start + 9:].split()[0]) if start >= 0 else -1
        classic = 0 <= prev < len(data) and data[prev:prev + 4] == b"xref"
        if not classic:
            return _pdf_via_pypdf(data, value, xmp_has_label, meta_packet)
        # Classic cross-reference table: our own small incremental update (PDF 32000 7.5.6).
        objects: list[tuple[int, int, bytes]] = []
        size = int(trailer["/Size"])
        buf = io.BytesIO()
        entries: list[tuple[bytes, bytes]] = []
        for key, item in (info or {}).items():
            if AIGC_KEY in str(key).upper():
                continue  # every AIGC-named entry goes; the one label is added below
            raw = info.raw_get(key) if info is not None else item
            buf.seek(0)
            buf.truncate()
            raw.write_to_stream(buf)
            entries.append((str(key).encode("latin-1"), buf.getvalue()))
        entries.append((f"/{AIGC_KEY}".encode(), _pdf_literal(value)))
        body = b"<<" + b"".join(k + b" " + v + b"\n" for k, v in entries) + b">>"
        if isinstance(info_ref, IndirectObject):
            info_num, info_gen = info_ref.idnum, info_ref.generation
        else:
            info_num, info_gen, size = size, 0, size + 1
        objects.append((info_num, info_gen, body))
        note = "appended an incremental update: new Info object, xref section, trailer"
        if xmp_has_label and isinstance(meta_ref, IndirectObject) and meta_packet is not None:
            stripped = xmp_with_aigc(meta_packet, None)
            stream = (b"<</Type /Metadata /Subtype /XML /Length %d>>\nstream\n" % len(stripped)
                      + stripped + b"\nendstream")
            objects.append((meta_ref.idnum, meta_ref.generation, stream))
            note += "; removed TC260:AIGC from the catalogue XMP"
        out = bytearray(data)
        if not out.endswith((b"\n", b"\r")):
            out += b"\n"
        offsets: list[tuple[int, int, int]] = []
        for num, gen, obj in objects:
            offsets.append((num, gen, len(out)))
            out += b"%d %d obj\n" % (num, gen) + obj + b"\nendobj\n"
        xref_at = len(out)
        out += b"xref\n"
        for num, gen, off in sorted(offsets):
            out += b"%d 1\n%010d %05d n\r\n" % (num, off, gen)
        tail = [b"/Size %d" % size, b"/Root " + _ref(trailer.raw_get("/Root")),
                b"/Info %d %d R" % (info_num, info_gen), b"/Prev %d" % prev]
        if "/ID" in trailer:
            buf.seek(0)
            buf.truncate()
            trailer.raw_get("/ID").write_to_stream(buf)
            tail.append(b"/ID " + buf.getvalue())
        out += b"trailer\n<<" + b" ".join(tail) + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out), note
    except (MissingDependencyError, UnsupportedFormatError, CorruptMediaError):
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf on hostile input: a refusal, not a crash
        raise CorruptMediaError(
            f"expected a PDF whose trailer and /Info can be updated, got: "
            f"{type(exc).__name__}: {exc}") from None


def _ref(obj: object) -> bytes:
    idnum, gen = getattr(obj, "idnum", None), getattr(obj, "generation", 0)
    if idnum is None:
        raise CorruptMediaError("expected the PDF trailer /Root to be an indirect reference")
    return b"%d %d R" % (idnum, gen)


def _pdf_via_pypdf(
    data: bytes, value: str, xmp_has_label: bool, meta_packet: bytes | None
) -> tuple[bytes, str]:
    """Files whose last cross-reference section is a stream: a classic table may not follow
    it for strict readers, so pypdf's incremental writer appends an xref stream."""
    import pypdf
    from pypdf.generic import NameObject, TextStringObject

    writer = pypdf.PdfWriter(pypdf.PdfReader(io.BytesIO(data), strict=False), incremental=True)
    info = writer._info  # the Info dictionary pypdf tracks for the update
    if info is not None:
        for key in [k for k in info if AIGC_KEY in str(k).upper()]:
            del info[key]
    writer.add_metadata({f"/{AIGC_KEY}": TextStringObject(value)})
    note = "appended an incremental update (pypdf, xref stream)"
    if xmp_has_label and meta_packet is not None:
        meta: Any = writer.root_object[NameObject("/Metadata")].get_object()
        meta.set_data(xmp_with_aigc(meta_packet, None))
        note += "; removed TC260:AIGC from the catalogue XMP"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), note


# -- Markdown (R-FMT-18) -----------------------------------------------------------------------

_FENCE = re.compile(rb"\A(?:\xef\xbb\xbf)?---[ \t]*(\r?\n)")
_CLOSE = re.compile(rb"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)
_AIGC_LINE = re.compile(rb"^[\"']?" + AIGC_KEY.encode() + rb"[\"']?[ \t]*:")


def _markdown(data: bytes, label: AigcLabel, media: Media) -> bytes:
    if media.info.encoding not in (None, "utf-8", "ascii"):
        raise UnsupportedFormatError(
            f"expected UTF-8 Markdown, got {media.info.encoding} (front matter not written)")
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    fence = _FENCE.match(data)
    nl = fence.group(1) if fence else b"\n"
    # Each value is a JSON string, which is also a valid YAML double-quoted scalar (R-META-1:
    # values stay strings, "1" never 1).
    block = b"AIGC:" + nl + b"".join(
        b"  " + name.encode() + b": " + json.dumps(getattr(label, name)).encode() + nl
        for name in AIGC_FIELDS)
    if fence is None:
        body = data[len(bom):]
        return bom + b"---" + nl + block + b"---" + nl + body
    start = fence.end()
    close = _CLOSE.search(data, start)
    if close is None:
        raise CorruptMediaError("expected the Markdown front matter to end with a --- line")
    lines = data[start:close.start()].splitlines(keepends=True)
    kept: list[bytes] = []
    at = -1
    skipping = False
    for line in lines:
        if skipping and line[:1] in (b" ", b"\t"):
            continue  # the body of the AIGC mapping being replaced
        skipping = False
        if _AIGC_LINE.match(line):
            skipping = True
            if at < 0:
                at = len(kept)  # replaced where it was (R-IMPL-4); a second copy just goes
            continue
        kept.append(line)
    if kept and not kept[-1].endswith(b"\n"):
        kept[-1] += nl
    if at < 0:
        at = len(kept)
    kept.insert(at, block)
    return data[:start] + b"".join(kept) + data[close.start():]
