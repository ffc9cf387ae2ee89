"""Document label writers (R-FMT-16..18, R-META-6, R-IMPL-3, R-IMPL-4): the DOCX custom
property, the PDF Info entry by incremental update, the Markdown front matter."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from write_helpers import LABEL, PRODUCER, PROPAGATED, read

from synthguard.errors import UnsupportedFormatError
from synthguard.provenance.aigc import Verdict, write_label
from synthguard.requirements import DOCX_CUSTOM_PROPERTIES_FMTID, Carrier

CT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
    b'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    b'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="'
    b'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)
RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://'
    b'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
    b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)
DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://'
    b'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
    b"Hello, generated world</w:t></w:r></w:p></w:body></w:document>"
)
CUSTOM_WITH_OLD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/custom-properties" xmlns:vt="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><property fmtid="'
    + DOCX_CUSTOM_PROPERTIES_FMTID.encode()
    + b'" pid="2" name="Client"><vt:lpwstr>ACME</vt:lpwstr></property><property fmtid="'
    + DOCX_CUSTOM_PROPERTIES_FMTID.encode()
    + b'" pid="5" name="AIGC"><vt:lpwstr>{"Label":"3"}</vt:lpwstr></property></Properties>'
)


def _docx(custom: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT if custom is None else CT.replace(
            b"</Types>", b'<Override PartName="/docProps/custom.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>'))
        z.writestr("_rels/.rels", RELS if custom is None else RELS.replace(
            b"</Relationships>", b'<Relationship Id="rId9" Type="http://schemas.openxmlformats'
            b'.org/officeDocument/2006/relationships/custom-properties" Target="docProps/custom'
            b'.xml"/></Relationships>'))
        z.writestr("word/document.xml", DOCUMENT)
        if custom is not None:
            z.writestr("docProps/custom.xml", custom)
    return buf.getvalue()


def _pdf(title: str = "A (generated) report") -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 100)
    writer.add_metadata({"/Title": title, "/Author": "Model\\Team"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _pdf_xref_stream() -> bytes:
    """A PDF whose last cross-reference section is a stream (pypdf's incremental update)."""
    writer = pypdf.PdfWriter(pypdf.PdfReader(io.BytesIO(_pdf())), incremental=True)
    writer.add_metadata({"/Subject": "second revision"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


BODY = "# Title\n\nGenerated text, 第二段。\n\n---\n\nAfter a rule.\n".encode()

CASES: dict[str, tuple[str, Callable[[], bytes], Carrier]] = {
    "docx": ("docx", _docx, Carrier.DOCX_CUSTOM_AIGC),
    "docx-custom": ("docx", lambda: _docx(CUSTOM_WITH_OLD), Carrier.DOCX_CUSTOM_AIGC),
    "pdf": ("pdf", _pdf, Carrier.PDF_INFO_AIGC),
    "pdf-xref-stream": ("pdf", _pdf_xref_stream, Carrier.PDF_INFO_AIGC),
    "md": ("md", lambda: BODY, Carrier.MD_FRONTMATTER_AIGC),
    "md-front": ("md", lambda: b"---\ntitle: x\nAIGC: {Label: '3'}\ntags: [a]\n---\n" + BODY,
                 Carrier.MD_FRONTMATTER_AIGC),
    "md-crlf": ("md", lambda: b"---\r\ntitle: x\r\n---\r\n" + BODY.replace(b"\n", b"\r\n"),
                Carrier.MD_FRONTMATTER_AIGC),
    "md-bom": ("md", lambda: b"\xef\xbb\xbf" + BODY, Carrier.MD_FRONTMATTER_AIGC),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, Carrier]:
    ext, make, carrier = CASES[request.param]
    path = tmp_path / f"src.{ext}"
    path.write_bytes(make())
    return request.param, path, carrier


def _essence(path: Path) -> object:
    data = path.read_bytes()
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            return z.read("word/document.xml")
    if path.suffix == ".pdf":
        reader = pypdf.PdfReader(path)
        return [page.get_contents().get_data() if page.get_contents() else b""  # type: ignore[union-attr]
                for page in reader.pages]
    text = data.removeprefix(b"\xef\xbb\xbf")
    match = re.match(rb"---\r?\n.*?\r?\n---\r?\n", text, re.S)
    return text[match.end():] if match else text


def test_round_trip_one_compliant_site(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """R-FMT-16..18, R-IMPL-3: exactly one compliant site holding the written JSON."""
    _name, src, carrier = case
    dst = tmp_path / f"out{src.suffix}"
    result = write_label(src, dst, LABEL)
    got = read(dst)
    assert got.verdict is Verdict.COMPLIANT
    assert [s.carrier for s in got.sites] == [carrier]
    assert got.label == LABEL and result.payload == LABEL.to_json()


def test_content_unchanged(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """Essence: DOCX document.xml, PDF page content streams, Markdown body are identical."""
    _name, src, _carrier = case
    dst = tmp_path / f"out{src.suffix}"
    write_label(src, dst, LABEL)
    assert _essence(dst) == _essence(src)


def test_idempotent_same_bytes(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """R-IMPL-4: the same label twice gives one site and the same bytes."""
    _name, src, _carrier = case
    once, twice = tmp_path / f"1{src.suffix}", tmp_path / f"2{src.suffix}"
    write_label(src, once, LABEL)
    again = write_label(once, twice, LABEL)
    assert once.read_bytes() == twice.read_bytes()
    assert again.rewritten_bytes == 0
    assert len(read(twice).sites) == 1


def test_propagation_update_replaces(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """R-META-5, R-META-6: a platform's update replaces the site; producer fields unchanged."""
    _name, src, carrier = case
    write_label(src, src, LABEL)
    write_label(src, src, PROPAGATED)
    got = read(src)
    assert got.verdict is Verdict.COMPLIANT and [s.carrier for s in got.sites] == [carrier]
    assert got.label == PROPAGATED
    assert got.label is not None and got.label.ContentProducer == PRODUCER


def test_docx_registers_the_part_and_keeps_other_properties(tmp_path: Path) -> None:
    """R-FMT-16: the part is registered once; pids unique and >= 2; one AIGC property."""
    src, dst = tmp_path / "a.docx", tmp_path / "b.docx"
    src.write_bytes(_docx())
    write_label(src, dst, LABEL)
    write_label(dst, dst, PROPAGATED)
    with zipfile.ZipFile(dst) as z:
        assert z.read("_rels/.rels").count(b"custom-properties") == 1
        assert z.read("[Content_Types].xml").count(b"/docProps/custom.xml") == 1
    src.write_bytes(_docx(CUSTOM_WITH_OLD))
    write_label(src, dst, LABEL)
    with zipfile.ZipFile(dst) as z:
        custom = z.read("docProps/custom.xml")
        assert z.read("_rels/.rels").count(b"custom-properties") == 1
    assert b'name="Client"><vt:lpwstr>ACME</vt:lpwstr>' in custom
    assert custom.count(b'name="AIGC"') == 1
    pids = re.findall(rb'pid="(\d+)"', custom)
    assert len(pids) == len(set(pids)) and all(int(p) >= 2 for p in pids)
    assert custom.count(DOCX_CUSTOM_PROPERTIES_FMTID.encode()) == 2


def test_pdf_is_an_incremental_update(tmp_path: Path) -> None:
    """R-FMT-17: the original bytes are a prefix of the result; other Info entries survive;
    the update points back with /Prev."""
    for make in (_pdf, _pdf_xref_stream):
        src, dst = tmp_path / "a.pdf", tmp_path / "b.pdf"
        original = make()
        src.write_bytes(original)
        result = write_label(src, dst, LABEL)
        data = dst.read_bytes()
        assert data.startswith(original)
        assert result.rewritten_bytes == len(data) - len(original)
        assert b"/Prev" in data[len(original):]
        meta = pypdf.PdfReader(dst).metadata
        assert meta is not None
        assert meta["/Title"] == "A (generated) report" and meta["/Author"] == "Model\\Team"
        assert meta["/AIGC"] == LABEL.to_json()


def test_pdf_escapes_parentheses_and_backslashes(tmp_path: Path) -> None:
    """A value with ( ) is a balanced, escaped literal string that reads back exactly."""
    label = LABEL.propagated(LABEL.ContentPropagator, "id(1)", "sig)(")
    src, dst = tmp_path / "a.pdf", tmp_path / "b.pdf"
    src.write_bytes(_pdf())
    write_label(src, dst, label)
    assert b"id\\(1\\)" in dst.read_bytes()
    assert read(dst).label == label


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("", "owner", algorithm="RC4-128")
    src = tmp_path / "a.pdf"
    with open(src, "wb") as fh:
        writer.write(fh)
    with pytest.raises(UnsupportedFormatError, match="encrypted"):
        write_label(src, tmp_path / "b.pdf", LABEL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pdf"]


def test_markdown_front_matter_layout(tmp_path: Path) -> None:
    """R-FMT-18: an AIGC: mapping of the seven keys, values quoted strings, at the file head;
    an existing mapping is replaced where it was, other keys kept."""
    src = tmp_path / "a.md"
    src.write_bytes(CASES["md-front"][1]())
    write_label(src, src, LABEL)
    text = src.read_text()
    assert text.startswith("---\ntitle: x\nAIGC:\n  Label: \"1\"\n")
    assert "\ntags: [a]\n---\n# Title" in text
    assert text.count("AIGC:") == 1
    crlf = tmp_path / "b.md"
    crlf.write_bytes(CASES["md-crlf"][1]())
    write_label(crlf, crlf, LABEL)
    assert b"\nAIGC:\r\n  Label: \"1\"\r\n" in crlf.read_bytes()
    assert b"\n" not in crlf.read_bytes().replace(b"\r\n", b"")
