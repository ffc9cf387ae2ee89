"""RIFF walkers: WAV (and RF64) and AVI.

Chunk sizes are checked against the file: a RIFF or ``data`` size that claims more than the
file holds is truncation. Two tolerances, on purpose:

* one missing pad byte (writers often forget to pad an odd-sized last chunk), and
* the "unknown length" placeholders 0 and 0xFFFFFFFF that streaming writers (ffmpeg to a
  pipe, live recorders) leave in the RIFF *and* ``data`` headers because they cannot seek back.
  Only when *both* are placeholders is the file read as "data to the end of the file": one
  header patched and the other claiming 4 GB is not a streaming file, it is a lie (or a
  truncation) and is refused. The sample data is never read, so the tolerance costs no safety.

Sample data (``data``, ``movi``, ``idx1``) is skipped by size (R-IMPL-1). A PCM WAV is fully
described by its ``fmt `` and ``data`` chunks, so the walker lists its one stream for the native
probe (:mod:`._codecs` names the codec).
"""

from __future__ import annotations

import struct

from synthguard.errors import CorruptMediaError, TruncatedMediaError
from synthguard.media._codecs import wav_codec
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

__all__ = ["walk_avi", "walk_wav"]

_STREAMING_SIZES = (0, 0xFFFFFFFF)
AIGC_CHUNK = b"AIGC"  # R-FMT-12 / R-FMT-10: the label's chunk id
_WAV_METADATA = frozenset({b"LIST", b"id3 ", b"ID3 ", b"bext", b"iXML", b"axml", b"_PMX", b"cue "})


def _riff_end(r: Reader, what: str) -> int:
    (declared,) = struct.unpack("<I", r.read(4, 4, "the RIFF size"))
    if declared in _STREAMING_SIZES:
        return r.size
    end = declared + 8
    if end > r.size + 1:
        raise TruncatedMediaError(
            f"expected {end:,} bytes as the {what} RIFF header says, got a file of {r.size:,} bytes"
        )
    return min(end, r.size)


def walk_wav(r: Reader, facts: Facts, budget: Budget) -> None:
    """``fmt `` and ``data`` chunks give the duration without reading a sample."""
    rf64 = bytes(r.read(0, 4, "the RIFF tag")) == b"RF64"
    (declared,) = struct.unpack("<I", r.read(4, 4, "the RIFF size"))
    riff_unknown = not rf64 and declared in _STREAMING_SIZES
    end = r.size if rf64 or riff_unknown else _riff_end(r, "WAV")
    pos = 12
    fmt: tuple[int, int, int, int, int] | None = None
    id3 = False
    data_size: int | None = None
    big_data: int | None = None
    while pos + 8 <= end:
        cid, size = struct.unpack("<4sI", r.read(pos, 8, "a WAV chunk header"))
        budget.tick("WAV chunks")
        body = pos + 8
        if cid == b"ds64" and size >= 24:
            _riff64, big_data = struct.unpack("<QQ", r.read(body, 16, "the RF64 ds64 chunk"))
        if cid == b"data":
            if rf64 and size == 0xFFFFFFFF and big_data is not None:
                size = big_data
            elif riff_unknown and size in _STREAMING_SIZES:
                size = r.size - body  # a streaming header: see the module docstring
            elif riff_unknown and declared == 0xFFFFFFFF:
                raise TruncatedMediaError(
                    f"expected {declared + 8:,} bytes as the WAV RIFF header says, "
                    f"got a file of {r.size:,} bytes"
                )
            if body + size > r.size + 1:
                raise TruncatedMediaError(
                    f"expected {size:,} bytes of WAV sample data at offset {body:,} as its "
                    f"chunk header says, but the file ends at {r.size:,} bytes"
                )
            data_size = min(size, r.size - body)
        elif body + size > end + 1:
            raise TruncatedMediaError(
                f"expected a WAV {cid!r} chunk of {size:,} bytes at offset {pos:,}, "
                f"but the file ends at {end:,} bytes"
            )
        elif cid == b"fmt ":
            if size < 16:
                raise CorruptMediaError(f"expected a WAV fmt chunk of >= 16 bytes, got {size}")
            raw = bytes(r.read(body, min(size, 40), "fmt"))
            tag, channels, rate, byte_rate, _align, bits = struct.unpack_from("<HHIIHH", raw)
            if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
                valid, sub = struct.unpack_from("<H4xH", raw, 18) if size >= 40 else (0, 0)
                # FFmpeg picks the codec by the valid bits; only the unambiguous case is ours.
                tag = sub if valid == bits else 0
            fmt = (tag, channels, rate, byte_rate, bits)
        elif cid in _WAV_METADATA or cid == AIGC_CHUNK:
            budget.metadata_bytes(size + 8, f"a WAV {cid.decode('latin-1')!r} chunk")
            id3 = id3 or cid in (b"id3 ", b"ID3 ")
        if cid not in (b"fmt ", b"data"):  # the metadata index: every other chunk (R-FMT-12)
            facts.block("wav.chunk", body, size, id=cid.decode("latin-1"))
        pos = body + size + (size & 1)
    if fmt is None:
        raise CorruptMediaError("expected a WAV 'fmt ' chunk, found none")
    if data_size is None:
        raise CorruptMediaError("expected a WAV 'data' chunk, found none")
    tag, channels, rate, byte_rate, bits = fmt
    if not channels or not rate:
        raise CorruptMediaError(
            f"expected WAV channels and sample rate > 0, got {channels} and {rate}"
        )
    duration = data_size / byte_rate if byte_rate else None
    check_duration(duration, budget.settings)
    facts.set(duration=duration, sample_rate=rate, channels=channels)
    codec = wav_codec(tag, bits)
    if codec is not None and not id3:  # an ID3 chunk's picture becomes a stream in FFmpeg
        # FFmpeg's count for PCM: whole samples in the data chunk (wav_read_header).
        samples = data_size * 8 // (channels * bits)
        facts.streams = [StreamInfo(
            index=0, type="audio", codec=codec, duration=samples / rate, sample_rate=rate,
            channels=channels, bit_rate=byte_rate * 8 or None,
        )]


