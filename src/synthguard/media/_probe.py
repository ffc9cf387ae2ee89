"""Library probes after the walkers: Pillow for image headers, PyAV for audio/video headers,
and the native probe that makes PyAV unnecessary where the walker already read everything.

Both read headers only. Pillow's ``Image.open`` is lazy (no pixel decoding) and is restricted
to the plugin of the sniffed format; PyAV opens the container with the demuxer of the sniffed
format and bounded ``probesize``/``analyzeduration``. FFmpeg's stream-info search may decode a
few packets internally to learn codec parameters; that is bounded by those two options, and
synthguard itself never decodes a frame here.

``av.open`` always runs FFmpeg's ``avformat_find_stream_info``, which decodes the first key
frame of an H.264 stream and costs milliseconds per file, most of an audio/video scan. For WAV
(PCM), FLAC, unfragmented MP4/MOV/M4A and Matroska/WebM the walkers read every fact PyAV would
report (stream list, codecs named as FFmpeg names them, size, rate, frame count, duration), so
:func:`probe_media` uses those and never opens the container. Whenever a fact is missing (an
unknown codec, a live Matroska file without a duration, a fragmented MP4, cover art FFmpeg
turns into a stream) it falls back to :func:`probe_av`: a missing fact is never reported as
absent when PyAV could have given it.

Every library exception is turned into a :class:`~synthguard.errors.CorruptMediaError` by the
caller (``_open``); limit breaches found here raise the limit errors directly.
"""

from __future__ import annotations

import threading
import warnings
from fractions import Fraction
from typing import Any

from synthguard.errors import CorruptMediaError, MissingDependencyError, TooManyPixelsError
from synthguard.media._sniff import MIME
from synthguard.media._types import Kind, StreamInfo
from synthguard.media._walk import (
    Facts,
    Reader,
    check_duration,
    check_frames,
    check_pixels,
    check_streams,
)
from synthguard.settings import Settings

__all__ = ["NATIVE_FORMATS", "probe_av", "probe_media", "probe_pillow", "raise_pillow_limit"]

_PIL_FORMATS = {
    "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP",
    "avif": "AVIF", "heic": "HEIF",
}
_heif_lock = threading.Lock()
_heif_registered = False


def register_heif() -> None:
    """Register pillow-heif's opener once per process (probing and decoding share it)."""
    global _heif_registered
    with _heif_lock:
        if _heif_registered:
            return
        try:
            import pillow_heif
        except ImportError:
            raise MissingDependencyError("HEIC images", "heif") from None
        pillow_heif.register_heif_opener()
        _heif_registered = True


def raise_pillow_limit(settings: Settings) -> None:
    """Make Pillow's own bomb check at least as generous as ours, so that anything within
    ``max_pixels`` (already checked from the header) never triggers DecompressionBombWarning.
    Monotonic on purpose: the value is process-wide, and lowering it for one call could break
    another call, or a later decode, that uses larger limits."""
    from PIL import Image

    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < settings.max_pixels:
        Image.MAX_IMAGE_PIXELS = settings.max_pixels


def probe_pillow(r: Reader, facts: Facts, settings: Settings) -> None:
    """Size and mode from Pillow's lazy header parse; the walker's facts win where both exist
    (they already passed the limits), but a larger size seen by Pillow is checked too."""
    from PIL import Image

    raise_pillow_limit(settings)
    fmt = facts.format
    if fmt == "heic":
        register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(r.stream(), formats=[_PIL_FORMATS[fmt]]) as im:
                width, height = im.size
                mode = im.mode
                frames = getattr(im, "n_frames", 1) if fmt in ("heic", "avif") else None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise TooManyPixelsError(
                f"expected an image of at most {settings.max_pixels:,} pixels, got more ({exc})"
            ) from None
    check_pixels(width, height, settings)
    facts.set(mode=mode)
    facts.info.setdefault("width", width)
    facts.info.setdefault("height", height)
    if frames is not None:
        check_frames(frames, settings, f" ({fmt.upper()} images)")
        facts.set(pages=frames, animated=frames > 1 and fmt == "avif")
    facts.info.setdefault("codecs", ({"heic": "hevc", "avif": "av1"}.get(fmt, fmt),))


