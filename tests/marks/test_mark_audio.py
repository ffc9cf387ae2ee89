"""Audible marks: the rhythm label rendered by marks._render_audio and found by
marks._verify_audio on the re-encoded output (R-EXP-4, R-EXP-5)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from synthguard.errors import MissingSystemPackageError, UsageError
from synthguard.marks import (
    find_rhythm_mark,
    find_rhythm_marks,
    mark_audio_file,
    rhythm_mark,
    verify_audio_mark,
)
from synthguard.media import open_media
from synthguard.requirements import AUDIO_RHYTHM

RHYTHM = [(0.1, 0.1), (0.3, 0.3), (0.1, 0.1), (0.1, 0.3)]
AUDIO = ["voice.wav", "voice.mp3", "voice.flac", "voice.ogg", "voice.opus", "voice.m4a"]


def _speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Voiced syllables with harmonics crossing 1 kHz, pitch glides and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    f0 = 180 * (1 + 0.2 * np.sin(2 * math.pi * 0.8 * t))
    phase = 2 * math.pi * np.cumsum(f0) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = (np.sin(2 * math.pi * 4.0 * t) > -0.2).astype(float)
    return (0.3 * voiced * syllables + rng.normal(0, 0.01, t.size)).astype(np.float32)


def _beeps(
    durations_gaps: list[tuple[float, float]], rate: int, hz: float = 1000.0
) -> np.ndarray:
    parts = []
    for on, off in durations_gaps:
        n = round(on * rate)
        parts.append(0.25 * np.sin(2 * math.pi * hz * np.arange(n) / rate))
        parts.append(np.zeros(round(off * rate)))
    return np.concatenate(parts).astype(np.float32)


def test_rhythm_mark_timing_level_and_channels() -> None:
    mark = rhythm_mark(48_000, 2)
    assert mark.shape[0] == 2 and mark.dtype == np.float32
    assert np.array_equal(mark[0], mark[1])
    expected_s = 0.1 + 0.1 + 0.3 + 0.3 + 0.1 + 0.1 + 0.1
    assert mark.shape[1] == round(expected_s * 48_000)
    peak_db = 20 * math.log10(float(np.abs(mark).max()))
    assert abs(peak_db - float(AUDIO_RHYTHM["level_dbfs"])) < 0.1  # type: ignore[arg-type]
    assert abs(float(mark[0, 0])) < 1e-3 and abs(float(mark[0, -1])) < 1e-3  # faded
    hit = find_rhythm_mark(mark, 48_000)
    assert hit is not None and hit.ratio >= 2.0
    assert hit.durations[1] / max(hit.durations[0], hit.durations[2], hit.durations[3]) > 2.5


@pytest.mark.parametrize("name", AUDIO)
@pytest.mark.parametrize("where", ["start", "end", "both"])
def test_rhythm_found_where_it_was_put_after_encoding(
    mark_samples: Path, tmp_path: Path, name: str, where: str
) -> None:
    dst = tmp_path / f"marked-{name}"
    result = mark_audio_file(mark_samples / name, dst, where=where)
    with open_media(dst) as out, open_media(mark_samples / name) as src:
        assert out.format == src.format
        grown = (out.info.duration or 0) - (src.info.duration or 0)
    per_mark = 1.1 + 0.3
    assert grown == pytest.approx(per_mark * (2 if where == "both" else 1), abs=0.1)
    check = verify_audio_mark(dst, where=where)
    assert check.passed, check.message
    positions = [h.position for h in check.hits]
    assert positions == {"start": ["start"], "end": ["end"], "both": ["start", "end"]}[where]
    for hit, (begin, _end) in zip(check.hits, result.marks, strict=True):
        assert abs(hit.start - begin) < 0.06  # encoder delay and 10 ms hops


@pytest.mark.parametrize("name", AUDIO)
def test_unmarked_audio_has_no_rhythm(mark_samples: Path, name: str) -> None:
    check = verify_audio_mark(mark_samples / name)
    assert not check.passed and check.hits == ()


def test_vector_rhythm_before_speech_passes_r_exp_4(tmp_path: Path) -> None:
    # REGULATIONS section 11: "Audio prefixed with rhythm ·− ·· before speech -> pass R-EXP-4".
    rate = 16_000
    audio = np.concatenate(
        [rhythm_mark(rate)[0], np.zeros(round(0.3 * rate), np.float32), _speech_like(3.0, rate)]
    )
    hit = find_rhythm_mark(audio, rate)
    assert hit is not None and hit.position == "start"
    speech_first = np.concatenate(
        [_speech_like(2.0, rate), np.zeros(rate // 2, np.float32), rhythm_mark(rate)[0]]
    )
    hit = find_rhythm_mark(speech_first, rate)
    assert hit is not None and hit.position == "end"
    sandwiched = np.concatenate([_speech_like(1.0, rate), np.zeros(rate // 2, np.float32),
                                 rhythm_mark(rate)[0], np.zeros(rate // 2, np.float32),
                                 _speech_like(1.0, rate, seed=1)])
    hit = find_rhythm_mark(sandwiched, rate)
    assert hit is not None and hit.position == "middle"


@pytest.mark.parametrize(
    "label, signal",
    [
        ("continuous 1 kHz tone", lambda r: _beeps([(3.0, 0.0)], r)),
        ("speech-like", lambda r: _speech_like(4.0, r)),
        ("dot dot dot dot", lambda r: _beeps([(0.1, 0.1)] * 4, r)),
        ("dash dash dot dot", lambda r: _beeps([(0.3, 0.1), (0.3, 0.3), (0.1, 0.1),
                                                (0.1, 0.1)], r)),
        ("Morse L, no letter gap", lambda r: _beeps([(0.1, 0.1), (0.3, 0.1), (0.1, 0.1),
                                                     (0.1, 0.1)], r)),
        ("long/short below 2", lambda r: _beeps([(0.1, 0.1), (0.18, 0.3), (0.1, 0.1),
                                                 (0.1, 0.1)], r)),
        ("part of a longer beep train", lambda r: _beeps([(0.1, 0.1), (0.3, 0.3), (0.1, 0.1),
                                                          (0.1, 0.1), (0.1, 0.1)], r)),
        ("2 kHz rhythm", lambda r: _beeps(RHYTHM, r, hz=2000.0)),
        ("silence", lambda r: np.zeros(2 * r, np.float32)),
    ],
)
def test_no_false_positives(label: str, signal: object) -> None:
    rate = 16_000
    samples = signal(rate)  # type: ignore[operator]
    assert find_rhythm_marks(samples, rate) == [], label


def test_detection_is_ratio_based_not_absolute() -> None:
    rate = 22_050
    for unit in (0.06, 0.1, 0.16):
        fast = _beeps([(unit, unit), (3 * unit, 3 * unit), (unit, unit), (unit, 0.5)], rate)
        hit = find_rhythm_mark(np.concatenate([np.zeros(rate // 4, np.float32), fast]), rate)
        assert hit is not None, unit
        assert hit.ratio >= 2.0


def test_same_rhythm_at_1khz_is_found() -> None:
    assert find_rhythm_mark(_beeps(RHYTHM, 16_000), 16_000) is not None


def test_rhythm_in_stereo_over_a_noise_floor() -> None:
    rate = 44_100
    mark = rhythm_mark(rate, 2)
    rng = np.random.default_rng(0)
    noisy = mark + rng.normal(0, 0.01, mark.shape).astype(np.float32)
    hit = find_rhythm_mark(noisy, rate)
    assert hit is not None


def test_spoken_without_espeak_names_the_package(
    mark_samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(MissingSystemPackageError, match="espeak-ng"):
        mark_audio_file(mark_samples / "voice.wav", tmp_path / "out.wav", spoken=True)
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_spoken_label_follows_the_rhythm(mark_samples: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.wav"
    result = mark_audio_file(mark_samples / "voice.wav", dst, spoken=True)
    assert result.spoken
    assert verify_audio_mark(dst, where="start").passed


def test_bad_arguments_are_usage_errors(mark_samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="where"):
        mark_audio_file(mark_samples / "voice.wav", tmp_path / "o.wav", where="middle")
    with pytest.raises(UsageError, match="expected audio input"):
        mark_audio_file(mark_samples / "photo.png", tmp_path / "o.png")
    with pytest.raises(UsageError, match="sample rate"):
        rhythm_mark(1_500)
    with pytest.raises(UsageError, match="where"):
        verify_audio_mark(mark_samples / "voice.wav", where="anywhere")
