"""Codec names and codec configuration records, as the walkers read them from headers.

The native probe (:func:`synthguard.media._probe.probe_media`) reports what PyAV would, without
opening the container with FFmpeg; so every name here is FFmpeg's ``codec.canonical_name`` for
the same stream, and every parser returns what FFmpeg's demuxer (and the decoder it opens inside
``avformat_find_stream_info``) would report. Anything not listed maps to ``None``: the stream is
then "not described", and the caller falls back to PyAV rather than guess (a missing fact is
never reported silently).

All parsers take bytes already read (and bounded) by a walker, and return ``None`` on anything
short or odd instead of raising: an unparsable record only means "ask PyAV".
"""

from __future__ import annotations

import struct

__all__ = [
    "BMFF_AUDIO",
    "BMFF_VIDEO",
    "MKV_CODECS",
    "MP4_OBJECT_TYPES",
    "OPUS_RATE",
    "aac_config",
    "esds_config",
    "flac_streaminfo",
    "wav_codec",
]

# -- WAV ---------------------------------------------------------------------------------------
# (format tag, bits per sample) -> FFmpeg codec (libavformat/riff.c, ff_wav_codec_get_id). PCM
# only: compressed tags (ADPCM, GSM, MP3 in WAV) have frame-based durations that need the
# demuxer. 0xFFFE (WAVE_FORMAT_EXTENSIBLE) is resolved to its sub-format's tag by the walker.
_WAV_PCM = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le", 64: "pcm_s64le"}
_WAV_FLOAT = {32: "pcm_f32le", 64: "pcm_f64le"}


def wav_codec(tag: int, bits: int) -> str | None:
    """FFmpeg's codec for a WAV ``fmt `` tag and bit depth, for the PCM family only."""
    if tag == 1:
        return _WAV_PCM.get(bits)
    if tag == 3:
        return _WAV_FLOAT.get(bits)
    if tag == 6 and bits == 8:
        return "pcm_alaw"
    if tag == 7 and bits == 8:
        return "pcm_mulaw"
    return None


# -- ISO BMFF ----------------------------------------------------------------------------------
# Sample entry fourcc -> FFmpeg codec (libavformat/isom.c ff_codec_movvideo_tags /
# ff_codec_movaudio_tags). ``mp4v``/``mp4a`` are resolved through the esds object type instead.
BMFF_VIDEO = {
    "avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc", "av01": "av1",
    "vp09": "vp9", "vp08": "vp8",
}
# Audio entries whose sample rate and channels come from a configuration box the walker
# parses (esds, dOps, dfLa, alac); mp4a's esds decides between aac and mp3.
BMFF_AUDIO = {"Opus": "opus", "fLaC": "flac", "alac": "alac"}
# esds DecoderConfigDescriptor objectTypeIndication -> FFmpeg codec (isom.c ff_mp4_obj_type).
MP4_OBJECT_TYPES = {
    0x20: "mpeg4", 0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3",
}


def _descriptor(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """(tag, body offset, body length) of an MPEG-4 descriptor (tag, 1-4 byte length)."""
    if pos >= len(buf):
        return None
    tag = buf[pos]
    length = 0
    pos += 1
    for _ in range(4):
        if pos >= len(buf):
            return None
        b = buf[pos]
        pos += 1
        length = (length << 7) | (b & 0x7F)
        if not b & 0x80:
            break
    if pos + length > len(buf):
        return None
    return tag, pos, length


def esds_config(esds: bytes) -> tuple[int, int, bytes] | None:
    """(object type, average bit rate, DecoderSpecificInfo) from an ``esds`` box body (after
    its version/flags), or None. The decoder specific info of AAC is its AudioSpecificConfig."""
    es = _descriptor(esds, 4)
    if es is None or es[0] != 0x03:
        return None
    _, pos, length = es
    end = pos + length
    if pos + 3 > end:
        return None
    flags = esds[pos + 2]
    pos += 3
    if flags & 0x80:  # streamDependenceFlag
        pos += 2
    if flags & 0x40:  # URL_Flag
        if pos >= end:
            return None
        pos += 1 + esds[pos]
    if flags & 0x20:  # OCRstreamFlag
        pos += 2
    dc = _descriptor(esds[:end], pos)
    if dc is None or dc[0] != 0x04 or dc[2] < 13:
        return None
    _, pos, length = dc
    object_type = esds[pos]
    (avg_bitrate,) = struct.unpack_from(">I", esds, pos + 9)
    info = b""
    dsi = _descriptor(esds[: pos + length], pos + 13)
    if dsi is not None and dsi[0] == 0x05:
        info = bytes(esds[dsi[1] : dsi[1] + dsi[2]])
    return object_type, avg_bitrate, info


_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025,
              8000, 7350)
# channelConfiguration -> channels (ISO 14496-3 table 1.19; FFmpeg's ff_mpeg4audio_channels).
_AAC_CHANNELS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8, 11: 7, 12: 8, 14: 8}


def aac_config(asc: bytes) -> tuple[int, int] | None:
    """(sample rate, channels) from an AAC AudioSpecificConfig, for plain AAC-LC only.

    HE-AAC is the trap here: its SBR (and PS) may be signalled only inside the bitstream, so
    the header says half the real sample rate (and mono for stereo); FFmpeg finds out by
    decoding the first frame inside ``av.open``. A core rate of 24 kHz or less is what such
    files declare, so it (and explicit SBR/PS object types 5 and 29, and a channel layout in
    a program config element) returns None: PyAV decides those.
    """
    if len(asc) < 2:
        return None
    bits = int.from_bytes(asc[:2], "big")
    object_type = bits >> 11
    index = (bits >> 7) & 0x0F
    channels = _AAC_CHANNELS.get((bits >> 3) & 0x0F)
    if object_type != 2 or index >= len(_AAC_RATES) or channels is None:
        return None
    rate = _AAC_RATES[index]
    if rate <= 24000:
        return None
    return rate, channels


def flac_streaminfo(info: bytes) -> tuple[int, int, int] | None:
    """(sample rate, channels, total samples) from a 34-byte FLAC STREAMINFO body."""
    if len(info) < 18:
        return None
    (bits,) = struct.unpack_from(">Q", info, 10)
    rate = bits >> 44
    if not rate:
        return None
    return rate, ((bits >> 41) & 7) + 1, bits & ((1 << 36) - 1)


# -- Matroska ----------------------------------------------------------------------------------
# CodecID -> FFmpeg codec (libavformat/matroska.c ff_mkv_codec_tags). A_AAC is further checked
# against its CodecPrivate by the caller (see aac_config); PCM ids need BitDepth and are left
# to PyAV.
MKV_CODECS = {
    "V_MPEG4/ISO/AVC": "h264", "V_MPEGH/ISO/HEVC": "hevc", "V_VP8": "vp8", "V_VP9": "vp9",
    "V_AV1": "av1", "V_MPEG4/ISO/ASP": "mpeg4", "V_MPEG4/ISO/SP": "mpeg4",
    "V_MPEG4/ISO/AP": "mpeg4", "A_OPUS": "opus", "A_VORBIS": "vorbis", "A_AAC": "aac",
    "A_FLAC": "flac", "A_MPEG/L3": "mp3",
}
# FFmpeg's Opus decoder always runs at 48 kHz, whatever rate the header claims; avformat's
# stream-info search copies the decoder's rate back, so PyAV reports 48000.
OPUS_RATE = 48000
