"""Image writers: the XMP ``TC260:AIGC`` label in JPEG, PNG, WebP, TIFF and GIF (R-FMT-1..6).

Pixels are never re-encoded: the compressed image data (JPEG scans, IDAT, VP8/VP8L/ANIM
frames, TIFF strips and tiles, LZW sub-blocks) is copied byte for byte; only metadata
structures are rebuilt. An existing XMP packet is updated, not replaced (R-FMT-1).

Exactly one site (R-META-6): besides the XMP property, each writer clears the alternative
AIGC sites it can reach (R-FMT-7, R-FMT-20):

* EXIF ``UserComment`` (JPEG APP1 Exif, PNG ``eXIf``, WebP ``EXIF``, TIFF's EXIF IFD) holding
  an AIGC payload is blanked in place (same length, so no EXIF offset moves);
* PNG ``tEXt``/``zTXt``/``iTXt`` chunks whose keyword contains ``AIGC`` are dropped;
* JPEG APPn segments that are a bare ``AIGC{...}`` blob (R-FMT-20) are dropped;
* further XMP packets (a second JPEG XMP APP1, a second PNG XMP iTXt) lose their AIGC property.

HEIC/AVIF are not written: the XMP item would have to be added to ``iinf``/``iloc`` with every
``iloc`` offset shifted, which is not done yet (they are refused as unsupported).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from synthguard.errors import (
    CorruptMediaError,
    MetadataTooLargeError,
    TruncatedMediaError,
    UnsupportedFormatError,
)
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_xmp import xmp_with_aigc
from synthguard.provenance.aigc._writers import WriteInfo, rewritten_between
from synthguard.requirements import (
    AIGC_KEY,
    EXIF_TAG_IMAGE_DESCRIPTION,
    EXIF_TAG_USER_COMMENT,
    GIF_XMP_APPLICATION,
    JPEG_EXIF_SIGNATURE,
    JPEG_XMP_SIGNATURE,
    LEGACY_LABEL_KEYS,
    PNG_XMP_KEYWORD,
    TIFF_TAG_XMP,
    Carrier,
)

__all__ = ["blank_exif_aigc", "write"]

JPEG_XMP_SIG = JPEG_XMP_SIGNATURE  # R-FMT-2
JPEG_SEGMENT_MAX = 65533  # payload of one marker segment: 65535 minus the 2-byte length
GIF_XMP_APP = GIF_XMP_APPLICATION  # R-FMT-6
# XMP part 3: after the packet, a 258-byte "magic trailer" makes GIF readers that walk the
# data as sub-blocks land on the block terminator: 0x01, 0xFF, 0xFE, ..., 0x01, 0x00, 0x00.
GIF_MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"
TIFF_XMP_TAG = TIFF_TAG_XMP  # R-FMT-5: XMLPacket
TIFF_XMP_TYPE = 7  # R-FMT-5: UNDEFINED
_EXIF_IFD_TAG = 34665
_AIGC = AIGC_KEY.encode()


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write the whole labelled image to ``tmp`` (the framework contract of ``_writers``)."""
    data = media.read_bytes()
    value = label.to_json()  # bare: TC260:AIGC is a keyed carrier (R-META-3)
    fmt = media.format
    if fmt == "jpeg":
        out, carrier, cleared = _jpeg(data, value)
    elif fmt == "png":
        out, carrier, cleared = _png(data, value)
    elif fmt == "webp":
        out, carrier, cleared = _webp(data, value)
    elif fmt == "gif":
        out, carrier, cleared = _gif(data, value)
    elif fmt == "tiff":
        out, carrier, cleared, rewritten = _tiff(data, value)
        tmp.write_bytes(out)
        return WriteInfo(carrier, rewritten, _note(
            "appended the XMP packet and a new IFD0, repointed the header", cleared))
    else:
        raise UnsupportedFormatError(f"expected jpeg, png, webp, tiff or gif, got {fmt}")
    tmp.write_bytes(out)
    return WriteInfo(carrier, rewritten_between(data, out), _note(
        "metadata rebuilt, compressed image data copied unchanged", cleared))