# Demuxer forced for each sniffed format: FFmpeg never guesses (R-IMPL-1: no surprises).
_DEMUXERS = {
    "wav": "wav", "mp3": "mp3", "aac": "aac", "flac": "flac", "ogg": "ogg", "opus": "ogg",
    "m4a": "mov", "mp4": "mov", "mov": "mov", "mkv": "matroska", "webm": "matroska",
    "avi": "avi", "flv": "flv",
}
_PROBE_OPTIONS = {"probesize": str(5_000_000), "analyzeduration": str(5_000_000)}
_AUDIO_ONLY_MIME = {"webm": "audio/webm", "mkv": "audio/x-matroska", "avi": "audio/x-msvideo",
                    "flv": "audio/x-flv"}


def _f(value: Fraction | None) -> float | None:
    return float(value) if value else None


# Formats whose walker lists every stream with every fact (Facts.streams); see the docstring.
NATIVE_FORMATS = frozenset({"wav", "flac", "mp4", "mov", "m4a", "mkv", "webm"})
# Those where FFmpeg gives each stream a duration too (Matroska streams have none).
_STREAM_DURATIONS = frozenset({"wav", "flac", "mp4", "mov", "m4a"})


def probe_media(r: Reader, facts: Facts, settings: Settings) -> None:
    """Audio/video facts from the walker when it read them all, else from PyAV."""
    streams = _native_streams(facts)
    if streams is None:
        probe_av(r, facts, settings)
        return
    _import_av()  # decoding needs it later: the same message now as on the PyAV path
    check_streams(len(streams), settings)
    seconds = facts.info.get("duration")
    if seconds is None:
        seconds = max((st.duration for st in streams if st.duration), default=None)
    micros = round(seconds * 1_000_000) if seconds else 0
    if micros <= 0:
        probe_av(r, facts, settings)  # no duration in the headers: the demuxer estimates one
        return
    # FFmpeg's update_stream_timings: whole-file size over the duration in microseconds.
    bit_rate = int(r.size * 8 * 1_000_000 / micros)
    _describe(facts, streams, micros / 1_000_000, bit_rate, settings)


def _native_streams(facts: Facts) -> list[StreamInfo] | None:
    """The walker's streams when they hold every fact PyAV would give, else None."""
    streams = facts.streams
    if facts.format not in NATIVE_FORMATS or not streams:
        return None
    for st in streams:
        if st.codec is None or (not st.duration and facts.format in _STREAM_DURATIONS):
            return None
        if st.type == "video":
            if not (st.width and st.height and st.fps):
                return None
        elif st.type == "audio":
            if not (st.sample_rate and st.channels):
                return None
        else:
            return None
    return streams


def _import_av() -> Any:
    try:
        import av
    except ImportError:
        raise MissingDependencyError("audio and video", "video") from None
    return av


def probe_av(r: Reader, facts: Facts, settings: Settings) -> None:
    """Container and stream headers through PyAV; decides audio vs video by the streams."""
    av = _import_av()
    fmt = facts.format
    try:
        container: Any = av.open(
            r.stream(), mode="r", format=_DEMUXERS[fmt], container_options=_PROBE_OPTIONS,
            metadata_errors="replace",
        )
    except av.FFmpegError as exc:
        raise CorruptMediaError(f"expected a readable {fmt} container, got: {exc}") from None
    with container:
        _check_av_metadata(container, settings)
        check_streams(len(container.streams), settings)
        streams: list[StreamInfo] = []
        media: list[StreamInfo] = []  # the video and audio streams that carry content
        for s in container.streams:
            info = _stream_info(av, s)
            streams.append(info)
            if info.type == "video" and s.codec_context is not None and not (
                s.disposition & av.stream.Disposition.attached_pic
            ):
                media.append(info)
            elif info.type == "audio" and s.codec_context is not None:
                media.append(info)
        duration = container.duration / 1_000_000 if container.duration else None
        if duration is None:
            duration = max((st.duration for st in streams if st.duration), default=None)
        bit_rate = container.bit_rate or None
    _describe(facts, streams, duration, bit_rate, settings, media)


