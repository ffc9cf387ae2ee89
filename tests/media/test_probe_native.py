"""The native probe: WAV, FLAC, MP4/MOV/M4A and Matroska/WebM described from the walkers'
facts alone must say what PyAV says, without FFmpeg opening the container; everything else (and
every variant a walker cannot fully describe) still goes through PyAV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import av
import pytest
from native_factory import FALLBACK, FRAMES, NATIVE

from synthguard.errors import (
    CorruptMediaError,
    TooLongError,
    TooManyFramesError,
    TooManyPixelsError,
)
from synthguard.media import open_media
from synthguard.media._open import _WALKERS
from synthguard.media._probe import NATIVE_FORMATS, probe_av
from synthguard.media._sniff import sniff
from synthguard.media._walk import Budget, Facts, Reader
from synthguard.settings import Settings

_made: dict[str, bytes] = {}


def _file(name: str) -> bytes:
    if name not in _made:
        _made[name] = {**NATIVE, **FALLBACK}[name]()
    return _made[name]


def _count_av_opens(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """From now on, every av.open call (passed through to PyAV). Files are made first: the
    factory itself writes them with av.open."""
    calls: list[Any] = []
    real = av.open

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(av, "open", counting)
    return calls


def _refuse_av_open(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("av.open called by the native probe")

    monkeypatch.setattr(av, "open", refuse)


def _pyav_facts(data: bytes, name: str) -> Facts:
    """The facts the PyAV probe gives, after the same walk open_media does."""
    settings = Settings()
    sniffed = sniff(data, size=len(data), name=name)
    assert sniffed is not None
    facts = Facts(sniffed.kind, sniffed.format, sniffed.mime)
    reader = Reader(len(data), data=data)
    _WALKERS[facts.format](reader, facts, Budget(settings))
    probe_av(reader, facts, settings)
    return facts


def _close(a: float | None, b: float | None, tol: float) -> bool:
    return a is not None and b is not None and abs(a - b) <= tol


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_native_facts_equal_pyav(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file(name)
    ref = _pyav_facts(data, name)
    _refuse_av_open(monkeypatch)
    with open_media(data, name=name) as media:
        info = media.info
        kind, fmt, mime = media.kind, media.format, media.mime
    assert fmt in NATIVE_FORMATS
    want = ref.info
    assert (kind, fmt, mime) == (ref.kind, ref.format, ref.mime)
    assert info.codecs == want["codecs"]
    assert (info.width, info.height) == (want.get("width"), want.get("height"))
    assert (info.sample_rate, info.channels) == (want.get("sample_rate"), want.get("channels"))
    fps = want.get("fps")
    frame = 1 / fps if fps else 0.0
    assert _close(info.duration, want["duration"], max(frame, 0.02))
    if fps:
        assert info.fps is not None and abs(info.fps - fps) <= 0.01 * fps
        assert info.frames is not None and abs(info.frames - want["frames"]) <= 1
    assert [(s.type, s.codec, s.width, s.height, s.sample_rate, s.channels)
            for s in info.streams] == [
        (s.type, s.codec, s.width, s.height, s.sample_rate, s.channels) for s in want["streams"]
    ]
    # Bit rates follow FFmpeg's formulas; a rounding step apart at most.
    assert info.bit_rate is not None and abs(info.bit_rate - want["bit_rate"]) <= 1


@pytest.mark.parametrize("name", sorted(NATIVE))
def test_native_opens_no_container(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file(name)
    av_opens = _count_av_opens(monkeypatch)
    with open_media(data, name=name) as media:
        assert media.info.streams
    assert av_opens == []


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_fallback_still_uses_pyav(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file(name)
    av_opens = _count_av_opens(monkeypatch)
    with open_media(data, name=name) as media:
        assert media.info.codecs  # (a live Matroska file has no duration, even for PyAV)
        if media.info.has_video:
            assert media.info.width and media.info.fps
        else:
            assert media.info.sample_rate and media.info.channels
    assert len(av_opens) == 1


_LIMITS: list[tuple[str, dict[str, Any], type[Exception]]] = [
    ("h264-aac.mp4", {"max_duration_s": 1.0}, TooLongError),
    ("h264-opus.mkv", {"max_duration_s": 1.0}, TooLongError),
    ("s16-mono-16k.wav", {"max_duration_s": 1.0}, TooLongError),
    ("mono-44k.flac", {"max_duration_s": 1.0}, TooLongError),
    ("h264-aac.mp4", {"max_frames": FRAMES - 1}, TooManyFramesError),
    ("vp9-opus.webm", {"max_frames": FRAMES - 1}, TooManyFramesError),
    ("h264-aac.mov", {"max_pixels": 64 * 48 - 1}, TooManyPixelsError),
    ("vp9-opus.webm", {"max_pixels": 64 * 48 - 1}, TooManyPixelsError),
]


@pytest.mark.parametrize(("name", "limits", "error"), _LIMITS)
def test_limits_apply_without_pyav(
    name: str, limits: dict[str, Any], error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _file(name)
    _refuse_av_open(monkeypatch)
    with pytest.raises(error):
        open_media(data, name=name, settings=Settings(**limits))


def _patched(data: bytes, after: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with the first ``old`` after ``after`` replaced by ``new`` (same length)."""
    at = data.index(old, data.index(after))
    return data[:at] + new + data[at + len(old) :]


_UNDESCRIBED: list[tuple[str, Callable[[bytes], bytes]]] = [
    # An unknown sample entry / CodecID: PyAV names it (or refuses it), not us.
    ("h264-only.mp4", lambda d: _patched(d, b"stsd", b"avc1", b"avcX")),
    ("h264-opus.mkv", lambda d: _patched(d, b"A_OPUS", b"A_OPUS", b"A_OPUZ")),
    # A track kind FFmpeg names its own way (here: the video track's handler made 'text').
    ("h264-aac.mp4", lambda d: _patched(d, b"hdlr", b"vide", b"text")),
]


@pytest.mark.parametrize(("name", "change"), _UNDESCRIBED)
def test_undescribed_streams_fall_back(
    name: str, change: Callable[[bytes], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = change(_file(name))
    av_opens = _count_av_opens(monkeypatch)
    try:
        open_media(data, name=name).close()
    except CorruptMediaError:
        pass  # FFmpeg may refuse a codec it does not know: what matters is that it was asked
    assert len(av_opens) == 1
