"""Magic-byte sniffing: the real type of an input from its first bytes, never its name.

:func:`sniff` looks only at ``head`` (a prefix of the content, or all of it) and answers a
:class:`Sniffed` ``(kind, format, mime)`` or ``None``. It is cheap and does no I/O; deciding
what needs a walk of the whole file is left to probing (:mod:`synthguard.media._open`):

* ISO BMFF is named from its ``ftyp`` brands; an MP4 that turns out to hold only audio becomes
  ``m4a`` when probed.
* ZIP is answered as the provisional format ``zip``; it is a DOCX only if its central directory
  lists ``word/document.xml``, which probing checks.
* An ID3v2 tag is answered as ``mp3`` unless the bytes after the tag are visible here and say
  otherwise (FLAC, ADTS AAC); probing looks again past a tag longer than ``head``.

The name only picks between formats of one sniffed family (``txt`` or ``md``).
"""

from __future__ import annotations

import codecs
import struct
from dataclasses import dataclass

from synthguard.media._types import Kind

__all__ = ["MIME", "Sniffed", "sniff"]

#: Formats this module can answer, with their MIME type; ``zip`` is provisional (see above).
MIME: dict[str, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "heic": "image/heic",
    "avif": "image/avif",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
    "flv": "video/x-flv",
    "txt": "text/plain",
    "md": "text/markdown",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}

# How much of the head the text test decodes: enough to judge, cheap on the hot path.
_TEXT_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Sniffed:
    """What the magic bytes say: the kind, our lowercase format name and its MIME type."""

    kind: Kind
    format: str
    mime: str


def _s(kind: Kind, fmt: str) -> Sniffed:
    return Sniffed(kind, fmt, MIME[fmt])


