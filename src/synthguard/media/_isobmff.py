"""ISO base media file format walker (MP4, MOV, M4A, HEIC, AVIF).

Walks the box tree with every size checked against its parent and the file (R-IMPL-1):
a box that runs past the end of the file is truncation, one that runs past its parent or
declares a size smaller than its own header is corruption, and nesting deeper than
``max_nesting`` is refused. ``mdat``, ``free`` and ``skip`` are payload and are never read;
only the small header boxes we need (``mvhd``, ``tkhd``, ``mdhd``, ``hdlr``, ``stsd``, ``stsz``,
``ispe``) are. Tag boxes (``udta``, ``meta``, ``uuid``, ``XMP_``, ``ID32``) are charged to the
metadata budget.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from synthguard.errors import CorruptMediaError, TruncatedMediaError
from synthguard.media._types import Kind, MetaBlock
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


@dataclass
class _Track:
    handler: bytes = b""
    codec: str | None = None
    width: int = 0
    height: int = 0
    timescale: int = 0
    duration: int = 0
    samples: int = 0


@dataclass
class _State:
    top: list[bytes] = field(default_factory=list)
    tracks: list[_Track] = field(default_factory=list)
    timescale: int = 0
    duration: int = 0
    ispe: list[tuple[int, int]] = field(default_factory=list)
    fragments: int = 0
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
            elif typ == b"moof":
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
        head = r.read(body, min(n, 8 + 8 + 36), "stsd")
        track.codec = bytes(head[12:16]).decode("latin-1").strip() or None
        if track.handler == b"vide" and len(head) >= 8 + 8 + 28:
            track.width, track.height = struct.unpack_from(">HH", head, 8 + 8 + 24)
    elif typ in (b"stsz", b"stz2") and track is not None and n >= 12:
        (track.samples,) = struct.unpack(">I", r.read(body + 8, 4, "stsz"))
    elif typ == b"ispe" and n >= 12:
        st.ispe.append(struct.unpack(">II", r.read(body + 4, 8, "ispe")))
