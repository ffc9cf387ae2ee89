"""Audio/video label readers: WAV chunk (R-FMT-12), ID3 TXXX (R-FMT-13), Vorbis comments
(R-FMT-14), MP4 keys (R-FMT-8), Matroska SimpleTag (R-FMT-9), AVI INFO (R-FMT-10), FLV
onMetaData (R-FMT-11), XMP in A/V containers (R-FMT-15), legacy udta/aigc (R-FMT-20)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from builders import (
    BARE,
    LABEL,
    WRAPPED,
    av_file,
    avi_with_info,
    box,
    flac_with_comment,
    id3,
    mp3_frames,
    mp4_with_moov_child,
    read_blocks,
    read_label,
    riff_chunk,
    txxx,
    vorbis_comment_block,
    wav,
    xmp_packet,
)

from synthguard.provenance.aigc import Verdict
from synthguard.provenance.aigc._read_av import id3_txxx, vorbis_comments
from synthguard.requirements import BMFF_XMP_UUID, Carrier


def checks(result: object) -> set[str]:
    findings = list(result.findings)  # type: ignore[attr-defined]
    for site in result.sites:  # type: ignore[attr-defined]
        findings.extend(site.findings)
    return {f.check for f in findings}


# -- WAV ----------------------------------------------------------------------------------------


def test_section11_wav_aigc_chunk_odd_length_with_pad_is_compliant() -> None:
    # Section 11 vector, R-FMT-12: odd-length AIGC chunk followed by its pad byte
    odd = BARE if len(BARE) % 2 else BARE.replace("img-01J9Z8K2Q4", "img-01J9Z8K2Q")
    assert len(odd) % 2 == 1
    chunk = riff_chunk(b"AIGC", odd.encode())
    assert chunk.endswith(b"}\0")  # the pad byte, not counted in the chunk size
    result = read_label(wav(chunk, riff_chunk(b"LIST", b"INFOISFT\x04\0\0\0abc\0")), "x.wav")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.WAV_CHUNK_AIGC]


def test_wav_xmp_and_id3_chunks() -> None:
    result = read_label(wav(riff_chunk(b"_PMX", xmp_packet(BARE))), "x.wav")
    assert [s.carrier for s in result.sites] == [Carrier.WAV_XMP]
    tag = id3((b"TXXX", txxx("AIGC", BARE)))
    result = read_label(wav(riff_chunk(b"id3 ", tag)), "x.wav")
    assert result.verdict is Verdict.COMPLIANT
    assert [s.carrier for s in result.sites] == [Carrier.WAV_ID3_TXXX_AIGC]


def test_wav_chunk_and_xmp_is_duplicate() -> None:
    data = wav(riff_chunk(b"AIGC", BARE.encode()), riff_chunk(b"_PMX", xmp_packet(BARE)))
    result = read_label(data, "x.wav")
    assert result.verdict is Verdict.NONCOMPLIANT
    assert "aigc.duplicate" in checks(result)


# -- ID3 / MP3 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "unsync", "extended", "encoding"),
    [(4, False, False, 3), (3, False, False, 0), (3, True, False, 1), (4, False, True, 3),
     (3, False, True, 3), (4, True, False, 1)],
)
def test_mp3_id3_txxx_variants(version: int, unsync: bool, extended: bool,
                               encoding: int) -> None:
    # R-FMT-13: ID3v2.3 / 2.4, unsynchronisation, extended header, text encodings
    tag = id3((b"TIT2", b"\x03title"), (b"TXXX", txxx("AIGC", BARE, encoding)),
              version=version, unsync=unsync, extended=extended)
    result = read_label(tag + mp3_frames(), "x.mp3")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.MP3_ID3_TXXX_AIGC]
    assert result.label == LABEL


def test_unsync_round_trip_with_ff_bytes() -> None:
    value = "\u00ff\u00e0"  # latin-1 0xFF 0xE0: needs unsynchronisation
    tag = id3((b"TXXX", txxx("AIGC", value, 0)), version=3, unsync=True)
    assert id3_txxx(tag) == [("AIGC", value)]


def test_section11_mp3_id3v22_is_inconclusive() -> None:
    # Section 11 vector: ID3v2.2 -> aigc.container -> inconclusive
    tag = id3((b"TXX", txxx("AIGC", BARE, 0)), version=2)
    result = read_label(tag + mp3_frames(), "x.mp3")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.findings[0].check == "aigc.container"
    assert "ID3v2.2" in result.findings[0].message


def test_truncated_id3_frame_is_inconclusive() -> None:
    tag = bytearray(id3((b"TXXX", txxx("AIGC", BARE))))
    tag[14:18] = bytes([0, 0, 0x7F, 0x7F])  # frame size far past the tag
    result = read_label(bytes(tag) + mp3_frames(), "x.mp3")
    assert result.verdict is Verdict.INCONCLUSIVE


def test_mp3_written_by_pyav_metadata_is_txxx(tmp_path: Path) -> None:
    # FFmpeg's ID3v2.4 writer puts an unknown key into TXXX (R-FMT-13)
    path = av_file(tmp_path / "x.mp3", "mp3", metadata={"AIGC": BARE}, video=False,
                   audio_codec="libmp3lame")
    result = read_label(path.read_bytes(), "x.mp3")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert result.sites[0].carrier == Carrier.MP3_ID3_TXXX_AIGC


# -- FLAC / Ogg / Opus --------------------------------------------------------------------------


def test_flac_vorbis_comment_hand_written(tmp_path: Path) -> None:
    # R-FMT-14: key compared case-insensitively
    base = av_file(tmp_path / "b.flac", "flac", video=False, audio_codec="flac").read_bytes()
    data = flac_with_comment(base, vorbis_comment_block(b"TITLE=x", b"aigc=" + BARE.encode()))
    result = read_label(data, "x.flac")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert result.sites[0].carrier == Carrier.FLAC_VORBIS_AIGC


def test_flac_truncated_comment_is_inconclusive(tmp_path: Path) -> None:
    base = av_file(tmp_path / "b.flac", "flac", video=False, audio_codec="flac").read_bytes()
    bad = vorbis_comment_block(b"AIGC=" + BARE.encode())[:-10]
    result = read_label(flac_with_comment(base, bad), "x.flac")
    assert result.verdict is Verdict.INCONCLUSIVE


def test_opus_comment_via_pyav(tmp_path: Path) -> None:
    # R-FMT-14: OpusTags (Ogg Vorbis is covered with the ffmpeg CLI and mutagen)
    path = av_file(tmp_path / "x.opus", "ogg", metadata={"AIGC": BARE}, video=False,
                   audio_codec="libopus")
    result = read_label(path.read_bytes(), "x.opus")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.OPUS_VORBIS_AIGC]


def test_vorbis_comment_parser_bounds() -> None:
    block = vorbis_comment_block(b"A=1", b"AIGC=" + WRAPPED.encode())
    assert vorbis_comments(block)[1] == ("AIGC", WRAPPED.encode())
    with pytest.raises(ValueError):
        vorbis_comments(block[:-3])


# -- MP4 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["mp4", "mov"])
def test_mp4_keys_with_use_metadata_tags(tmp_path: Path, fmt: str) -> None:
    # R-FMT-8: -movflags use_metadata_tags puts AIGC into moov/udta/meta keys + ilst
    path = av_file(tmp_path / f"x.{fmt}", fmt, metadata={"AIGC": BARE},
                   options={"movflags": "use_metadata_tags"})
    result = read_label(path.read_bytes(), f"x.{fmt}")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.MP4_KEYS_AIGC]


def test_section11_mp4_without_use_metadata_tags_is_not_found(tmp_path: Path) -> None:
    # Section 11 vector: FFmpeg silently drops the key without the movflag (R-FMT-8, R-IMPL-3)
    path = av_file(tmp_path / "x.mp4", "mp4", metadata={"AIGC": BARE})
    assert read_label(path.read_bytes(), "x.mp4").verdict is Verdict.NOT_FOUND


def test_mp4_legacy_udta_aigc_and_uuid_xmp(tmp_path: Path) -> None:
    base = av_file(tmp_path / "x.mp4", "mp4").read_bytes()
    data = mp4_with_moov_child(base, box(b"udta", box(b"aigc", BARE.encode())))
    result = read_label(data, "x.mp4")
    assert [s.carrier for s in result.sites] == [Carrier.MP4_UDTA_AIGC]
    assert "aigc.legacy" in checks(result)
    data = base + box(b"uuid", BMFF_XMP_UUID + xmp_packet(BARE))
    result = read_label(data, "x.mp4")
    assert result.verdict is Verdict.COMPLIANT
    assert [s.carrier for s in result.sites] == [Carrier.MP4_XMP]


def test_mp4_truncated_keys_is_inconclusive() -> None:
    # R-IMPL-1: a keys entry running past its box -> aigc.container (FFmpeg's own probe
    # refuses such a file at the boundary, so the block is handed to the reader directly)
    hdlr = box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    keys = box(b"keys", b"\0\0\0\0" + (1).to_bytes(4, "big") + (200).to_bytes(4, "big")
               + b"mdtaAIGC")
    result = read_blocks(hdlr + keys, "mp4", "bmff.meta")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.findings[0].carrier == Carrier.MP4_KEYS_AIGC


# -- Matroska, AVI, FLV -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["matroska", "webm"])
def test_matroska_simpletag(tmp_path: Path, fmt: str) -> None:
    # R-FMT-9: Segment/Tags/Tag/SimpleTag TagName AIGC
    ext = "mkv" if fmt == "matroska" else "webm"
    path = av_file(tmp_path / f"x.{ext}", fmt, metadata={"AIGC": BARE})
    result = read_label(path.read_bytes(), f"x.{ext}")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.MKV_SIMPLETAG_AIGC]


def test_avi_info_chunk(tmp_path: Path) -> None:
    # R-FMT-10: LIST/INFO sub-chunk AIGC, NUL-terminated and padded (written by hand)
    base = av_file(tmp_path / "x.avi", "avi").read_bytes()
    data = avi_with_info(base, riff_chunk(b"AIGC", BARE.encode() + b"\0"))
    result = read_label(data, "x.avi")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.AVI_INFO_AIGC]


def test_flv_onmetadata(tmp_path: Path) -> None:
    # R-FMT-11: onMetaData key AIGC, string value
    path = av_file(tmp_path / "x.flv", "flv", metadata={"AIGC": BARE})
    result = read_label(path.read_bytes(), "x.flv")
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.FLV_ONMETADATA_AIGC]


def test_flv_amf_object_value_keeps_types() -> None:
    from synthguard.provenance.aigc._read_av import flv_metadata

    def s(text: str) -> bytes:
        return len(text).to_bytes(2, "big") + text.encode()

    obj = b"\x03" + s("Label") + b"\x00" + struct.pack(">d", 1.0) + b"\x00\x00\x09"
    script = b"\x02" + s("onMetaData") + b"\x08\0\0\0\x01" + s("AIGC") + obj + b"\x00\x00\x09"
    assert flv_metadata(script) == [("AIGC", [("Label", 1.0)])]
