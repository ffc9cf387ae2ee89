"""sniff(): the real type from magic bytes, never from the name."""

from __future__ import annotations

import codecs
import struct

import pytest
from intake_factory import box, samples

from synthguard.media import Kind, Sniffed, sniff

EXPECTED = {
    "image.jpg": (Kind.IMAGE, "jpeg", "image/jpeg"),
    "image.png": (Kind.IMAGE, "png", "image/png"),
    "image.webp": (Kind.IMAGE, "webp", "image/webp"),
    "image.gif": (Kind.IMAGE, "gif", "image/gif"),
    "image.tiff": (Kind.IMAGE, "tiff", "image/tiff"),
    "image.bmp": (Kind.IMAGE, "bmp", "image/bmp"),
    "image.avif": (Kind.IMAGE, "avif", "image/avif"),
    "image.heic": (Kind.IMAGE, "heic", "image/heic"),
    "audio.wav": (Kind.AUDIO, "wav", "audio/wav"),
    "audio.mp3": (Kind.AUDIO, "mp3", "audio/mpeg"),
    "audio.flac": (Kind.AUDIO, "flac", "audio/flac"),
    "audio.ogg": (Kind.AUDIO, "ogg", "audio/ogg"),
    "audio.opus": (Kind.AUDIO, "opus", "audio/ogg"),
    "audio.m4a": (Kind.AUDIO, "m4a", "audio/mp4"),
    "audio.aac": (Kind.AUDIO, "aac", "audio/aac"),
    # Sniffing only reads brands: an audio-only MP4 is decided by probing, not here.
    "audio-only.mp4": (Kind.VIDEO, "mp4", "video/mp4"),
    "video.mp4": (Kind.VIDEO, "mp4", "video/mp4"),
    "video.mov": (Kind.VIDEO, "mov", "video/quicktime"),
    "video.mkv": (Kind.VIDEO, "mkv", "video/x-matroska"),
    "video.webm": (Kind.VIDEO, "webm", "video/webm"),
    "video.avi": (Kind.VIDEO, "avi", "video/x-msvideo"),
    "video.flv": (Kind.VIDEO, "flv", "video/x-flv"),
    "text.txt": (Kind.TEXT, "txt", "text/plain"),
    "notes.md": (Kind.TEXT, "md", "text/markdown"),
    "front.txt": (Kind.TEXT, "md", "text/markdown"),
    "doc.pdf": (Kind.TEXT, "pdf", "application/pdf"),
    "doc.docx": (Kind.TEXT, "zip", "application/zip"),  # provisional: decided when opened
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_generated_format_is_sniffed(name: str) -> None:
    data = samples()[name]
    assert sniff(data, size=len(data), name=name) == Sniffed(*EXPECTED[name])


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if not n.endswith((".txt", ".md"))))
def test_the_name_never_decides_binary_formats(name: str) -> None:
    data = samples()[name]
    assert sniff(data[:4096], size=len(data), name="misleading.txt") == sniff(data, name=None)


def test_a_png_named_jpg_is_png() -> None:
    assert sniff(samples()["image.png"], name="photo.jpg").format == "png"


@pytest.mark.parametrize(
    ("major", "compatible", "expected"),
    [
        (b"heic", b"mif1heic", "heic"),
        (b"mif1", b"mif1heic", "heic"),
        (b"mif1", b"mif1miafavif", "avif"),
        (b"avif", b"avifmif1miaf", "avif"),
        (b"avis", b"avismsf1", "avif"),
        (b"M4A ", b"M4A mp42isom", "m4a"),
        (b"M4B ", b"M4B isom", "m4a"),
        (b"qt  ", b"qt  ", "mov"),
        (b"isom", b"isomiso2avc1mp41", "mp4"),
        (b"mp42", b"mp42isomM4V ", "mp4"),
        (b"3gp4", b"3gp4isom", "mp4"),
    ],
)
def test_iso_bmff_by_brands(major: bytes, compatible: bytes, expected: str) -> None:
    head = box(b"ftyp", major + b"\x00\x00\x00\x00" + compatible) + box(b"free")
    assert sniff(head).format == expected


