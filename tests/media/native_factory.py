"""Small audio/video files of every variant the native (walker-only) probe claims to describe,
made with PyAV, so that its facts can be compared with PyAV's own on the same bytes."""

from __future__ import annotations

import io
import os
import tempfile
import wave
from fractions import Fraction
from typing import Any

import av
import numpy as np

SIZE = (64, 48)
FPS = 10
FRAMES = 12
SECONDS = 1.2


def _tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    mono = (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    return np.tile(mono, (channels, 1))


def _picture(i: int) -> np.ndarray:
    w, h = SIZE
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([(x * 4 + i * 9) % 256, (y * 5) % 256, (x + y + i * 3) % 256], axis=-1).astype(
        np.uint8
    )


def encode(
    fmt: str,
    vcodec: str | None,
    acodec: str | None,
    *,
    rate: int = 48_000,
    channels: int = 1,
    options: dict[str, str] | None = None,
    aoptions: dict[str, str] | None = None,
    size: tuple[int, int] = SIZE,
) -> bytes:
    """One file: optional video (``FRAMES`` frames at ``FPS``) and optional audio track. Written
    to a temporary file, as MP4's faststart rewrites the file after muxing."""
    fd, path = tempfile.mkstemp(suffix=".bin")
    os.close(fd)
    try:
        _encode(path, fmt, vcodec, acodec, rate, channels, options or {}, aoptions or {}, size)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _encode(
    path: str, fmt: str, vcodec: str | None, acodec: str | None, rate: int, channels: int,
    options: dict[str, str], aoptions: dict[str, str], size: tuple[int, int],
) -> None:
    layout = "stereo" if channels == 2 else "mono"
    with av.open(path, "w", format=fmt, options=options) as out:
        out.flags |= av.container.Flags.bitexact.value
        v: Any = None
        a: Any = None
        if vcodec is not None:
            v = out.add_stream(vcodec, rate=FPS)
            v.width, v.height = size
            v.pix_fmt = "yuv420p"
            if vcodec == "libx265":
                v.options = {"x265-params": "log-level=none"}
        if acodec is not None:
            a = out.add_stream(acodec, rate=rate, options=aoptions)
            a.layout = layout
            if acodec == "vorbis":
                a.codec_context.options = {"strict": "experimental"}
        if v is not None:
            for i in range(FRAMES):
                frame = av.VideoFrame.from_ndarray(_picture(i), format="rgb24")
                frame.pts = i
                frame.time_base = Fraction(1, FPS)
                out.mux(v.encode(frame))
            out.mux(v.encode(None))
        if a is not None:
            samples = _tone(SECONDS, rate, channels)
            for start in range(0, samples.shape[1], 1024):
                piece = np.ascontiguousarray(samples[:, start : start + 1024])
                frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
                frame.sample_rate = rate
                frame.pts = start
                out.mux(a.encode(frame))
            out.mux(a.encode(None))


def wav(rate: int = 16_000, channels: int = 1, width: int = 2) -> bytes:
    """Plain PCM through the standard library (no PyAV involved)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        pcm = _tone(SECONDS, rate, channels).T.reshape(-1)
        if width == 1:
            w.writeframes(((pcm + 1) * 127.5).astype(np.uint8).tobytes())
        else:
            w.writeframes((pcm * 32767).astype("<i2").tobytes())
    return buf.getvalue()


# name -> (bytes maker); every file here must be described by the walkers alone.
NATIVE: dict[str, Any] = {
    "h264-aac.mp4": lambda: encode("mp4", "libx264", "aac"),
    "h264-aac-faststart.mp4": lambda: encode(
        "mp4", "libx264", "aac", options={"movflags": "faststart"}
    ),
    "h264-aac-44k-stereo.mp4": lambda: encode("mp4", "libx264", "aac", rate=44_100, channels=2),
    "h264-only.mp4": lambda: encode("mp4", "libx264", None),
    "h264-mp3.mp4": lambda: encode("mp4", "libx264", "libmp3lame", rate=44_100),
    "hevc-aac.mp4": lambda: encode("mp4", "libx265", "aac"),
    "av1-opus.mp4": lambda: encode("mp4", "libsvtav1", "libopus"),
    "vp9-only.mp4": lambda: encode("mp4", "libvpx-vp9", None),
    "mpeg4-only.mp4": lambda: encode("mp4", "mpeg4", None),
    "h264-aac.mov": lambda: encode("mov", "libx264", "aac"),
    "aac.m4a": lambda: encode("ipod", None, "aac", rate=44_100),
    "aac-stereo.m4a": lambda: encode("ipod", None, "aac", rate=48_000, channels=2),
    "alac.m4a": lambda: encode("ipod", None, "alac", rate=44_100, channels=2),
    "flac.mp4": lambda: encode("mp4", None, "flac", rate=96_000),
    "h264-opus.mkv": lambda: encode("matroska", "libx264", "libopus"),
    "h264-vorbis.mkv": lambda: encode("matroska", "libx264", "vorbis", rate=44_100, channels=2),
    "h264-aac.mkv": lambda: encode("matroska", "libx264", "aac"),
    "hevc-flac.mkv": lambda: encode("matroska", "libx265", "flac", rate=44_100),
    "flac.mka": lambda: encode("matroska", None, "flac", rate=96_000, channels=2),
    "vp9-opus.webm": lambda: encode("webm", "libvpx-vp9", "libopus"),
    "vp8-vorbis.webm": lambda: encode("webm", "libvpx", "vorbis", rate=48_000, channels=2),
    "av1-only.webm": lambda: encode("webm", "libsvtav1", None),
    "opus.webm": lambda: encode("webm", None, "libopus", channels=2),
    "opus-24k.mkv": lambda: encode("matroska", None, "libopus", rate=24_000),
    "s16-mono-16k.wav": lambda: wav(16_000, 1, 2),
    "s16-stereo-44k.wav": lambda: wav(44_100, 2, 2),
    "u8-mono-8k.wav": lambda: wav(8_000, 1, 1),
    "s16-ffmpeg-22k.wav": lambda: encode("wav", None, "pcm_s16le", rate=22_050),
    "f32-stereo-48k.wav": lambda: encode("wav", None, "pcm_f32le", rate=48_000, channels=2),
    "f64-mono-8k.wav": lambda: encode("wav", None, "pcm_f64le", rate=8_000),
    "s24-stereo-96k.wav": lambda: encode("wav", None, "pcm_s24le", rate=96_000, channels=2),
    "s32-mono-44k.wav": lambda: encode("wav", None, "pcm_s32le", rate=44_100),
    "alaw-mono-8k.wav": lambda: encode("wav", None, "pcm_alaw", rate=8_000),
    "mulaw-mono-8k.wav": lambda: encode("wav", None, "pcm_mulaw", rate=8_000),
    "mono-44k.flac": lambda: encode("flac", None, "flac", rate=44_100),
    "stereo-96k.flac": lambda: encode("flac", None, "flac", rate=96_000, channels=2),
}

# Files that still need PyAV: formats without the facts in their headers, or variants the
# walker cannot fully describe (the fallback).
FALLBACK: dict[str, Any] = {
    "audio.mp3": lambda: encode("mp3", None, "libmp3lame", rate=44_100),
    "audio.ogg": lambda: encode("ogg", None, "libopus"),
    "audio.aac": lambda: encode("adts", None, "aac"),
    "fragmented.mp4": lambda: encode(
        "mp4", "libx264", "aac", options={"movflags": "frag_keyframe+empty_moov"}
    ),
    "live.mkv": lambda: encode("matroska", "libx264", "libopus", options={"live": "1"}),
    "h264.avi": lambda: encode("avi", "libx264", None),
    "adpcm.wav": lambda: encode("wav", None, "adpcm_ms", rate=22_050),
    # AAC at 24 kHz or less may be HE-AAC whose real rate only a decoder finds (aac_config).
    "aac-22k.m4a": lambda: encode("ipod", None, "aac", rate=22_050),
    "h264-aac-16k.mkv": lambda: encode("matroska", "libx264", "aac", rate=16_000),
}
