"""Write the AIGC label into RIFF files: WAV (R-FMT-12) and AVI (R-FMT-10).

WAV: a top-level chunk ``AIGC`` holding the bare JSON (R-META-3), padded to even length with a
NUL pad byte (R-META-7). It replaces the first existing ``AIGC`` chunk when the padded size is
the same (an in-place edit); otherwise every old ``AIGC`` chunk is dropped and the new one is
appended at the end of the RIFF, and only the RIFF size (``ds64`` in RF64) changes. WAV holds
no absolute file offsets, so chunks after a dropped one may move.

AVI: sub-chunk ``AIGC`` of a ``LIST INFO``, value = JSON + NUL, padded to even. AVI does hold
absolute offsets (OpenDML ``indx`` super indexes point at ``ix##`` chunks inside ``movi``), so
nothing before ``movi`` may grow. The label goes into an existing ``LIST INFO`` when the list
plus the ``JUNK`` chunks right after it (ffmpeg reserves 1 KiB there for tag editing) can hold
it: the list grows, the ``JUNK`` shrinks, nothing moves. Otherwise old ``AIGC`` sub-chunks are
dropped (their space becomes ``JUNK``) and a new ``LIST INFO`` is appended after ``idx1`` at the
end of the ``RIFF AVI`` chunk, which ffmpeg reads there too. An OpenDML file with ``RIFF AVIX``
chunks after the first one is refused in that case (appending would move them).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from synthguard.errors import (
    CorruptMediaError,
    LabelWriteError,
    TruncatedMediaError,
    UnsupportedFormatError,
)
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_io import Keep, New, Piece, read_at, write_plan
from synthguard.provenance.aigc._writers import WriteInfo
from synthguard.requirements import AIGC_KEY, Carrier

__all__ = ["write"]

_ID = AIGC_KEY.encode("ascii")  # R-FMT-10/12: the chunk id is the key itself
_U32 = 0xFFFFFFFF
_STREAMING = (0, _U32)
_MAX_CHUNKS = 100_000


@dataclass(frozen=True)
class _Chunk:
    cid: bytes
    start: int  # offset of the 8-byte header
    size: int  # declared body size

    @property
    def body(self) -> int:
        return self.start + 8

    @property
    def end(self) -> int:  # end including the pad byte
        return self.body + self.size + (self.size & 1)


def _chunks(fh: BinaryIO, start: int, end: int, file_size: int,
            data_size: int | None = None, streaming: bool = False) -> list[_Chunk]:
    """The chunks in ``[start, end)``; ``data_size`` is RF64's 64-bit size of ``data``;
    ``streaming``: a ``data`` size of 0 or 0xFFFFFFFF means "to the end of the file"."""
    out: list[_Chunk] = []
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack("<4sI", read_at(fh, pos, 8, "a RIFF chunk header"))
        if cid == b"data" and size == _U32 and data_size is not None:
            size = data_size
        elif cid == b"data" and streaming and size in _STREAMING:
            size = end - pos - 8
        if pos + 8 + size > file_size + 1:
            raise TruncatedMediaError(
                f"expected a RIFF {cid!r} chunk of {size:,} bytes at offset {pos:,}, "
                f"but the file ends at {file_size:,} bytes"
            )
        out.append(_Chunk(cid, pos, size))
        if len(out) > _MAX_CHUNKS:
            raise CorruptMediaError(f"expected at most {_MAX_CHUNKS:,} RIFF chunks, got more")
        pos += 8 + size + (size & 1)
    return out


def _chunk_bytes(cid: bytes, body: bytes) -> bytes:
    return struct.pack("<4sI", cid, len(body)) + body + b"\x00" * (len(body) & 1)


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write ``label`` into the WAV or AVI ``media``; the complete new file goes to ``tmp``."""
    payload = label.to_json().encode("utf-8")
    with media.open() as fh:
        if media.format == "avi":
            return _write_avi(fh, media.size, payload, tmp)
        return _write_wav(fh, media.size, payload, tmp)


# -- WAV ----------------------------------------------------------------------------------------