def _note(what: str, cleared: list[str]) -> str:
    return what + (f"; cleared other AIGC sites: {', '.join(cleared)}" if cleared else "")


# -- EXIF (TIFF structure) -------------------------------------------------------------------


def _is_aigc_payload(raw: bytes) -> bool:
    """A JSON object that is (or wraps) an AIGC label, or a legacy one (R-FMT-7, R-FMT-20)."""
    text = raw.strip(b"\x00 \t\r\n")
    if not text.startswith(b"{"):
        return False
    return _AIGC in text or b'"Label"' in text or any(
        f'"{key}"'.encode() in text for key in LEGACY_LABEL_KEYS)


def blank_exif_aigc(tiff: bytearray, base: int = 0) -> int:
    """Blank the AIGC sites of the EXIF (TIFF structure) starting at ``base`` in ``tiff``, in
    place and at the same length, so no offset moves: the ``UserComment`` of the EXIF IFD
    (R-FMT-7) and a legacy JSON ``ImageDescription`` in IFD0 (R-FMT-20). Returns the number
    of bytes blanked (0: none). Malformed EXIF is left alone (it is not ours to repair)."""
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[base:base + 2])]
        ifd0 = struct.unpack_from(order + "I", tiff, base + 4)[0]
        sites = [(ifd0, EXIF_TAG_IMAGE_DESCRIPTION, 0)]
        exif = _ifd_entry(tiff, base, order, ifd0, _EXIF_IFD_TAG)
        if exif is not None:
            exif_ifd = struct.unpack_from(order + "I", tiff, exif[2])[0]
            sites.append((exif_ifd, EXIF_TAG_USER_COMMENT, 8))  # 8-byte character code first
    except (KeyError, struct.error, IndexError):
        return 0
    blanked = 0
    for ifd, tag, skip in sites:
        try:
            entry = _ifd_entry(tiff, base, order, ifd, tag)
            if entry is None:
                continue
            _typ, count, field_pos = entry
            start = field_pos
            if count > 4:
                start = base + struct.unpack_from(order + "I", tiff, field_pos)[0]
            raw = bytes(tiff[start:start + count])
            if len(raw) != count or not _is_aigc_payload(raw[skip:]):
                continue
            # All NUL: an empty description, an "undefined" character code with no text.
            tiff[start:start + count] = bytes(count)
            blanked += count
        except (struct.error, IndexError):
            continue
    return blanked


def _ifd_entry(
    tiff: bytes | bytearray, base: int, order: str, ifd: int, tag: int
) -> tuple[int, int, int] | None:
    """(type, count, position of the value/offset field) of ``tag`` in the IFD at ``ifd``."""
    count = struct.unpack_from(order + "H", tiff, base + ifd)[0]
    for i in range(min(count, 4096)):
        pos = base + ifd + 2 + 12 * i
        t, typ, n = struct.unpack_from(order + "HHI", tiff, pos)
        if t == tag:
            return typ, n, pos + 8
    return None


# -- JPEG (R-FMT-2) ----------------------------------------------------------------------------


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Marker segments before the first scan as (marker, payload) and the scan's offset."""
    if data[:2] != b"\xff\xd8":
        raise CorruptMediaError("expected a JPEG starting with SOI (FF D8)")
    pos = 2
    segments: list[tuple[int, bytes]] = []
    while True:
        if pos + 4 > len(data):
            raise TruncatedMediaError(f"expected a JPEG segment at offset {pos:,}, got the end")
        if data[pos] != 0xFF:
            raise CorruptMediaError(f"expected a JPEG marker at offset {pos:,}")
        code = data[pos + 1]
        if code == 0xFF:
            pos += 1
            continue
        if code == 0xDA:  # SOS: the entropy-coded data follows, copied as it is
            return segments, pos
        if code < 0xC0 or 0xD0 <= code <= 0xD9:
            raise CorruptMediaError(
                f"expected a JPEG marker segment before the scan at {pos:,}, got 0x{code:02X}")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > len(data):
            raise TruncatedMediaError(f"expected a JPEG segment of {length} bytes at {pos:,}")
        segments.append((code, data[pos + 4:pos + 2 + length]))
        pos += 2 + length


