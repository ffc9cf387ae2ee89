"""Write the AIGC label into Matroska / WebM files (R-FMT-9).

The label is ``Segment/Tags/Tag`` with ``Targets`` (``TargetTypeValue`` 50, the whole item, no
UIDs: a global tag) and one ``SimpleTag`` with ``TagName`` ``AIGC`` and ``TagString`` = the
bare JSON (R-META-3). Every other ``SimpleTag`` named ``AIGC`` is removed (R-META-6); other
tags are kept. ``CRC-32`` elements of the masters we rebuild are recomputed.

Clusters never move (Cues positions are relative to the Segment data, and nothing else points
into them). Where the Tags go:

* the rebuilt Tags fit the old Tags plus the ``Void`` elements right after it: in place, the
  rest becomes a ``Void``;
* the Tags are the last element of the Segment: rewritten there (the Segment size is updated in
  its own width);
* otherwise the old Tags become a ``Void`` of the same size and the rebuilt Tags are appended at
  the end of the Segment; the ``SeekHead`` entry for Tags is pointed at them, or one is added
  in the ``Void`` after the ``SeekHead`` (ffmpeg reserves one). Without a SeekHead entry players
  that only read the header (ffmpeg) do not see tags after the clusters; the note says so.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from synthguard.errors import CorruptMediaError, LabelWriteError
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_io import Keep, New, Piece, read_at, write_plan
from synthguard.provenance.aigc._writers import WriteInfo
from synthguard.requirements import AIGC_KEY, MKV_TAG_TARGET_TYPE_VALUE, Carrier

__all__ = ["write"]

_SEGMENT, _SEEKHEAD, _SEEK, _SEEK_ID, _SEEK_POS = 0x18538067, 0x114D9B74, 0x4DBB, 0x53AB, 0x53AC
_TAGS, _TAG, _TARGETS, _TTV, _SIMPLETAG = 0x1254C367, 0x7373, 0x63C0, 0x68CA, 0x67C8
_TAGNAME, _TAGSTRING, _VOID, _CRC, _CLUSTER = 0x45A3, 0x4487, 0xEC, 0xBF, 0x1F43B675
_TAGS_ID = _TAGS.to_bytes(4, "big")
_MAX_ELEMENTS = 200_000
_MAX_TAGS = 16 * 1024 * 1024


@dataclass(frozen=True)
class _El:
    ident: int
    start: int
    head: int  # id + size field length
    size: int  # data size (-1 when unknown)
    width: int  # size field width

    @property
    def body(self) -> int:
        return self.start + self.head

    @property
    def end(self) -> int:
        return self.body + self.size


def _vint(buf: bytes, pos: int) -> tuple[int, int, bool]:
    """(value without marker, length, all-ones) of the EBML number at ``pos``."""
    if pos >= len(buf) or buf[pos] == 0:
        raise CorruptMediaError(f"expected an EBML number at offset {pos:,}")
    length = 9 - buf[pos].bit_length()
    if pos + length > len(buf):
        raise CorruptMediaError(f"expected an EBML number of {length} bytes at offset {pos:,}")
    value = int.from_bytes(buf[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    return value, length, value == (1 << (7 * length)) - 1


def _header(buf: bytes, pos: int, base: int = 0) -> _El:
    ident_len = 9 - buf[pos].bit_length() if pos < len(buf) and buf[pos] else 0
    if not 1 <= ident_len <= 4 or pos + ident_len > len(buf):
        raise CorruptMediaError(f"expected an EBML element id at offset {base + pos:,}")
    ident = int.from_bytes(buf[pos : pos + ident_len], "big")
    size, width, unknown = _vint(buf, pos + ident_len)
    return _El(ident, base + pos, ident_len + width, -1 if unknown else size, width)


def _children(buf: bytes, start: int, end: int) -> list[_El]:
    out: list[_El] = []
    pos = start
    while pos < end:
        el = _header(buf, pos)
        if el.size < 0 or el.end > end:
            raise CorruptMediaError(f"expected element 0x{el.ident:X} at {pos:,} to fit its parent")
        out.append(el)
        if len(out) > _MAX_ELEMENTS:
            raise CorruptMediaError(f"expected at most {_MAX_ELEMENTS:,} Matroska elements")
        pos = el.end
    return out


def _size(n: int, width: int = 0) -> bytes:
    """``n`` as an EBML size of ``width`` bytes (0: the shortest)."""
    for w in range(max(width, 1), 9):
        if n < (1 << (7 * w)) - 1:
            return (n | (1 << (7 * w))).to_bytes(w, "big")
        if width:
            break
    raise LabelWriteError(f"expected {n:,} to fit an EBML size of {width or 8} bytes")


def _el(ident: int, body: bytes, width: int = 0) -> bytes:
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + _size(len(body), width) + body


def _uint(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _void(n: int) -> bytes:
    """A Void element of exactly ``n`` >= 2 bytes."""
    for w in range(1, 9):
        size = n - 1 - w
        if 0 <= size < (1 << (7 * w)) - 1:
            return bytes([_VOID]) + _size(size, w) + b"\x00" * size
    raise LabelWriteError(f"expected room for a Void element, got {n} bytes")


def _master(ident: int, kids: list[bytes], width: int = 0, crc: bool = False) -> bytes:
    body = b"".join(kids)
    if crc:  # CRC-32 first child, over the rest of the master's data (little-endian)
        body = _el(_CRC, struct.pack("<I", zlib.crc32(body))) + body
    return _el(ident, body, width if len(body) < (1 << (7 * width)) - 1 else 0)


def _fit(content: bytes, room: int, ident: int, kids: list[bytes], crc: bool) -> bytes | None:
    """The master ``content`` (plus a Void) filling exactly ``room`` bytes, or None."""
    left = room - len(content)
    if left == 0:
        return content
    if left >= 2:
        return content + _void(left)
    if left == 1:  # one byte too few for a Void: write the size field one byte wider
        id_len = (ident.bit_length() + 7) // 8
        width = 9 - content[id_len].bit_length()
        if width < 8:
            wider = _master(ident, kids, width + 1, crc)
            if len(wider) == room:
                return wider
    return None


def _tag(payload: bytes) -> bytes:
    targets = _el(_TARGETS, _el(_TTV, _uint(MKV_TAG_TARGET_TYPE_VALUE)))
    simple = _el(_SIMPLETAG, _el(_TAGNAME, AIGC_KEY.encode("ascii")) + _el(_TAGSTRING, payload))
    return _el(_TAG, targets + simple)


def _is_ours(buf: bytes, simple: _El) -> bool:
    for kid in _children(buf, simple.body, simple.end):
        if kid.ident == _TAGNAME:
            return buf[kid.body : kid.end].rstrip(b"\x00").upper() == AIGC_KEY.encode("ascii")
    return False


def _rebuild_tags(buf: bytes, payload: bytes | None) -> tuple[list[bytes], bool, int]:
    """Children of a Tags element (``buf`` = its data) without AIGC SimpleTags, plus ours.
    Returns (children, had a CRC-32, AIGC SimpleTags removed)."""
    out: list[bytes] = []
    crc = False
    removed = 0
    for tag in _children(buf, 0, len(buf)):
        raw = buf[tag.start : tag.end]
        if tag.ident == _CRC:
            crc = True
            continue
        if tag.ident == _VOID:
            continue
        if tag.ident == _TAG:
            kids = _children(buf, tag.body, tag.end)
            ours = [k for k in kids if k.ident == _SIMPLETAG and _is_ours(buf, k)]
            if ours:
                removed += len(ours)
                keep = [k for k in kids if k not in ours and k.ident != _CRC]
                if not any(k.ident == _SIMPLETAG for k in keep):
                    continue
                raw = _master(_TAG, [buf[k.start : k.end] for k in keep], 0,
                              any(k.ident == _CRC for k in kids))
        out.append(raw)
    if payload is not None:
        out.append(_tag(payload))
    return out, crc, removed


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write ``label`` into the Matroska/WebM ``media``; the complete new file goes to ``tmp``."""
    payload = label.to_json().encode("utf-8")
    with media.open() as fh:
        return _write(fh, media.size, payload, tmp)