def _describe(
    facts: Facts, streams: list[StreamInfo], duration: float | None, bit_rate: int | None,
    settings: Settings, media: list[StreamInfo] | None = None,
) -> None:
    """Check the limits and fill ``facts`` from the streams, whoever read them (PyAV, or the
    walker for the native probe); decides audio vs video by the streams. ``media`` are the
    streams with content (PyAV's view leaves out cover art); default: all."""
    fmt = facts.format
    media = streams if media is None else media
    video = [st for st in media if st.type == "video"]
    audio = [st for st in media if st.type == "audio"]
    check_duration(duration, settings)
    if video:
        facts.kind = Kind.VIDEO
        v = video[0]
        if v.width and v.height:
            check_pixels(v.width, v.height, settings, "a video frame")
        frames = v.frames
        how = " (container frame count)"
        if not frames and duration and v.fps:
            frames, how = int(duration * v.fps + 0.5), " (estimated from duration x frame rate)"
        check_frames(frames, settings, how)
        facts.set(width=v.width, height=v.height, fps=v.fps, frames=frames)
        if fmt == "m4a":  # an M4A brand on a file with video: it is a video
            facts.format, facts.mime = "mp4", MIME["mp4"]
    elif audio:
        facts.kind = Kind.AUDIO
        if fmt in ("mp4", "mov"):
            facts.format, facts.mime = "m4a", MIME["m4a"]
        elif fmt in _AUDIO_ONLY_MIME:
            facts.mime = _AUDIO_ONLY_MIME[fmt]
    else:
        raise CorruptMediaError(
            f"expected a decodable video or audio stream in the {fmt} file, found "
            + (", ".join(f"{s.type}/{s.codec}" for s in streams) or "no streams")
        )
    if audio:
        facts.set(sample_rate=audio[0].sample_rate, channels=audio[0].channels)
    if duration is not None:
        facts.info.pop("duration", None)  # the demuxer's view wins over the header's
    facts.set(
        duration=duration, bit_rate=bit_rate, streams=tuple(streams),
        codecs=tuple(s.codec for s in streams if s.codec),
    )


def _stream_info(av: Any, s: Any) -> StreamInfo:
    ctx = s.codec_context
    codec = s.codec.canonical_name if getattr(s, "codec", None) is not None else None
    duration = float(s.duration * s.time_base) if s.duration and s.time_base else None
    kw: dict[str, Any] = {}
    if s.type == "video" and ctx is not None:
        kw = {"width": ctx.width or None, "height": ctx.height or None,
              "fps": _f(s.average_rate) or _f(s.guessed_rate), "frames": s.frames or None}
    elif s.type == "audio" and ctx is not None:
        kw = {"sample_rate": ctx.sample_rate or None, "channels": ctx.channels or None}
    return StreamInfo(
        index=s.index, type=s.type, codec=codec, duration=duration,
        bit_rate=(ctx.bit_rate or None) if ctx is not None else None, **kw,
    )


def _check_av_metadata(container: Any, settings: Settings) -> None:
    """A second line behind the walkers: the tags the demuxer parsed, in total."""
    from synthguard.media._walk import Budget

    budget = Budget(settings)
    for meta in [container.metadata, *(s.metadata for s in container.streams)]:
        for key, value in meta.items():
            budget.metadata_bytes(len(key) + len(value), "the container tags")
