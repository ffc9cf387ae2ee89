"""Structural walkers for still and animated images: JPEG, PNG, GIF, WebP, TIFF, BMP.

Each walker reads only headers (R-IMPL-1): dimensions are checked against ``max_pixels`` from
the header before any decoder sees the file, metadata segments are charged to the budget, and
compressed pixel data (JPEG scans, IDAT, LZW sub-blocks, strips) is skipped by offset. The
walkers also give width, height and mode, so the hot path (JPEG, PNG) never needs Pillow.
"""

from __future__ import annotations

import struct

from synthguard.errors import CorruptMediaError, TruncatedMediaError
from synthguard.media._types import MetaBlock
from synthguard.media._walk import Budget, Facts, Reader, check_frames, check_pixels
from synthguard.requirements import (
    C2PA_PNG_CHUNK,
    C2PA_RIFF_CHUNK,
    EXIF_TAG_IMAGE_DESCRIPTION,
    EXIF_TAG_USER_COMMENT,
    JPEG_EXIF_SIGNATURE,
    JPEG_XMP_SIGNATURE,
    TIFF_TAG_XMP,
)
from synthguard.settings import MiB

__all__ = ["IMAGE_WALKERS"]

_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_JPEG_XMP_EXTENDED = b"http://ns.adobe.com/xmp/extension/\x00"
# Built once: the info of each APPn block (the hot path makes no strings per segment). An
# APPn or COM segment that holds the bytes "AIGC" (a vendor blob, R-FMT-20) is marked, so
# that label readers read only those.
_JPEG_APP_INFO = {code: (("marker", f"{code:02X}"),) for code in range(0xE0, 0xF0)}
_JPEG_APP_INFO_AIGC = {code: (*info, ("aigc", "1")) for code, info in _JPEG_APP_INFO.items()}
_JPEG_COM_AIGC = (("aigc", "1"),)
_AIGC = b"AIGC"


def walk_jpeg(r: Reader, facts: Facts, budget: Budget) -> None:
    """Segments from SOI up to the first scan; then the EOI marker must follow the scan.

    This is the hot path (thousands of small JPEGs per scan), so it works on a ``bytes``
    buffer with ``struct.unpack_from`` and no per-segment method calls: the whole file when it
    is in memory, else the head of it. Everything before the scan is metadata (charged to the
    budget) or small tables, so the head needs at most the metadata budget plus 1 MiB.
    """
    size = r.size
    if r.data is not None:
        buf: bytes = r.data
    else:
        buf = bytes(r.read_upto(0, budget.settings.max_metadata_bytes + 1 * MiB))
    limit = len(buf)
    unpack = struct.unpack_from
    record = facts.metadata.append
    pos = 2
    sos = -1
    while sos < 0:
        if pos + 4 > limit:
            if limit < size:
                raise CorruptMediaError(
                    f"expected the JPEG image scan within the first {limit:,} bytes, found none"
                )
            raise TruncatedMediaError(
                f"expected a JPEG segment at offset {pos:,}, but the file ends at {size:,} bytes"
            )
        lead, code, length = unpack(">BBH", buf, pos)
        if lead != 0xFF:
            raise CorruptMediaError(
                f"expected a JPEG marker (0xFF..) at offset {pos:,}, got 0x{lead:02X}"
            )
        if code == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if code == 0x01 or 0xD0 <= code <= 0xD7:  # TEM, RSTn: no length
            pos += 2
            continue
        if code == 0xD9:
            raise CorruptMediaError("expected a JPEG image scan, got the end-of-image marker first")
        budget.tick("JPEG segments")
        if length < 2:
            raise CorruptMediaError(f"expected a JPEG segment length >= 2, got {length}")
        end = pos + 2 + length
        if end > size:
            raise TruncatedMediaError(
                f"expected a JPEG segment (marker 0x{code:02X}) of {length:,} bytes at offset "
                f"{pos:,}, but the file ends at {size:,} bytes"
            )
        if 0xE0 <= code <= 0xEF or code == 0xFE:  # APPn (EXIF, XMP, ICC, ...) and COM
            budget.metadata_bytes(length, "a JPEG APP or comment segment")
            body = pos + 4
            if code == 0xE1 and buf.startswith(JPEG_EXIF_SIGNATURE, body):
                record(MetaBlock("jpeg.exif", body + 6, length - 8))
            elif code == 0xE1 and buf.startswith(JPEG_XMP_SIGNATURE, body):
                n = len(JPEG_XMP_SIGNATURE)
                record(MetaBlock("jpeg.xmp", body + n, length - 2 - n))
            elif code == 0xE1 and buf.startswith(_JPEG_XMP_EXTENDED, body):
                record(MetaBlock("jpeg.xmp.extended", body, length - 2))
            elif code == 0xFE:
                record(MetaBlock("jpeg.com", body, length - 2,
                                 _JPEG_COM_AIGC if buf.find(_AIGC, body, end) >= 0 else ()))
            elif buf.find(_AIGC, body, end) >= 0:
                record(MetaBlock("jpeg.app", body, length - 2, _JPEG_APP_INFO_AIGC[code]))
            else:
                record(MetaBlock("jpeg.app", body, length - 2, _JPEG_APP_INFO[code]))
        elif code in _JPEG_SOF and "width" not in facts.info:
            if length < 8 or pos + 10 > limit:
                raise CorruptMediaError(f"expected a JPEG frame header of >= 8 bytes, got {length}")
            _precision, height, width, comps = unpack(">BHHB", buf, pos + 4)
            if width == 0 or height == 0:
                raise CorruptMediaError(f"expected JPEG dimensions > 0, got {width}x{height}")
            check_pixels(width, height, budget.settings)
            mode = _JPEG_MODES.get(comps)
            if mode is None:
                raise CorruptMediaError(f"expected 1, 3 or 4 JPEG components, got {comps}")
            facts.set(width=width, height=height, mode=mode)
        elif code == 0xDA:
            sos = end
        pos = end
    if "width" not in facts.info:
        raise CorruptMediaError("expected a JPEG frame header (SOFn) before the scan, found none")
    # The compressed scan is payload: it is not walked. Inside it 0xFF is always stuffed
    # (FF00) or a restart marker, so an FFD9 after the first scan can only be the EOI.
    if r.rfind(b"\xff\xd9", sos) < 0:
        raise TruncatedMediaError(
            "expected a JPEG end-of-image marker (FFD9) after the scan, "
            f"but the file ends at {size:,} bytes without one"
        )
    facts.set(pages=1, animated=False, codecs=("jpeg",))


