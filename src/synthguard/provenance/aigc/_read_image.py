"""Label readers for images: JPEG, PNG, WebP, TIFF, GIF, HEIF/AVIF (R-FMT-1..7, R-FMT-20).

Each works on the metadata blocks the media walk indexed; nothing is decoded. EXIF is read
with a small bounded TIFF-directory parser (IFD0 and the EXIF IFD only, entries capped, every
value inside the block), not with Pillow.
"""

from __future__ import annotations

import json
import struct
import zlib

from synthguard.provenance.aigc._collect import Collector, Malformed, looks_like_label
from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES
from synthguard.requirements import (
    AIGC_KEY,
    EXIF_TAG_IMAGE_DESCRIPTION,
    EXIF_TAG_USER_COMMENT,
    EXIF_USERCOMMENT_ASCII_PREFIX,
    GIF_XMP_APPLICATION,
    JPEG_EXIF_SIGNATURE,
    LEGACY_LABEL_KEYS,
    PNG_XMP_KEYWORD,
    TIFF_TAG_XMP,
    Carrier,
)

__all__ = ["IMAGE_READERS"]

_MAX_IFD_ENTRIES = 1024
_EXIF_IFD_POINTER = 0x8769
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_MAX_TEXT_BYTES = 1024 * 1024  # a decompressed PNG text chunk; a label is a few hundred bytes


# -- EXIF (a TIFF structure inside JPEG APP1, PNG eXIf, WebP EXIF) --------------------------------


