"""EBML walker for Matroska and WebM.

Reads the EBML header (DocType), then the Segment's header elements: Info (duration), Tracks
(codec, size, sample rate, frame duration), Tags, Chapters and Attachments (charged to the
metadata budget, walked for nesting since SimpleTag and ChapterAtom nest). Clusters and Cues
are media payload and index: skipped by their size, never read (R-IMPL-1). A Cluster of
unknown size (live recordings) ends the walk: nothing after it can be skipped without reading
it, and the demuxer bounds the rest.

Each TrackEntry's codec, size, frame duration, sample rate and channels are kept so that the
native probe can describe the file without FFmpeg (CodecID names in :mod:`._codecs`); a live
file or one with attachments (FFmpeg makes a stream of each) is left to PyAV.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from synthguard.errors import CorruptMediaError, TruncatedMediaError
from synthguard.media._codecs import MKV_CODECS, OPUS_RATE, aac_config, flac_streaminfo
from synthguard.media._types import MetaBlock, StreamInfo
from synthguard.media._walk import (
    Budget,
    Facts,
    Reader,
    check_duration,
    check_frames,
    check_pixels,
    check_streams,
)

__all__ = ["read_doctype", "walk_ebml"]

_EBML = 0x1A45DFA3
_SEGMENT = 0x18538067
_CLUSTER = 0x1F43B675
_CUES = 0x1C53BB6B
_INFO, _TRACKS, _TRACK_ENTRY = 0x1549A966, 0x1654AE6B, 0xAE
_TAGS, _CHAPTERS, _ATTACHMENTS = 0x1254C367, 0x1043A770, 0x1941A469
_METADATA = frozenset({_TAGS, _CHAPTERS, _ATTACHMENTS})
_SIMPLE_TAG = 0x67C8
# Master elements we descend into (the rest are leaves or payload).
_MASTERS = frozenset({
    _SEGMENT, 0x114D9B74, 0x4DBB, _INFO, _TRACKS, _TRACK_ENTRY, 0xE0, 0xE1, _TAGS, 0x7373,
    0x63C0, 0x67C8, _CHAPTERS, 0x45B9, 0xB6, 0x80, _ATTACHMENTS, 0x61A7, 0x6D80, 0x6240,
    0x55B0, 0x5034, 0x5035,
})
_UNKNOWN = -1


def _vint(buf: bytes | memoryview, pos: int, *, keep_marker: bool) -> tuple[int, int]:
    """(value, length) of an EBML variable-size integer; the value is _UNKNOWN when all its
    bits are 1 (unknown size)."""
    if pos >= len(buf):
        raise TruncatedMediaError("expected an EBML number, but the data ends")
    first = buf[pos]
    if first == 0:
        raise CorruptMediaError(f"expected an EBML number at offset {pos}, got a zero byte")
    length = 9 - first.bit_length()
    if pos + length > len(buf):
        raise TruncatedMediaError("expected an EBML number, but the data ends inside it")
    value = int.from_bytes(buf[pos : pos + length], "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    if value == (1 << (7 * length)) - 1:
        return _UNKNOWN, length
    return value, length


def read_doctype(head: bytes) -> str | None:
    """The DocType of the EBML header at the start of ``head`` ("webm", "matroska"), or None."""
    try:
        ident, n = _vint(head, 0, keep_marker=True)
        size, m = _vint(head, n, keep_marker=False)
        if ident != _EBML or size == _UNKNOWN:
            return None
        pos, end = n + m, min(n + m + size, len(head))
        while pos < end:
            ident, n = _vint(head, pos, keep_marker=True)
            size, m = _vint(head, pos + n, keep_marker=False)
            if size == _UNKNOWN:
                return None
            if ident == 0x4282:
                raw = bytes(head[pos + n + m : pos + n + m + size])
                return raw.rstrip(b"\x00").decode("ascii", "replace")
            pos += n + m + size
    except (TruncatedMediaError, CorruptMediaError):
        return None
    return None


@dataclass
class _Track:
    kind: int = 0  # 1 video, 2 audio, 17 subtitle, ...
    codec: str | None = None
    width: int = 0
    height: int = 0
    frame_ns: int = 0
    rate: float = 0.0
    out_rate: float = 0.0  # OutputSamplingFrequency (HE-AAC's real rate)
    channels: int = 0
    private: bytes = b""  # CodecPrivate, when small (AAC's AudioSpecificConfig, FLAC's header)


@dataclass
class _State:
    scale: int = 1_000_000  # TimestampScale, ns per tick
    duration: float = 0.0  # ticks
    tracks: list[_Track] = field(default_factory=list)
    stop: bool = False
    attachments: bool = False
    blocks: list[MetaBlock] = field(default_factory=list)  # the metadata index


def walk_ebml(r: Reader, facts: Facts, budget: Budget) -> None:
    """Walk the EBML header and the Segment header elements; check the declared limits."""
    st = _State()
    _walk(r, budget, st, 0, r.size, depth=1, in_meta=False)
    facts.metadata.extend(st.blocks)
    check_streams(len(st.tracks), budget.settings)
    duration = st.duration * st.scale / 1e9 if st.duration else None
    check_duration(duration, budget.settings)
    for t in st.tracks:
        if t.kind == 1:
            if t.width and t.height:
                check_pixels(t.width, t.height, budget.settings, "a video frame")
            if duration and t.frame_ns:
                check_frames(int(duration * 1e9 / t.frame_ns), budget.settings,
                             " (estimated from duration x frame rate)")
    facts.set(duration=duration)
    if not st.stop and not st.attachments:
        facts.streams = [_stream(i, t) for i, t in enumerate(st.tracks)]


def _stream(index: int, t: _Track) -> StreamInfo:
    """The track as PyAV would describe it (Matroska has no per-stream duration, frame count
    or bit rate, and neither does FFmpeg's view of it); unknown facts stay None."""
    codec = MKV_CODECS.get((t.codec or "").rstrip("\x00"))
    if t.kind == 1:
        return StreamInfo(
            index=index, type="video", codec=codec, width=t.width or None,
            height=t.height or None, fps=1e9 / t.frame_ns if t.frame_ns else None,
        )
    if t.kind != 2:
        return StreamInfo(index=index, type="other")  # subtitles, buttons...: FFmpeg's names
    whole = 0 < t.rate < 1e7 and t.rate.is_integer() and t.out_rate in (0.0, t.rate)
    rate: int | None = int(t.rate) if whole else None
    channels = t.channels or None
    if codec == "opus":
        rate = OPUS_RATE
    elif codec == "aac":
        # The decoder FFmpeg opens reads the AudioSpecificConfig; plain AAC-LC only (see
        # aac_config), and only when the Matroska header agrees with it.
        parsed = aac_config(t.private)
        if parsed is None or parsed != (rate, channels):
            rate = channels = None
    elif codec == "flac" and t.private[:4] == b"fLaC":
        info = flac_streaminfo(t.private[8:])
        rate, channels = (info[0], info[1]) if info else (None, None)
    return StreamInfo(index=index, type="audio", codec=codec, sample_rate=rate or None,
                      channels=channels)


def _walk(
    r: Reader, budget: Budget, st: _State, start: int, end: int, *, depth: int, in_meta: bool,
) -> None:
    budget.depth(depth, "Matroska elements")
    pos = start
    while pos < end and not st.stop:
        head = r.read_upto(pos, 12)
        ident, n = _vint(head, 0, keep_marker=True)
        size, m = _vint(head, n, keep_marker=False)
        budget.tick("Matroska elements")
        body = pos + n + m
        if size == _UNKNOWN:
            if ident == _SEGMENT:
                size = end - body
            elif ident == _CLUSTER:
                st.stop = True  # live-style stream: the rest is clusters (see module doc)
                return
            else:
                raise CorruptMediaError(
                    f"expected a known size for Matroska element 0x{ident:X} at offset {pos:,}"
                )
        elem_end = body + size
        if elem_end > end:
            if elem_end > r.size:
                raise TruncatedMediaError(
                    f"expected Matroska element 0x{ident:X} of {size:,} bytes at offset {pos:,}, "
                    f"but the file ends at {r.size:,} bytes"
                )
            raise CorruptMediaError(
                f"expected Matroska element 0x{ident:X} of {size:,} bytes at offset {pos:,} to "
                f"fit inside its parent, which ends at {end:,}"
            )
        meta_here = in_meta
        if ident == _ATTACHMENTS:
            st.attachments = True
        if ident in _METADATA and not in_meta:
            budget.metadata_bytes(elem_end - pos, "Matroska tags, chapters or attachments")
            meta_here = True
        if ident in (_CLUSTER, _CUES):
            pass
        elif ident == _TRACK_ENTRY:
            st.tracks.append(_Track())
            _walk(r, budget, st, body, elem_end, depth=depth + 1, in_meta=meta_here)
        elif ident in _MASTERS or ident == _EBML:
            if ident == _SIMPLE_TAG:  # R-FMT-9: TagName/TagString live inside
                st.blocks.append(MetaBlock("mkv.simpletag", body, size))
            _walk(r, budget, st, body, elem_end, depth=depth + 1, in_meta=meta_here)
        elif size <= 64:
            _leaf(r, st, ident, body, size)
        pos = elem_end


def _uint(raw: bytes | memoryview) -> int:
    return int.from_bytes(raw, "big")


def _float(raw: bytes | memoryview) -> float:
    if len(raw) == 4:
        return float(struct.unpack(">f", raw)[0])
    if len(raw) == 8:
        return float(struct.unpack(">d", raw)[0])
    return 0.0


# TimestampScale, Duration, TrackType, CodecID, PixelWidth, PixelHeight, DefaultDuration,
# SamplingFrequency, Channels, OutputSamplingFrequency, CodecPrivate.
_LEAVES = frozenset({0x2AD7B1, 0x4489, 0x83, 0x86, 0xB0, 0xBA, 0x23E383, 0xB5, 0x9F, 0x78B5,
                     0x63A2})


def _leaf(r: Reader, st: _State, ident: int, body: int, size: int) -> None:
    t = st.tracks[-1] if st.tracks else None
    if ident not in _LEAVES:
        return
    raw = r.read(body, size, "a Matroska value")
    if ident == 0x2AD7B1:
        st.scale = _uint(raw) or 1_000_000
    elif ident == 0x4489:
        value = _float(raw)
        st.duration = value if value == value and 0 < value < 1e300 else 0.0  # not NaN/inf
    elif t is None:
        return
    elif ident == 0x83:
        t.kind = _uint(raw)
    elif ident == 0x86:
        t.codec = bytes(raw).decode("ascii", "replace")
    elif ident == 0xB0:
        t.width = _uint(raw)
    elif ident == 0xBA:
        t.height = _uint(raw)
    elif ident == 0x23E383:
        t.frame_ns = _uint(raw)
    elif ident == 0xB5:
        t.rate = _float(raw)
    elif ident == 0x9F:
        t.channels = _uint(raw)
    elif ident == 0x78B5:
        t.out_rate = _float(raw)
    elif ident == 0x63A2:
        t.private = bytes(raw)
