"""Label writers for audio and video (R-FMT-8..14): one site, idempotent, essence untouched,
and independent readers (ffprobe, mutagen) see the label."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from av_builders import SPECS, SUFFIX, boxes, build, promote_stco_to_co64, same_essence

from synthguard.media import open_media
from synthguard.provenance.aigc import AigcLabel, write_label
from synthguard.provenance.aigc._read import read_aigc
from synthguard.requirements import Carrier

LABEL = AigcLabel.first_write("1", "001191440300708461136T1WFUO", "img-01J9Z8K2Q4")
UPDATE = LABEL.propagated("001191110108MA00XXXXXX2V001", "vid-7731902")
CARRIER = {
    "mp4": Carrier.MP4_KEYS_AIGC, "mp4-faststart": Carrier.MP4_KEYS_AIGC,
    "mov": Carrier.MP4_KEYS_AIGC, "m4a": Carrier.MP4_KEYS_AIGC,
    "mkv": Carrier.MKV_SIMPLETAG_AIGC, "webm": Carrier.MKV_SIMPLETAG_AIGC,
    "avi": Carrier.AVI_INFO_AIGC, "flv": Carrier.FLV_ONMETADATA_AIGC,
    "wav": Carrier.WAV_CHUNK_AIGC, "mp3": Carrier.MP3_ID3_TXXX_AIGC,
    "flac": Carrier.FLAC_VORBIS_AIGC, "ogg": Carrier.OGG_VORBIS_AIGC,
    "opus": Carrier.OPUS_VORBIS_AIGC,
}
FFPROBE = shutil.which("ffprobe")
needs_ffprobe = pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed")


def _suffix(kind: str) -> str:
    return SUFFIX.get(kind, "." + (kind if kind in ("mov", "m4a", "mkv") else SPECS[kind][0]))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("av")
    return {k: build(k, root / f"src_{k.replace('-', '_')}{_suffix(k)}") for k in SPECS}


def _sites(path: Path) -> list[tuple[str, str]]:
    with open_media(path) as media:
        result = read_aigc(media)
    return [(s.carrier, s.raw) for s in result.sites]


def _ffprobe_tags(path: Path) -> dict[str, str]:
    assert FFPROBE is not None
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=True, timeout=60,
    )
    info = json.loads(out.stdout)
    tags = dict(info["format"].get("tags", {}))
    for stream in info.get("streams", []):  # Ogg keeps comments on the stream
        tags.update(stream.get("tags", {}))
    return tags


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_write_read_back_idempotent_update_essence(
    kind: str, sources: dict[str, Path], tmp_path: Path
) -> None:
    src = sources[kind]
    once, twice, updated = (tmp_path / f"{n}{src.suffix}" for n in ("once", "twice", "upd"))
    result = write_label(src, once, LABEL)
    assert result.carrier == CARRIER[kind].value
    assert _sites(once) == [(CARRIER[kind].value, LABEL.to_json())]
    # R-IMPL-4: the same label again gives one site and identical bytes.
    write_label(once, twice, LABEL)
    assert twice.read_bytes() == once.read_bytes()
    # R-META-5: a platform's update replaces the label; producer fields unchanged.
    write_label(once, updated, UPDATE)
    assert _sites(updated) == [(CARRIER[kind].value, UPDATE.to_json())]
    assert same_essence(src, once)
    assert same_essence(src, updated)


@needs_ffprobe
@pytest.mark.parametrize("kind", sorted(k for k in SPECS if k != "wav"))
def test_ffprobe_reads_the_label(kind: str, sources: dict[str, Path], tmp_path: Path) -> None:
    # ffprobe lists no custom WAV chunks; every other carrier here is one it reads.
    out = tmp_path / f"out{sources[kind].suffix}"
    write_label(sources[kind], out, LABEL)
    assert _ffprobe_tags(out).get("AIGC") == LABEL.to_json()


@pytest.mark.parametrize("kind", ["mp3", "flac", "ogg", "opus"])
def test_mutagen_reads_the_label(kind: str, sources: dict[str, Path], tmp_path: Path) -> None:
    mutagen = pytest.importorskip("mutagen")
    out = tmp_path / f"out{sources[kind].suffix}"
    write_label(sources[kind], out, LABEL)
    audio = mutagen.File(out)
    if kind == "mp3":
        frames = audio.tags.getall("TXXX")
        assert [(f.desc, f.text) for f in frames if f.desc.upper() == "AIGC"] == [
            ("AIGC", [LABEL.to_json()])
        ]
        assert audio.tags.version[:2] == (2, 4)
    else:
        assert audio.tags["AIGC"] == [LABEL.to_json()]


# -- MP4 --------------------------------------------------------------------------------------


def _chunk_offsets(data: bytes) -> list[int]:
    out: list[int] = []

    def walk(start: int, end: int) -> None:
        for typ, off, size in boxes(data, start, end):
            if typ in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                walk(off + 8, off + size)
            elif typ in (b"stco", b"co64"):
                (n,) = struct.unpack_from(">I", data, off + 12)
                fmt = "I" if typ == b"stco" else "Q"
                out.extend(struct.unpack_from(f">{n}{fmt}", data, off + 16))

    walk(0, len(data))
    return out


def test_faststart_mp4_shifts_chunk_offsets(sources: dict[str, Path], tmp_path: Path) -> None:
    src = sources["mp4-faststart"]
    data = src.read_bytes()
    order = [t for t, _o, _s in boxes(data)]
    assert order.index(b"moov") < order.index(b"mdat")
    out = tmp_path / "out.mp4"
    result = write_label(src, out, LABEL)
    assert "chunk offsets shifted" in result.note
    shift = out.stat().st_size - src.stat().st_size
    assert shift > 0
    assert _chunk_offsets(out.read_bytes()) == [o + shift for o in _chunk_offsets(data)]
    assert same_essence(src, out)
    # The reserved free space makes the platform's update an in-place edit of moov only.
    upd = tmp_path / "upd.mp4"
    info = write_label(out, upd, UPDATE)
    assert upd.stat().st_size == out.stat().st_size
    assert info.rewritten_bytes < 4096
    assert _chunk_offsets(upd.read_bytes()) == _chunk_offsets(out.read_bytes())


def test_co64_mp4(sources: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "co64.mp4"
    src.write_bytes(promote_stco_to_co64(sources["mp4-faststart"].read_bytes()))
    assert b"co64" in src.read_bytes() and b"stco" not in src.read_bytes()
    assert same_essence(sources["mp4-faststart"], src)
    out = tmp_path / "out.mp4"
    write_label(src, out, LABEL)
    assert b"co64" in out.read_bytes()
    assert _sites(out) == [(Carrier.MP4_KEYS_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)


def test_stco_promoted_to_co64_when_offsets_overflow() -> None:
    from synthguard.provenance.aigc._write_bmff import _shift_tables

    def box(typ: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(body), typ) + body

    stco = box(b"stco", struct.pack(">IIII", 0, 2, 100, 0xFFFFFF00))
    moov = box(b"moov", box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stco)))))
    moved = _shift_tables(moov, 0x200, 1000)
    assert b"co64" in moved and b"stco" not in moved
    at = moved.index(b"co64") - 4
    assert struct.unpack_from(">IQQ", moved, at + 12) == (2, 100, 0xFFFFFF00 + 0x200)


def test_mp4_keeps_other_keys_and_replaces_old_label(tmp_path: Path) -> None:
    old = json.dumps({"Label": "2", "ContentProducer": "x", "ProduceID": "y"})
    src = build("mp4", tmp_path / "keys.mp4", metadata={"foo": "bar", "AIGC": old},
                options={"movflags": "use_metadata_tags"})
    assert len(_sites(src)) == 1
    out = tmp_path / "out.mp4"
    write_label(src, out, LABEL)
    assert _sites(out) == [(Carrier.MP4_KEYS_AIGC.value, LABEL.to_json())]
    if FFPROBE:
        tags = _ffprobe_tags(out)
        assert tags["foo"] == "bar" and tags["AIGC"] == LABEL.to_json()
    assert same_essence(src, out)


def test_mp4_64bit_moov_header(sources: dict[str, Path], tmp_path: Path) -> None:
    data = sources["mp4"].read_bytes()
    _t, off, size = next(b for b in boxes(data) if b[0] == b"moov")
    assert off + size == len(data)
    wide = data[:off] + struct.pack(">I4sQ", 1, b"moov", size + 8) + data[off + 8 :]
    src = tmp_path / "wide.mp4"
    src.write_bytes(wide)
    out = tmp_path / "out.mp4"
    write_label(src, out, LABEL)
    new = out.read_bytes()
    assert struct.unpack_from(">I4s", new, off) == (1, b"moov")
    assert _sites(out) == [(Carrier.MP4_KEYS_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)


# -- RIFF -------------------------------------------------------------------------------------


def _riff_chunks(data: bytes, start: int = 12) -> list[tuple[bytes, int, int]]:
    out, pos = [], start
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        out.append((cid, pos, size))
        pos += 8 + size + (size & 1)
    return out


def test_wav_odd_payload_is_padded(sources: dict[str, Path], tmp_path: Path) -> None:
    lengths = set()
    for reserved in ("", "x"):  # one of the two payloads has an odd length
        label = AigcLabel.first_write("1", LABEL.ContentProducer, "wav-1", reserved)
        lengths.add(len(label.to_json()) % 2)
        out = tmp_path / f"r{reserved}.wav"
        write_label(sources["wav"], out, label)
        data = out.read_bytes()
        chunks = [c for c in _riff_chunks(data) if c[0] == b"AIGC"]
        assert len(chunks) == 1
        _cid, pos, size = chunks[0]
        assert size == len(label.to_json())
        assert len(data) == pos + 8 + size + (size & 1)
        assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    assert lengths == {0, 1}


def test_avi_without_room_appends_info_list(sources: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(sources["avi"].read_bytes())
    junk = [c for c in _riff_chunks(bytes(data)) if c[0] == b"JUNK"]
    for _cid, pos, _size in junk:  # no JUNK to absorb the growth: the label is appended
        data[pos : pos + 4] = b"JUNQ"
    src = tmp_path / "tight.avi"
    src.write_bytes(bytes(data))
    out = tmp_path / "out.avi"
    result = write_label(src, out, LABEL)
    assert "appended" in result.note
    assert _riff_chunks(out.read_bytes())[-1][0] == b"LIST"
    assert same_essence(src, out)
    upd = tmp_path / "upd.avi"
    write_label(out, upd, UPDATE)
    assert _sites(upd) == [(Carrier.AVI_INFO_AIGC.value, UPDATE.to_json())]
    if FFPROBE:
        assert _ffprobe_tags(out)["AIGC"] == LABEL.to_json()


# -- Matroska ---------------------------------------------------------------------------------


def test_mkv_existing_label_replaced_in_place(tmp_path: Path) -> None:
    old = json.dumps({"Label": "2", "ContentProducer": "x", "ProduceID": "y"})
    src = build("mkv", tmp_path / "tagged.mkv", metadata={"AIGC": old, "title": "t"})
    assert len(_sites(src)) == 1
    out = tmp_path / "out.mkv"
    write_label(src, out, LABEL)
    assert _sites(out) == [(Carrier.MKV_SIMPLETAG_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)
    if FFPROBE:
        tags = _ffprobe_tags(out)
        assert tags["AIGC"] == LABEL.to_json() and tags["title"] == "t"


def test_mkv_crc32_recomputed(sources: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.mkv"
    write_label(sources["mkv"], out, LABEL)
    data = out.read_bytes()
    tags = data.rfind(bytes.fromhex("1254C367"))
    width = 9 - data[tags + 4].bit_length()
    size = int.from_bytes(data[tags + 4 : tags + 4 + width], "big") & ((1 << (7 * width)) - 1)
    body = data[tags + 4 + width : tags + 4 + width + size]
    assert body[:2] == b"\xbf\x84"
    assert struct.unpack("<I", body[2:6])[0] == zlib.crc32(body[6:])


# -- FLV --------------------------------------------------------------------------------------


def test_flv_keyframe_positions_follow_the_move(tmp_path: Path) -> None:
    src = build("flv", tmp_path / "k.flv", options={"flvflags": "add_keyframe_index"})
    out = tmp_path / "out.flv"
    write_label(src, out, LABEL)
    data = out.read_bytes()
    marker = b"filepositions\x0a"
    at = data.index(marker) + len(marker)
    (n,) = struct.unpack_from(">I", data, at)
    positions = [int(struct.unpack_from(">d", data, at + 4 + 9 * i + 1)[0]) for i in range(n)]
    assert positions
    for p in positions:  # each is a video tag holding a key frame
        assert data[p] & 0x1F == 9 and data[p + 11] >> 4 == 1
    assert same_essence(src, out)


# -- ID3 --------------------------------------------------------------------------------------


def test_id3v23_kept_and_old_frames_replaced(tmp_path: Path) -> None:
    id3 = pytest.importorskip("mutagen.id3")
    src = build("mp3", tmp_path / "v23.mp3", options={"id3v2_version": "3"})
    tags = id3.ID3(src)
    assert tags.version[:2] == (2, 3)
    tags.add(id3.TXXX(encoding=0, desc="aigc", text=["old"]))
    tags.save(src, v2_version=3)
    out = tmp_path / "out.mp3"
    write_label(src, out, LABEL)
    got = id3.ID3(out)
    assert got.version[:2] == (2, 3)
    frames = [f for f in got.getall("TXXX") if f.desc.upper() == "AIGC"]
    assert [(f.desc, f.encoding, f.text) for f in frames] == [
        ("AIGC", id3.Encoding.UTF16, [LABEL.to_json()])
    ]
    assert _sites(out) == [(Carrier.MP3_ID3_TXXX_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)


def test_rf64_wav(tmp_path: Path) -> None:
    src = build("wav", tmp_path / "rf.wav", options={"rf64": "always"})
    assert src.read_bytes()[:4] == b"RF64"
    out = tmp_path / "out.wav"
    write_label(src, out, LABEL)
    data = out.read_bytes()
    assert struct.unpack_from("<Q", data, 20)[0] == len(data) - 8  # ds64 riffSize
    assert _sites(out) == [(Carrier.WAV_CHUNK_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)


def test_webm_without_tags_gets_tags_and_seek_entry(sources: dict[str, Path],
                                                     tmp_path: Path) -> None:
    data = bytearray(sources["webm"].read_bytes())
    seekhead = data.index(bytes.fromhex("114D9B74"))
    at = data.index(bytes.fromhex("1254C367"), seekhead + 40)  # the Tags element itself
    width = 9 - data[at + 4].bit_length()
    size = int.from_bytes(data[at + 4 : at + 4 + width], "big") & ((1 << (7 * width)) - 1)
    total = 4 + width + size  # replaced by a Void of the same size
    data[at : at + total] = b"\xec" + ((total - 9) | (1 << 56)).to_bytes(8, "big") + bytes(
        total - 9)
    src = tmp_path / "bare.webm"
    src.write_bytes(bytes(data))
    assert _sites(src) == []
    out = tmp_path / "out.webm"
    result = write_label(src, out, LABEL)
    assert "SeekHead entry for Tags" in result.note
    assert _sites(out) == [(Carrier.MKV_SIMPLETAG_AIGC.value, LABEL.to_json())]
    assert same_essence(src, out)
    if FFPROBE:
        assert _ffprobe_tags(out)["AIGC"] == LABEL.to_json()
