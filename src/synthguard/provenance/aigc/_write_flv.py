"""Write the AIGC label into FLV files (R-FMT-11).

The label is the key ``AIGC`` of the ``onMetaData`` script tag (AMF0), holding the bare JSON
(R-META-3) as an AMF0 string (a long string past 65,535 bytes). Other keys are kept in order and
re-serialised byte for byte; an existing ``AIGC`` key (any case) is replaced, so exactly one
remains (R-META-6). Without an ``onMetaData`` tag, one is inserted right after the header.

Only the script tag is rewritten (its DataSize and the PreviousTagSize after it); the tags
after it move by the growth. FLV has no absolute offsets except the optional
``keyframes.filepositions`` index in ``onMetaData`` (with ``lastkeyframelocation`` and
``filesize``): those are increased by the growth.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from synthguard.errors import CorruptMediaError, LabelWriteError
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_io import Keep, New, Piece, read_at, write_plan
from synthguard.provenance.aigc._writers import WriteInfo
from synthguard.requirements import AIGC_KEY, Carrier

__all__ = ["write"]

_SCRIPT = 18
_ON_META = b"onMetaData"
_MAX_SCAN_TAGS = 64  # onMetaData comes first in practice; the walker reads as far
_MAX_SCRIPT = 16 * 1024 * 1024
_MAX_DEPTH = 32

# AMF0 values as nested tuples: ("raw", bytes) for leaves, ("map", marker, head, pairs) for
# objects / ECMA arrays / typed objects, ("list", count bytes, items) for strict arrays.
_Value = tuple


class _Amf:
    """A bounded AMF0 reader that keeps every leaf's bytes, so re-serialising is exact."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CorruptMediaError("expected more AMF0 data in the FLV script tag, got its end")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def key(self) -> bytes:
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n)

    def pairs(self, depth: int) -> list[tuple[bytes, _Value]]:
        out: list[tuple[bytes, _Value]] = []
        while True:
            if self.data[self.pos : self.pos + 3] == b"\x00\x00\x09":
                self.pos += 3
                return out
            if self.pos >= len(self.data):  # some writers omit the end marker of the array
                return out
            k = self.key()
            out.append((k, self.value(depth + 1)))

    def value(self, depth: int = 0) -> _Value:
        if depth > _MAX_DEPTH:
            raise CorruptMediaError(f"expected AMF0 nested at most {_MAX_DEPTH} deep")
        marker = self.take(1)
        m = marker[0]
        if m == 0x00:
            return ("raw", marker + self.take(8))
        if m == 0x01:
            return ("raw", marker + self.take(1))
        if m == 0x02:
            head = self.take(2)
            return ("raw", marker + head + self.take(struct.unpack(">H", head)[0]))
        if m in (0x0C, 0x0F):
            head = self.take(4)
            return ("raw", marker + head + self.take(struct.unpack(">I", head)[0]))
        if m in (0x05, 0x06):
            return ("raw", marker)
        if m == 0x07:
            return ("raw", marker + self.take(2))
        if m == 0x0B:
            return ("raw", marker + self.take(10))
        if m == 0x03:
            return ("map", marker, b"", self.pairs(depth))
        if m == 0x08:
            return ("map", marker, self.take(4), self.pairs(depth))
        if m == 0x10:
            head = self.take(2)
            return ("map", marker, head + self.take(struct.unpack(">H", head)[0]),
                    self.pairs(depth))
        if m == 0x0A:
            (count,) = struct.unpack(">I", self.take(4))
            if count > len(self.data):
                raise CorruptMediaError(f"expected a plausible AMF0 array length, got {count}")
            return ("list", [self.value(depth + 1) for _ in range(count)])
        raise CorruptMediaError(f"expected an AMF0 value, got type 0x{m:02X}")


def _dump(v: _Value) -> bytes:
    if v[0] == "raw":
        return bytes(v[1])
    if v[0] == "list":
        return b"\x0a" + struct.pack(">I", len(v[1])) + b"".join(_dump(x) for x in v[1])
    _, marker, head, pairs = v
    if marker == b"\x08":
        head = struct.pack(">I", len(pairs))
    body = b"".join(struct.pack(">H", len(k)) + k + _dump(x) for k, x in pairs)
    return marker + head + body + b"\x00\x00\x09"


def _string(text: bytes) -> _Value:
    if len(text) <= 0xFFFF:
        return ("raw", b"\x02" + struct.pack(">H", len(text)) + text)
    return ("raw", b"\x0c" + struct.pack(">I", len(text)) + text)


def _number(v: _Value) -> float | None:
    if v[0] == "raw" and len(v[1]) == 9 and v[1][0] == 0:
        return float(struct.unpack(">d", v[1][1:])[0])
    return None