def _top(fh: BinaryIO, pos: int, end: int) -> list[_El]:
    out: list[_El] = []
    while pos < end:
        head = read_at(fh, pos, min(12, end - pos), "a Matroska element header")
        el = _header(head, 0, pos)
        if el.size < 0:
            if el.ident != _CLUSTER:
                raise CorruptMediaError(f"expected a known size for element 0x{el.ident:X}")
            out.append(_El(el.ident, el.start, el.head, end - el.body, el.width))
            break  # live-style cluster of unknown size: it runs to the end of the Segment
        if el.end > end:
            raise CorruptMediaError(f"expected element 0x{el.ident:X} at {pos:,} to fit")
        out.append(el)
        if len(out) > _MAX_ELEMENTS:
            raise CorruptMediaError(f"expected at most {_MAX_ELEMENTS:,} Matroska elements")
        pos = el.end
    return out


def _region(top: list[_El], i: int) -> int:
    """End of element ``top[i]`` plus the Void elements right after it."""
    end = top[i].end
    for el in top[i + 1 :]:
        if el.ident != _VOID or el.start != end:
            break
        end = el.end
    return end


def _write(fh: BinaryIO, file_size: int, payload: bytes, tmp: Path) -> WriteInfo:
    head = read_at(fh, 0, min(64, file_size), "the EBML header")
    ebml = _header(head, 0)
    seg_head = read_at(fh, ebml.end, min(12, file_size - ebml.end), "the Segment header")
    seg = _header(seg_head, 0, ebml.end)
    if seg.ident != _SEGMENT:
        raise CorruptMediaError(f"expected a Segment after the EBML header, got 0x{seg.ident:X}")
    seg_end = file_size if seg.size < 0 else min(seg.end, file_size)
    top = _top(fh, seg.body, seg_end)
    tags_at = [i for i, el in enumerate(top) if el.ident == _TAGS]
    rebuilt: dict[int, tuple[list[bytes], bool, int]] = {}
    for i in tags_at:
        if top[i].size > _MAX_TAGS:
            raise LabelWriteError(f"expected Tags of at most {_MAX_TAGS:,} bytes")
        data = read_at(fh, top[i].body, top[i].size, "a Tags element")
        rebuilt[i] = _rebuild_tags(data, None)
    # The Tags already holding a label take ours, else the first Tags, else a new one.
    target = next((i for i in tags_at if rebuilt[i][2]), tags_at[0] if tags_at else None)
    replace: dict[int, tuple[int, bytes]] = {}  # start -> (old end, new bytes)
    append = b""
    last = len(top) - 1
    at_end = seg_end == file_size
    for i in tags_at:
        el = top[i]
        data = read_at(fh, el.body, el.size, "a Tags element")
        kids, crc, removed = _rebuild_tags(data, payload if i == target else None)
        if i != target and not removed:
            continue
        room = _region(top, i) - el.start
        content = _master(_TAGS, kids, el.width, crc) if kids else b""
        fitted = _fit(content, room, _TAGS, kids, crc) if content else _void(room)
        if fitted is not None:
            replace[el.start] = (el.start + room, fitted)
        elif i == last and at_end:
            replace[el.start] = (el.start + room, content)
        else:
            replace[el.start] = (el.start + room, _void(room))
            append = content
    if target is None:
        append = _master(_TAGS, [_tag(payload)])
    append_at = seg_end
    new_tags_pos: int | None = None
    if append:
        new_tags_pos = append_at + sum(len(new) - (end - start) for start, (end, new)
                                       in replace.items())
    elif target is not None:
        start = top[target].start
        new_tags_pos = start + sum(len(new) - (end - s) for s, (end, new) in replace.items()
                                   if s < start)
    seek_note = _seek(fh, top, seg, new_tags_pos, replace, moved=bool(append))
    growth = sum(len(new) - (end - start) for start, (end, new) in replace.items()) + len(append)
    pieces: list[Piece] = []
    pos = 0
    if seg.size >= 0 and growth:
        pieces += [Keep(0, seg.start + seg.head - seg.width),
                   New(_size(seg.size + growth, seg.width))]
        pos = seg.body
    for start in sorted(replace):
        end, new = replace[start]
        pieces += [Keep(pos, start), New(new)]
        pos = end
    pieces.append(Keep(pos, append_at))
    if append:
        pieces.append(New(append))
    pieces.append(Keep(append_at, file_size))
    stats = write_plan(fh, pieces, tmp)
    where = ("appended the Tags element at the end of the Segment" if append
             else "rewrote the Tags element in place")
    return WriteInfo(Carrier.MKV_SIMPLETAG_AIGC.value, stats.rewritten,
                     f"{where}; {seek_note}; {stats.describe()}")