_PNG_MODES = {
    (1, 0): "1", (2, 0): "L", (4, 0): "L", (8, 0): "L", (16, 0): "I;16",
    (8, 2): "RGB", (16, 2): "RGB",
    (1, 3): "P", (2, 3): "P", (4, 3): "P", (8, 3): "P",
    (8, 4): "LA", (16, 4): "LA", (8, 6): "RGBA", (16, 6): "RGBA",
}
# Chunks that are the image itself; every other chunk is metadata ("outside the media data").
_PNG_IMAGE_CHUNKS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"fcTL", b"fdAT"})
# Chunks that may hold a label (R-FMT-3, R-FMT-7), recorded in the metadata index.
_PNG_TEXT_CHUNKS = {b"tEXt": "png.text", b"zTXt": "png.ztxt", b"iTXt": "png.itxt",
                    b"eXIf": "png.exif", C2PA_PNG_CHUNK: "png.c2pa"}


def walk_png(r: Reader, facts: Facts, budget: Budget) -> None:
    """Chunks from the signature to IEND; IHDR first; IDAT and fdAT are skipped unread."""
    pos = 8
    size = r.size
    seen_idat = False
    frames = 1
    while True:
        if pos + 8 > size:
            raise TruncatedMediaError(
                f"expected a PNG IEND chunk, but the file ends at {size:,} bytes without one"
            )
        length, ctype = struct.unpack(">I4s", r.read(pos, 8, "a PNG chunk header"))
        budget.tick("PNG chunks")
        if length > 0x7FFFFFFF:
            raise CorruptMediaError(f"expected a PNG chunk length < 2^31, got {length:,}")
        end = pos + 12 + length
        if end > size:
            raise TruncatedMediaError(
                f"expected a PNG {ctype.decode('latin-1')!r} chunk of {length:,} bytes at offset "
                f"{pos:,}, but the file ends at {size:,} bytes"
            )
        if pos == 8:
            if ctype != b"IHDR" or length < 13:
                raise CorruptMediaError(f"expected the PNG IHDR chunk first, got {ctype!r}")
            width, height, depth, colour = struct.unpack(">IIBB", r.read(pos + 8, 10, "IHDR"))
            if width == 0 or height == 0:
                raise CorruptMediaError(f"expected PNG dimensions > 0, got {width}x{height}")
            check_pixels(width, height, budget.settings)
            mode = _PNG_MODES.get((depth, colour))
            if mode is None:
                raise CorruptMediaError(
                    f"expected a valid PNG bit depth and colour type, got {depth}/{colour}"
                )
            facts.set(width=width, height=height, mode=mode)
        elif ctype == b"IDAT":
            seen_idat = True
        elif ctype == b"IEND":
            break
        elif ctype == b"acTL" and length >= 8:
            (frames,) = struct.unpack(">I", r.read(pos + 8, 4, "acTL"))
            check_frames(frames, budget.settings, " (APNG acTL)")
        elif ctype not in _PNG_IMAGE_CHUNKS:
            budget.metadata_bytes(length + 12, f"a PNG {ctype.decode('latin-1')!r} chunk")
            name = _PNG_TEXT_CHUNKS.get(ctype)
            if name is not None:
                facts.block(name, pos + 8, length)
        pos = end
    if not seen_idat:
        raise CorruptMediaError("expected PNG image data (IDAT), found none before IEND")
    facts.set(pages=max(frames, 1), animated=frames > 1, codecs=("png",))