def walk_avi(r: Reader, facts: Facts, budget: Budget) -> None:
    """``hdrl`` (main and stream headers) and ``INFO``; ``movi`` and ``idx1`` skipped. An
    OpenDML file continues in further ``RIFF AVIX`` chunks, walked the same way."""
    st = _AviState()
    end = _riff_end(r, "AVI")
    _walk_avi(r, budget, st, 12, end, depth=1)
    facts.metadata.extend(st.blocks)
    pos = end + (end & 1)
    while pos + 12 <= r.size:  # OpenDML: more RIFF chunks after the first
        tag, size = struct.unpack("<4sI", r.read(pos, 8, "a RIFF chunk header"))
        if tag != b"RIFF":
            break
        budget.tick("AVI chunks")
        nxt = pos + 8 + size
        if nxt > r.size + 1:
            raise TruncatedMediaError(
                f"expected an AVI RIFF chunk of {size:,} bytes at offset {pos:,}, "
                f"but the file ends at {r.size:,} bytes"
            )
        pos = nxt + (nxt & 1)
    if not st.main:
        raise CorruptMediaError("expected an AVI main header (avih), found none")
    check_streams(max(st.streams, st.declared_streams), budget.settings)
    usec, frames, width, height = st.main
    if width and height:
        check_pixels(width, height, budget.settings, "a video frame")
    frames = st.total_frames or frames
    fps = 1e6 / usec if usec else None
    check_frames(frames or None, budget.settings, " (AVI header)")
    if fps and frames:
        duration = frames / fps
        check_duration(duration, budget.settings)
        facts.set(duration=duration)


class _AviState:
    def __init__(self) -> None:
        self.main: tuple[int, int, int, int] | None = None
        self.streams = 0
        self.declared_streams = 0
        self.total_frames = 0
        self.blocks: list[MetaBlock] = []  # the metadata index


def _walk_avi(r: Reader, budget: Budget, st: _AviState, start: int, end: int, *,
              depth: int, info: bool = False) -> None:
    budget.depth(depth, "AVI lists")
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack("<4sI", r.read(pos, 8, "an AVI chunk header"))
        budget.tick("AVI chunks")
        body = pos + 8
        if body + size > end + 1:
            raise TruncatedMediaError(
                f"expected an AVI {cid!r} chunk of {size:,} bytes at offset {pos:,}, "
                f"but its container ends at {end:,} bytes"
            )
        chunk_end = min(body + size, end)
        if info:  # R-FMT-10: the INFO list's sub-chunks, by id
            st.blocks.append(MetaBlock("avi.info", body, chunk_end - body,
                                       (("id", cid.decode("latin-1")),)))
        if cid == b"LIST" and size >= 4:
            form = bytes(r.read(body, 4, "an AVI list type"))
            if form == b"INFO":
                budget.metadata_bytes(size + 8, "the AVI INFO list")
            elif form == b"strl":
                st.streams += 1
            if form != b"movi":
                _walk_avi(r, budget, st, body + 4, chunk_end, depth=depth + 1,
                          info=form == b"INFO")
        elif cid == b"avih" and size >= 40:
            head = r.read(body, 40, "the AVI main header")
            usec, _maxb, _pad, _flags, frames, _init, streams, _buf, width, height = (
                struct.unpack("<10I", head)
            )
            st.main = (usec, frames, width, height)
            st.declared_streams = streams
        elif cid == b"dmlh" and size >= 4:
            (st.total_frames,) = struct.unpack("<I", r.read(body, 4, "dmlh"))
        elif cid in (b"JUNK", b"idx1", b"indx", b"ix00", b"ix01", b"strd", b"strn"):
            pass
        pos = body + size + (size & 1)