def _num(x: float) -> _Value:
    return ("raw", b"\x00" + struct.pack(">d", x))


def _shift(pairs: list[tuple[bytes, _Value]], delta: int, threshold: int) -> None:
    """Add ``delta`` to ``keyframes.filepositions`` past ``threshold`` and to ``filesize``."""
    for i, (k, v) in enumerate(pairs):
        if k == b"filesize" and (n := _number(v)) is not None and n > 0:
            pairs[i] = (k, _num(n + delta))
        elif k == b"lastkeyframelocation" and (n := _number(v)) is not None and n >= threshold:
            pairs[i] = (k, _num(n + delta))
        elif k == b"keyframes" and v[0] == "map":
            for j, (k2, v2) in enumerate(v[3]):
                if k2 == b"filepositions" and v2[0] == "list":
                    items = [
                        _num(n + delta) if (n := _number(x)) is not None and n >= threshold
                        else x
                        for x in v2[1]
                    ]
                    v[3][j] = (k2, ("list", items))


def _tag(data: bytes, header: bytes | None) -> bytes:
    head = bytearray(header or bytes([_SCRIPT]) + b"\x00" * 10)
    head[1:4] = len(data).to_bytes(3, "big")
    return bytes(head) + data + struct.pack(">I", 11 + len(data))


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write ``label`` into the FLV ``media``; the complete new file goes to ``tmp``."""
    payload = label.to_json().encode("utf-8")
    with media.open() as fh:
        return _write(fh, media.size, payload, tmp)


def _find_meta(fh: BinaryIO, size: int, first: int) -> tuple[int, bytes, bytes] | None:
    """(offset, 11-byte header, data) of the onMetaData script tag, or None."""
    pos = first
    for _ in range(_MAX_SCAN_TAGS):
        if pos + 11 > size:
            return None
        head = read_at(fh, pos, 11, "an FLV tag header")
        length = int.from_bytes(head[1:4], "big")
        if pos + 11 + length + 4 > size:
            return None
        if head[0] & 0x1F == _SCRIPT and length >= 13:
            if length > _MAX_SCRIPT:
                raise LabelWriteError(f"expected a script tag of at most {_MAX_SCRIPT:,} bytes")
            data = read_at(fh, pos + 11, length, "the FLV script data")
            if data[:3] == b"\x02\x00\x0a" and data[3:13] == _ON_META:
                return pos, head, data
        pos += 11 + length + 4
    return None


def _write(fh: BinaryIO, size: int, payload: bytes, tmp: Path) -> WriteInfo:
    head = read_at(fh, 0, 9, "the FLV header")
    (offset,) = struct.unpack_from(">I", head, 5)
    first = offset + 4  # after PreviousTagSize0
    found = _find_meta(fh, size, first)
    if found is None:
        pairs: list[tuple[bytes, _Value]] = []
        value: _Value = ("map", b"\x08", b"", pairs)
        tag_start, tag_end, header = first, first, None
        rest = b""
    else:
        tag_start, header, data = found
        tag_end = tag_start + 11 + len(data) + 4
        body = _Amf(data)
        body.value()  # the name
        value = body.value()
        rest = data[body.pos :]  # anything after the array (rare): kept
        if value[0] != "map":
            raise CorruptMediaError("expected onMetaData to hold an AMF0 object or ECMA array")
        pairs = value[3]
    replaced = [k for k, _v in pairs if k.upper() == AIGC_KEY.encode("ascii")]
    pairs[:] = [(k, v) for k, v in pairs if k.upper() != AIGC_KEY.encode("ascii")]
    pairs.append((AIGC_KEY.encode("ascii"), _string(payload)))
    name = b"\x02\x00\x0a" + _ON_META
    new = _tag(name + _dump(value) + rest, header)
    delta = len(new) - (tag_end - tag_start)
    if delta:
        _shift(pairs, delta, tag_end)
        new = _tag(name + _dump(value) + rest, header)
    pieces: list[Piece] = [Keep(0, tag_start), New(new), Keep(tag_end, size)]
    stats = write_plan(fh, pieces, tmp)
    if found is None:
        where = "inserted an onMetaData script tag with AIGC after the header"
    else:
        where = "rewrote the onMetaData script tag" + (
            " (replaced the existing AIGC key)" if replaced else " (added the AIGC key)")
    if delta:
        where += f", the tags after it moved by {delta:+,} bytes"
    return WriteInfo(Carrier.FLV_ONMETADATA_AIGC.value, stats.rewritten,
                     f"{where}; {stats.describe()}")