def walk_gif(r: Reader, facts: Facts, budget: Budget) -> None:
    """Blocks from the screen descriptor to the trailer; LZW sub-blocks are skipped by their
    length bytes (the only way through a GIF), without reading their content."""
    size = r.size
    width, height, flags = struct.unpack("<HHB", r.read(6, 5, "the GIF screen descriptor"))
    check_pixels(width, height, budget.settings)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = 0
    data = r.data
    while True:
        if pos >= size:
            raise TruncatedMediaError(
                f"expected a GIF trailer (0x3B), but the file ends at {size:,} bytes without one"
            )
        block = r.read(pos, 1, "a GIF block")[0]
        budget.tick("GIF blocks")
        if block == 0x3B:
            break
        if block == 0x21:
            label = r.read(pos + 1, 1, "a GIF extension label")[0]
            start = pos
            pos = _gif_sub_blocks(r, data, pos + 2, budget)
            if label in (0xFE, 0xFF, 0x01):  # comment, application (XMP), plain text
                budget.metadata_bytes(pos - start, "a GIF extension")
            if label == 0xFF and pos - start >= 14:
                # The first sub-block is the 11-byte identifier; XMP's data sub-blocks are
                # raw packet bytes (their length bytes included), so the range runs to the end.
                ident = bytes(r.read_upto(start + 3, 11)).decode("latin-1")
                facts.block("gif.app", start + 14, pos - start - 14, app=ident)
            elif label == 0xFE:
                facts.block("gif.comment", start + 2, pos - start - 2)
        elif block == 0x2C:
            desc = r.read(pos + 1, 9, "a GIF image descriptor")
            _x, _y, fw, fh, fflags = struct.unpack("<HHHHB", desc)
            check_pixels(fw, fh, budget.settings, "a GIF frame")
            frames += 1
            check_frames(frames, budget.settings, " (GIF frames)")
            pos += 10 + (3 << ((fflags & 7) + 1) if fflags & 0x80 else 0)
            pos = _gif_sub_blocks(r, data, pos + 1, budget)  # +1: LZW minimum code size
        else:
            raise CorruptMediaError(
                f"expected a GIF block (0x21, 0x2C or 0x3B) at offset {pos:,}, got 0x{block:02X}"
            )
    if frames == 0:
        raise CorruptMediaError("expected at least one GIF image, found none")
    facts.set(width=width, height=height, mode="P", pages=frames, animated=frames > 1,
              codecs=("gif",))


