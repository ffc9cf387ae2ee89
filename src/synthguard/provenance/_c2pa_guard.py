"""A bounded pre-walk of an embedded C2PA manifest store, before c2pa-rs sees it (R-IMPL-1).

c2pa-rs sizes its buffers from the lengths a manifest declares: one flipped byte in an
assertion's CBOR (a text string declared 2 GB long inside a 200-byte box) made a 5 KB JPEG
cost 2 GB of memory to read (found by ``bench/fuzz_labels.py``). Like the media walkers,
this walk checks every declared length against the bytes actually there: a JUMBF box must fit
in its parent, and a CBOR string, array or map in its ``cbor`` box. A store that fails is
refused with a reason and never handed to the library.

Only the stores the media walkers index are walked (JPEG APP11, PNG ``caBX``, WebP and WAV
``C2PA`` chunks, ISO BMFF ``uuid``); the walk reads at most the indexed blocks, which the walk
already bounded by ``max_metadata_bytes``.
"""

from __future__ import annotations

import struct

from synthguard.media import Media
from synthguard.requirements import C2PA_JPEG_MARKER, C2PA_RIFF_CHUNK

__all__ = ["store_problem"]

_MAX_DEPTH = 64  # JUMBF superboxes and CBOR nesting; real stores are a few levels deep
_MAX_ITEMS = 1_000_000  # CBOR items walked in one store
_INDEFINITE = -1  # an open indefinite-length string, array or map


class _Hostile(ValueError):
    pass


def _jpeg_store(media: Media) -> bytes:
    """The JUMBF boxes of the APP11 segments, reassembled (ISO 19566-5: each segment is
    ``JP``, box instance, En, sequence Z, then the box; continuations repeat its header)."""
    parts: dict[int, list[tuple[int, bytes]]] = {}
    for block in media.metadata:
        if block.carrier != "jpeg.app" or block.get("marker") != f"{C2PA_JPEG_MARKER:02X}":
            continue
        seg = media.read_range(block.offset, block.length)
        if len(seg) < 16 or seg[:2] != b"JP":
            continue
        en, z = struct.unpack_from(">HI", seg, 2)
        parts.setdefault(en, []).append((z, seg[8:]))
    out = bytearray()
    for en in sorted(parts):
        for i, (_, data) in enumerate(sorted(parts[en], key=lambda p: p[0])):
            if i:  # a continuation repeats LBox/TBox (and XLBox when LBox is 1)
                data = data[16:] if data[:4] == b"\x00\x00\x00\x01" else data[8:]
            out += data
    return bytes(out)


def _store(media: Media) -> bytes | None:
    if media.format == "jpeg":
        return _jpeg_store(media)
    carriers = {"png": "png.c2pa", "webp": "webp.c2pa", "wav": "wav.chunk"}
    carrier = carriers.get(media.format, "bmff.uuid.c2pa")
    out = bytearray()
    for block in media.metadata:
        if block.carrier != carrier:
            continue
        if carrier == "wav.chunk" and block.get("id") != C2PA_RIFF_CHUNK.decode("ascii"):
            continue
        data = media.read_range(block.offset, block.length)
        if carrier == "bmff.uuid.c2pa":
            # version/flags, a NUL-terminated purpose and, for a manifest, an 8-byte offset.
            end = data.find(b"\x00", 4)
            if end < 0:
                continue
            data = data[end + 1 + (8 if data[4:end] == b"manifest" else 0):]
        out += data
    return bytes(out) if out else None


def _boxes(data: bytes, start: int, end: int, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise _Hostile(f"JUMBF boxes nested deeper than {_MAX_DEPTH}")
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise _Hostile(f"a JUMBF box at {pos} is truncated")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise _Hostile(
                f"a JUMBF {kind!r} box at {pos} declares {size:,} bytes, but {end - pos:,} remain"
            )
        if kind == b"jumb":
            _boxes(data, pos + header, pos + size, depth + 1)
        elif kind == b"cbor":
            _cbor(data, pos + header, pos + size)
        pos += size


def _cbor(data: bytes, start: int, end: int) -> None:
    """Walk the CBOR items of one box; every declared length must fit in the box."""
    pos = start
    todo = [1]  # items still to read at each open nesting level
    walked = 0
    while todo and pos < end:
        if todo[-1] == 0:
            todo.pop()
            continue
        if data[pos] == 0xFF:  # a break closes the innermost indefinite-length item
            pos += 1
            if todo[-1] != _INDEFINITE:
                raise _Hostile(f"a CBOR break at {pos - 1} closes no indefinite-length item")
            todo.pop()
            continue
        if todo[-1] != _INDEFINITE:
            todo[-1] -= 1
        walked += 1
        if walked > _MAX_ITEMS or len(todo) > _MAX_DEPTH:
            raise _Hostile("a CBOR item is nested too deep or has too many items")
        at = pos
        major, info = data[pos] >> 5, data[pos] & 31
        pos += 1
        if info < 24:
            value = info
        elif info <= 27:
            n = 1 << (info - 24)
            if pos + n > end:
                raise _Hostile(f"a CBOR item at {at} is truncated")
            value = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        elif info == 31 and major in (2, 3, 4, 5):
            todo.append(_INDEFINITE)  # chunks or items follow, up to a break
            continue
        else:
            raise _Hostile(f"a CBOR item at {at} has a reserved length code {info}")
        remaining = end - pos
        if major in (2, 3):
            if value > remaining:
                raise _Hostile(
                    f"a CBOR string at {at} declares {value:,} bytes, but {remaining:,} remain"
                )
            pos += value
        elif major in (4, 5):
            count = value * (2 if major == 5 else 1)
            if count > remaining:
                raise _Hostile(
                    f"a CBOR {'map' if major == 5 else 'array'} at {at} declares {value:,} "
                    f"entries, but {remaining:,} bytes remain"
                )
            todo.append(count)
        elif major == 6:
            todo.append(1)  # a tag wraps the next item
    # Running out of bytes with items still open is the library's to report.


def store_problem(media: Media) -> str | None:
    """Why the embedded store of ``media`` must not reach the library, or ``None``."""
    store = _store(media)
    if not store:
        return None
    try:
        _boxes(store, 0, len(store), 0)
    except _Hostile as exc:
        return str(exc)
    return None
