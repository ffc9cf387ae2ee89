"""Label readers for audio and video: WAV, AVI, MP3 (ID3), FLAC, Ogg/Opus, MP4/MOV/M4A,
Matroska/WebM, FLV (R-FMT-8..15, R-FMT-20).

The small parsers here (ID3v2 frames, Vorbis comments, MP4 ``keys``/``ilst``, EBML
``SimpleTag``, AMF0) are bounded by the block they are given: every length is checked against
it, counts and nesting are capped, and a structure that does not fit is :class:`Malformed`.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any

from synthguard.provenance.aigc._collect import Collector, Malformed
from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES
from synthguard.requirements import AIGC_KEY, BMFF_MDTA_HANDLER, Carrier

__all__ = ["AV_READERS", "id3_txxx", "vorbis_comments"]

_KEY = AIGC_KEY.encode()
_MAX_ITEMS = 100_000  # frames, comments, keys, AMF entries in one block
_MAX_AMF_DEPTH = 16


def _guard(c: Collector, carrier: Carrier, what: str, fn: Callable[[], None]) -> None:
    """Run one block's parser; a structure that does not fit becomes a finding."""
    try:
        fn()
    except (Malformed, struct.error, IndexError, ValueError, zlib.error) as exc:
        c.container(f"{what} not read: {exc}", carrier)


# -- ID3v2 (R-FMT-13) ---------------------------------------------------------------------------


def _syncsafe(raw: bytes) -> int:
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _unsync(data: bytes) -> bytes:
    return data.replace(b"\xff\x00", b"\xff")


def id3_txxx(tag: bytes) -> list[tuple[str, str]]:
    """(description, value) of every TXXX frame of one ID3v2.3/2.4 tag. ID3v2.2 and other
    versions are :class:`Malformed` (unsupported variant, section 11 vector)."""
    if len(tag) < 10 or tag[:3] != b"ID3":
        raise Malformed("expected an ID3v2 tag header")
    major, flags = tag[3], tag[5]
    if major == 2:
        raise Malformed("ID3v2.2 tags (3-letter frame ids) are not a GB 45438 carrier; "
                        "R-FMT-13 names ID3v2.3/2.4 TXXX")
    if major not in (3, 4):
        raise Malformed(f"expected ID3v2.3 or 2.4, got ID3v2.{major}")
    size = _syncsafe(tag[6:10])
    if 10 + size > len(tag):
        raise Malformed(f"expected an ID3 tag of {size:,} bytes, the block ends first")
    body = tag[10 : 10 + size]
    if major == 3 and flags & 0x80:  # v2.3: unsynchronisation applies to the whole tag
        body = _unsync(body)
    pos = 0
    if flags & 0x40:  # extended header
        if len(body) < 4:
            raise Malformed("expected an ID3 extended header")
        ext = struct.unpack(">I", body[:4])[0] + 4 if major == 3 else _syncsafe(body[:4])
        if ext > len(body):
            raise Malformed("expected the ID3 extended header inside the tag")
        pos = ext
    out: list[tuple[str, str]] = []
    for _ in range(_MAX_ITEMS):
        if pos + 10 > len(body) or body[pos] == 0:
            break  # the end, or padding
        fid = body[pos : pos + 4]
        raw_size = body[pos + 4 : pos + 8]
        fsize = _syncsafe(raw_size) if major == 4 else struct.unpack(">I", raw_size)[0]
        fflags = body[pos + 9]
        start, pos = pos + 10, pos + 10 + fsize
        if pos > len(body):
            raise Malformed(f"expected ID3 frame {fid!r} of {fsize:,} bytes inside the tag")
        if fid != b"TXXX":
            continue
        # v2.4: the tag's unsynchronisation flag means every frame is unsynchronised.
        data = _id3_frame_data(body[start:pos], fflags | (0x02 if flags & 0x80 else 0), major)
        out.append(_txxx(data))
    return out