def _gif_sub_blocks(r: Reader, data: bytes | None, pos: int, budget: Budget) -> int:
    """Offset just past a chain of sub-blocks (length byte + data, ended by a 0 length)."""
    size = r.size
    if data is not None:  # the hot loop, over bytes already in memory
        while pos < size:
            n = data[pos]
            pos += 1 + n
            if n == 0:
                return pos
    else:
        while pos < size:
            n = r.read(pos, 1, "a GIF sub-block")[0]
            pos += 1 + n
            if n == 0:
                return pos
    raise TruncatedMediaError(
        f"expected GIF data sub-blocks ending with a 0 length, but the file ends at {size:,} "
        "bytes"
    )


_WEBP_BLOCKS = {b"EXIF": "webp.exif", b"XMP ": "webp.xmp", C2PA_RIFF_CHUNK: "webp.c2pa"}


def walk_webp(r: Reader, facts: Facts, budget: Budget) -> None:
    """RIFF chunks: VP8/VP8L/VP8X give the size, ANMF counts frames, EXIF/XMP/ICCP are
    metadata; compressed bitstreams are skipped."""
    size = r.size
    (riff,) = struct.unpack("<I", r.read(4, 4, "the RIFF size"))
    end = riff + 8
    if end > size + 1:  # one missing pad byte is a common writer slip: tolerated
        raise TruncatedMediaError(
            f"expected {end:,} bytes as the WebP RIFF header says, got {size:,}"
        )
    end = min(end, size)
    pos = 12
    width = height = 0
    alpha = False
    frames = 0
    while pos + 8 <= end:
        fourcc, length = struct.unpack("<4sI", r.read(pos, 8, "a WebP chunk header"))
        budget.tick("WebP chunks")
        body = pos + 8
        if body + length > end:
            raise TruncatedMediaError(
                f"expected a WebP {fourcc!r} chunk of {length:,} bytes at offset {pos:,}, "
                f"but the file ends at {end:,} bytes"
            )
        if fourcc == b"VP8X":
            head = r.read(body, 10, "VP8X")
            alpha = bool(head[0] & 0x10)
            width = 1 + int.from_bytes(head[4:7], "little")
            height = 1 + int.from_bytes(head[7:10], "little")
            check_pixels(width, height, budget.settings)
        elif fourcc == b"VP8 " and not width:
            head = r.read(body, 10, "a VP8 frame header")
            if bytes(head[3:6]) != b"\x9d\x01\x2a":
                raise CorruptMediaError("expected the VP8 start code 9D 01 2A, got other bytes")
            w, h = struct.unpack_from("<HH", head, 6)
            width, height = w & 0x3FFF, h & 0x3FFF
            check_pixels(width, height, budget.settings)
        elif fourcc == b"VP8L" and not width:
            head = r.read(body, 5, "a VP8L header")
            if head[0] != 0x2F:
                raise CorruptMediaError(f"expected the VP8L signature 0x2F, got 0x{head[0]:02X}")
            (bits,) = struct.unpack_from("<I", head, 1)
            width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            alpha = bool(bits >> 28 & 1)
            check_pixels(width, height, budget.settings)
        elif fourcc == b"ALPH":
            alpha = True
        elif fourcc == b"ANMF":
            frames += 1
            check_frames(frames, budget.settings, " (WebP animation frames)")
        elif fourcc in (b"EXIF", b"XMP ", b"ICCP", C2PA_RIFF_CHUNK):
            budget.metadata_bytes(length + 8, f"a WebP {fourcc.decode('latin-1')!r} chunk")
            if fourcc != b"ICCP":
                facts.block(_WEBP_BLOCKS[fourcc], body, length)
        pos = body + length + (length & 1)
    if not width or not height:
        raise CorruptMediaError("expected a WebP image chunk (VP8, VP8L or VP8X), found none")
    facts.set(width=width, height=height, mode="RGBA" if alpha else "RGB",
              pages=max(frames, 1), animated=frames > 1, codecs=("webp",))


# TIFF field types -> byte size of one value.
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
                    13: 4, 16: 8, 17: 8, 18: 8}
# Tags that are image structure or pixel data, not metadata.
_TIFF_IMAGE_TAGS = frozenset({256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 320, 322, 323,
                              324, 325, 338, 339, 347, 530, 532})
_TIFF_SUB_IFDS = frozenset({34665, 34853, 40965})  # EXIF, GPS, interoperability IFD pointers