def test_quicktime_without_ftyp() -> None:
    assert sniff(box(b"moov", box(b"mvhd", b"\x00" * 100))).format == "mov"


def test_riff_forms() -> None:
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ").format == "wav"
    assert sniff(b"RF64\xff\xff\xff\xffWAVEds64").format == "wav"
    assert sniff(b"RIFF\x00\x00\x00\x00AVI LIST").format == "avi"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ").format == "webp"
    assert sniff(b"RIFF\x00\x00\x00\x00CDXA....") is None


def _ebml(doctype: bytes) -> bytes:
    body = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body


def test_ebml_doctype() -> None:
    assert sniff(_ebml(b"webm")).format == "webm"
    assert sniff(_ebml(b"matroska")).format == "mkv"
    assert sniff(_ebml(b"other")) is None


def _ogg_page(packet: bytes) -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 20 + bytes([1, len(packet)]) + packet


def test_ogg_codecs() -> None:
    assert sniff(_ogg_page(b"OpusHead\x01\x01")).format == "opus"
    assert sniff(_ogg_page(b"\x01vorbis\x00\x00")).format == "ogg"
    theora = sniff(_ogg_page(b"\x80theora\x03\x02"))
    assert theora is not None and theora.kind is Kind.VIDEO  # refused when opened
    assert sniff(_ogg_page(b"unknown!")) is None


def test_mp3_needs_two_chained_frames() -> None:
    mp3 = samples()["audio.mp3"]
    # Strip an ID3 tag if the encoder wrote one, then a bare frame chain still sniffs as MP3.
    start = mp3.find(b"\xff\xfb")
    bare = mp3[start:]
    assert sniff(bare).format == "mp3"
    # One valid frame header followed by garbage is not enough.
    assert sniff(bare[:4] + b"\x00" * 2000) is None


def test_id3_then_flac_or_aac() -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10
    assert sniff(tag + b"fLaC\x00\x00\x00\x22").format == "flac"
    assert sniff(tag + samples()["audio.aac"]).format == "aac"
    assert sniff(tag).format == "mp3"  # the tag is all we can see: probing looks further


def test_adts_aac() -> None:
    assert sniff(samples()["audio.aac"]).format == "aac"


def test_pdf_within_the_first_kilobyte() -> None:
    pdf = samples()["doc.pdf"]
    assert sniff(b"\x00" * 500 + pdf).format == "pdf"
    assert sniff(b"\x00" * 1100 + pdf) is None


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"hello world\n", None, "txt"),
        (b"hello world\n", "README.md", "md"),
        (b"hello world\n", "notes.MARKDOWN", "md"),
        (b"---\ntitle: a\n---\nbody", None, "md"),
        (codecs.BOM_UTF8 + "caf\u00e9".encode(), None, "txt"),
        (codecs.BOM_UTF16_LE + "caf\u00e9".encode("utf-16-le"), None, "txt"),
        (codecs.BOM_UTF16_BE + "caf\u00e9".encode("utf-16-be"), None, "txt"),
    ],
)
def test_text(data: bytes, name: str | None, expected: str) -> None:
    found = sniff(data, size=len(data), name=name)
    assert found is not None and (found.kind, found.format) == (Kind.TEXT, expected)


def test_text_cut_inside_a_character_is_still_text() -> None:
    data = ("x" * 10 + "\u00e4").encode()
    assert sniff(data[:-1], size=len(data)).format == "txt"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"abc\x00def",
        b"\xfe\xfd\xfc\xfb" * 10,
        b"\xc3\x28 invalid utf-8",
        struct.pack(">I", 12345) * 50,
    ],
)
def test_unrecognised(data: bytes) -> None:
    assert sniff(data, size=len(data)) is None


def test_random_bytes_are_unrecognised() -> None:
    import random

    rng = random.Random(7)
    found = [sniff(data, size=len(data)) for data in (rng.randbytes(512) for _ in range(500))]
    assert found == [None] * 500
