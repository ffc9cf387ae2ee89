"""ISO base media file format walker (MP4, MOV, M4A, HEIC, AVIF).

Walks the box tree with every size checked against its parent and the file (R-IMPL-1):
a box that runs past the end of the file is truncation, one that runs past its parent or
declares a size smaller than its own header is corruption, and nesting deeper than
``max_nesting`` is refused. ``mdat``, ``free`` and ``skip`` are payload and are never read;
only the small header boxes we need (``mvhd``, ``tkhd``, ``mdhd``, ``hdlr``, ``stsd``, ``stsz``,
``ispe``, ``elst``) are. The first sample entry of each track is parsed for its codec and,
for audio, its configuration box (``esds``, ``dOps``, ``dfLa``, ``alac``), and the sample sizes
are summed for the bit rate, so that the native probe can describe an unfragmented movie
without FFmpeg (:mod:`._codecs`). Tag boxes (``udta``, ``meta``, ``uuid``, ``XMP_``, ``ID32``)
are charged to the metadata budget.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from synthguard.errors import CorruptMediaError, TruncatedMediaError
from synthguard.media._codecs import (
    BMFF_AUDIO,
    BMFF_VIDEO,
    MP4_OBJECT_TYPES,
    OPUS_RATE,
    aac_config,
    esds_config,
    flac_streaminfo,
)
from synthguard.media._types import Kind, MetaBlock, StreamInfo
from synthguard.media._walk import (
    Budget,
    Facts,
    Reader,
    check_duration,
    check_frames,
    check_pixels,
    check_streams,
)
from synthguard.requirements import BMFF_XMP_UUID, C2PA_BMFF_UUID

__all__ = ["walk_isobmff"]

# Boxes whose payload is a sequence of boxes; we descend only into these.
_CONTAINERS = frozenset({
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta", b"mvex", b"moof",
    b"traf", b"mfra", b"tref", b"iprp", b"ipco", b"sinf", b"schi", b"ilst", b"gmhd", b"tapt",
    b"meta",
})
_METADATA = frozenset({b"udta", b"meta", b"uuid", b"XMP_", b"ID32", b"ilst"})
_PAYLOAD = frozenset({b"mdat", b"free", b"skip", b"wide", b"idat"})
# Bytes of a track's first sample entry kept for parsing: its codec configuration boxes are a
# few hundred bytes; an entry larger than this leaves the track undescribed (PyAV decides).
_ENTRY_BYTES = 16 * 1024
# Sample sizes summed for a track's bit rate (as FFmpeg computes it); beyond this the table is
# not read and the bit rate is left out rather than paid for with megabytes of reads.
_MAX_SIZES = 1 << 22


@dataclass
class _Track:
    handler: bytes = b""
    codec: str | None = None  # the first sample entry's fourcc
    entry: bytes = b""  # the first sample entry, header included (up to _ENTRY_BYTES)
    width: int = 0
    height: int = 0
    timescale: int = 0
    duration: int = 0
    samples: int = 0
    data_size: int | None = None  # sum of the sample sizes, where the table was read
    # The edit list: None without one, the one edit's length (movie timescale), or -1 for a
    # list FFmpeg would have to replay sample by sample (several edits, another rate).
    edit: int | None = None


@dataclass
class _State:
    top: list[bytes] = field(default_factory=list)
    tracks: list[_Track] = field(default_factory=list)
    timescale: int = 0
    duration: int = 0
    ispe: list[tuple[int, int]] = field(default_factory=list)
    fragments: int = 0  # moof and mvex boxes: a fragmented movie
    cover: bool = False  # iTunes cover art, which FFmpeg turns into an attached-picture stream
    blocks: list[MetaBlock] = field(default_factory=list)  # the metadata index


def walk_isobmff(r: Reader, facts: Facts, budget: Budget) -> None:
    """Walk the boxes, check the limits the headers declare, and fill ``facts``."""
    st = _State()
    _walk(r, budget, st, 0, r.size, depth=1, parent=None, in_meta=False)
    facts.metadata.extend(st.blocks)
    if facts.kind is Kind.IMAGE:
        if b"meta" not in st.top:
            raise CorruptMediaError(
                f"expected a 'meta' box in a {facts.format.upper()} image, found top-level boxes "
                f"{_names(st.top)}"
            )
        if st.ispe:
            width, height = max(st.ispe, key=lambda wh: wh[0] * wh[1])
            check_pixels(width, height, budget.settings)
        return
    if b"moov" not in st.top:
        raise CorruptMediaError(
            f"expected a 'moov' box (the movie header), found top-level boxes {_names(st.top)}"
        )
    check_streams(len(st.tracks), budget.settings)
    if st.timescale and st.duration and st.duration < (1 << 63) - 1:
        duration = st.duration / st.timescale
        check_duration(duration, budget.settings)
        facts.set(duration=duration)
    for t in st.tracks:
        if t.handler == b"vide":
            if t.width and t.height:
                check_pixels(t.width, t.height, budget.settings, "a video frame")
            check_frames(t.samples or None, budget.settings, " (sample table)")
        if t.timescale and t.duration and t.duration < (1 << 63) - 1:
            check_duration(t.duration / t.timescale, budget.settings)
    if not st.fragments and not st.cover:
        # A fragmented movie's samples live in moof boxes (stsz is empty), and cover art adds a
        # stream FFmpeg makes up: both are left to PyAV.
        facts.streams = [_stream(i, t, st.timescale) for i, t in enumerate(st.tracks)]


def _names(top: list[bytes]) -> str:
    shown = ", ".join(repr(t.decode("latin-1")) for t in top[:8])
    return shown or "none"


def _walk(
    r: Reader, budget: Budget, st: _State, start: int, end: int, *, depth: int,
    parent: bytes | None, in_meta: bool,
) -> None:
    budget.depth(depth, "MP4 boxes")
    pos = start
    while pos < end:
        left = end - pos
        if left < 8:
            # A few trailing zero bytes (QuickTime's 32-bit terminator) are legal.
            if any(bytes(r.read(pos, left, "padding"))):
                raise TruncatedMediaError(
                    f"expected a box header of 8 bytes at offset {pos:,}, got {left}"
                ) if end == r.size else CorruptMediaError(
                    f"expected a box header of 8 bytes at offset {pos:,}, got {left}"
                )
            return
        size, typ = struct.unpack(">I4s", r.read(pos, 8, "a box header"))
        budget.tick("MP4 boxes")
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", r.read(pos + 8, 8, "a 64-bit box size"))
            header = 16
            if size < 16:
                raise CorruptMediaError(
                    f"expected box {typ!r} at offset {pos:,} to be at least 16 bytes "
                    f"(its 64-bit header), got a size of {size}"
                )
        elif size == 0:
            size = end - pos  # "extends to the end of the enclosing box or file"
        elif size < 8:
            raise CorruptMediaError(
                f"expected box {typ!r} at offset {pos:,} to be at least 8 bytes (its header), "
                f"got a size of {size}"
            )
        box_end = pos + size
        if box_end > end:
            if box_end > r.size:
                raise TruncatedMediaError(
                    f"expected box {typ!r} of {size:,} bytes at offset {pos:,}, "
                    f"but the file ends at {r.size:,} bytes"
                )
            raise CorruptMediaError(
                f"expected box {typ!r} of {size:,} bytes at offset {pos:,} to fit inside its "
                f"parent {parent!r}, which ends at {end:,}"
            )
        if parent is None:
            st.top.append(typ)
        body = pos + header
        meta_here = in_meta
        if typ in _METADATA and not in_meta:
            # HEIF's top-level meta is the image structure; tags live in udta/meta elsewhere.
            if not (typ == b"meta" and parent is None):
                budget.metadata_bytes(size, f"the MP4 {typ.decode('latin-1')!r} box")
                meta_here = True
        if typ in _INDEXED:
            _index(r, st, typ, body, box_end, parent)
        if typ in _PAYLOAD:
            pass
        elif typ in _CONTAINERS:
            if typ == b"trak":
                st.tracks.append(_Track())
            elif typ in (b"moof", b"mvex"):
                st.fragments += 1
            child = body
            if typ == b"meta" and box_end - body >= 12:
                # ISO meta is a full box (4 bytes version/flags); QuickTime's is not.
                if bytes(r.read(body + 4, 4, "a meta box")) != b"hdlr":
                    child = body + 4
            if typ == b"meta":
                name = "heif.meta" if parent is None else "bmff.meta"
                st.blocks.append(MetaBlock(name, child, box_end - child, (
                    ("path", (parent or b"").decode("latin-1")),)))
            _walk(r, budget, st, child, box_end, depth=depth + 1, parent=typ, in_meta=meta_here)
        else:
            _leaf(r, st, typ, body, box_end, parent)
        pos = box_end


# Boxes the metadata index records besides ``meta`` (R-FMT-8, R-FMT-15, R-FMT-20).
_INDEXED = frozenset({b"aigc", b"uuid", b"XMP_"})


def _index(r: Reader, st: _State, typ: bytes, body: int, end: int, parent: bytes | None) -> None:
    if typ == b"aigc" and parent == b"udta":  # legacy literal box (R-FMT-20)
        st.blocks.append(MetaBlock("bmff.udta.aigc", body, end - body))
    elif typ == b"XMP_" and parent == b"udta":  # QuickTime's XMP box
        st.blocks.append(MetaBlock("bmff.xmp", body, end - body))
    elif typ == b"uuid" and parent in (None, b"moov") and end - body >= 16:
        ident = bytes(r.read(body, 16, "a uuid box"))
        if ident == BMFF_XMP_UUID:
            st.blocks.append(MetaBlock("bmff.uuid.xmp", body + 16, end - body - 16))
        elif ident == C2PA_BMFF_UUID and parent is None:
            st.blocks.append(MetaBlock("bmff.uuid.c2pa", body + 16, end - body - 16))


def _leaf(r: Reader, st: _State, typ: bytes, body: int, end: int, parent: bytes | None) -> None:
    """Read the few fields we need from a small header box."""
    n = end - body
    track = st.tracks[-1] if st.tracks else None
    if typ == b"mvhd" and n >= 20:
        head = r.read(body, min(n, 32), "mvhd")
        if head[0] == 1 and n >= 32:
            st.timescale, st.duration = struct.unpack_from(">IQ", head, 20)
        else:
            st.timescale, st.duration = struct.unpack_from(">II", head, 12)
            if st.duration == 0xFFFFFFFF:
                st.duration = 0
    elif typ == b"mdhd" and track is not None and n >= 20:
        head = r.read(body, min(n, 32), "mdhd")
        if head[0] == 1 and n >= 32:
            track.timescale, track.duration = struct.unpack_from(">IQ", head, 20)
        else:
            track.timescale, track.duration = struct.unpack_from(">II", head, 12)
            if track.duration == 0xFFFFFFFF:
                track.duration = 0
    elif typ == b"hdlr" and track is not None and parent == b"mdia" and n >= 12:
        track.handler = bytes(r.read(body + 8, 4, "hdlr"))
    elif typ == b"stsd" and track is not None and n >= 16:
        head = r.read(body, min(n, 8 + _ENTRY_BYTES), "stsd")
        track.codec = bytes(head[12:16]).decode("latin-1").strip() or None
        (entry_size,) = struct.unpack_from(">I", head, 8)
        if 8 <= entry_size <= len(head) - 8:
            track.entry = bytes(head[8 : 8 + entry_size])
        if track.handler == b"vide" and len(head) >= 8 + 8 + 28:
            track.width, track.height = struct.unpack_from(">HH", head, 8 + 8 + 24)
    elif typ in (b"stsz", b"stz2") and track is not None and n >= 12:
        size, track.samples = struct.unpack(">II", r.read(body + 4, 8, "stsz"))
        if typ == b"stsz" and not size and track.samples <= min(_MAX_SIZES, (n - 12) // 4):
            table = r.read(body + 12, 4 * track.samples, "the stsz sample sizes")
            track.data_size = int(np.frombuffer(table, ">u4").sum(dtype=np.uint64))
    elif typ == b"elst" and track is not None and n >= 8:
        head = r.read(body, min(n, 8 + 2 * 20), "elst")
        (count,) = struct.unpack_from(">I", head, 4)
        layout, width = (">QqI", 20) if head[0] == 1 else (">IiI", 12)
        edits = [struct.unpack_from(layout, head, 8 + i * width)
                 for i in range(min(count, 2)) if 8 + (i + 1) * width <= len(head)]
        kept = [(length, rate) for length, media_time, rate in edits if media_time != -1]
        simple = len(edits) == count and len(kept) == 1 and kept[0][1] == 0x10000
        track.edit = kept[0][0] if simple else -1
    elif typ == b"covr" and parent == b"ilst":
        st.cover = True
    elif typ == b"ispe" and n >= 12:
        st.ispe.append(struct.unpack(">II", r.read(body + 4, 8, "ispe")))


# -- the native probe's view of each track ---------------------------------------------------


def _stream(index: int, t: _Track, movie_timescale: int) -> StreamInfo:
    """The track as PyAV would describe it; facts the headers do not give stay None (and the
    native probe then falls back to PyAV)."""
    seconds = t.duration / t.timescale if t.timescale and t.duration else None
    if t.edit is not None:
        # FFmpeg replays the edit list (mov_fix_index): the stream lasts as long as its edit
        # (AAC's priming samples cut off), not as long as its media.
        seconds = t.edit / movie_timescale if t.edit > 0 and movie_timescale else None
    # FFmpeg's mov demuxer: bit_rate = data size x 8 x timescale / media duration (integer).
    bit_rate = (
        t.data_size * 8 * t.timescale // t.duration
        if t.data_size and t.timescale and t.duration else None
    )
    fourcc = t.codec or ""
    if t.handler == b"vide":
        codec = BMFF_VIDEO.get(fourcc)
        if fourcc == "mp4v":
            esds = _children(t.entry, 8 + 78).get(b"esds")
            config = esds_config(esds) if esds is not None else None
            codec = MP4_OBJECT_TYPES.get(config[0]) if config else None
            codec = codec if codec == "mpeg4" else None
        # avg_frame_rate: samples over the media duration, as mov_read_header computes it.
        fps = t.samples * t.timescale / t.duration if t.samples and t.timescale and t.duration \
            else None
        return StreamInfo(
            index=index, type="video", codec=codec, width=t.width or None,
            height=t.height or None, fps=fps, frames=t.samples or None, duration=seconds,
            bit_rate=bit_rate,
        )
    if t.handler == b"soun":
        codec, rate, channels = _audio_entry(fourcc, t.entry)
        return StreamInfo(
            index=index, type="audio", codec=codec, duration=seconds, sample_rate=rate,
            channels=channels, bit_rate=bit_rate,
        )
    # Subtitles, timecode, chapters, hint tracks: FFmpeg names these its own way; not described.
    return StreamInfo(index=index, type="other", duration=seconds)


def _audio_entry(fourcc: str, entry: bytes) -> tuple[str | None, int | None, int | None]:
    """(codec, sample rate, channels) of an audio sample entry, from its configuration box
    (the entry's own 16.16 rate cannot hold 96 kHz, and is the core rate of HE-AAC)."""
    if len(entry) < 8 + 28:
        return None, None, None
    (version,) = struct.unpack_from(">H", entry, 16)
    # QuickTime sound description versions 1 and 2 append 16 and 36 bytes.
    boxes = _children(entry, 8 + 28 + {0: 0, 1: 16, 2: 36}.get(version, 0))
    entry_channels, _bits = struct.unpack_from(">HH", entry, 24)
    entry_rate = struct.unpack_from(">I", entry, 32)[0] >> 16
    if fourcc == "mp4a":
        config = esds_config(boxes[b"esds"]) if b"esds" in boxes else None
        codec = MP4_OBJECT_TYPES.get(config[0]) if config else None
        if codec == "aac" and config is not None:
            parsed = aac_config(config[2])
            return ("aac", *parsed) if parsed else ("aac", None, None)
        if codec == "mp3" and version == 0:
            return "mp3", entry_rate or None, entry_channels or None
        return None, None, None
    codec = BMFF_AUDIO.get(fourcc)
    if codec == "opus" and len(boxes.get(b"dOps", b"")) >= 8:
        return codec, OPUS_RATE, boxes[b"dOps"][1] or None
    if codec == "flac" and b"dfLa" in boxes:
        info = flac_streaminfo(boxes[b"dfLa"][8:])  # after version/flags and a block header
        return (codec, info[0], info[1]) if info else (codec, None, None)
    if codec == "alac" and len(boxes.get(b"alac", b"")) >= 28:
        cookie = boxes[b"alac"]  # ALACSpecificConfig after version/flags
        return codec, struct.unpack_from(">I", cookie, 24)[0] or None, cookie[13] or None
    return None, None, None


def _children(entry: bytes, start: int, *, nested: bool = False) -> dict[bytes, bytes]:
    """Bodies of the boxes after a sample entry's fixed fields (first of each type), looking
    inside QuickTime's ``wave`` box too (one level: it never nests). Malformed sizes end the
    list: it is advisory, and what it lacks leaves the track to PyAV."""
    found: dict[bytes, bytes] = {}
    pos = start
    while pos + 8 <= len(entry):
        size, typ = struct.unpack_from(">I4s", entry, pos)
        if size < 8 or pos + size > len(entry):
            break
        if typ == b"wave" and not nested:
            for key, value in _children(entry[pos + 8 : pos + size], 0, nested=True).items():
                found.setdefault(key, value)
        found.setdefault(typ, entry[pos + 8 : pos + size])
        pos += size
    return found