def walk_tiff(r: Reader, facts: Facts, budget: Budget) -> None:
    """The IFD chain (loops refused), each page's size checked, strips and tiles bounded by
    the file, EXIF/GPS sub-IFDs and out-of-line tag values charged as metadata."""
    order = "<" if bytes(r.read(0, 2, "the TIFF byte order")) == b"II" else ">"
    (magic,) = struct.unpack(order + "H", r.read(2, 2, "the TIFF magic"))
    big = magic == 43
    if big:
        (first,) = struct.unpack(order + "Q", r.read(8, 8, "the BigTIFF first IFD offset"))
    else:
        (first,) = struct.unpack(order + "I", r.read(4, 4, "the TIFF first IFD offset"))
    ctx = _TiffCtx(r, budget, order, big, facts)
    offset = first
    pages = 0
    while offset:
        pages += 1
        check_frames(pages, budget.settings, " (TIFF pages)")
        tags, offset = ctx.ifd(offset, depth=1)
        width, height = tags.get(256, 0), tags.get(257, 0)
        if not width or not height:
            raise CorruptMediaError(f"expected TIFF page {pages} to have a width and height")
        check_pixels(width, height, budget.settings)
        if pages == 1:
            facts.set(width=width, height=height)
    if not pages:
        raise CorruptMediaError("expected at least one TIFF image directory, found none")
    facts.set(pages=pages, animated=False, codecs=("tiff",))


# Tags whose values the metadata index records: (tag, in the EXIF sub-IFD) -> block name.
_TIFF_BLOCKS = {
    (TIFF_TAG_XMP, False): "tiff.xmp",  # R-FMT-5
    (EXIF_TAG_IMAGE_DESCRIPTION, False): "tiff.imagedescription",  # R-FMT-20
    (EXIF_TAG_USER_COMMENT, True): "tiff.exif.usercomment",  # R-FMT-7
}
_EXIF_IFD = 34665


class _TiffCtx:
    def __init__(self, r: Reader, budget: Budget, order: str, big: bool, facts: Facts) -> None:
        self.r, self.budget, self.order, self.big = r, budget, order, big
        self.facts = facts
        self.seen: set[int] = set()
        self.entry = 20 if big else 12
        self.inline = 8 if big else 4

    def ifd(self, offset: int, depth: int, exif: bool = False) -> tuple[dict[int, int], int]:
        """Walk one IFD: its first scalar values by tag, and the next IFD offset."""
        r, o = self.r, self.order
        self.budget.depth(depth, "TIFF directories")
        if offset in self.seen:
            raise CorruptMediaError(f"expected a chain of TIFF directories, got a loop at {offset}")
        self.seen.add(offset)
        cw = 8 if self.big else 2
        (count,) = struct.unpack(o + ("Q" if self.big else "H"), r.read(offset, cw, "an IFD"))
        if count > 4096:
            raise CorruptMediaError(f"expected at most 4,096 TIFF tags in a directory, got {count}")
        table = r.read(offset + cw, count * self.entry + (8 if self.big else 4), "a TIFF IFD")
        scalars: dict[int, int] = {}
        strips: dict[int, tuple[int, int, int]] = {}
        for i in range(count):
            self.budget.tick("TIFF tags")
            at = i * self.entry
            if self.big:
                tag, typ, n = struct.unpack_from(o + "HHQ", table, at)
                val = table[at + 12 : at + 20]
            else:
                tag, typ, n = struct.unpack_from(o + "HHI", table, at)
                val = table[at + 8 : at + 12]
            nbytes = _TIFF_TYPE_SIZES.get(typ, 1) * n
            block = _TIFF_BLOCKS.get((tag, exif))
            if block is not None:
                if nbytes > self.inline:
                    where = struct.unpack(o + ("Q" if self.big else "I"), val)[0]
                else:
                    where = offset + cw + at + (12 if self.big else 8)
                self.facts.block(block, where, nbytes)
            if nbytes > self.inline:
                (where,) = struct.unpack(o + ("Q" if self.big else "I"), val)
                if where + nbytes > r.size:
                    raise TruncatedMediaError(
                        f"expected TIFF tag {tag} of {nbytes:,} bytes at offset {where:,}, "
                        f"but the file ends at {r.size:,} bytes"
                    )
                if tag not in _TIFF_IMAGE_TAGS:
                    self.budget.metadata_bytes(nbytes, f"TIFF tag {tag}")
            if typ in (3, 4, 13, 16) and n >= 1:
                fmt = {3: "H", 4: "I", 13: "I", 16: "Q"}[typ]
                if nbytes <= self.inline:
                    first = struct.unpack_from(o + fmt, val, 0)[0]
                else:
                    first = -1
                scalars[tag] = first
                if tag in (273, 279, 324, 325):
                    strips[tag] = (typ, n, struct.unpack(o + ("Q" if self.big else "I"), val)[0]
                                   if nbytes > self.inline else first)
            if tag in _TIFF_SUB_IFDS and typ in (4, 13, 16) and scalars.get(tag, 0) > 0:
                self.budget.metadata_bytes(self.entry, "a TIFF EXIF/GPS directory")
                self.ifd(scalars[tag], depth + 1, exif=tag == _EXIF_IFD)
        self._check_strips(strips, 273, 279)
        self._check_strips(strips, 324, 325)
        nxt_at = count * self.entry
        (nxt,) = struct.unpack_from(o + ("Q" if self.big else "I"), table, nxt_at)
        return scalars, nxt

    def _check_strips(self, strips: dict[int, tuple[int, int, int]], off: int, cnt: int) -> None:
        """Each strip (or tile) must end inside the file: a truncated TIFF is refused here."""
        if off not in strips or cnt not in strips:
            return
        (ot, on, oval), (ct, cn, cval) = strips[off], strips[cnt]
        if on != cn or on > 1_000_000:
            raise CorruptMediaError(f"expected as many TIFF strip offsets as counts, got {on}/{cn}")
        offs = self._values(ot, on, oval)
        counts = self._values(ct, cn, cval)
        end = max((a + b for a, b in zip(offs, counts, strict=True)), default=0)
        if end > self.r.size:
            raise TruncatedMediaError(
                f"expected TIFF image data up to offset {end:,}, "
                f"but the file ends at {self.r.size:,} bytes"
            )

    def _values(self, typ: int, n: int, val: int) -> list[int]:
        fmt = {3: "H", 16: "Q"}.get(typ, "I")
        width = struct.calcsize(fmt)
        if n * width <= self.inline:
            return [val] if n == 1 else []  # several inline values: too small to matter
        raw = self.r.read(val, n * width, "a TIFF strip table")
        return list(struct.unpack(f"{self.order}{n}{fmt}", raw))


