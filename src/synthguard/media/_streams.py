"""Walkers for stream-shaped formats: MP3 and ADTS AAC (with ID3 tags), FLAC, Ogg, FLV.

These formats have no index of their payload, so the walkers read the headers (tags,
metadata blocks, header packets, the first tags) and stop where the payload begins; the
payload is bounded by the demuxer and by the duration limit (R-IMPL-1).
"""

from __future__ import annotations

import struct

from synthguard.errors import CorruptMediaError, TruncatedMediaError, UnsupportedFormatError
from synthguard.media._sniff import MIME, adts_frame, id3_size, mpeg_audio_frame
from synthguard.media._types import StreamInfo
from synthguard.media._walk import Budget, Facts, Reader, check_duration, check_streams

__all__ = ["STREAM_WALKERS"]

# How far past the ID3 tag we look for the first audio frame (encoders pad with zeros).
_SYNC_WINDOW = 64 * 1024


def _skip_id3(r: Reader, budget: Budget, facts: Facts) -> int:
    """Offset just past any ID3v2 tags at the start; each tag charged as metadata and
    recorded in the metadata index (R-FMT-13)."""
    pos = 0
    for _ in range(16):
        tag = id3_size(r.read_upto(pos, 10))
        if tag is None:
            break
        if pos + tag > r.size:
            raise TruncatedMediaError(
                f"expected an ID3 tag of {tag:,} bytes at offset {pos:,}, "
                f"but the file ends at {r.size:,} bytes"
            )
        budget.metadata_bytes(tag, "the ID3 tag")
        facts.block("id3", pos, tag)
        pos += tag
    return pos


def walk_mpeg_audio(r: Reader, facts: Facts, budget: Budget) -> None:
    """ID3 tags, then two chained MP3 (or ADTS) frame headers. What follows the tag decides
    the format when the tag was longer than the sniffed head (FLAC and AAC may carry ID3)."""
    pos = _skip_id3(r, budget, facts)
    if r.size - pos >= 128 and bytes(r.read(r.size - 128, 3, "an ID3v1 tag")) == b"TAG":
        budget.metadata_bytes(128, "the ID3v1 tag")
    if bytes(r.read_upto(pos, 4)) == b"fLaC":
        facts.format, facts.mime = "flac", MIME["flac"]
        _walk_flac_blocks(r, facts, budget, pos + 4)
        return
    window = bytes(r.read_upto(pos, _SYNC_WINDOW))
    at = 0
    while True:
        at = window.find(b"\xff", at)
        if at < 0 or at + 4 > len(window):
            raise CorruptMediaError(
                f"expected an MPEG audio frame after offset {pos:,}, found none in the next "
                f"{len(window):,} bytes"
            )
        start = pos + at
        mpa = mpeg_audio_frame(window, at)
        if mpa is not None:
            nxt = r.read_upto(start + mpa[0], 4)
            if start + mpa[0] >= r.size or mpeg_audio_frame(nxt, 0) is not None:
                if facts.format != "mp3":
                    facts.format, facts.mime = "mp3", MIME["mp3"]
                return
        length = adts_frame(window, at)
        if length is not None:
            nxt = r.read_upto(start + length, 7)
            if start + length >= r.size or adts_frame(nxt, 0) is not None:
                facts.format, facts.mime = "aac", MIME["aac"]
                return
        at += 1


def walk_flac(r: Reader, facts: Facts, budget: Budget) -> None:
    """``fLaC`` (after any ID3 tag) and its metadata blocks; audio frames must follow."""
    pos = _skip_id3(r, budget, facts)
    if bytes(r.read(pos, 4, "the FLAC signature")) != b"fLaC":
        raise CorruptMediaError(f"expected the FLAC signature 'fLaC' at offset {pos:,}")
    _walk_flac_blocks(r, facts, budget, pos + 4)


def _walk_flac_blocks(r: Reader, facts: Facts, budget: Budget, pos: int) -> None:
    info = False
    picture = False
    stream: StreamInfo | None = None
    while True:
        head = r.read(pos, 4, "a FLAC metadata block header")
        budget.tick("FLAC metadata blocks")
        last, btype = head[0] & 0x80, head[0] & 0x7F
        length = int.from_bytes(head[1:4], "big")
        body = pos + 4
        if body + length > r.size:
            raise TruncatedMediaError(
                f"expected a FLAC metadata block of {length:,} bytes at offset {pos:,}, "
                f"but the file ends at {r.size:,} bytes"
            )
        if btype == 127:
            raise CorruptMediaError("expected a FLAC metadata block type < 127, got 127")
        if btype == 0 and length >= 18:
            raw = r.read(body, 18, "the FLAC STREAMINFO block")
            (bits,) = struct.unpack_from(">Q", raw, 10)
            rate = bits >> 44
            channels = ((bits >> 41) & 7) + 1
            total = bits & ((1 << 36) - 1)
            if not rate:
                raise CorruptMediaError("expected a FLAC sample rate > 0, got 0")
            duration = total / rate if total else None
            check_duration(duration, budget.settings)
            facts.set(sample_rate=rate, channels=channels, duration=duration)
            info = True
            if duration is not None:  # FFmpeg's duration is STREAMINFO's sample count too
                stream = StreamInfo(index=0, type="audio", codec="flac", duration=duration,
                                    sample_rate=rate, channels=channels)
        elif btype in (2, 4, 5, 6):  # application, Vorbis comment, cue sheet, picture
            budget.metadata_bytes(length + 4, "a FLAC metadata block")
            if btype == 4:  # R-FMT-14
                facts.block("flac.vorbis", body, length)
            picture = picture or btype == 6
        pos = body + length
        if last:
            break
    if not info:
        raise CorruptMediaError("expected a FLAC STREAMINFO block, found none")
    # Pictures (a PICTURE block, or an ID3 tag's APIC) become streams in FFmpeg: left to PyAV.
    if stream is not None and not picture and not any(b.carrier == "id3" for b in facts.metadata):
        facts.streams = [stream]
    sync = r.read_upto(pos, 2)
    if len(sync) < 2 or sync[0] != 0xFF or (sync[1] & 0xFE) != 0xF8:
        raise CorruptMediaError(
            f"expected FLAC audio frames after the metadata at offset {pos:,}, got none"
        )


