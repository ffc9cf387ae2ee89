"""The structural walkers: each hostile structure is refused with its exact error, from the
headers, before any library decodes a thing."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from intake_factory import box, png_chunk, samples, video_bytes, zip_bytes

from synthguard.errors import (
    CorruptMediaError,
    LimitExceededError,
    MetadataTooLargeError,
    NestingTooDeepError,
    SynthguardError,
    TooLongError,
    TooManyFramesError,
    TooManyPixelsError,
    TooManyStreamsError,
    TruncatedMediaError,
    UnsupportedFormatError,
)
from synthguard.media import Media, open_media
from synthguard.settings import Settings


def refused(data: bytes, cls: type[SynthguardError], name: str = "input", **limits: Any) -> str:
    """Open ``data`` and assert it is refused with exactly ``cls``; return the message."""
    with pytest.raises(SynthguardError) as info:
        open_media(data, name=name, settings=Settings().replace(**limits))
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == cls.code
    return info.value.message


def opened(data: bytes, name: str = "input", **limits: Any) -> Media:
    return open_media(data, name=name, settings=Settings().replace(**limits))


def sample(name: str) -> bytes:
    return samples()[name]


# -- JPEG --------------------------------------------------------------------------------------


def test_jpeg_cut_in_half_is_truncated() -> None:
    jpeg = sample("image.jpg")
    assert "end-of-image" in refused(jpeg[:-100], TruncatedMediaError)
    refused(jpeg[: len(jpeg) // 2], TruncatedMediaError)


def test_jpeg_without_eoi_is_truncated() -> None:
    assert sample("image.jpg").endswith(b"\xff\xd9")
    refused(sample("image.jpg")[:-2], TruncatedMediaError)


def test_jpeg_segment_past_the_end_is_truncated() -> None:
    msg = refused(sample("image.jpg")[:30], TruncatedMediaError)
    assert "segment" in msg


def _jpeg_with_size(width: int, height: int) -> bytes:
    jpeg = bytearray(sample("image.jpg"))
    sof = jpeg.find(b"\xff\xc0")
    struct.pack_into(">HH", jpeg, sof + 5, height, width)
    return bytes(jpeg)


def test_jpeg_pixels_from_the_frame_header() -> None:
    msg = refused(_jpeg_with_size(60000, 60000), TooManyPixelsError)
    assert "60000x60000" in msg
    refused(sample("image.jpg"), TooManyPixelsError, max_pixels=64 * 48 - 1)
    assert opened(sample("image.jpg"), max_pixels=64 * 48).info.width == 64


def test_jpeg_app_segments_are_metadata() -> None:
    app = b"\xff\xe1" + struct.pack(">H", 602) + b"x" * 600
    jpeg = sample("image.jpg")
    data = jpeg[:2] + app + app + jpeg[2:]
    refused(data, MetadataTooLargeError, max_metadata_bytes=1000)
    assert opened(data, max_metadata_bytes=2000).format == "jpeg"


def test_jpeg_scan_without_frame_header_is_corrupt() -> None:
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    refused(b"\xff\xd8" + sos + b"\x00" * 10 + b"\xff\xd9", CorruptMediaError)


def test_jpeg_garbage_between_segments_is_corrupt() -> None:
    jpeg = sample("image.jpg")
    after_app0 = 4 + struct.unpack_from(">H", jpeg, 4)[0]
    msg = refused(jpeg[:after_app0] + b"\x00\x00" + jpeg[after_app0:], CorruptMediaError)
    assert "marker" in msg


# -- PNG ---------------------------------------------------------------------------------------


def _png(width: int, height: int, *extra: bytes, iend: bool = True) -> bytes:
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(extra)
    out += png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return out + (png_chunk(b"IEND", b"") if iend else b"")


def test_png_header_pixels() -> None:
    msg = refused(_png(60000, 60000), TooManyPixelsError)
    assert "60000x60000" in msg and "3,600,000,000" in msg


def test_png_chunk_past_the_end_is_truncated() -> None:
    png = sample("image.png")
    refused(png[: len(png) // 2], TruncatedMediaError)


def test_png_without_iend_is_truncated() -> None:
    assert "IEND" in refused(_png(8, 8, iend=False), TruncatedMediaError)


def test_png_text_chunks_are_metadata() -> None:
    text = png_chunk(b"tEXt", b"Comment\x00" + b"A" * 5000)
    refused(_png(8, 8, text), MetadataTooLargeError, max_metadata_bytes=4096)


def test_png_must_start_with_ihdr() -> None:
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"a\x00b") + _png(8, 8)[8:]
    refused(data, CorruptMediaError)


def test_apng_frame_count() -> None:
    actl = png_chunk(b"acTL", struct.pack(">II", 1000, 0))
    refused(_png(8, 8, actl), TooManyFramesError, max_frames=999)


# -- GIF, WebP, TIFF, BMP ----------------------------------------------------------------------


def test_gif_without_trailer_is_truncated() -> None:
    gif = sample("image.gif")
    assert gif.endswith(b";")
    assert "trailer" in refused(gif[:-1], TruncatedMediaError)
    refused(gif[: len(gif) // 2], TruncatedMediaError)


def test_gif_screen_pixels() -> None:
    gif = bytearray(sample("image.gif"))
    struct.pack_into("<HH", gif, 6, 65535, 65535)
    refused(bytes(gif), TooManyPixelsError)


def test_gif_frames_counted_without_decoding() -> None:
    assert opened(sample("image.gif")).info.pages == 3
    refused(sample("image.gif"), TooManyFramesError, max_frames=2)


def test_webp_canvas_pixels() -> None:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (16383).to_bytes(3, "little") * 2
    data = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    assert "16384x16384" in refused(data, TooManyPixelsError)


def test_webp_riff_size_past_the_end_is_truncated() -> None:
    webp = bytearray(sample("image.webp"))
    struct.pack_into("<I", webp, 4, len(webp) * 10)
    refused(bytes(webp), TruncatedMediaError)


def _tiff(entries: list[tuple[int, int, int, int]], next_ifd: int = 0) -> bytes:
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHII", tag, typ, count, value)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", next_ifd)


def test_tiff_header_pixels() -> None:
    data = _tiff([(256, 4, 1, 60000), (257, 4, 1, 60000)])
    refused(data + b"\x00" * 64, TooManyPixelsError)


def test_tiff_ifd_loop_is_corrupt() -> None:
    data = _tiff([(256, 3, 1, 8), (257, 3, 1, 8)], next_ifd=8)
    assert "loop" in refused(data, CorruptMediaError)


def test_tiff_strips_past_the_end_are_truncated() -> None:
    tiff = sample("image.tiff")
    refused(tiff[: len(tiff) // 2], TruncatedMediaError)


def test_bmp_pixels_and_truncation() -> None:
    bmp = bytearray(sample("image.bmp"))
    refused(bytes(bmp[: len(bmp) // 2]), TruncatedMediaError)
    struct.pack_into("<ii", bmp, 18, 50000, 50000)
    refused(bytes(bmp), TooManyPixelsError)


# -- HEIC / AVIF -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["image.heic", "image.avif"])
def test_heif_ispe_pixels_before_the_decoder(name: str) -> None:
    data = bytearray(sample(name))
    at = data.find(b"ispe")
    struct.pack_into(">II", data, at + 8, 60000, 60000)
    refused(bytes(data), TooManyPixelsError)


@pytest.mark.parametrize("name", ["image.heic", "image.avif"])
def test_heif_cut_in_half_is_truncated(name: str) -> None:
    data = sample(name)
    refused(data[: len(data) // 2], TruncatedMediaError)


# -- MP4 / MOV / M4A ---------------------------------------------------------------------------

FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")


def _top_boxes(data: bytes) -> dict[bytes, int]:
    out, pos = {}, 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        out[kind] = pos
        pos += size
    return out


def test_mp4_cut_in_half_is_truncated() -> None:
    mp4 = sample("video.mp4")
    assert "file ends" in refused(mp4[: len(mp4) // 2], TruncatedMediaError)


def test_mp4_box_size_past_eof_is_truncated() -> None:
    mp4 = bytearray(sample("video.mp4"))
    moov = _top_boxes(bytes(mp4))[b"moov"]
    size = struct.unpack_from(">I", mp4, moov)[0]
    struct.pack_into(">I", mp4, moov, size + 1_000_000)
    refused(bytes(mp4), TruncatedMediaError)


def test_mp4_box_smaller_than_its_header_is_corrupt() -> None:
    mp4 = sample("video.mp4")
    msg = refused(FTYP + box(b"free", size=4) + mp4[len(FTYP) :], CorruptMediaError)
    assert "at least 8 bytes" in msg and "got a size of 4" in msg


def test_mp4_largesize_smaller_than_its_header_is_corrupt() -> None:
    data = FTYP + struct.pack(">I4sQ", 1, b"mdat", 0) + b"\x00" * 64
    refused(data, CorruptMediaError)


def test_mp4_child_larger_than_parent_is_corrupt() -> None:
    trak = box(b"trak", b"\x00" * 48, size=4096)
    data = FTYP + box(b"moov", trak) + box(b"free", b"\x00" * 8192)
    assert "parent" in refused(data, CorruptMediaError)


def test_mp4_nesting() -> None:
    inner = box(b"free")
    for _ in range(40):
        inner = box(b"udta", inner)
    data = FTYP + box(b"moov", inner)
    refused(data, NestingTooDeepError)
    # 1000 deep: refused at the limit, never a RecursionError.
    inner = box(b"free")
    for _ in range(1000):
        inner = box(b"udta", inner)
    refused(FTYP + box(b"moov", inner), NestingTooDeepError)


def test_mp4_without_moov_is_corrupt() -> None:
    assert "moov" in refused(FTYP + box(b"mdat", b"\x00" * 100), CorruptMediaError)


def test_mp4_user_data_is_metadata() -> None:
    mp4 = sample("video.mp4")
    udta = box(b"udta", box(b"\xa9cmt", b"x" * 5000))
    refused(mp4 + box(b"moov", udta), MetadataTooLargeError, max_metadata_bytes=4000)


def test_mp4_streams_frames_duration_pixels() -> None:
    mp4 = sample("video.mp4")  # 2 tracks, 10 frames, 1 s, 32x32
    refused(mp4, TooManyStreamsError, max_streams=1)
    refused(mp4, TooManyFramesError, max_frames=9)
    refused(mp4, TooLongError, max_duration_s=0.5)
    refused(mp4, TooManyPixelsError, max_pixels=32 * 32 - 1)
    # The AAC track runs a little past 1 s (encoder priming): every track is checked.
    assert opened(mp4, max_frames=10, max_duration_s=1.1, max_streams=2).info.frames == 10


def test_many_tracks_refused_by_the_walker() -> None:
    moov = box(b"moov", b"".join(box(b"trak") for _ in range(20)))
    refused(FTYP + moov, TooManyStreamsError)


def test_mp4_with_frames_only_estimated() -> None:
    # 100 frames at 1000 fps: the frame limit counts the container's frames.
    data = video_bytes("mp4", "mpeg4", frames=40, fps=1000)
    refused(data, TooManyFramesError, max_frames=39)


# -- Matroska / WebM ---------------------------------------------------------------------------


def _el(ident: int, payload: bytes) -> bytes:
    raw_id = ident.to_bytes((ident.bit_length() + 7) // 8, "big")
    return raw_id + (0x01 << 56 | len(payload)).to_bytes(8, "big") + payload


def _mkv(*segment: bytes) -> bytes:
    header = _el(0x1A45DFA3, _el(0x4282, b"matroska"))
    return header + _el(0x18538067, b"".join(segment))


def test_matroska_cut_in_half_is_truncated() -> None:
    data = sample("video.mkv")
    refused(data[: len(data) // 2], TruncatedMediaError)


def test_matroska_nested_tags() -> None:
    inner = _el(0x45A3, b"name")
    for _ in range(40):
        inner = _el(0x67C8, inner)  # SimpleTag inside SimpleTag
    refused(_mkv(_el(0x1254C367, _el(0x7373, inner))), NestingTooDeepError)


def test_matroska_tags_are_metadata() -> None:
    tags = _el(0x1254C367, _el(0x7373, _el(0x67C8, _el(0x4487, b"x" * 5000))))
    refused(_mkv(tags), MetadataTooLargeError, max_metadata_bytes=4000)


def test_matroska_duration_from_info() -> None:
    info = _el(0x1549A966, _el(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
               + _el(0x4489, struct.pack(">d", 36_000_000.0)))  # 10 hours in ms
    assert "36,000" in refused(_mkv(info), TooLongError)


def test_matroska_element_larger_than_parent_is_corrupt() -> None:
    bad = _el(0x1549A966, b"\x2a\xd7\xb1\x88" + b"\x00" * 4)  # child claims 8, has 4
    refused(_mkv(bad, _el(0xEC, b"\x00" * 64)), CorruptMediaError)


def test_matroska_streams() -> None:
    refused(sample("video.mkv"), TooManyStreamsError, max_streams=1)


# -- WAV / AVI ---------------------------------------------------------------------------------


def _wav(riff_size: int | None = None, data_size: int | None = None, extra: bytes = b"") -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    pcm = b"\x00\x01" * 8000
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", len(pcm) if data_size is None else data_size) + pcm
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def test_wav_claiming_4gb_is_truncated() -> None:
    assert opened(_wav()).info.duration == pytest.approx(1.0)
    msg = refused(_wav(riff_size=4_000_000_000, data_size=3_999_999_000), TruncatedMediaError)
    assert "4,000,000,008" in msg
    refused(_wav(data_size=4_000_000_000), TruncatedMediaError)
    refused(_wav(riff_size=0xFFFFFFFF), TruncatedMediaError)  # not a streaming header alone


def test_wav_streaming_headers_are_read_to_the_end() -> None:
    media = opened(_wav(riff_size=0xFFFFFFFF, data_size=0xFFFFFFFF))
    assert media.info.duration == pytest.approx(1.0, abs=0.01)
    assert opened(_wav(riff_size=0, data_size=0)).info.sample_rate == 8000


def test_wav_missing_pad_byte_is_tolerated() -> None:
    data = _wav()
    riff = struct.unpack_from("<I", data, 4)[0]
    assert opened(data[:8].replace(struct.pack("<I", riff), struct.pack("<I", riff + 1))
                  + data[8:]).format == "wav"


def test_wav_structure() -> None:
    refused(b"RIFF" + struct.pack("<I", 12) + b"WAVEdata\x00\x00\x00\x00", CorruptMediaError)
    info = b"LIST" + struct.pack("<I", 5004) + b"INFO" + b"x" * 5000
    refused(_wav(extra=info), MetadataTooLargeError, max_metadata_bytes=4000)
    refused(_wav(), TooLongError, max_duration_s=0.5)


def test_avi_limits() -> None:
    avi = sample("video.avi")
    refused(avi[: len(avi) // 2], TruncatedMediaError)
    refused(avi, TooManyFramesError, max_frames=9)
    refused(avi, TooManyPixelsError, max_pixels=1000)


# -- MP3, FLAC, Ogg, FLV -----------------------------------------------------------------------


def _id3(body_size: int, content: bytes = b"") -> bytes:
    syncsafe = bytes((body_size >> s) & 0x7F for s in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + content


def test_id3_tag_past_the_end_is_truncated() -> None:
    refused(_id3(1_000_000, b"\x00" * 100), TruncatedMediaError)


def test_id3_tag_is_metadata() -> None:
    mp3 = sample("audio.mp3")
    refused(_id3(5000, b"\x00" * 5000) + mp3, MetadataTooLargeError, max_metadata_bytes=4000)
    assert opened(_id3(5000, b"\x00" * 5000) + mp3).format == "mp3"


def test_id3_then_nothing_is_corrupt() -> None:
    refused(_id3(100, b"\x00" * 100) + b"\x00" * 500, CorruptMediaError)


def test_id3_longer_than_the_sniffed_head_then_flac() -> None:
    flac = sample("audio.flac")
    media = opened(_id3(100_000, b"\x00" * 100_000) + flac, name="x.mp3")
    assert (media.format, media.info.sample_rate) == ("flac", 22050)


def test_flac_block_past_the_end_is_truncated() -> None:
    flac = sample("audio.flac")
    refused(flac[:30], TruncatedMediaError)
    picture = bytes([6]) + (5000).to_bytes(3, "big") + b"\x00" * 5000
    # Insert a picture block after STREAMINFO (4 + 4 + 34 bytes), clearing its last flag.
    head = bytearray(flac[:42])
    head[4] &= 0x7F
    refused(bytes(head) + picture + flac[42:], MetadataTooLargeError, max_metadata_bytes=4000)


def test_ogg_theora_is_unsupported() -> None:
    page = b"OggS\x00\x02" + b"\x00" * 20 + bytes([1, 9]) + b"\x80theora\x03\x02"
    assert "Theora" in refused(page, UnsupportedFormatError)


def test_ogg_page_past_the_end_is_truncated() -> None:
    refused(sample("audio.opus")[:60], TruncatedMediaError)


def test_ogg_too_many_streams() -> None:
    opus = sample("audio.opus")
    page_len = 27 + opus[26] + sum(opus[27 : 27 + opus[26]])
    bos = opus[:page_len]
    pages = [bos[:14] + struct.pack("<I", i) + bos[18:] for i in range(20)]
    refused(b"".join(pages) + opus[page_len:], TooManyStreamsError)


def test_flv_tag_past_the_end_is_truncated() -> None:
    refused(sample("video.flv")[:40], TruncatedMediaError)


# -- Documents ---------------------------------------------------------------------------------


def test_pdf_page_limit() -> None:
    msg = refused(sample("doc.pdf"), LimitExceededError, max_pages=1)
    assert "at most 1 pages, got 2" in msg


def test_pdf_garbage_is_corrupt() -> None:
    refused(b"%PDF-1.7\n" + b"\x01\x02garbage" * 50, CorruptMediaError)


def test_zip_that_is_not_docx_is_unsupported() -> None:
    assert "word/document.xml" in refused(zip_bytes({"a.txt": b"hi"}), UnsupportedFormatError)


def test_docx_member_and_size_limits() -> None:
    docx = sample("doc.docx")
    refused(docx, LimitExceededError, max_archive_members=2)
    bomb = zip_bytes({"word/document.xml": b"<a/>", "big.bin": b"\x00" * 2_000_000})
    assert len(bomb) < 10_000
    assert "uncompressed" in refused(bomb, LimitExceededError, max_archive_bytes=1_000_000)


def test_docx_app_xml_entities_are_refused() -> None:
    evil = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>'
            b"<Properties><Pages>&a;</Pages></Properties>")
    data = zip_bytes({"word/document.xml": b"<a/>", "docProps/app.xml": evil})
    refused(data, CorruptMediaError)


def test_zip_without_end_record_is_truncated() -> None:
    docx = sample("doc.docx")
    refused(docx[: len(docx) - 30], TruncatedMediaError)


def test_text_checked_past_the_sniffed_head() -> None:
    head = b"a" * 70_000
    refused(head + b"\xc3\x28", CorruptMediaError)
    refused(head + b"\x00", CorruptMediaError)
    assert opened(head + "ä".encode()).info.chars == 70_001