def walk_bmp(r: Reader, facts: Facts, budget: Budget) -> None:
    """File and DIB headers: size from the header, uncompressed pixel data must fit."""
    head = r.read(0, 30, "the BMP headers")
    (offset,) = struct.unpack_from("<I", head, 10)
    (dib,) = struct.unpack_from("<I", head, 14)
    if dib == 12:
        width, height, _planes, bpp = struct.unpack_from("<HHHH", head, 18)
        compression = 0
    else:
        more = r.read(0, 34, "the BMP info header")
        width, height, _planes, bpp, compression = struct.unpack_from("<iiHHI", more, 18)
    height = abs(height)
    if width <= 0 or height == 0:
        raise CorruptMediaError(f"expected BMP dimensions > 0, got {width}x{height}")
    check_pixels(width, height, budget.settings)
    if bpp not in (1, 2, 4, 8, 16, 24, 32):
        raise CorruptMediaError(f"expected a BMP bit depth of 1-32, got {bpp}")
    if offset > r.size:
        raise TruncatedMediaError(
            f"expected BMP pixel data at offset {offset:,}, but the file ends at {r.size:,} bytes"
        )
    if compression in (0, 3, 6):  # uncompressed (with or without bit fields)
        need = offset + ((width * bpp + 31) // 32) * 4 * height
        if need > r.size:
            raise TruncatedMediaError(
                f"expected {need:,} bytes of uncompressed BMP data, got {r.size:,}"
            )
    mode = "RGBA" if bpp == 32 else ("P" if bpp <= 8 else "RGB")
    facts.set(width=width, height=height, mode=mode, pages=1, animated=False, codecs=("bmp",))


IMAGE_WALKERS = {
    "jpeg": walk_jpeg,
    "png": walk_png,
    "gif": walk_gif,
    "webp": walk_webp,
    "tiff": walk_tiff,
    "bmp": walk_bmp,
}