def _seek(fh: BinaryIO, top: list[_El], seg: _El, tags_pos: int | None,
          replace: dict[int, tuple[int, bytes]], *, moved: bool) -> str:
    """Point the SeekHead's Tags entry at ``tags_pos`` (adding one if there is room); adds the
    rewritten SeekHead to ``replace``. Returns a note."""
    if tags_pos is None:
        return "no SeekHead change"
    rel = tags_pos - seg.body
    heads = [i for i, el in enumerate(top) if el.ident == _SEEKHEAD]
    for i in heads:
        el = top[i]
        data = read_at(fh, el.body, el.size, "a SeekHead")
        kids = _children(data, 0, len(data))
        entries: list[bytes] = []
        crc = False
        found = False
        for k in kids:
            if k.ident == _CRC:
                crc = True
                continue
            if k.ident == _VOID:
                continue
            raw = data[k.start : k.end]
            if k.ident == _SEEK:
                sub = _children(data, k.body, k.end)
                sid = next((data[s.body : s.end] for s in sub if s.ident == _SEEK_ID), b"")
                if sid == _TAGS_ID:
                    found = True
                    raw = _seek_entry(rel)
            entries.append(raw)
        if not found and i == heads[-1]:
            entries.append(_seek_entry(rel))
            found = True
        if not found:
            continue
        room = _region(top, i) - el.start
        content = _master(_SEEKHEAD, entries, el.width, crc)
        if el.start in replace:
            raise LabelWriteError("expected the SeekHead and the Tags to be apart")
        if content == read_at(fh, el.start, el.end - el.start, "a SeekHead"):
            return "SeekHead already points at the Tags"
        fitted = _fit(content, room, _SEEKHEAD, entries, crc)
        if fitted is None:
            break
        replace[el.start] = (el.start + room, fitted)
        return "SeekHead entry for Tags updated"
    if moved:
        return ("no room in the SeekHead for a Tags entry: readers that only read the header "
                "(ffmpeg) will not see the label")
    return "SeekHead unchanged"


def _seek_entry(rel: int) -> bytes:
    return _el(_SEEK, _el(_SEEK_ID, _TAGS_ID) + _el(_SEEK_POS, _uint(rel)))