def _jpeg(data: bytes, value: str) -> tuple[bytes, str, list[str]]:
    segments, scan = _jpeg_segments(data)
    cleared: list[str] = []
    xmp_index = next(
        (i for i, (code, body) in enumerate(segments)
         if code == 0xE1 and body.startswith(JPEG_XMP_SIG)),
        None,
    )
    kept: list[tuple[int, bytes]] = []
    for i, (code, body) in enumerate(segments):
        if code == 0xE1 and body.startswith(JPEG_EXIF_SIGNATURE):
            exif = bytearray(body)
            if blank_exif_aigc(exif, len(JPEG_EXIF_SIGNATURE)):
                cleared.append("EXIF UserComment/ImageDescription")
            body = bytes(exif)
        elif code == 0xE1 and body.startswith(JPEG_XMP_SIG) and i != xmp_index:
            # A second main XMP packet (invalid, but seen): it keeps all but the AIGC property.
            stripped = xmp_with_aigc(body[len(JPEG_XMP_SIG):], None)
            if stripped != body[len(JPEG_XMP_SIG):]:
                cleared.append("second XMP packet")
            body = JPEG_XMP_SIG + stripped
        elif 0xE0 <= code <= 0xEF and body.startswith(_AIGC + b"{"):
            cleared.append(f"APP{code - 0xE0} AIGC blob")  # R-FMT-20 legacy variant
            continue
        if i == xmp_index:
            body = JPEG_XMP_SIG + xmp_with_aigc(body[len(JPEG_XMP_SIG):], value)
        kept.append((code, body))
    if xmp_index is None:
        # After SOI and the leading APP0 (JFIF) / APP1 (Exif) segments, as readers expect.
        at = 0
        while at < len(kept) and (kept[at][0] == 0xE0 or (
                kept[at][0] == 0xE1 and kept[at][1].startswith(JPEG_EXIF_SIGNATURE))):
            at += 1
        kept.insert(at, (0xE1, JPEG_XMP_SIG + xmp_with_aigc(None, value)))
    out = bytearray(b"\xff\xd8")
    for code, body in kept:
        if len(body) > JPEG_SEGMENT_MAX:
            raise MetadataTooLargeError(
                f"expected the JPEG XMP packet to fit one APP1 segment ({JPEG_SEGMENT_MAX:,} "
                f"bytes; extended XMP is not written), got {len(body):,}"
            )
        out += struct.pack(">BBH", 0xFF, code, len(body) + 2) + body
    out += data[scan:]
    return bytes(out), Carrier.JPEG_XMP, cleared


# -- PNG (R-FMT-3) -----------------------------------------------------------------------------

_PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(type, data, raw chunk bytes) for every chunk, CRCs not re-checked (the walker did)."""
    if not data.startswith(_PNG_SIG):
        raise CorruptMediaError("expected a PNG signature")
    pos = len(_PNG_SIG)
    out = []
    while pos < len(data):
        if pos + 12 > len(data):
            raise TruncatedMediaError(f"expected a PNG chunk at offset {pos:,}, got the end")
        length, ctype = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > len(data):
            raise TruncatedMediaError(f"expected a PNG chunk of {length:,} bytes at {pos:,}")
        out.append((ctype, data[pos + 8:pos + 8 + length], data[pos:end]))
        pos = end
        if ctype == b"IEND":
            break
    return out


def _png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(ctype + body) & 0xFFFFFFFF)


def _png_xmp(body: bytes) -> bytes | None:
    """The packet of an XMP ``iTXt`` chunk, or None if the chunk is not one."""
    keyword, sep, rest = body.partition(b"\x00")
    if keyword != PNG_XMP_KEYWORD or not sep or len(rest) < 2:
        return None
    compressed = rest[0]
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, 4 * 1024 * 1024)
    return text


def _png(data: bytes, value: str) -> tuple[bytes, str, list[str]]:
    chunks = _png_chunks(data)
    cleared: list[str] = []
    packet: bytes | None = None
    out = bytearray(_PNG_SIG)
    placed_at = -1
    for ctype, body, raw in chunks:
        if ctype == b"iTXt" and (xmp := _png_xmp(body)) is not None:
            if packet is None:
                packet = xmp
            else:
                cleared.append("second XMP iTXt")
            continue  # the updated packet goes right after IHDR
        keyword = body.partition(b"\x00")[0]
        if ctype in (b"tEXt", b"zTXt", b"iTXt") and _AIGC in keyword:
            cleared.append(f"{ctype.decode()} {keyword.decode('latin-1')}")
            continue  # R-FMT-7 alternative site
        if ctype == b"eXIf":
            exif = bytearray(body)
            if blank_exif_aigc(exif, 0):
                cleared.append("EXIF UserComment/ImageDescription")
                raw = _png_chunk(ctype, bytes(exif))
        out += raw
        if ctype == b"IHDR":
            placed_at = len(out)
    if placed_at < 0:
        raise CorruptMediaError("expected a PNG IHDR chunk, got none")
    # Uncompressed iTXt (R-FMT-3): keyword, NUL, flag 0, method 0, empty language and
    # translated keyword, then the packet.
    itxt = PNG_XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + xmp_with_aigc(packet, value)
    out[placed_at:placed_at] = _png_chunk(b"iTXt", itxt)
    return bytes(out), Carrier.PNG_XMP, cleared


# -- WebP (R-FMT-4) ----------------------------------------------------------------------------

_WEBP_ORDER = {b"VP8X": 0, b"ICCP": 1, b"ANIM": 2, b"EXIF": 4, b"XMP ": 5}  # else image data: 3
_VP8X_ICC, _VP8X_ALPHA, _VP8X_EXIF, _VP8X_XMP, _VP8X_ANIM = 0x20, 0x10, 0x08, 0x04, 0x02


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise CorruptMediaError("expected a RIFF WEBP file")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = min(len(data), 8 + riff_size)
    pos = 12
    out = []
    while pos + 8 <= end:
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        if pos + 8 + size > end:
            raise TruncatedMediaError(f"expected a WebP chunk of {size:,} bytes at {pos:,}")
        out.append((fourcc, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def _webp_canvas(fourcc: bytes, body: bytes) -> tuple[int, int, bool]:
    """Canvas width, height and alpha of a simple-format bitstream (VP8 / VP8L header)."""
    if fourcc == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", body, 6)
        return w & 0x3FFF, h & 0x3FFF, False
    if fourcc == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        (bits,) = struct.unpack_from("<I", body, 1)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise CorruptMediaError(f"expected a VP8 or VP8L bitstream header, got {fourcc!r}")


def _webp(data: bytes, value: str) -> tuple[bytes, str, list[str]]:
    chunks = _webp_chunks(data)
    if not chunks:
        raise CorruptMediaError("expected WebP chunks, got none")
    cleared: list[str] = []
    packet: bytes | None = None
    kept: list[tuple[bytes, bytes]] = []
    for fourcc, body in chunks:
        if fourcc == b"XMP ":
            if packet is None:
                packet = body
            else:
                cleared.append("second XMP chunk")
            continue
        if fourcc == b"EXIF":
            exif = bytearray(body)
            start = len(JPEG_EXIF_SIGNATURE) if body.startswith(JPEG_EXIF_SIGNATURE) else 0
            if blank_exif_aigc(exif, start):
                cleared.append("EXIF UserComment/ImageDescription")
            body = bytes(exif)
        kept.append((fourcc, body))
    if kept[0][0] != b"VP8X":
        # Simple format: convert to extended by adding VP8X with the bitstream's canvas size.
        width, height, alpha = _webp_canvas(*kept[0])
        vp8x = bytes([_VP8X_ALPHA if alpha else 0, 0, 0, 0]) + (width - 1).to_bytes(
            3, "little") + (height - 1).to_bytes(3, "little")
        kept.insert(0, (b"VP8X", vp8x))
    flags = kept[0][1][0] | _VP8X_XMP
    has_exif = any(f == b"EXIF" for f, _ in kept)
    flags = flags | _VP8X_EXIF if has_exif else flags & ~_VP8X_EXIF
    kept[0] = (b"VP8X", bytes([flags]) + kept[0][1][1:])
    kept.append((b"XMP ", xmp_with_aigc(packet, value)))
    # Chunk order of the container spec: VP8X, ICCP, ANIM, image data, EXIF, XMP; unknown
    # chunks keep their place among the image data (sort is stable).
    kept.sort(key=lambda c: _WEBP_ORDER.get(c[0], 3))
    riff = bytearray(b"WEBP")
    for fourcc, chunk in kept:
        riff += struct.pack("<4sI", fourcc, len(chunk)) + chunk + b"\x00" * (len(chunk) & 1)
    return b"RIFF" + struct.pack("<I", len(riff)) + bytes(riff), Carrier.WEBP_XMP, cleared


# -- GIF (R-FMT-6) -----------------------------------------------------------------------------


def _gif_sub_blocks_end(data: bytes, pos: int) -> int:
    """Offset just past the block terminator of the sub-blocks starting at ``pos``."""
    while True:
        if pos >= len(data):
            raise TruncatedMediaError("expected a GIF block terminator, got the end")
        n = data[pos]
        pos += 1 + n
        if n == 0:
            return pos


def _gif(data: bytes, value: str) -> tuple[bytes, str, list[str]]:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise CorruptMediaError("expected a GIF87a or GIF89a header")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    head_end = pos
    blocks: list[bytes] = []
    packet: bytes | None = None
    cleared: list[str] = []
    while True:
        if pos >= len(data):
            raise TruncatedMediaError("expected a GIF trailer (0x3B), got the end")
        intro = data[pos]
        if intro == 0x3B:
            break
        if intro == 0x21:
            label_byte = data[pos + 1]
            end = _gif_sub_blocks_end(data, pos + 2)
            block = data[pos:end]
            if label_byte == 0xFF and data[pos + 2] == 11 and data[pos + 3:pos + 14] == GIF_XMP_APP:
                xmp = data[pos + 14:end]
                if xmp.endswith(GIF_MAGIC_TRAILER):
                    xmp = xmp[: -len(GIF_MAGIC_TRAILER)]
                else:
                    raise CorruptMediaError("expected the GIF XMP extension to end with the "
                                            "XMP magic trailer, got something else")
                if packet is None:
                    packet = xmp
                else:
                    cleared.append("second XMP extension")
                pos = end
                continue
            blocks.append(block)
            pos = end
        elif intro == 0x2C:
            if pos + 10 > len(data):
                raise TruncatedMediaError("expected a GIF image descriptor, got the end")
            lflags = data[pos + 9]
            at = pos + 10 + (3 * (2 << (lflags & 7)) if lflags & 0x80 else 0) + 1  # + LZW size
            end = _gif_sub_blocks_end(data, at)
            blocks.append(data[pos:end])
            pos = end
        else:
            raise CorruptMediaError(f"expected a GIF block at offset {pos:,}, got 0x{intro:02X}")
    new_packet = xmp_with_aigc(packet, value)
    if b"\x00" in new_packet:
        raise CorruptMediaError("expected an XMP packet without NUL bytes for GIF")
    ext = b"\x21\xff\x0b" + GIF_XMP_APP + new_packet + GIF_MAGIC_TRAILER
    # Application extensions are GIF89a; the XMP goes right after the global colour table.
    out = b"GIF89a" + data[6:head_end] + ext + b"".join(blocks) + data[pos:]
    return out, Carrier.GIF_XMP, cleared


# -- TIFF (R-FMT-5) ----------------------------------------------------------------------------

_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _tiff(data: bytes, value: str) -> tuple[bytes, str, list[str], int]:
    """Append the packet and a rewritten IFD0, then repoint the header: every other byte and
    offset stays where it was. If IFD0 and its packet are already the tail of the file (our
    earlier write), that tail is replaced instead, so a rewrite does not grow the file."""
    if data[:4] == b"II*\x00":
        order = "<"
    elif data[:4] == b"MM\x00*":
        order = ">"
    elif data[:4] in (b"II+\x00", b"MM\x00+"):
        raise UnsupportedFormatError("expected a classic TIFF, got a BigTIFF (not written)")
    else:
        raise CorruptMediaError("expected a TIFF header (II*\\0 or MM\\0*)")
    (ifd0,) = struct.unpack_from(order + "I", data, 4)
    if ifd0 + 2 > len(data):
        raise TruncatedMediaError(f"expected TIFF IFD0 at offset {ifd0:,}, got the end")
    (count,) = struct.unpack_from(order + "H", data, ifd0)
    ifd_end = ifd0 + 2 + 12 * count + 4
    if ifd_end > len(data):
        raise TruncatedMediaError(f"expected a TIFF IFD0 of {count} entries at {ifd0:,}")
    entries: list[bytes] = []
    packet: bytes | None = None
    packet_span: tuple[int, int] | None = None
    out_of_line_ends: list[int] = []
    for i in range(count):
        raw = data[ifd0 + 2 + 12 * i:ifd0 + 14 + 12 * i]
        tag, typ, n = struct.unpack_from(order + "HHI", raw)
        size = _TIFF_SIZES.get(typ, 1) * n
        if size > 4:
            (off,) = struct.unpack_from(order + "I", raw, 8)
            if tag == TIFF_XMP_TAG:
                packet, packet_span = data[off:off + n], (off, off + size)
                continue
            out_of_line_ends.append(off + size)
        elif tag == TIFF_XMP_TAG:
            packet = raw[8:8 + size]
            continue
        entries.append(raw)
    (next_ifd,) = struct.unpack_from(order + "I", data, ifd_end - 4)
    body = bytearray(data)
    cleared: list[str] = []
    blanked = blank_exif_aigc(body, 0)
    if blanked:
        cleared.append("EXIF UserComment/ImageDescription")
    new_packet = xmp_with_aigc(packet, value)
    # Our own earlier layout: [packet][pad][IFD0] at the very end, nothing else pointing in.
    tail = len(body)
    if (
        packet_span is not None and ifd_end == len(data)
        and packet_span[1] + (packet_span[1] & 1) == ifd0
        and all(e <= packet_span[0] for e in out_of_line_ends)
    ):
        tail = packet_span[0]
    if packet_span is not None and tail == len(body):
        # The old packet is no longer referenced: blank it in place (same length, no offset
        # moves) so no stale label stays in the file for byte-scanning tools (R-META-6).
        start, end = packet_span[0], min(packet_span[1], len(body))
        body[start:end] = b" " * (end - start)
        blanked += end - start
    del body[tail:]
    if len(body) & 1:
        body += b"\x00"
    packet_off = len(body)
    body += new_packet
    if len(body) & 1:
        body += b"\x00"
    new_ifd = len(body)
    entries.append(struct.pack(order + "HHII", TIFF_XMP_TAG, TIFF_XMP_TYPE, len(new_packet),
                               packet_off))
    entries.sort(key=lambda e: struct.unpack_from(order + "H", e)[0])  # ascending tags
    body += struct.pack(order + "H", len(entries)) + b"".join(entries) + struct.pack(
        order + "I", next_ifd)
    struct.pack_into(order + "I", body, 4, new_ifd)
    if new_ifd > 0xFFFFFFFF:
        raise MetadataTooLargeError("expected a TIFF below 4 GiB, got one larger")
    out = bytes(body)
    rewritten = 0 if out == data else 4 + (len(body) - tail) + blanked
    return out, Carrier.TIFF_XMP, cleared, rewritten
