"""Write the AIGC label into MP4 / MOV / M4A files (R-FMT-8).

The label is a QuickTime metadata item: ``moov/udta/meta`` with handler ``mdta``, key
``mdta``+``AIGC`` in ``keys`` and the bare JSON (R-META-3) in the matching ``ilst`` item as a
``data`` atom of type 1 (UTF-8). Other keys and items are kept (items re-indexed when an old
``AIGC`` key is dropped); an existing ``AIGC`` key anywhere in ``moov/udta/meta`` or the
QuickTime ``moov/meta``, and the legacy ``udta/aigc`` box (R-FMT-20), are removed so exactly one
site remains (R-META-6).

Only ``moov`` changes. Where it goes:

* it fits the space of ``moov`` plus the ``free``/``skip`` boxes right after it: rewritten in
  place, the rest of the space becomes a ``free`` box (nothing moves);
* no media data (``mdat``, ``moof``) follows it (the usual non-faststart file): rewritten at its
  place, only the boxes after it (if any) move;
* otherwise (faststart, ``moov`` before ``mdat``): everything after ``moov`` moves by the growth
  and every chunk offset that points past ``moov`` in every ``stco``/``co64`` is increased by
  it, ``stco`` promoted to ``co64`` when an offset no longer fits 32 bits. Fragmented files
  (``moof`` after ``moov``) hold absolute offsets outside ``moov`` and are refused in that case.
"""

from __future__ import annotations

import struct
from pathlib import Path

from synthguard.errors import CorruptMediaError, LabelWriteError, UnsupportedFormatError
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_io import Keep, New, Piece, read_at, write_plan
from synthguard.provenance.aigc._writers import WriteInfo
from synthguard.requirements import AIGC_KEY, BMFF_MDTA_HANDLER, Carrier

__all__ = ["write"]

_KEY = AIGC_KEY.encode("ascii")
_FREE = (b"free", b"skip")
_MEDIA = (b"mdat", b"moof")
_TABLE_PATH = (b"trak", b"mdia", b"minf", b"stbl")  # containers down to stco/co64
_LEGACY = (b"aigc", b"AIGC")  # R-FMT-20: a literal udta/aigc box
_MAX_BOXES = 200_000
_MAX_MOOV = 256 * 1024 * 1024
_U32 = 0xFFFFFFFF
# Free space left after a moov that had to move the media anyway, so that a later update (a
# platform's propagation fields, R-META-5) is an in-place edit.
_SLACK = 1024
_UTF8 = 1  # QuickTime well-known data type 1: UTF-8 without a count or NUL

_Box = tuple[bytes, int, int, int]  # (type, offset, header length, total size)


def _boxes(buf: bytes, start: int, end: int, what: str) -> list[_Box]:
    out: list[_Box] = []
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack_from(">I4s", buf, pos)
        hdr = 8
        if size == 1:
            if pos + 16 > end:
                raise CorruptMediaError(f"expected a 64-bit box size in {what} at {pos:,}")
            (size,) = struct.unpack_from(">Q", buf, pos + 8)
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr or pos + size > end:
            raise CorruptMediaError(
                f"expected box {typ!r} of {size:,} bytes at offset {pos:,} to fit in {what}"
            )
        out.append((typ, pos, hdr, size))
        if len(out) > _MAX_BOXES:
            raise CorruptMediaError(f"expected at most {_MAX_BOXES:,} boxes in {what}")
        pos += size
    if end - pos and any(buf[pos:end]):
        raise CorruptMediaError(f"expected only whole boxes in {what}, got trailing bytes")
    return out