def _id3_frame_data(data: bytes, fflags: int, major: int) -> bytes:
    if major == 4:
        if fflags & 0x04:
            raise Malformed("encrypted ID3 frame")
        if fflags & 0x40:  # grouping identity byte
            data = data[1:]
        if fflags & 0x01:  # data length indicator
            data = data[4:]
        if fflags & 0x02:  # frame-level unsynchronisation
            data = _unsync(data)
        if fflags & 0x08:
            data = _inflate(data)
        return data
    if fflags & 0x40:
        raise Malformed("encrypted ID3 frame")
    if fflags & 0x80:  # compressed: 4-byte decompressed size, then zlib
        data = _inflate(data[4:])
    if fflags & 0x20:
        data = data[1:]
    return data


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_XMP_BYTES + 1)
    if len(out) > MAX_XMP_BYTES:
        raise Malformed(f"expected a frame of at most {MAX_XMP_BYTES:,} bytes decompressed")
    return out


_ID3_ENCODINGS = {0: ("latin-1", b"\x00"), 1: ("utf-16", b"\x00\x00"),
                  2: ("utf-16-be", b"\x00\x00"), 3: ("utf-8", b"\x00")}


def _txxx(data: bytes) -> tuple[str, str]:
    if not data or data[0] not in _ID3_ENCODINGS:
        raise Malformed("expected a TXXX text encoding byte 0-3")
    encoding, nul = _ID3_ENCODINGS[data[0]]
    text = data[1:]
    at = 0
    while True:  # the terminator of a UTF-16 string is aligned to 2 bytes
        at = text.find(nul, at)
        if at < 0 or len(nul) == 1 or at % 2 == 0:
            break
        at += 1
    if at < 0:
        raise Malformed("expected a TXXX description ended by a terminator")
    desc = text[:at].decode(encoding, "replace")
    value = text[at + len(nul) :]
    if encoding == "utf-16" and value[:2] not in (b"\xff\xfe", b"\xfe\xff") and text[:2] in (
        b"\xff\xfe", b"\xfe\xff"
    ):
        value = text[:2] + value  # a BOM only before the description: reuse it
    decoded = value.decode(encoding, "replace")
    return desc.lstrip("\ufeff"), decoded.rstrip("\x00").lstrip("\ufeff")


def _read_id3(c: Collector, data: bytes | None, carrier: Carrier) -> None:
    if data is None:
        return

    def run() -> None:
        for desc, value in id3_txxx(data):
            if desc == AIGC_KEY:
                c.site(value, carrier)

    _guard(c, carrier, "ID3 tag", run)


# -- Vorbis comments (R-FMT-14) -----------------------------------------------------------------