_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_GENERIC = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P "})
# Boxes that may open a QuickTime file written before ftyp existed.
_QT_FIRST_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _iso_bmff(head: bytes) -> Sniffed | None:
    size, box = struct.unpack_from(">I4s", head, 0)
    if box == b"ftyp":
        if size < 16 or size > 4096:
            return None
        major = head[8:12]
        brands = {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
        if major in _AVIF_BRANDS:
            return _s(Kind.IMAGE, "avif")
        if major in _HEIC_BRANDS:
            return _s(Kind.IMAGE, "heic")
        if major in _M4A_BRANDS:
            return _s(Kind.AUDIO, "m4a")
        if major == b"qt  ":
            return _s(Kind.VIDEO, "mov")
        if major in _HEIF_GENERIC or not brands.isdisjoint(_HEIF_GENERIC):
            # mif1/miaf are shared by HEIC and AVIF; the codec brand decides.
            if not brands.isdisjoint(_AVIF_BRANDS):
                return _s(Kind.IMAGE, "avif")
            if not brands.isdisjoint(_HEIC_BRANDS) or major in _HEIF_GENERIC:
                return _s(Kind.IMAGE, "heic")
        if not brands.isdisjoint(_M4A_BRANDS) and b"M4V " not in brands:
            return _s(Kind.AUDIO, "m4a")
        return _s(Kind.VIDEO, "mp4")
    if box in _QT_FIRST_BOXES and (size >= 8 or size in (0, 1)):
        return _s(Kind.VIDEO, "mov")
    return None


def _ebml(head: bytes) -> Sniffed | None:
    """Read the DocType (0x4282) from the EBML header element."""
    from synthguard.media._ebml import read_doctype

    doctype = read_doctype(head)
    if doctype == "webm":
        return _s(Kind.VIDEO, "webm")
    if doctype == "matroska":
        return _s(Kind.VIDEO, "mkv")
    return None


def _ogg(head: bytes) -> Sniffed | None:
    """Look at the first packet of each beginning-of-stream page at the start of the file."""
    pos = 0
    found: list[bytes] = []
    while pos + 27 <= len(head) and head[pos : pos + 4] == b"OggS" and len(found) < 16:
        if not head[pos + 5] & 0x02:  # not a BOS page: the headers are over
            break
        nseg = head[pos + 26]
        table = head[pos + 27 : pos + 27 + nseg]
        body = pos + 27 + nseg
        found.append(head[body : body + 8])
        pos = body + sum(table)
    if not found:
        return None
    if any(p.startswith(b"\x80theora") for p in found):
        # Refused when opened (no Theora support, see _open), but named truthfully here.
        return Sniffed(Kind.VIDEO, "ogg", "video/ogg")
    if any(p.startswith(b"OpusHead") for p in found):
        return _s(Kind.AUDIO, "opus")
    if any(p.startswith((b"\x01vorbis", b"\x7fFLAC", b"Speex   ")) for p in found):
        return _s(Kind.AUDIO, "ogg")
    return None


# MPEG audio: bit rates (kbit/s) by [version is MPEG-1][layer 1..3][index], sample rates.
_MPA_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MPA_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mpeg_audio_frame(head: bytes | memoryview, pos: int) -> tuple[int, int] | None:
    """``(frame_length, sample_rate)`` of a valid MPEG audio frame header at ``pos``, else None.

    Free-format (bit rate index 0) is refused: its length is not in the header.
    """
    if pos + 4 > len(head):
        return None
    (word,) = struct.unpack_from(">I", head, pos)
    if word >> 21 != 0x7FF:
        return None
    version = (word >> 19) & 3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
    layer = 4 - ((word >> 17) & 3)  # bits 01 = layer III ... 11 = layer I; 00 reserved
    br_index = (word >> 12) & 0xF
    sr_index = (word >> 10) & 3
    if version == 1 or layer == 4 or br_index in (0, 15) or sr_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _MPA_BITRATES[(mpeg1, layer)][br_index] * 1000
    rate = _MPA_RATES[version][sr_index]
    pad = (word >> 9) & 1
    if layer == 1:
        length = (12 * bitrate // rate + pad) * 4
    elif layer == 3 and not mpeg1:
        length = 72 * bitrate // rate + pad
    else:
        length = 144 * bitrate // rate + pad
    return (length, rate) if length >= 4 else None


def adts_frame(head: bytes | memoryview, pos: int) -> int | None:
    """Length of a valid ADTS (AAC) frame header at ``pos``, else None."""
    if pos + 7 > len(head):
        return None
    b = head[pos : pos + 7]
    if b[0] != 0xFF or (b[1] & 0xF6) != 0xF0:  # 12-bit sync, layer must be 00
        return None
    if ((b[2] >> 2) & 0xF) > 12:  # sampling frequency index
        return None
    length = ((b[3] & 3) << 11) | (b[4] << 3) | (b[5] >> 5)
    header = 7 if b[1] & 1 else 9
    return length if length >= header else None


def _frames_chain(head: bytes, pos: int, size: int | None) -> Sniffed | None:
    """A frame header at ``pos`` followed by a second one (or the end of the file)."""
    mpa = mpeg_audio_frame(head, pos)
    if mpa is not None:
        nxt = pos + mpa[0]
        second = mpeg_audio_frame(head, nxt)
        if (second is not None and second[1] == mpa[1]) or nxt == size:
            return _s(Kind.AUDIO, "mp3")
        return None
    length = adts_frame(head, pos)
    if length is not None:
        nxt = pos + length
        if adts_frame(head, nxt) is not None or nxt == size:
            return _s(Kind.AUDIO, "aac")
    return None


def id3_size(head: bytes | memoryview, pos: int = 0) -> int | None:
    """Total size of an ID3v2 tag at ``pos`` (header, body and footer), else None."""
    if pos + 10 > len(head) or bytes(head[pos : pos + 3]) != b"ID3":
        return None
    major, _rev, flags = head[pos + 3], head[pos + 4], head[pos + 5]
    sz = head[pos + 6 : pos + 10]
    if major == 0xFF or any(b & 0x80 for b in sz):
        return None
    body = (sz[0] << 21) | (sz[1] << 14) | (sz[2] << 7) | sz[3]
    return 10 + body + (10 if flags & 0x10 else 0)


def _after_id3(head: bytes, size: int | None) -> Sniffed:
    tag = id3_size(head) or 10
    rest = head[tag : tag + 4]
    if rest == b"fLaC":
        return _s(Kind.AUDIO, "flac")
    if len(rest) == 4:
        found = _frames_chain(head, tag, size)
        if found is not None:
            return found
    return _s(Kind.AUDIO, "mp3")


def _text(head: bytes, size: int | None, name: str | None) -> Sniffed | None:
    sample = head[:_TEXT_SNIFF_BYTES]
    complete = size is not None and len(sample) >= size
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
        if len(sample) % 2 and not complete:
            sample = sample[:-1]
    else:
        if b"\x00" in sample:
            return None
        encoding = "utf-8-sig"
    try:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        text = decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return None
    if encoding == "utf-16" and "\x00" in text:
        return None
    if is_markdown(text, name):
        return _s(Kind.TEXT, "md")
    return _s(Kind.TEXT, "txt")


def is_markdown(text: str, name: str | None) -> bool:
    """Markdown by name (``.md``/``.markdown``) or by a leading ``---`` front-matter block."""
    if name is not None and name.lower().endswith((".md", ".markdown")):
        return True
    return (text.startswith("---\n") or text.startswith("---\r\n")) and (
        "\n---\n" in text[3:] or "\n---\r\n" in text[3:]
    )


def sniff(head: bytes, *, size: int | None = None, name: str | None = None) -> Sniffed | None:
    """The real type of content starting with ``head``, from magic bytes; ``None`` when the
    content is none of the supported image, audio, video or text formats.

    ``size`` is the total size of the content when known (it lets a frame that ends exactly at
    the end of a short file count as complete); ``name`` only picks ``md`` over ``txt``.
    """
    head = bytes(head) if not isinstance(head, bytes) else head
    if len(head) < 2:
        return _text(head, size, name) if head else None
    b4 = head[:4]
    if head.startswith(b"\xff\xd8\xff"):
        return _s(Kind.IMAGE, "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _s(Kind.IMAGE, "png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _s(Kind.IMAGE, "gif")
    if b4 in (b"RIFF", b"RF64") and len(head) >= 12:
        sub = head[8:12]
        if sub == b"WAVE":
            return _s(Kind.AUDIO, "wav")
        if sub == b"AVI " and b4 == b"RIFF":
            return _s(Kind.VIDEO, "avi")
        if sub == b"WEBP" and b4 == b"RIFF":
            return _s(Kind.IMAGE, "webp")
        return None
    if b4 in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _s(Kind.IMAGE, "tiff")
    if head.startswith(b"BM") and len(head) >= 18:
        dib = struct.unpack_from("<I", head, 14)[0]
        if dib in (12, 40, 52, 56, 64, 108, 124):
            return _s(Kind.IMAGE, "bmp")
    if len(head) >= 12 and (head[4:8] == b"ftyp" or head[4:8] in _QT_FIRST_BOXES):
        found = _iso_bmff(head)
        if found is not None:
            return found
    if b4 == b"\x1aE\xdf\xa3":
        return _ebml(head)
    if b4 == b"OggS":
        return _ogg(head)
    if b4 == b"fLaC":
        return _s(Kind.AUDIO, "flac")
    if head.startswith(b"ID3"):
        return _after_id3(head, size)
    if head.startswith(b"FLV\x01"):
        return _s(Kind.VIDEO, "flv")
    if b4 == b"PK\x03\x04":
        return _s(Kind.TEXT, "zip")
    if head[0] == 0xFF:
        found = _frames_chain(head, 0, size)
        if found is not None:
            return found
    pdf_at = head.find(b"%PDF-", 0, 1024)
    if pdf_at >= 0:
        return _s(Kind.TEXT, "pdf")
    return _text(head, size, name)