# Header packets each Ogg codec begins with (identification, comment, setup...).
_OGG_HEADERS = {b"OpusHead": 2, b"\x01vorbis": 3, b"Speex   ": 2, b"\x80theora": 3}


def walk_ogg(r: Reader, facts: Facts, budget: Budget) -> None:
    """Pages up to the end of every stream's header packets: counts the streams, charges the
    comment packets as metadata, checks each page fits in the file. Audio pages after the
    headers are payload and not walked."""
    pos = 0
    pending: dict[int, int] = {}  # serial -> header packets still to come
    packets: dict[int, int] = {}  # serial -> index of the packet being read
    codecs: dict[int, str] = {}  # serial -> codec name, for the metadata index
    streams = 0
    while pos < r.size:
        head = r.read(pos, 27, "an Ogg page header")
        if bytes(head[:4]) != b"OggS" or head[4] != 0:
            raise CorruptMediaError(f"expected an Ogg page ('OggS', version 0) at offset {pos:,}")
        budget.tick("Ogg pages")
        flags = head[5]
        (serial,) = struct.unpack_from("<I", head, 14)
        nseg = head[26]
        table = bytes(r.read(pos + 27, nseg, "an Ogg segment table"))
        body = pos + 27 + nseg
        end = body + sum(table)
        if end > r.size:
            raise TruncatedMediaError(
                f"expected an Ogg page of {end - pos:,} bytes at offset {pos:,}, "
                f"but the file ends at {r.size:,} bytes"
            )
        if flags & 0x02:  # beginning of a stream: its first packet names the codec
            streams += 1
            check_streams(streams, budget.settings)
            first = bytes(r.read_upto(body, 8))
            if first.startswith(b"\x80theora"):
                raise UnsupportedFormatError(
                    "expected Ogg audio (Opus, Vorbis, FLAC, Speex), got Ogg Theora video, "
                    "which is not supported"
                )
            count = next((n for magic, n in _OGG_HEADERS.items() if first.startswith(magic)), 1)
            if first.startswith(b"\x7fFLAC"):
                count = 1 + int.from_bytes(r.read(body + 7, 2, "Ogg FLAC header count"), "big")
            pending[serial] = count
            packets[serial] = 0
            codecs[serial] = next(
                (name for magic, name in _OGG_CODECS if first.startswith(magic)), "other")
        if serial in pending:
            # Packets are split into 255-byte lacing values; one < 255 ends a packet. The
            # comment packet's bytes on this page are recorded as one block (R-FMT-14); a
            # packet spanning pages gives one block per page, in order.
            at = body
            start = -1
            for lace in table:
                if packets[serial] == 1:  # the comment packet (tags, cover art): metadata
                    budget.metadata_bytes(lace, "Ogg comment headers")
                    if start < 0:
                        start = at
                at += lace
                if lace < 255:
                    if start >= 0:
                        _ogg_block(facts, start, at, serial, codecs)
                        start = -1
                    packets[serial] += 1
                    if packets[serial] >= pending[serial]:
                        del pending[serial]
                        break
            if start >= 0:
                _ogg_block(facts, start, at, serial, codecs)
        pos = end
        if streams and not pending:
            break
    if not streams:
        raise CorruptMediaError("expected an Ogg stream, found none")


_OGG_CODECS = ((b"OpusHead", "opus"), (b"\x01vorbis", "vorbis"), (b"Speex   ", "speex"),
               (b"\x7fFLAC", "flac"))


def _ogg_block(facts: Facts, start: int, end: int, serial: int, codecs: dict[int, str]) -> None:
    facts.block("ogg.comment", start, end - start, serial=str(serial), codec=codecs[serial])


def walk_flv(r: Reader, facts: Facts, budget: Budget) -> None:
    """The FLV header and its first tags (script data is metadata); each must fit the file."""
    head = r.read(0, 9, "the FLV header")
    (offset,) = struct.unpack_from(">I", head, 5)
    if offset < 9:
        raise CorruptMediaError(f"expected an FLV header size >= 9, got {offset}")
    pos = offset + 4  # PreviousTagSize0
    for _ in range(64):  # enough to pass the script tag and the codec headers
        if pos + 11 > r.size:
            break
        tag = r.read(pos, 11, "an FLV tag header")
        budget.tick("FLV tags")
        kind = tag[0] & 0x1F
        size = int.from_bytes(tag[1:4], "big")
        end = pos + 11 + size
        if end > r.size:
            raise TruncatedMediaError(
                f"expected an FLV tag of {size:,} bytes at offset {pos:,}, "
                f"but the file ends at {r.size:,} bytes"
            )
        if kind == 18:
            budget.metadata_bytes(size, "FLV script data")
            facts.block("flv.script", pos + 11, size)  # R-FMT-11: onMetaData
        elif kind not in (8, 9):
            raise CorruptMediaError(f"expected an FLV audio, video or script tag, got type {kind}")
        pos = end + 4


STREAM_WALKERS = {
    "mp3": walk_mpeg_audio,
    "aac": walk_mpeg_audio,
    "flac": walk_flac,
    "ogg": walk_ogg,
    "opus": walk_ogg,
    "flv": walk_flv,
}