def vorbis_comments(data: bytes) -> list[tuple[str, bytes]]:
    """(key, value) of every comment of a Vorbis comment structure."""
    if len(data) < 8:
        raise Malformed("expected a Vorbis comment header")
    (vendor,) = struct.unpack_from("<I", data, 0)
    pos = 4 + vendor
    if pos + 4 > len(data):
        raise Malformed("expected the Vorbis comment vendor string inside the block")
    (count,) = struct.unpack_from("<I", data, pos)
    pos += 4
    if count > _MAX_ITEMS:
        raise Malformed(f"expected at most {_MAX_ITEMS:,} Vorbis comments, got {count:,}")
    out: list[tuple[str, bytes]] = []
    for _ in range(count):
        if pos + 4 > len(data):
            raise Malformed("expected another Vorbis comment, the block ends first")
        (n,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if pos + n > len(data):
            raise Malformed(f"expected a Vorbis comment of {n:,} bytes inside the block")
        key, _eq, value = data[pos : pos + n].partition(b"=")
        out.append((key.decode("ascii", "replace"), value))
        pos += n
    return out


def _read_vorbis(c: Collector, data: bytes | None, carrier: Carrier) -> None:
    if data is None:
        return

    def run() -> None:
        for key, value in vorbis_comments(data):
            if key.upper() == AIGC_KEY:  # field names are case-insensitive in Vorbis
                c.site(value, carrier)

    _guard(c, carrier, "Vorbis comment", run)


# -- per format ---------------------------------------------------------------------------------


def read_wav(c: Collector) -> None:
    for block in c.blocks("wav.chunk"):
        cid = block.get("id")
        if cid == AIGC_KEY:  # R-FMT-12 (parse_site drops the NUL padding)
            data = c.read(block, Carrier.WAV_CHUNK_AIGC)
            if data is not None:
                c.site(data, Carrier.WAV_CHUNK_AIGC)
        elif cid == "_PMX":  # R-FMT-15: XMP in WAV
            c.xmp(c.read(block, Carrier.WAV_XMP, MAX_XMP_BYTES), Carrier.WAV_XMP)
        elif cid in ("id3 ", "ID3 "):
            _read_id3(c, c.read(block, Carrier.WAV_ID3_TXXX_AIGC), Carrier.WAV_ID3_TXXX_AIGC)


def read_avi(c: Collector) -> None:
    for block in c.blocks("avi.info"):
        if block.get("id") == AIGC_KEY:  # R-FMT-10
            data = c.read(block, Carrier.AVI_INFO_AIGC)
            if data is not None:
                c.site(data, Carrier.AVI_INFO_AIGC)


def read_id3_audio(c: Collector) -> None:
    """MP3 and ADTS AAC (and a FLAC behind an ID3 tag): ID3v2 TXXX ``AIGC``."""
    for block in c.blocks("id3"):
        _read_id3(c, c.read(block, Carrier.MP3_ID3_TXXX_AIGC), Carrier.MP3_ID3_TXXX_AIGC)


def read_flac(c: Collector) -> None:
    read_id3_audio(c)
    for block in c.blocks("flac.vorbis"):
        _read_vorbis(c, c.read(block, Carrier.FLAC_VORBIS_AIGC), Carrier.FLAC_VORBIS_AIGC)


_OGG_MAGIC = {"vorbis": b"\x03vorbis", "opus": b"OpusTags"}


def read_ogg(c: Collector) -> None:
    """The comment packet of each logical stream, joined from the pages it spans."""
    packets: dict[str, list[bytes]] = {}
    codecs: dict[str, str] = {}
    for block in c.blocks("ogg.comment"):
        serial = block.get("serial")
        codec = codecs.setdefault(serial, block.get("codec"))
        carrier = Carrier.OPUS_VORBIS_AIGC if codec == "opus" else Carrier.OGG_VORBIS_AIGC
        data = c.read(block, carrier)
        if data is None:
            packets.pop(serial, None)
            codecs[serial] = "skip"
            continue
        packets.setdefault(serial, []).append(data)
    for serial, parts in packets.items():
        codec = codecs[serial]
        if codec == "skip":
            continue
        carrier = Carrier.OPUS_VORBIS_AIGC if codec == "opus" else Carrier.OGG_VORBIS_AIGC
        packet = b"".join(parts)
        magic = _OGG_MAGIC.get(codec)
        if magic is not None:
            if not packet.startswith(magic):
                c.container(f"expected an Ogg {codec} comment packet starting {magic!r}", carrier)
                continue
            packet = packet[len(magic) :]
        elif codec == "flac":
            packet = packet[4:]  # a FLAC metadata block header
        _read_vorbis(c, packet, carrier)


# -- ISO BMFF (R-FMT-8, R-FMT-15, R-FMT-20) ------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end:
        if len(out) >= _MAX_ITEMS:
            raise Malformed("too many boxes")
        size, typ = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise Malformed(f"box {typ!r} of {size:,} bytes at {pos:,} does not fit its parent")
        out.append((typ, pos + header, pos + size))
        pos += size
    return out


def mp4_keys(meta: bytes) -> list[tuple[str, int, bytes]]:
    """(key, data type, value) of every ``mdta`` key with its ``ilst`` value, from the
    children of one ``meta`` box."""
    children = _boxes(meta, 0, len(meta))
    handler = next((meta[s + 8 : s + 12] for t, s, _e in children if t == b"hdlr"), b"")
    keys: dict[int, str] = {}
    for typ, s, e in children:
        if typ != b"keys":
            continue
        (count,) = struct.unpack_from(">I", meta, s + 4)
        pos = s + 8
        for index in range(1, min(count, _MAX_ITEMS) + 1):
            size, namespace = struct.unpack_from(">I4s", meta, pos)
            if size < 8 or pos + size > e:
                raise Malformed(f"keys entry {index} of {size} bytes does not fit")
            if namespace == BMFF_MDTA_HANDLER:
                keys[index] = meta[pos + 8 : pos + size].decode("utf-8", "replace")
            pos += size
    if not keys:
        return []
    if handler != BMFF_MDTA_HANDLER:
        raise Malformed(f"expected the metadata handler 'mdta' for keys, got {handler!r}")
    out: list[tuple[str, int, bytes]] = []
    for typ, s, e in children:
        if typ != b"ilst":
            continue
        for item, is_, ie in _boxes(meta, s, e):
            key = keys.get(int.from_bytes(item, "big"))
            if key is None:
                continue
            for dtyp, ds, de in _boxes(meta, is_, ie):
                if dtyp == b"data" and de - ds >= 8:
                    (kind,) = struct.unpack_from(">I", meta, ds)
                    out.append((key, kind & 0xFFFFFF, meta[ds + 8 : de]))
    return out


def read_bmff(c: Collector) -> None:
    for block in c.media.metadata:
        name = block.carrier
        if name == "bmff.meta":
            data = c.read(block, Carrier.MP4_KEYS_AIGC)
            if data is not None:
                _guard(c, Carrier.MP4_KEYS_AIGC, "MP4 metadata", partial(_keys, c, data))
        elif name == "bmff.udta.aigc":
            data = c.read(block, Carrier.MP4_UDTA_AIGC)
            if data is not None:
                c.legacy("a literal udta/aigc box is a vendor variant; R-FMT-8 places the "
                         "label in moov/udta/meta keys", Carrier.MP4_UDTA_AIGC)
                c.site(data.lstrip(b"\x00"), Carrier.MP4_UDTA_AIGC)
        elif name in ("bmff.uuid.xmp", "bmff.xmp"):
            c.xmp(c.read(block, Carrier.MP4_XMP, MAX_XMP_BYTES), Carrier.MP4_XMP)


def _keys(c: Collector, meta: bytes) -> None:
    for key, kind, value in mp4_keys(meta):
        if key != AIGC_KEY:
            continue
        if kind != 1:
            c.warn("aigc.carrier", "R-FMT-8",
                   f"the AIGC ilst value has data type {kind}, expected 1 (UTF-8)",
                   Carrier.MP4_KEYS_AIGC)
        c.site(value, Carrier.MP4_KEYS_AIGC)


# -- Matroska (R-FMT-9) -------------------------------------------------------------------------


def _vint(buf: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    if pos >= len(buf) or buf[pos] == 0:
        raise Malformed(f"expected an EBML number at {pos}")
    length = 9 - buf[pos].bit_length()
    if pos + length > len(buf):
        raise Malformed("EBML number runs past the block")
    value = int.from_bytes(buf[pos : pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


_TAG_NAME, _TAG_STRING, _TAG_BINARY = 0x45A3, 0x4487, 0x4485


def simple_tag(data: bytes) -> tuple[str | None, bytes | None]:
    """TagName and TagString (or TagBinary) of one SimpleTag's body."""
    name: str | None = None
    value: bytes | None = None
    pos = 0
    while pos < len(data):
        ident, n = _vint(data, pos, True)
        size, m = _vint(data, pos + n, False)
        body = pos + n + m
        if body + size > len(data):
            raise Malformed(f"EBML element 0x{ident:X} of {size:,} bytes does not fit")
        if ident == _TAG_NAME:
            name = data[body : body + size].decode("utf-8", "replace")
        elif ident in (_TAG_STRING, _TAG_BINARY) and value is None:
            value = data[body : body + size]
        pos = body + size
    return name, value


def read_matroska(c: Collector) -> None:
    for block in c.blocks("mkv.simpletag"):
        data = c.read(block, Carrier.MKV_SIMPLETAG_AIGC)
        if data is None:
            continue

        def run(d: bytes = data) -> None:
            name, value = simple_tag(d)
            if name is not None and name.upper() == AIGC_KEY and value is not None:
                c.site(value, Carrier.MKV_SIMPLETAG_AIGC)

        _guard(c, Carrier.MKV_SIMPLETAG_AIGC, "Matroska SimpleTag", run)


# -- FLV (R-FMT-11) -----------------------------------------------------------------------------


class _Amf:
    """A bounded AMF0 decoder over one script tag."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.items = data, 0, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise Malformed("AMF0 value runs past the script tag")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def string(self, wide: bool = False) -> str:
        n = struct.unpack(">I" if wide else ">H", self.take(4 if wide else 2))[0]
        return self.take(n).decode("utf-8", "replace")

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_AMF_DEPTH:
            raise Malformed(f"AMF0 nested deeper than {_MAX_AMF_DEPTH}")
        self.items += 1
        if self.items > _MAX_ITEMS:
            raise Malformed("too many AMF0 values")
        marker = self.take(1)[0]
        if marker == 0:
            return struct.unpack(">d", self.take(8))[0]
        if marker == 1:
            return bool(self.take(1)[0])
        if marker == 2:
            return self.string()
        if marker == 12:
            return self.string(wide=True)
        if marker in (5, 6):
            return None
        if marker == 3:
            return self.pairs(depth)
        if marker == 8:
            self.take(4)  # approximate count; the end marker decides
            return self.pairs(depth)
        if marker == 10:
            (n,) = struct.unpack(">I", self.take(4))
            if n > _MAX_ITEMS:
                raise Malformed("AMF0 strict array too long")
            return [self.value(depth + 1) for _ in range(n)]
        if marker == 11:
            self.take(10)
            return None
        raise Malformed(f"unsupported AMF0 type {marker}")

    def pairs(self, depth: int) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        while True:
            if self.data[self.pos : self.pos + 3] == b"\x00\x00\x09":
                self.pos += 3
                return out
            if self.pos >= len(self.data):
                return out  # some writers end the array without its end marker
            key = self.string()
            out.append((key, self.value(depth + 1)))


def _amf_json(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(p, tuple) for p in value):
        return {k: _amf_json(v) for k, v in value}
    return value


def flv_metadata(data: bytes) -> list[tuple[str, Any]]:
    amf = _Amf(data)
    name = amf.value()
    if name != "onMetaData":
        return []
    body = amf.value()
    if not isinstance(body, list):
        raise Malformed("expected onMetaData to be an ECMA array or object")
    return [p for p in body if isinstance(p, tuple)]


def read_flv(c: Collector) -> None:
    for block in c.blocks("flv.script"):
        data = c.read(block, Carrier.FLV_ONMETADATA_AIGC)
        if data is None:
            continue

        def run(d: bytes = data) -> None:
            for key, value in flv_metadata(d):
                if key != AIGC_KEY:
                    continue
                if isinstance(value, str):
                    c.site(value, Carrier.FLV_ONMETADATA_AIGC)
                else:  # an AMF object of the seven keys: its values keep their types
                    c.site(json.dumps(_amf_json(value)), Carrier.FLV_ONMETADATA_AIGC)

        _guard(c, Carrier.FLV_ONMETADATA_AIGC, "FLV onMetaData", run)


AV_READERS = {
    "wav": read_wav,
    "avi": read_avi,
    "mp3": read_id3_audio,
    "aac": read_id3_audio,
    "flac": read_flac,
    "ogg": read_ogg,
    "opus": read_ogg,
    "mp4": read_bmff,
    "mov": read_bmff,
    "m4a": read_bmff,
    "mkv": read_matroska,
    "webm": read_matroska,
    "flv": read_flv,
}
