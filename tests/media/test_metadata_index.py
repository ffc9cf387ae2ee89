"""The metadata index: open_media records where metadata blocks lie while it walks the
container once (no bytes copied), and each range holds what its name says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from synthguard.media import MetaBlock, open_media
from synthguard.settings import Settings

# The labelled-file builders of the reader tests, loaded by path (no sys.path edits).
_spec = importlib.util.spec_from_file_location(
    "label_builders", Path(__file__).resolve().parents[1] / "provenance" / "builders.py")
assert _spec is not None and _spec.loader is not None
b = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(b)


def blocks(data: bytes, name: str) -> tuple[MetaBlock, ...]:
    with open_media(data, name=name, settings=Settings()) as media:
        out = media.metadata
        for block in out:  # every range lies inside the file
            assert 0 <= block.offset and block.offset + block.length <= media.size
        return out


def test_jpeg_segments_are_told_apart() -> None:
    packet = b.xmp_packet(b.BARE)
    tiff = b.exif_tiff(user_comment=b.user_comment(b.WRAPPED))
    data = b.jpeg(b.app1_xmp(packet), b.app1_exif(tiff), b.segment(0xFE, b"hello"))
    found = {blk.carrier: blk for blk in blocks(data, "x.jpg")}
    assert data[found["jpeg.xmp"].offset :][: found["jpeg.xmp"].length] == packet
    assert data[found["jpeg.exif"].offset :][: found["jpeg.exif"].length] == tiff
    assert data[found["jpeg.com"].offset :][:5] == b"hello"
    assert found["jpeg.app"].get("marker") == "E0"  # Pillow's JFIF APP0


def test_png_webp_gif_tiff() -> None:
    data = b.png(b.itxt(b"XML:com.adobe.xmp", b"<x/>"), b.text_chunk(b"AIGC", b"{}"))
    assert [blk.carrier for blk in blocks(data, "x.png")] == ["png.itxt", "png.text"]
    data = b.webp((b"XMP ", b"<x/>"), (b"EXIF", b.exif_tiff(description=b"d")))
    assert [blk.carrier for blk in blocks(data, "x.webp")] == ["webp.xmp", "webp.exif"]
    gif = blocks(b.gif(b.xmp_packet(b.BARE)), "x.gif")
    assert [(blk.carrier, blk.get("app")) for blk in gif] == [("gif.app", "XMP DataXMP")]
    data = b.tiff_file(xmp=b"<x/>", comment=b"ASCII\0\0\0{}", description=b"desc")
    found = {blk.carrier: blk for blk in blocks(data, "x.tif")}
    assert set(found) == {"tiff.xmp", "tiff.exif.usercomment", "tiff.imagedescription"}
    xmp = found["tiff.xmp"]
    assert data[xmp.offset : xmp.offset + xmp.length] == b"<x/>"


def test_wav_and_id3() -> None:
    data = b.wav(b.riff_chunk(b"AIGC", b"{}x"), b.riff_chunk(b"_PMX", b"<x/>"))
    found = [(blk.carrier, blk.get("id"), blk.length) for blk in blocks(data, "x.wav")]
    assert found == [("wav.chunk", "AIGC", 3), ("wav.chunk", "_PMX", 4)]
    tag = b.id3((b"TXXX", b.txxx("AIGC", "{}")))
    mp3 = blocks(tag + b.mp3_frames(), "x.mp3")
    assert [(blk.carrier, blk.offset, blk.length) for blk in mp3] == [("id3", 0, len(tag))]


def test_av_containers(tmp_path: Path) -> None:
    mp4 = b.av_file(tmp_path / "x.mp4", "mp4", metadata={"AIGC": "{}"},
                    options={"movflags": "use_metadata_tags"}).read_bytes()
    assert "bmff.meta" in {blk.carrier for blk in blocks(mp4, "x.mp4")}
    mkv = b.av_file(tmp_path / "x.mkv", "matroska", metadata={"AIGC": "{}"}).read_bytes()
    assert "mkv.simpletag" in {blk.carrier for blk in blocks(mkv, "x.mkv")}
    flv = b.av_file(tmp_path / "x.flv", "flv", metadata={"AIGC": "{}"}).read_bytes()
    assert "flv.script" in {blk.carrier for blk in blocks(flv, "x.flv")}
    flac = b.av_file(tmp_path / "x.flac", "flac", video=False, audio_codec="flac").read_bytes()
    assert "flac.vorbis" in {blk.carrier for blk in blocks(flac, "x.flac")}
    opus = b.av_file(tmp_path / "x.opus", "ogg", video=False, audio_codec="libopus",
                     metadata={"AIGC": "{}"}).read_bytes()
    ogg = [blk for blk in blocks(opus, "x.opus") if blk.carrier == "ogg.comment"]
    assert ogg and ogg[0].get("codec") == "opus"
    assert opus[ogg[0].offset :].startswith(b"OpusTags")
    avi = b.avi_with_info(b.av_file(tmp_path / "x.avi", "avi").read_bytes(),
                          b.riff_chunk(b"AIGC", b"{}\0"))
    assert ("avi.info", "AIGC") in {(blk.carrier, blk.get("id")) for blk in blocks(avi, "x.avi")}


def test_documents() -> None:
    found = blocks(b.pdf(info={"AIGC": "{}"}, xmp=b"<x/>"), "x.pdf")
    assert [(blk.carrier, blk.info) for blk in found] == [
        ("pdf.info", (("AIGC", "{}"),)), ("pdf.xmp", ())]
    assert [blk.carrier for blk in blocks(b.docx(b.custom_xml("{}")), "x.docx")] == [
        "docx.custom"]
    text = b"---\nAIGC: {}\n---\n# Title\n"
    (fm,) = blocks(text, "x.md")
    assert text[fm.offset : fm.offset + fm.length] == b"AIGC: {}\n"


@pytest.mark.parametrize("in_memory", [True, False])
def test_read_range_from_path_and_bytes(tmp_path: Path, in_memory: bool) -> None:
    data = b.jpeg(b.app1_xmp(b"<x/>"))
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    with open_media(data if in_memory else path, name="x.jpg", settings=Settings()) as media:
        (xmp,) = [blk for blk in media.metadata if blk.carrier == "jpeg.xmp"]
        assert media.read_range(xmp.offset, xmp.length) == b"<x/>"