def _box(typ: bytes, body: bytes, wide: bool = False) -> bytes:
    if wide or len(body) + 8 > _U32:
        return struct.pack(">I4sQ", 1, typ, len(body) + 16) + body
    return struct.pack(">I4s", len(body) + 8, typ) + body


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write ``label`` into the MP4/MOV/M4A ``media``; the complete new file goes to ``tmp``."""
    payload = label.to_json().encode("utf-8")
    with media.open() as fh:
        top: list[_Box] = []
        pos = 0
        while pos + 8 <= media.size:
            size, typ = struct.unpack(">I4s", read_at(fh, pos, 8, "a box header"))
            hdr = 8
            if size == 1:
                (size,) = struct.unpack(">Q", read_at(fh, pos + 8, 8, "a 64-bit box size"))
                hdr = 16
            elif size == 0:
                size = media.size - pos
            if size < hdr or pos + size > media.size:
                raise CorruptMediaError(f"expected box {typ!r} at {pos:,} to fit in the file")
            top.append((typ, pos, hdr, size))
            pos += size
        moovs = [b for b in top if b[0] == b"moov"]
        if len(moovs) != 1:
            raise CorruptMediaError(f"expected exactly one 'moov' box, got {len(moovs)}")
        _, m_start, m_hdr, m_size = moov = moovs[0]
        if m_size > _MAX_MOOV:
            raise LabelWriteError(f"expected a 'moov' box of at most {_MAX_MOOV:,} bytes")
        old = read_at(fh, m_start, m_size, "the moov box")
        m_end = m_start + m_size
        i = top.index(moov)
        region_end = m_end
        for b in top[i + 1 :]:
            if b[0] not in _FREE:
                break
            region_end = b[1] + b[3]
        media_after = any(b[0] in _MEDIA for b in top[i + 1 :])
        fragmented = any(b[0] == b"moof" for b in top)
        wide = m_hdr == 16
        new = _moov(old, m_hdr, payload, 0, wide)
        pieces: list[Piece]
        room = region_end - m_start
        if len(new) == m_size:  # same size (the same label again): free boxes stay as they are
            pieces = [Keep(0, m_start), New(new), Keep(m_end, media.size)]
            where = f"rewrote moov in place ({len(new):,} bytes, same size)"
        elif len(new) == room or room - len(new) >= 8:
            fill = room - len(new)
            pieces = [Keep(0, m_start), New(new + (_box(b"free", b"\x00" * (fill - 8))
                                                    if fill else b"")),
                      Keep(region_end, media.size)]
            where = f"rewrote moov in place ({len(new):,} bytes) within moov + free space"
        elif 0 < room - len(new) < 8:
            new = _moov(old, m_hdr, payload, room - len(new), wide)  # pad our hdlr name
            pieces = [Keep(0, m_start), New(new), Keep(region_end, media.size)]
            where = f"rewrote moov in place ({len(new):,} bytes) within moov + free space"
        elif not media_after:
            pieces = [Keep(0, m_start), New(new), Keep(m_end, media.size)]
            where = f"rewrote moov at its place after the media data ({len(new):,} bytes)"
        elif fragmented:
            raise UnsupportedFormatError(
                "expected a fragmented MP4 to have free space after 'moov' for the label, "
                "got none: its fragments hold absolute offsets that moving would break"
            )
        else:
            shift = len(new) + _SLACK - m_size
            while True:
                moved = _shift_tables(new, shift, m_end)
                if len(moved) + _SLACK - m_size == shift:
                    break
                shift = len(moved) + _SLACK - m_size  # stco became co64: the moov grew
            new = moved
            slack = _box(b"free", b"\x00" * (_SLACK - 8))
            pieces = [Keep(0, m_start), New(new + slack), Keep(m_end, media.size)]
            where = (f"rewrote moov ({len(new):,} bytes, then {_SLACK:,} bytes of free space for "
                     f"later updates) before the media data and moved {media.size - m_end:,} "
                     f"bytes by {shift:+,}, chunk offsets shifted")
        stats = write_plan(fh, pieces, tmp)
    return WriteInfo(Carrier.MP4_KEYS_AIGC.value, stats.rewritten,
                     f"{where}; {stats.describe()}")


# -- moov / udta / meta -------------------------------------------------------------------------


def _moov(old: bytes, hdr: int, payload: bytes, pad: int, wide: bool) -> bytes:
    """The moov with our item set (its udta first), other AIGC sites removed."""
    body: list[bytes] = []
    placed = False
    for typ, off, h, size in _boxes(old, hdr, len(old), "moov"):
        raw = old[off : off + size]
        if typ == b"udta":
            raw = _udta(raw, h, payload if not placed else None, pad)
            placed = True
        elif typ == b"meta":  # QuickTime moov/meta may carry keys too: strip ours
            raw = _meta(raw, h, None, 0)
        body.append(raw)
    if not placed:
        body.append(_box(b"udta", _meta(None, 0, payload, pad)))
    return _box(b"moov", b"".join(body), wide)


def _udta(raw: bytes, hdr: int, payload: bytes | None, pad: int) -> bytes:
    kids = _boxes(raw, hdr, len(raw), "udta")
    body: list[bytes] = []
    target = None
    if payload is not None:
        target = next((k for k in kids if k[0] == b"meta"
                       and _handler(raw[k[1] : k[1] + k[3]], k[2]) == BMFF_MDTA_HANDLER), None)
    changed = False
    for kid in kids:
        typ, off, h, size = kid
        part = raw[off : off + size]
        if typ in _LEGACY:
            changed = True
            continue
        if typ == b"meta":
            new = _meta(part, h, payload if kid is target else None, pad)
            changed |= new != part
            part = new
        body.append(part)
    if payload is not None and target is None:
        body.append(_meta(None, 0, payload, pad))
        changed = True
    if not changed:
        return raw
    return _box(b"udta", b"".join(body), hdr == 16)


def _meta_start(raw: bytes, hdr: int) -> int:
    # ISO meta is a full box (version/flags); QuickTime's moov/meta is not.
    if len(raw) >= hdr + 8 and raw[hdr + 4 : hdr + 8] in (b"hdlr", b"keys", b"ilst"):
        return hdr
    return hdr + 4


def _handler(raw: bytes, hdr: int) -> bytes | None:
    start = _meta_start(raw, hdr)
    for typ, off, h, size in _boxes(raw, start, len(raw), "meta"):
        if typ == b"hdlr" and size >= h + 12:
            return raw[off + h + 8 : off + h + 12]
    return None


def _hdlr(pad: int) -> bytes:
    # As ffmpeg writes it (use_metadata_tags); ``pad`` extra NULs in the empty name let the moov
    # fill its old space exactly when the difference is too small for a free box.
    return _box(b"hdlr", b"\x00" * 8 + BMFF_MDTA_HANDLER + b"\x00" * 12 + b"\x00" * (1 + pad))


def _meta(raw: bytes | None, hdr: int, payload: bytes | None, pad: int) -> bytes:
    """A meta box with every AIGC key removed and, when ``payload`` is given, ours added."""
    keys: list[tuple[bytes, bytes]] = []
    items: list[tuple[int, bytes]] = []  # (key index or -1, whole item box)
    others: list[bytes] = []
    hdlr = b""
    full = True
    if raw is not None:
        start = _meta_start(raw, hdr)
        full = start != hdr
        for typ, off, h, size in _boxes(raw, start, len(raw), "meta"):
            part = raw[off : off + size]
            if typ == b"hdlr":
                hdlr = part
            elif typ == b"keys":
                keys = _keys(part, h)
            elif typ == b"ilst":
                for ityp, ioff, _ih, isize in _boxes(part, h, len(part), "ilst"):
                    (index,) = struct.unpack(">I", ityp)
                    items.append((index, part[ioff : ioff + isize]))
            else:
                others.append(part)
    drop = {i + 1 for i, (_ns, name) in enumerate(keys) if name.upper() == _KEY}
    if payload is None and not drop:
        assert raw is not None
        return raw
    remap: dict[int, int] = {}
    new_keys: list[tuple[bytes, bytes]] = []
    for i, key in enumerate(keys, 1):
        if i not in drop:
            new_keys.append(key)
            remap[i] = len(new_keys)
    new_items: list[bytes] = []
    for index, item in items:
        if index in drop:
            continue
        if index in remap and remap[index] != index:  # the type is the key index
            item = item[:4] + struct.pack(">I", remap[index]) + item[8:]
        new_items.append(item)
    if payload is not None:
        new_keys.append((BMFF_MDTA_HANDLER, _KEY))
        data = _box(b"data", struct.pack(">II", _UTF8, 0) + payload)
        new_items.append(_box(struct.pack(">I", len(new_keys)), data))
        hdlr = _hdlr(pad)
    keys_body = struct.pack(">II", 0, len(new_keys)) + b"".join(
        struct.pack(">I4s", 8 + len(name), ns) + name for ns, name in new_keys
    )
    body = (b"\x00\x00\x00\x00" if full else b"") + hdlr + _box(b"keys", keys_body)
    body += _box(b"ilst", b"".join(new_items)) + b"".join(others)
    return _box(b"meta", body, hdr == 16)


def _keys(part: bytes, hdr: int) -> list[tuple[bytes, bytes]]:
    if len(part) < hdr + 8:
        raise CorruptMediaError("expected a 'keys' box with a count, got a short box")
    (count,) = struct.unpack_from(">I", part, hdr + 4)
    pos = hdr + 8
    out: list[tuple[bytes, bytes]] = []
    for _ in range(count):
        if pos + 8 > len(part):
            raise CorruptMediaError(f"expected {count} keys in the 'keys' box, got {len(out)}")
        size, ns = struct.unpack_from(">I4s", part, pos)
        if size < 8 or pos + size > len(part):
            raise CorruptMediaError(f"expected a key entry of a valid size, got {size}")
        out.append((ns, part[pos + 8 : pos + size]))
        pos += size
    return out


# -- chunk offsets ------------------------------------------------------------------------------


def _shift_tables(raw: bytes, shift: int, threshold: int) -> bytes:
    """The box ``raw`` with every stco/co64 offset >= ``threshold`` moved by ``shift``; stco
    becomes co64 where an offset no longer fits 32 bits."""
    typ, _off, hdr, size = _boxes(raw, 0, len(raw), "moov")[0]
    if typ == b"moov" or typ in _TABLE_PATH:
        body = b"".join(
            _shift_tables(raw[off : off + sz], shift, threshold)
            for _t, off, _h, sz in _boxes(raw, hdr, size, typ.decode("latin-1"))
        )
        return _box(typ, body, hdr == 16)
    if typ not in (b"stco", b"co64"):
        return raw
    if size < hdr + 8:
        raise CorruptMediaError(f"expected a {typ.decode()} box with a count")
    (count,) = struct.unpack_from(">I", raw, hdr + 4)
    width = 4 if typ == b"stco" else 8
    if hdr + 8 + count * width > size:
        raise CorruptMediaError(f"expected {count:,} chunk offsets in {typ.decode()}")
    offsets = struct.unpack_from(f">{count}{'I' if width == 4 else 'Q'}", raw, hdr + 8)
    moved = [o + shift if o >= threshold else o for o in offsets]
    head = raw[hdr : hdr + 8]
    if typ == b"stco" and max(moved, default=0) <= _U32:
        return _box(b"stco", head + struct.pack(f">{count}I", *moved), hdr == 16)
    return _box(b"co64", head + struct.pack(f">{count}Q", *moved), hdr == 16)
