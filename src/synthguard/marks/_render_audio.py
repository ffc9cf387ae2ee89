"""Rendering the audible label (R-EXP-4, R-EXP-5): the rhythm mark "short-long short-short"
(Morse ``·− ··``, "AI") and, optionally, a spoken prompt.

The mark goes *before* the content begins and/or *after* it ends, never mixed over it
(R-EXP-4), separated from the content by ``AUDIO_MARK_GAP_S`` of silence. The file is decoded
through :func:`~synthguard.media.open_media` and re-encoded in its own format with PyAV.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import (
    DecodeError,
    MissingSystemPackageError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.marks._io import atomic_output, import_av, open_kind, rhythm_value
from synthguard.media import Kind
from synthguard.requirements import (
    AUDIO_MARK_GAP_S,
    AUDIO_RHYTHM,
    EXPLICIT_LABEL_DEFAULTS,
    has_explicit_label_elements,
)

if TYPE_CHECKING:
    from synthguard.media import Media
    from synthguard.settings import Settings

__all__ = ["AudioMarkResult", "mark_audio_file", "rhythm_mark", "spoken_mark"]

_WHERE = ("start", "end", "both")
_ESPEAK = "espeak-ng"
_ESPEAK_VOICE = "cmn"  # Mandarin
_SPEECH_TIMEOUT_S = 30.0
_CHUNK = 1024  # samples per encoded frame (AAC's frame size; others accept any)
_OPUS_RATES = (48_000, 24_000, 16_000, 12_000, 8_000)

# Sniffed format -> (muxer, default codec, codec options).
_OUTPUTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "wav": ("wav", "pcm_s16le", {}),
    "mp3": ("mp3", "libmp3lame", {}),
    "flac": ("flac", "flac", {}),
    "ogg": ("ogg", "vorbis", {"strict": "experimental"}),
    "opus": ("opus", "libopus", {}),
    "m4a": ("ipod", "aac", {}),
    "aac": ("adts", "aac", {}),
}


@dataclass(frozen=True)
class AudioMarkResult:
    """What :func:`mark_audio_file` wrote: where the marks went (seconds in the output)."""

    where: str
    marks: tuple[tuple[float, float], ...]
    sample_rate: int
    channels: int
    codec: str
    spoken: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "marks": [list(m) for m in self.marks],
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "codec": self.codec,
            "spoken": self.spoken,
        }


def _tone(seconds: float, sample_rate: int) -> np.ndarray:
    n = max(1, round(seconds * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    tone = np.sin(2.0 * math.pi * rhythm_value("tone_hz") * t)
    fade = max(1, round(rhythm_value("fade_s") * sample_rate))
    ramp = np.minimum(1.0, np.minimum(np.arange(n) + 0.5, n - np.arange(n) - 0.5) / fade)
    return tone * ramp


def rhythm_mark(sample_rate: int, channels: int = 1) -> np.ndarray:
    """The rhythm label as ``float32`` samples of shape ``(channels, n)`` (every channel the
    same): a sine at ``AUDIO_RHYTHM["tone_hz"]``, dots and dashes with their gaps and fades,
    peaking at ``AUDIO_RHYTHM["level_dbfs"]`` (R-EXP-5 [ENG] timing)."""
    if sample_rate < 2 * rhythm_value("tone_hz") + 1:
        raise UsageError(
            f"expected a sample rate above {2 * rhythm_value('tone_hz'):g} Hz for the "
            f"rhythm tone, got {sample_rate}"
        )
    if channels < 1:
        raise UsageError(f"expected at least 1 channel, got {channels}")
    pattern = AUDIO_RHYTHM["pattern"]
    assert isinstance(pattern, tuple)
    # "short-long, short-short": two letters of two elements each (R-EXP-4).
    letters = (pattern[:2], pattern[2:])
    intra = np.zeros(round(rhythm_value("intra_gap_s") * sample_rate))
    between = np.zeros(round(rhythm_value("letter_gap_s") * sample_rate))
    pieces: list[np.ndarray] = []
    for li, letter in enumerate(letters):
        if li:
            pieces.append(between)
        for ei, (seconds, _name) in enumerate(letter):
            if ei:
                pieces.append(intra)
            pieces.append(_tone(float(seconds), sample_rate))
    gain = 10.0 ** (rhythm_value("level_dbfs") / 20.0)
    mono = (gain * np.concatenate(pieces)).astype(np.float32)
    return np.repeat(mono[None, :], channels, axis=0)


def spoken_mark(sample_rate: int, channels: int = 1, *, text: str | None = None) -> np.ndarray:
    """A spoken label (R-EXP-4) synthesised by ``espeak-ng`` (Mandarin voice), shape
    ``(channels, n)``. Raises :class:`~synthguard.errors.MissingSystemPackageError` when
    ``espeak-ng`` is not installed."""
    label = EXPLICIT_LABEL_DEFAULTS[0] if text is None else text
    if not has_explicit_label_elements(label):
        raise UsageError(
            f"expected a spoken label with an AI and a synthesis element (R-EXP-1), got {label!r}"
        )
    exe = shutil.which(_ESPEAK)
    if exe is None:
        raise MissingSystemPackageError(
            f"a spoken audio label needs {_ESPEAK} on PATH, found none: install the Debian "
            f"package {_ESPEAK} (apt-get install {_ESPEAK}) or use the rhythm mark alone"
        )
    try:
        done = subprocess.run(
            [exe, "-v", _ESPEAK_VOICE, "--stdout", label],
            capture_output=True,
            timeout=_SPEECH_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"expected {_ESPEAK} to synthesise {label!r}, it failed: {exc}") from None
    return _decode_wav(done.stdout, sample_rate, channels)


def _decode_wav(data: bytes, sample_rate: int, channels: int) -> np.ndarray:
    av = import_av("spoken audio labels")
    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data), mode="r") as container:
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=sample_rate)
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(1, -1) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(1, -1) for f in resampler.resample(None))
    if not chunks:
        raise DecodeError("expected speech from espeak-ng, decoded no samples")
    mono = np.concatenate(chunks, axis=1)[0].astype(np.float32)
    return np.repeat(mono[None, :], channels, axis=0)


def _stream_facts(media: Media) -> tuple[int, int, str | None, int | None]:
    stream = next((s for s in media.info.streams if s.type == "audio"), None)
    rate = (stream.sample_rate if stream else None) or media.info.sample_rate
    channels = (stream.channels if stream else None) or media.info.channels or 1
    if not rate:
        raise DecodeError(f"expected a sample rate for {media.name!r}, the probe found none")
    codec = stream.codec if stream else None
    bit_rate = (stream.bit_rate if stream else None) or media.info.bit_rate
    return int(rate), int(channels), codec, bit_rate


def _codec_for(fmt: str, source_codec: str | None, av: Any) -> tuple[str, str, dict[str, str]]:
    if fmt not in _OUTPUTS:
        raise UnsupportedFormatError(
            f"expected audio in {', '.join(sorted(_OUTPUTS))} to mark, got {fmt}"
        )
    muxer, codec, options = _OUTPUTS[fmt]
    if fmt == "wav" and source_codec and source_codec.startswith("pcm_"):
        if source_codec in av.codecs_available:
            codec = source_codec  # keep the bit depth
    if fmt == "ogg" and source_codec == "opus":
        codec, options = "libopus", {}
    return muxer, codec, dict(options)


def mark_audio_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    where: str = "start",
    spoken: bool = False,
    gap_s: float = AUDIO_MARK_GAP_S,
    settings: Settings | None = None,
) -> AudioMarkResult:
    """Add the rhythm mark (and with ``spoken`` the spoken label after it) at the ``start``,
    the ``end`` or ``both``, and write ``dst`` in the source's format, atomically.

    The mark has the host's sample rate and channels; ``gap_s`` of silence separates it from
    the content (R-EXP-4: not mixed over it). Lossy formats are re-encoded once, at the
    source's bit rate where it is known.
    """
    if where not in _WHERE:
        raise UsageError(f"expected where in {', '.join(_WHERE)}, got {where!r}")
    if not 0.0 <= gap_s <= 10.0:
        raise UsageError(f"expected 0 <= gap_s <= 10, got {gap_s}")
    av = import_av("marking audio")
    with open_kind(src, Kind.AUDIO, settings) as media:
        fmt = media.format.lower()
        rate, channels, source_codec, bit_rate = _stream_facts(media)
        muxer, codec, options = _codec_for(fmt, source_codec, av)
        out_rate = rate
        if codec == "libopus" and rate not in _OPUS_RATES:
            out_rate = 48_000
        if codec == "vorbis":
            channels = 2  # FFmpeg's own Vorbis encoder writes stereo only
        clip = media.audio(
            sample_rate=out_rate, mono=False, end=float(media.settings.max_duration_s)
        )
    content = clip.samples if clip.samples.ndim == 2 else clip.samples[None, :]
    content = _fit_channels(content, channels)
    block = rhythm_mark(out_rate, channels)
    if spoken:
        speech = spoken_mark(out_rate, channels)
        block = np.concatenate([block, _silence(gap_s, out_rate, channels), speech], axis=1)
    gap = _silence(gap_s, out_rate, channels)
    parts: list[np.ndarray] = []
    marks: list[tuple[float, float]] = []
    cursor = 0
    if where in ("start", "both"):
        parts += [block, gap]
        marks.append((0.0, block.shape[1] / out_rate))
        cursor = block.shape[1] + gap.shape[1]
    parts.append(content)
    cursor += content.shape[1]
    if where in ("end", "both"):
        parts += [gap, block]
        begin = cursor + gap.shape[1]
        marks.append((begin / out_rate, (begin + block.shape[1]) / out_rate))
    samples = np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)
    with atomic_output(dst) as tmp:
        _encode(av, tmp, samples, out_rate, muxer, codec, options, bit_rate)
    return AudioMarkResult(
        where=where,
        marks=tuple((round(a, 4), round(b, 4)) for a, b in marks),
        sample_rate=out_rate,
        channels=channels,
        codec=codec,
        spoken=spoken,
    )


def _silence(seconds: float, rate: int, channels: int) -> np.ndarray:
    return np.zeros((channels, round(seconds * rate)), dtype=np.float32)


def _fit_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    have = samples.shape[0]
    if have == channels:
        return samples
    if have == 1:
        return np.repeat(samples, channels, axis=0)
    mono = samples.mean(axis=0, keepdims=True)
    return np.repeat(mono, channels, axis=0)


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}.get(
        channels, f"{channels}c"
    )


def _encode(
    av: Any,
    path: Any,
    samples: np.ndarray,
    rate: int,
    muxer: str,
    codec: str,
    options: dict[str, str],
    bit_rate: int | None,
) -> None:
    layout = _layout(samples.shape[0])
    with av.open(str(path), mode="w", format=muxer) as container:
        stream: Any = container.add_stream(codec, rate=rate, options=options)
        stream.layout = layout
        if bit_rate and not codec.startswith("pcm_") and codec != "flac":
            stream.bit_rate = int(bit_rate)
        for offset in range(0, samples.shape[1], _CHUNK):
            piece = np.ascontiguousarray(samples[:, offset : offset + _CHUNK])
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = offset
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