def parse_exif(data: bytes) -> dict[int, bytes]:
    """The raw values of ImageDescription and XMP (IFD0) and UserComment (EXIF IFD)."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        raise Malformed("expected an EXIF TIFF header (II or MM), got other bytes")
    order = "<" if data[:2] == b"II" else ">"
    magic, ifd0 = struct.unpack_from(order + "HI", data, 2)
    if magic != 42:
        raise Malformed(f"expected the EXIF TIFF magic 42, got {magic}")
    out: dict[int, bytes] = {}
    pointers = _ifd(data, order, ifd0, (EXIF_TAG_IMAGE_DESCRIPTION, TIFF_TAG_XMP), out)
    exif_ifd = pointers.get(_EXIF_IFD_POINTER)
    if exif_ifd:
        _ifd(data, order, exif_ifd, (EXIF_TAG_USER_COMMENT,), out)
    return out


def _ifd(data: bytes, order: str, offset: int, wanted: tuple[int, ...],
         out: dict[int, bytes]) -> dict[int, int]:
    if offset + 2 > len(data):
        raise Malformed(f"expected an EXIF directory at offset {offset:,}, the block ends first")
    (count,) = struct.unpack_from(order + "H", data, offset)
    if count > _MAX_IFD_ENTRIES or offset + 2 + 12 * count > len(data):
        raise Malformed(f"expected an EXIF directory of at most {_MAX_IFD_ENTRIES} entries "
                        f"inside the block, got {count} at offset {offset:,}")
    pointers: dict[int, int] = {}
    for i in range(count):
        at = offset + 2 + 12 * i
        tag, typ, n = struct.unpack_from(order + "HHI", data, at)
        if tag == _EXIF_IFD_POINTER and typ in (4, 13):
            pointers[tag] = struct.unpack_from(order + "I", data, at + 8)[0]
        if tag not in wanted:
            continue
        size = _TYPE_SIZES.get(typ, 1) * n
        where = at + 8 if size <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
        if where + size > len(data):
            raise Malformed(f"expected EXIF tag 0x{tag:04X} of {size:,} bytes inside the block")
        out[tag] = data[where : where + size]
    return pointers


def _user_comment(c: Collector, raw: bytes, carrier: Carrier) -> None:
    """R-FMT-7: an 8-byte character-code prefix, then the wrapped object."""
    prefix, body = raw[:8], raw[8:]
    if prefix == b"UNICODE\x00":
        text = body.decode("utf-16-be" if body[:1] == b"\x00" else "utf-16-le", "replace")
    elif prefix in (EXIF_USERCOMMENT_ASCII_PREFIX, b"\x00" * 8):
        text = body.decode("utf-8", "replace")
    else:
        text = raw.decode("utf-8", "replace")  # no or an unknown prefix: look at all of it
    text = text.rstrip("\x00 ")
    if not looks_like_label(text):
        return
    if prefix != EXIF_USERCOMMENT_ASCII_PREFIX:
        c.warn("aigc.carrier", "R-FMT-7",
               f"UserComment holds a label without the 8-byte ASCII prefix (got {prefix!r})",
               carrier)
    c.site(text, carrier)


def _image_description(c: Collector, raw: bytes, carrier: Carrier | None) -> None:
    """R-FMT-20: JSON in ImageDescription is a pre-standard label (ServiceProvider/ServiceUser)
    or a GB payload in a location the standard does not name."""
    text = raw.rstrip(b"\x00 ").decode("utf-8", "replace")
    if not text.lstrip().startswith("{"):
        return
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    inner = obj.get(AIGC_KEY, obj) if isinstance(obj, dict) else None
    shown = carrier or Carrier.JPEG_EXIF_IMAGEDESCRIPTION
    if isinstance(inner, dict) and any(k in inner for k in LEGACY_LABEL_KEYS):
        c.legacy("EXIF ImageDescription holds a pre-standard label (ServiceProvider/ServiceUser"
                 "), not a GB 45438 Annex E payload", shown)
    elif looks_like_label(text):
        c.legacy("EXIF ImageDescription holds an AIGC payload; GB 45438 places it in XMP",
                 shown)
        if carrier is not None:
            c.site(text, carrier)


def _exif(c: Collector, data: bytes | None, carrier: Carrier,
          description: Carrier | None = None) -> None:
    if data is None:
        return
    try:
        values = parse_exif(data)
    except (Malformed, struct.error) as exc:
        c.container(f"EXIF not read: {exc}", carrier)
        return
    if EXIF_TAG_USER_COMMENT in values:
        _user_comment(c, values[EXIF_TAG_USER_COMMENT], carrier)
    if EXIF_TAG_IMAGE_DESCRIPTION in values:
        _image_description(c, values[EXIF_TAG_IMAGE_DESCRIPTION], description)


# -- per format ---------------------------------------------------------------------------------


def read_jpeg(c: Collector) -> None:
    for block in c.media.metadata:
        name = block.carrier
        if name == "jpeg.xmp":
            c.xmp(c.read(block, Carrier.JPEG_XMP, MAX_XMP_BYTES), Carrier.JPEG_XMP)
        elif name == "jpeg.exif":
            _exif(c, c.read(block, Carrier.JPEG_EXIF_USERCOMMENT),
                  Carrier.JPEG_EXIF_USERCOMMENT, Carrier.JPEG_EXIF_IMAGEDESCRIPTION)
        elif name in ("jpeg.app", "jpeg.com") and block.get("aigc"):  # the walk looked
            data = c.read(block, Carrier.JPEG_APP_AIGC)
            if data is not None:
                _app_blob(c, data)


def _app_blob(c: Collector, data: bytes) -> None:
    """R-FMT-20: a bare ``AIGC{...}`` blob in an APP segment (a vendor variant)."""
    at = data.find(b"AIGC{")
    if at < 0:
        return
    text = data[at + 4 :].decode("utf-8", "replace")
    try:
        _obj, end = json.JSONDecoder().raw_decode(text)
    except ValueError:
        end = len(text.rstrip("\x00"))
    c.legacy("a bare AIGC{...} blob in a JPEG APP segment is a vendor variant; GB 45438 places "
             "the label in XMP", Carrier.JPEG_APP_AIGC)
    c.site(text[:end], Carrier.JPEG_APP_AIGC)


def read_png(c: Collector) -> None:
    for block in c.blocks("png.text", "png.ztxt", "png.itxt", "png.exif"):
        if block.carrier == "png.exif":
            _exif(c, c.read(block, Carrier.PNG_EXIF_USERCOMMENT), Carrier.PNG_EXIF_USERCOMMENT)
            continue
        data = c.read(block, Carrier.PNG_TEXT_AIGC, MAX_XMP_BYTES)
        if data is None:
            continue
        try:
            keyword, text, compressed = _png_text(block.carrier, data)
        except Malformed as exc:
            c.container(f"PNG {block.carrier} chunk not read: {exc}", Carrier.PNG_TEXT_AIGC)
            continue
        is_xmp = keyword == PNG_XMP_KEYWORD
        if not is_xmp and AIGC_KEY.encode() not in keyword:  # R-META-2
            continue
        carrier = Carrier.PNG_XMP if is_xmp else Carrier.PNG_TEXT_AIGC
        if compressed:
            try:
                text = _inflate(text)
            except Malformed as exc:
                c.container(f"compressed PNG text not read: {exc}", carrier)
                continue
            if is_xmp:
                c.warn("aigc.carrier", "R-FMT-3",
                       "the XMP iTXt chunk is compressed; R-FMT-3 wants it uncompressed", carrier)
        if is_xmp:
            c.xmp(text, carrier)
        else:
            c.site(text, carrier)


def _png_text(kind: str, data: bytes) -> tuple[bytes, bytes, bool]:
    """(keyword, text bytes, compressed) of a tEXt, zTXt or iTXt chunk."""
    nul = data.find(b"\x00", 0, 80)
    if nul < 1:
        raise Malformed("expected a 1-79 byte keyword ended by NUL")
    keyword, rest = data[:nul], data[nul + 1 :]
    if kind == "png.text":
        return keyword, rest.decode("latin-1").encode("utf-8"), False
    if kind == "png.ztxt":
        if not rest or rest[0] != 0:
            raise Malformed("expected zTXt compression method 0")
        return keyword, rest[1:], True
    if len(rest) < 2:
        raise Malformed("expected iTXt compression flag and method")
    flag, method = rest[0], rest[1]
    lang_end = rest.find(b"\x00", 2)
    tk_end = rest.find(b"\x00", lang_end + 1) if lang_end >= 0 else -1
    if tk_end < 0:
        raise Malformed("expected iTXt language tag and translated keyword ended by NUL")
    if flag and method != 0:
        raise Malformed(f"expected iTXt compression method 0, got {method}")
    return keyword, rest[tk_end + 1 :], bool(flag)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, _MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise Malformed(f"zlib data is corrupt ({exc})") from None
    if len(out) > _MAX_TEXT_BYTES:
        raise Malformed(f"expected at most {_MAX_TEXT_BYTES:,} bytes once decompressed")
    return out


def read_webp(c: Collector) -> None:
    for block in c.blocks("webp.xmp", "webp.exif"):
        if block.carrier == "webp.xmp":
            c.xmp(c.read(block, Carrier.WEBP_XMP, MAX_XMP_BYTES), Carrier.WEBP_XMP)
        else:
            data = c.read(block, Carrier.WEBP_EXIF_USERCOMMENT)
            if data is not None and data.startswith(JPEG_EXIF_SIGNATURE):
                data = data[len(JPEG_EXIF_SIGNATURE) :]  # some writers keep the JPEG prefix
            _exif(c, data, Carrier.WEBP_EXIF_USERCOMMENT)


def read_tiff(c: Collector) -> None:
    for block in c.blocks("tiff.xmp", "tiff.exif.usercomment", "tiff.imagedescription"):
        if block.carrier == "tiff.xmp":
            c.xmp(c.read(block, Carrier.TIFF_XMP, MAX_XMP_BYTES), Carrier.TIFF_XMP)
        elif block.carrier == "tiff.exif.usercomment":
            data = c.read(block, Carrier.TIFF_EXIF_USERCOMMENT)
            if data is not None:
                _user_comment(c, data, Carrier.TIFF_EXIF_USERCOMMENT)
        else:
            data = c.read(block, Carrier.TIFF_XMP)
            if data is not None:
                _image_description(c, data, None)


def read_gif(c: Collector) -> None:
    for block in c.blocks("gif.app"):
        if block.get("app").encode("latin-1") != GIF_XMP_APPLICATION:
            continue
        data = c.read(block, Carrier.GIF_XMP, MAX_XMP_BYTES + 512)
        if data is None:
            continue
        # The packet's bytes double as sub-block lengths; a 258-byte "magic trailer" follows.
        end = data.find(b"<?xpacket end=")
        end = data.find(b"?>", end) + 2 if end >= 0 else -1
        if end < 2:
            at = data.rfind(b"</x:xmpmeta>")
            end = at + len(b"</x:xmpmeta>") if at >= 0 else -1
        if end < 0:
            c.container("GIF XMP application extension without a complete packet", Carrier.GIF_XMP)
            continue
        c.xmp(data[:end], Carrier.GIF_XMP)


def read_heif(c: Collector) -> None:
    """R-FMT-6: XMP items (``mime`` items of type ``application/rdf+xml``) of the image
    ``meta`` box, located through ``iinf`` and ``iloc``."""
    for block in c.blocks("heif.meta"):
        data = c.read(block, Carrier.HEIF_XMP)
        if data is None:
            continue
        try:
            extents = _heif_xmp_extents(data)
        except (Malformed, struct.error, IndexError) as exc:
            c.container(f"HEIF item boxes not read: {exc}", Carrier.HEIF_XMP)
            continue
        for parts in extents:
            total = sum(length for _offset, length in parts)
            if total > MAX_XMP_BYTES or any(o + n > c.media.size for o, n in parts):
                c.container(f"HEIF XMP item of {total:,} bytes is too large or out of bounds",
                            Carrier.HEIF_XMP)
                continue
            c.xmp(b"".join(c.read_at(o, n) for o, n in parts), Carrier.HEIF_XMP)


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(out) < 10_000:
        size, typ = struct.unpack_from(">I4s", data, pos)
        if size < 8 or pos + size > end:
            raise Malformed(f"box {typ!r} of {size} bytes does not fit")
        out.append((typ, pos + 8, pos + size))
        pos += size
    return out


def _heif_xmp_extents(data: bytes) -> list[list[tuple[int, int]]]:
    boxes = {typ: (s, e) for typ, s, e in _boxes(data, 0, len(data))}
    if b"iinf" not in boxes or b"iloc" not in boxes:
        return []
    s, e = boxes[b"iinf"]
    version = data[s]
    count_size = 2 if version == 0 else 4
    xmp_ids: set[int] = set()
    for typ, bs, be in _boxes(data, s + 4 + count_size, e):
        if typ != b"infe" or data[bs] < 2:
            continue
        v = data[bs]
        item_id = struct.unpack_from(">H" if v == 2 else ">I", data, bs + 4)[0]
        at = bs + 4 + (2 if v == 2 else 4) + 2
        item_type = data[at : at + 4]
        at += 4
        name_end = data.index(b"\x00", at, be)
        if item_type == b"mime":
            ctype_end = data.find(b"\x00", name_end + 1, be)
            ctype = data[name_end + 1 : ctype_end if ctype_end >= 0 else be]
            if ctype.strip() == b"application/rdf+xml":
                xmp_ids.add(item_id)
    if not xmp_ids:
        return []
    s, e = boxes[b"iloc"]
    v = data[s]
    sizes = data[s + 4 : s + 6]
    off_size, len_size, base_size = sizes[0] >> 4, sizes[0] & 15, sizes[1] >> 4
    idx_size = sizes[1] & 15 if v in (1, 2) else 0
    at = s + 6
    count = struct.unpack_from(">H" if v < 2 else ">I", data, at)[0]
    at += 2 if v < 2 else 4

    def num(width: int) -> int:
        nonlocal at
        value = int.from_bytes(data[at : at + width], "big") if width else 0
        at += width
        return value

    out: list[list[tuple[int, int]]] = []
    for _ in range(min(count, 10_000)):
        item_id = num(2 if v < 2 else 4)
        method = num(2) & 15 if v in (1, 2) else 0
        num(2)  # data_reference_index
        base = num(base_size)
        extents = num(2)
        parts = []
        for _ in range(extents):
            num(idx_size)
            parts.append((base + num(off_size), num(len_size)))
        if at > e:
            raise Malformed("iloc entries run past the box")
        if item_id in xmp_ids:
            if method != 0:
                raise Malformed("XMP item stored by a construction method other than file "
                                "offset (idat)")
            out.append(parts)
    return out


IMAGE_READERS = {
    "jpeg": read_jpeg,
    "png": read_png,
    "webp": read_webp,
    "tiff": read_tiff,
    "gif": read_gif,
    "heic": read_heif,
    "avif": read_heif,
}
