"""Image label writers (R-FMT-1..7, R-META-6, R-IMPL-3, R-IMPL-4): XMP TC260:AIGC in JPEG, PNG,
WebP, TIFF and GIF, written without re-encoding a pixel."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageSequence
from write_helpers import LABEL, PRODUCER, PROPAGATED, exiftool_aigc, read

from synthguard.errors import MetadataTooLargeError
from synthguard.provenance.aigc import Verdict, write_label
from synthguard.provenance.aigc._write_image import GIF_MAGIC_TRAILER
from synthguard.provenance.aigc._write_xmp import xmp_with_aigc
from synthguard.requirements import EXIF_USERCOMMENT_ASCII_PREFIX, Carrier

OTHER_XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
    b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="Painter &amp; Co"/>'
    b"</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
)
OLD_LABEL_XMP = xmp_with_aigc(OTHER_XMP, '{"Label":"3","ContentProducer":"x","ProduceID":"y"}')


def _picture(mode: str = "RGB", size: tuple[int, int] = (48, 32)) -> Image.Image:
    base = Image.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 40)
    if mode == "RGBA":
        return Image.merge("RGBA", (base, base.rotate(90), base.transpose(0), base))
    return base.convert(mode)


def _frames(n: int = 3) -> list[Image.Image]:
    return [_picture().rotate(30 * i) for i in range(n)]


def _save(fmt: str, **kw: object) -> Callable[[], bytes]:
    def make() -> bytes:
        buf = io.BytesIO()
        frames = kw.pop("frames", None)
        if frames:
            first, *rest = _frames(int(frames))  # type: ignore[call-overload]
            first.save(buf, fmt, save_all=True, append_images=rest, **kw)
        else:
            _picture(str(kw.pop("mode", "RGB"))).save(buf, fmt, **kw)
        return buf.getvalue()

    return make


def _exif_user_comment() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif.get_ifd(0x8769)[0x9286] = EXIF_USERCOMMENT_ASCII_PREFIX + LABEL.to_json(
        wrapped=True).encode()
    return exif


def _jpeg_with_metadata() -> bytes:
    """JPEG with an EXIF UserComment AIGC alternative site (R-FMT-7) and an XMP packet that
    already holds another namespace and an older label."""
    buf = io.BytesIO()
    _picture().save(buf, "JPEG", exif=_exif_user_comment(), xmp=OLD_LABEL_XMP)
    return buf.getvalue()


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(ctype + body))


def _png_with_metadata() -> bytes:
    """PNG with a tEXt AIGC copy (R-FMT-7) and an XMP iTXt AFTER the image data."""
    buf = io.BytesIO()
    _picture().save(buf, "PNG")
    data = buf.getvalue()
    iend = data.rindex(b"IEND") - 4
    itxt = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + OLD_LABEL_XMP)
    text = _png_chunk(b"tEXt", b"AIGC\x00" + LABEL.to_json().encode())
    ihdr_end = 8 + 25
    return data[:ihdr_end] + text + data[ihdr_end:iend] + itxt + data[iend:]


def _webp_with_metadata() -> bytes:
    buf = io.BytesIO()
    _picture().save(buf, "WEBP", exif=_exif_user_comment(), xmp=OLD_LABEL_XMP)
    return buf.getvalue()


def _tiff_by_hand(order: str) -> bytes:
    """A 4x2 RGB uncompressed strip TIFF in either byte order (Pillow writes only II)."""
    mark = b"II*\x00" if order == "<" else b"MM\x00*"
    pixels = _picture(size=(4, 2)).tobytes()
    entries = [  # tag, type, count, value
        (256, 3, 1, 4), (257, 3, 1, 2), (258, 3, 3, 0), (259, 3, 1, 1), (262, 3, 1, 2),
        (273, 4, 1, 0), (277, 3, 1, 3), (278, 3, 1, 2), (279, 4, 1, len(pixels)),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bps_off = 8 + ifd_size
    strip_off = bps_off + 6
    out = bytearray(mark + struct.pack(order + "I", 8) + struct.pack(order + "H", len(entries)))
    for tag, typ, count, value in entries:
        if tag == 258:
            value = bps_off
        if tag == 273:
            value = strip_off
        if typ == 3 and count == 1:
            out += struct.pack(order + "HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack(order + "HHII", tag, typ, count, value)
    out += struct.pack(order + "I", 0) + struct.pack(order + "HHH", 8, 8, 8) + pixels
    return bytes(out)


def _tiff_with_xmp() -> bytes:
    buf = io.BytesIO()
    _picture().save(buf, "TIFF", tiffinfo={700: OLD_LABEL_XMP})
    return buf.getvalue()


CASES: dict[str, tuple[str, Callable[[], bytes], Carrier]] = {
    "jpeg": ("jpg", _save("JPEG"), Carrier.JPEG_XMP),
    "jpeg-exif-xmp": ("jpg", _jpeg_with_metadata, Carrier.JPEG_XMP),
    "png": ("png", _save("PNG"), Carrier.PNG_XMP),
    "png-rgba": ("png", _save("PNG", mode="RGBA"), Carrier.PNG_XMP),
    "png-text-xmp": ("png", _png_with_metadata, Carrier.PNG_XMP),
    "webp-lossy": ("webp", _save("WEBP", quality=80), Carrier.WEBP_XMP),
    "webp-lossless-alpha": ("webp", _save("WEBP", lossless=True, mode="RGBA"), Carrier.WEBP_XMP),
    "webp-animated": ("webp", _save("WEBP", frames=3, lossless=True), Carrier.WEBP_XMP),
    "webp-exif-xmp": ("webp", _webp_with_metadata, Carrier.WEBP_XMP),
    "tiff-ii": ("tif", _save("TIFF"), Carrier.TIFF_XMP),
    "tiff-mm": ("tif", lambda: _tiff_by_hand(">"), Carrier.TIFF_XMP),
    "tiff-ii-hand": ("tif", lambda: _tiff_by_hand("<"), Carrier.TIFF_XMP),
    "tiff-multipage": ("tif", _save("TIFF", frames=2), Carrier.TIFF_XMP),
    "tiff-xmp": ("tif", _tiff_with_xmp, Carrier.TIFF_XMP),
    "gif": ("gif", _save("GIF"), Carrier.GIF_XMP),
    "gif-animated": ("gif", _save("GIF", frames=3, loop=0, duration=80), Carrier.GIF_XMP),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, Carrier]:
    ext, make, carrier = CASES[request.param]
    path = tmp_path / f"src.{ext}"
    path.write_bytes(make())
    return request.param, path, carrier


def _pixels(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.array(frame.convert("RGBA")) for frame in ImageSequence.Iterator(im)]


def test_round_trip_one_compliant_site(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """R-FMT-1..6, R-IMPL-3: the label reads back from the one XMP site, byte for byte."""
    _name, src, carrier = case
    dst = tmp_path / f"out{src.suffix}"
    result = write_label(src, dst, LABEL)
    got = read(dst)
    assert got.verdict is Verdict.COMPLIANT
    assert [s.carrier for s in got.sites] == [carrier]
    assert got.sites[0].raw == LABEL.to_json() == result.payload
    assert got.label == LABEL
    assert result.carrier == carrier and result.path == dst
    assert result.rewritten_bytes > 0


def test_pixels_are_not_re_encoded(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """Essence unchanged: every decoded frame is identical (no re-encoding)."""
    _name, src, _carrier = case
    dst = tmp_path / f"out{src.suffix}"
    write_label(src, dst, LABEL)
    before, after = _pixels(src), _pixels(dst)
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b)


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
    write_label(src, src, LABEL)  # in place
    write_label(src, src, PROPAGATED)
    got = read(src)
    assert got.verdict is Verdict.COMPLIANT and len(got.sites) == 1
    assert got.sites[0].carrier == carrier
    assert got.label == PROPAGATED
    assert got.label is not None and got.label.ContentProducer == PRODUCER
    assert got.label.ProduceID == LABEL.ProduceID


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exiftool_reads_our_label(case: tuple[str, Path, Carrier], tmp_path: Path) -> None:
    """Interop: exiftool, taught the TC260 namespace (R-FMT-1), reads the value we wrote."""
    _name, src, _carrier = case
    dst = tmp_path / f"out{src.suffix}"
    write_label(src, dst, LABEL)
    assert exiftool_aigc(dst, tmp_path) == LABEL.to_json()


def test_existing_xmp_is_updated_not_replaced(tmp_path: Path) -> None:
    """R-FMT-1: other namespaces and properties of an existing packet stay."""
    for name in ("jpeg-exif-xmp", "png-text-xmp", "webp-exif-xmp", "tiff-xmp"):
        ext, make, _ = CASES[name]
        src, dst = tmp_path / f"{name}.{ext}", tmp_path / f"{name}.out.{ext}"
        src.write_bytes(make())
        write_label(src, dst, LABEL)
        data = dst.read_bytes()
        assert b'xmp:CreatorTool="Painter &amp; Co"' in data, name
        assert data.count(b"TC260:AIGC") == 1, name
        assert b'&quot;Label&quot;:&quot;3&quot;' not in data, name


def test_alternative_sites_are_cleared(tmp_path: Path) -> None:
    """R-META-6 / R-FMT-7: a PNG tEXt AIGC copy is dropped and an EXIF UserComment blanked,
    so the XMP property is the one site."""
    png_src, png_dst = tmp_path / "a.png", tmp_path / "b.png"
    png_src.write_bytes(_png_with_metadata())
    result = write_label(png_src, png_dst, LABEL)
    assert b"tEXtAIGC" not in png_dst.read_bytes()
    assert "tEXt AIGC" in result.note
    for name in ("jpeg-exif-xmp", "webp-exif-xmp"):
        ext, make, _ = CASES[name]
        src, dst = tmp_path / f"{name}.{ext}", tmp_path / f"{name}.out.{ext}"
        src.write_bytes(make())
        result = write_label(src, dst, LABEL)
        with Image.open(dst) as im:
            exif = im.getexif()
            assert exif[0x010F] == "Camera Maker"  # the rest of EXIF is kept
            comment = exif.get_ifd(0x8769).get(0x9286, b"")
        assert b"AIGC" not in (comment if isinstance(comment, bytes) else comment.encode())
        assert "EXIF" in result.note


def test_png_itxt_is_uncompressed_before_idat(tmp_path: Path) -> None:
    """R-FMT-3: iTXt XML:com.adobe.xmp, compression flag 0, before the first IDAT, valid CRC."""
    src, dst = tmp_path / "a.png", tmp_path / "b.png"
    src.write_bytes(_save("PNG")())
    write_label(src, dst, LABEL)
    data = dst.read_bytes()
    at = data.index(b"iTXtXML:com.adobe.xmp\x00")
    assert at < data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4:at])[0]
    body = data[at + 4:at + 4 + length]
    assert body[len(b"XML:com.adobe.xmp\x00"):][:2] == b"\x00\x00"
    crc = struct.unpack(">I", data[at + 4 + length:at + 8 + length])[0]
    assert crc == zlib.crc32(b"iTXt" + body)


def test_jpeg_xmp_after_app0_and_exif(tmp_path: Path) -> None:
    """R-FMT-2: APP1 XMP placed after SOI, APP0 (JFIF) and the APP1 EXIF segment."""
    src, dst = tmp_path / "a.jpg", tmp_path / "b.jpg"
    buf = io.BytesIO()
    _picture().save(buf, "JPEG", exif=_exif_user_comment())
    src.write_bytes(buf.getvalue())
    write_label(src, dst, LABEL)
    data = dst.read_bytes()
    assert data.index(b"JFIF") < data.index(b"Exif\x00\x00") < data.index(
        b"http://ns.adobe.com/xap/1.0/\x00")


def test_jpeg_refuses_a_packet_beyond_one_segment(tmp_path: Path) -> None:
    """A packet larger than one APP1 segment is refused (extended XMP is not written), and the
    destination is untouched."""
    base = xmp_with_aigc(OTHER_XMP, None)
    filler = 65_400 - len(base) - len(b'xmp:Nickname="" ')  # fits alone, not with the label
    big = base.replace(
        b'xmp:CreatorTool="', b'xmp:Nickname="' + b"n" * filler + b'" xmp:CreatorTool="')
    src, dst = tmp_path / "a.jpg", tmp_path / "b.jpg"
    buf = io.BytesIO()
    _picture().save(buf, "JPEG", xmp=big)
    src.write_bytes(buf.getvalue())
    with pytest.raises(MetadataTooLargeError, match="65,533"):
        write_label(src, dst, LABEL)
    assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]


def test_webp_simple_becomes_extended_with_xmp_flag(tmp_path: Path) -> None:
    """R-FMT-4: VP8X first with the XMP flag and the canvas size; XMP chunk last; RIFF size."""
    src, dst = tmp_path / "a.webp", tmp_path / "b.webp"
    src.write_bytes(_save("WEBP", lossless=True, mode="RGBA")())
    write_label(src, dst, LABEL)
    data = dst.read_bytes()
    assert data[12:16] == b"VP8X" and data[20] & 0x04 and data[20] & 0x10
    width = int.from_bytes(data[24:27], "little") + 1
    height = int.from_bytes(data[27:30], "little") + 1
    assert (width, height) == (48, 32)
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert data.rindex(b"XMP ") > data.index(b"VP8L")


def test_gif_xmp_extension_layout(tmp_path: Path) -> None:
    """R-FMT-6: Application Extension "XMP DataXMP", packet, 258-byte magic trailer."""
    src, dst = tmp_path / "a.gif", tmp_path / "b.gif"
    src.write_bytes(_save("GIF")())
    write_label(src, dst, LABEL)
    data = dst.read_bytes()
    assert data[:6] == b"GIF89a"
    at = data.index(b"\x21\xff\x0bXMP DataXMP")
    assert data.index(GIF_MAGIC_TRAILER, at) > at
    assert len(GIF_MAGIC_TRAILER) == 258


def test_tiff_appends_and_keeps_the_original_bytes(tmp_path: Path) -> None:
    """R-FMT-5: tag 700 type 7 in a new IFD0 appended at the end; only the header's IFD
    offset changes among the original bytes; a rewrite replaces our tail, not grows."""
    for order in ("<", ">"):
        src, dst = tmp_path / "a.tif", tmp_path / "b.tif"
        original = _tiff_by_hand(order)
        src.write_bytes(original)
        result = write_label(src, dst, LABEL)
        data = dst.read_bytes()
        assert data[:4] == original[:4] and data[8:len(original)] == original[8:]
        ifd0 = struct.unpack(order + "I", data[4:8])[0]
        assert ifd0 >= len(original)
        count = struct.unpack(order + "H", data[ifd0:ifd0 + 2])[0]
        tags = [struct.unpack(order + "HHI", data[ifd0 + 2 + 12 * i:ifd0 + 10 + 12 * i])
                for i in range(count)]
        assert [t[0] for t in tags] == sorted(t[0] for t in tags)
        assert (700, 7) in [(t[0], t[1]) for t in tags]
        assert result.rewritten_bytes == 4 + len(data) - len(original)
        write_label(dst, dst, PROPAGATED)
        write_label(dst, dst, LABEL)
        assert dst.read_bytes() == data  # our tail was replaced each time, never grown