def _write_wav(fh: BinaryIO, file_size: int, payload: bytes, tmp: Path) -> WriteInfo:
    head = read_at(fh, 0, 12, "the RIFF header")
    rf64 = head[:4] == b"RF64"
    (declared,) = struct.unpack_from("<I", head, 4)
    riff_end = file_size if rf64 or declared in _STREAMING else min(declared + 8, file_size)
    data64 = None
    if rf64:
        cid, size = struct.unpack("<4sI", read_at(fh, 12, 8, "the RF64 ds64 chunk header"))
        if cid != b"ds64" or size < 24:
            raise CorruptMediaError("expected an RF64 'ds64' chunk first, found none")
        (data64,) = struct.unpack("<Q", read_at(fh, 28, 8, "the RF64 data size"))
    streaming = not rf64 and declared in _STREAMING
    chunks = _chunks(fh, 12, riff_end, file_size, data64, streaming)
    # A streaming header (data size 0 or 0xFFFFFFFF, data to the end of the file) is made
    # definite before anything can follow the data chunk.
    patches: dict[int, bytes] = {}
    for c in chunks:
        if c.cid == b"data" and streaming:
            if c.size > _U32:
                raise LabelWriteError("expected the WAV data to fit the 4 GiB RIFF limit")
            patches[c.start + 4] = struct.pack("<I", c.size)
    new_chunk = _chunk_bytes(_ID, payload)
    ours = [c for c in chunks if c.cid == _ID]
    pieces: list[Piece] = []
    # Chunks end at their pad byte; a last chunk whose pad byte is missing is completed.
    body_end = max((c.end for c in chunks), default=12)
    in_place = len(ours) == 1 and ours[0].end - ours[0].start == len(new_chunk)
    if in_place:
        pieces = [Keep(0, ours[0].start), New(new_chunk), Keep(ours[0].end, min(body_end,
                                                                                file_size))]
        if body_end > file_size:
            pieces.append(New(b"\x00" * (body_end - file_size)))
        new_riff = body_end
        where = "replaced the AIGC chunk in place"
    else:
        pos = 0
        for c in ours:
            pieces.append(Keep(pos, c.start))
            pos = min(c.end, file_size)
        pieces.append(Keep(pos, min(body_end, file_size)))
        if body_end > file_size:
            pieces.append(New(b"\x00" * (body_end - file_size)))  # the missing pad byte
        removed = sum(c.end - c.start for c in ours)
        new_riff = body_end - removed + len(new_chunk)
        pieces.append(New(new_chunk))
        where = (f"dropped {len(ours)} old AIGC chunk(s), " if ours else "") + (
            "appended an AIGC chunk at the end of the RIFF"
        )
    trailing = file_size - body_end  # bytes after the RIFF (junk some tools leave): kept
    if trailing > 0:
        pieces.append(Keep(body_end, file_size))
    size_field = new_riff - 8
    if rf64:
        ds64 = next((c for c in chunks if c.cid == b"ds64" and c.size >= 8), None)
        if ds64 is None:
            raise CorruptMediaError("expected an RF64 'ds64' chunk, found none")
        patches[ds64.body] = struct.pack("<Q", size_field)
    elif size_field > _U32:
        raise LabelWriteError(
            f"expected the labelled WAV to fit the 4 GiB RIFF limit, got {size_field + 8:,} bytes"
        )
    else:
        patches[4] = struct.pack("<I", size_field)
    _apply_patches(pieces, patches)
    stats = write_plan(fh, pieces, tmp)
    return WriteInfo(Carrier.WAV_CHUNK_AIGC.value, stats.rewritten,
                     f"{where}; {stats.describe()}")


def _apply_patches(pieces: list[Piece], patches: dict[int, bytes]) -> None:
    """Overwrite source offsets (header fields) inside the Keep pieces with new bytes."""
    for offset, data in sorted(patches.items()):
        for i, p in enumerate(pieces):
            if isinstance(p, Keep) and p.start <= offset and offset + len(data) <= p.end:
                pieces[i : i + 1] = [
                    Keep(p.start, offset), New(data), Keep(offset + len(data), p.end)
                ]
                break
        else:  # pragma: no cover - headers always lie in kept ranges
            raise LabelWriteError(f"expected to patch the header at offset {offset:,}")


# -- AVI ----------------------------------------------------------------------------------------


@dataclass
class _Info:
    """A top-level ``LIST INFO`` and the ``JUNK`` chunks right after it."""

    chunk: _Chunk
    subs: list[_Chunk] = field(default_factory=list)
    junk_end: int = 0  # end of the contiguous JUNK after the list (== chunk.end if none)

    @property
    def region(self) -> int:
        return self.junk_end - self.chunk.start


def _info_sub(payload: bytes, extra_nul: int = 0) -> bytes:
    # R-FMT-10: value JSON + NUL, padded to even; readers strip trailing NULs (R-META-7).
    return _chunk_bytes(_ID, payload + b"\x00" * (1 + extra_nul))


def _junk(n: int) -> bytes:
    return _chunk_bytes(b"JUNK", b"\x00" * (n - 8)) if n else b""


def _fill_region(fh: BinaryIO, info: _Info, new_sub: bytes | None) -> bytes | None:
    """The list (minus old AIGC sub-chunks, plus ``new_sub``) and JUNK filling exactly its
    region, or None when it does not fit."""
    body = bytearray(b"INFO")
    for s in info.subs:
        if s.cid != _ID:
            body += read_at(fh, s.start, s.end - s.start, "an AVI INFO sub-chunk")
    if new_sub is not None:
        body += new_sub
    lst = _chunk_bytes(b"LIST", bytes(body))
    left = info.region - len(lst)
    if left < 0:
        return None
    if 0 < left < 8:  # too small for a JUNK header: widen our value with NULs instead
        if new_sub is None:
            return None
        return _fill_region(fh, info, _grow(new_sub, left))
    return lst + _junk(left)


def _grow(sub: bytes, extra: int) -> bytes:
    value = sub[8 : 8 + struct.unpack_from("<I", sub, 4)[0]]
    return _chunk_bytes(_ID, value + b"\x00" * extra)


def _write_avi(fh: BinaryIO, file_size: int, payload: bytes, tmp: Path) -> WriteInfo:
    head = read_at(fh, 0, 12, "the RIFF header")
    (declared,) = struct.unpack_from("<I", head, 4)
    riff_end = min(declared + 8, file_size) if declared not in _STREAMING else file_size
    top = _chunks(fh, 12, riff_end, file_size)
    infos: list[_Info] = []
    for i, c in enumerate(top):
        if c.cid != b"LIST" or c.size < 4:
            continue
        if read_at(fh, c.body, 4, "an AVI list type") != b"INFO":
            continue
        info = _Info(c, _chunks(fh, c.body + 4, c.body + c.size, file_size), c.end)
        for nxt in top[i + 1 :]:
            if nxt.cid != b"JUNK" or nxt.start != info.junk_end:
                break
            info.junk_end = nxt.end
        infos.append(info)
    riff_data_end = max((c.end for c in top), default=12)
    more_riff = riff_data_end < file_size and read_at(
        fh, riff_data_end, 4, "a RIFF chunk header") == b"RIFF"
    new_sub = _info_sub(payload)
    # The list that already holds a label first, then the others: fill one region in place.
    order = sorted(infos, key=lambda inf: not any(s.cid == _ID for s in inf.subs))
    target = None
    for info in order:
        if _fill_region(fh, info, new_sub) is not None:
            target = info
            break
    replace: dict[int, bytes] = {}  # region start -> new region bytes (same length)
    for info in infos:
        if info is target:
            region = _fill_region(fh, info, new_sub)
        elif any(s.cid == _ID for s in info.subs):
            region = _fill_region(fh, info, None)  # drop a duplicate (R-META-6)
        else:
            continue
        assert region is not None and len(region) == info.region
        replace[info.chunk.start] = region
    regions = {inf.chunk.start: inf for inf in infos}
    pieces: list[Piece] = []
    pos = 0
    for start in sorted(replace):
        pieces += [Keep(pos, start), New(replace[start])]
        pos = regions[start].junk_end
    tail: bytes = b""
    if target is None:
        if more_riff:
            raise UnsupportedFormatError(
                "expected an AVI whose INFO list has room for the label or a single RIFF "
                "chunk, got an OpenDML file (RIFF AVIX follows) without room: appending would "
                "move the indexed data"
            )
        tail = _chunk_bytes(b"LIST", b"INFO" + new_sub)
    end_of_riff = riff_data_end if target is None else riff_end
    pieces.append(Keep(pos, min(end_of_riff, file_size)))
    if end_of_riff > file_size:
        pieces.append(New(b"\x00" * (end_of_riff - file_size)))
    if tail:
        pieces.append(New(tail))
        new_size = riff_data_end + len(tail) - 8
        if new_size > _U32:
            raise LabelWriteError("expected the labelled AVI to fit the 4 GiB RIFF limit")
        _apply_patches(pieces, {4: struct.pack("<I", new_size)})
    if end_of_riff < file_size:
        pieces.append(Keep(end_of_riff, file_size))
    stats = write_plan(fh, pieces, tmp)
    where = ("wrote the AIGC sub-chunk into the LIST INFO in place, absorbed by its JUNK"
             if target is not None else
             "appended a LIST INFO with the AIGC sub-chunk at the end of the RIFF AVI chunk")
    return WriteInfo(Carrier.AVI_INFO_AIGC.value, stats.rewritten,
                     f"{where}; {stats.describe()}")
