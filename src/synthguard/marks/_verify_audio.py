"""Finding the rhythm label in audio (R-EXP-4, R-EXP-5), separate from its renderer (R-IMPL-5).

The decoded output is scanned on 10 ms hops: the energy in a narrow band around the tone
frequency (a complex demodulation averaged over 20 ms, i.e. a sliding single-bin DFT) against
the total energy marks tone frames; runs of them are bursts. Four bursts in a row match
"short-long, short-short" by *ratios*, as R-EXP-5 asks, never by absolute durations: the long
one at least ``min_long_short_ratio`` times every short one, the shorts alike, the gap between
the letters wider than the gaps inside them, and quiet around the group. A continuous tone, or
speech, never forms that group.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import UsageError
from synthguard.marks._io import rhythm_value
from synthguard.media import Kind, open_media

if TYPE_CHECKING:
    from synthguard.settings import Settings

__all__ = [
    "AudioMarkCheck",
    "RhythmHit",
    "find_rhythm_mark",
    "find_rhythm_marks",
    "verify_audio_mark",
]

_HOP_S = 0.01
_WINDOW_S = 0.02
_TONE_SHARE = 0.5  # share of a frame's energy in the tone band for a tone frame
_FLOOR_DBFS = -50.0  # tone frames are at least this loud
_EDGE_DB = 6.0  # a burst's edges are where it falls 6 dB under its own peak
_CONTENT_DBFS = -45.0  # anything louder before/after a mark is content
_SHORTS_SPREAD = 1.6  # the three short bursts are alike: longest / shortest at most this
_LETTER_GAP_RATIO = 1.5  # the gap between the letters is this much wider than inside them
_CHUNK_FRAMES = 4096
_VERIFY_RATE = 16_000


@dataclass(frozen=True)
class RhythmHit:
    """One rhythm label found: its span in seconds and where it sits relative to the content
    (``start``: nothing before it; ``end``: nothing after it; ``middle``: content both sides)."""

    start: float
    end: float
    position: str
    durations: tuple[float, ...]
    gaps: tuple[float, ...]
    ratio: float  # the long burst over the longest short one

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "position": self.position,
            "durations": list(self.durations),
            "gaps": list(self.gaps),
            "ratio": self.ratio,
        }


@dataclass(frozen=True)
class AudioMarkCheck:
    """The rhythm labels of one audio file and whether they are where they must be."""

    passed: bool
    hits: tuple[RhythmHit, ...]
    expected: tuple[str, ...]
    message: str
    requirement: str = "R-EXP-4"
    duration: float | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "hits": [h.to_dict() for h in self.hits],
            "expected": list(self.expected),
            "message": self.message,
            "requirement": self.requirement,
            "duration": self.duration,
        }


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        # (channels, n) as synthguard uses it; a (n, channels) array has few columns.
        x = x.mean(axis=0) if x.shape[0] <= x.shape[1] else x.mean(axis=1)
    if x.ndim != 1:
        raise UsageError(f"expected samples of shape (n,) or (channels, n), got {x.shape}")
    return x


def _envelope(x: np.ndarray, rate: int, tone_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms hop: the tone band level (dBFS of a sine) and the whole frame level, by
    sliding 20 ms windows; processed in chunks so memory stays flat for long files."""
    hop = max(1, round(_HOP_S * rate))
    win = max(2, round(_WINDOW_S * rate))
    frames = max(0, (x.size - win) // hop + 1)
    tone_db = np.full(frames, -200.0)
    total_db = np.full(frames, -200.0)
    omega = 2.0 * math.pi * tone_hz / rate
    for k0 in range(0, frames, _CHUNK_FRAMES):
        k1 = min(frames, k0 + _CHUNK_FRAMES)
        seg = x[k0 * hop : (k1 - 1) * hop + win]
        n = np.arange(seg.size)
        base = np.concatenate([[0.0], np.cumsum(seg * np.exp(-1j * omega * n))])
        power = np.concatenate([[0.0], np.cumsum(seg * seg)])
        starts = np.arange(k1 - k0) * hop
        band = (base[starts + win] - base[starts]) / win
        mean_sq = (power[starts + win] - power[starts]) / win
        # A sine of amplitude A: |band| = A / 2 and mean_sq = A^2 / 2; both map to A in dBFS.
        tone_db[k0:k1] = 20.0 * np.log10(np.maximum(2.0 * np.abs(band), 1e-10))
        total_db[k0:k1] = 10.0 * np.log10(np.maximum(2.0 * np.maximum(mean_sq, 0.0), 1e-20))
    return tone_db, total_db


def _bursts(tone_db: np.ndarray, total_db: np.ndarray) -> list[tuple[int, int]]:
    """``[first, last + 1)`` frame runs of tone, trimmed to 6 dB under each run's peak."""
    share_db = 10.0 * math.log10(_TONE_SHARE)
    on = (tone_db >= _FLOOR_DBFS) & (tone_db - total_db >= share_db)
    idx = np.flatnonzero(on)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    out: list[tuple[int, int]] = []
    for a, b in zip(starts, ends, strict=True):
        peak = float(tone_db[a:b].max())
        keep = np.flatnonzero(tone_db[a:b] >= peak - _EDGE_DB)
        out.append((int(a + keep[0]), int(a + keep[-1] + 1)))
    return out


def _match(spans: list[tuple[float, float]], i: int) -> tuple[float, ...] | None:
    """Whether bursts ``i .. i+3`` are "short-long, short-short"; their ratio if so."""
    d = [e - s for s, e in spans[i : i + 4]]
    g = [spans[i + k + 1][0] - spans[i + k][1] for k in range(3)]
    shorts = (d[0], d[2], d[3])
    ratio = d[1] / max(shorts)
    if ratio < rhythm_value("min_long_short_ratio"):
        return None
    if max(shorts) > _SHORTS_SPREAD * min(shorts):
        return None
    unit = sum(shorts) / 3.0
    inner = max(g[0], g[2])
    if min(g) < 0.3 * unit or max(g) > 6.0 * unit or g[1] < _LETTER_GAP_RATIO * inner:
        return None
    # Alone: no tone burst closer than the letter gap on either side (not part of a longer
    # sequence of beeps).
    quiet = 0.8 * g[1]
    if i > 0 and spans[i][0] - spans[i - 1][1] < quiet:
        return None
    if i + 4 < len(spans) and spans[i + 4][0] - spans[i + 3][1] < quiet:
        return None
    return (ratio, *d, *g)


def find_rhythm_marks(samples: np.ndarray, sample_rate: int) -> list[RhythmHit]:
    """Every rhythm label in ``samples`` (shape ``(n,)`` or ``(channels, n)``), in order."""
    if sample_rate <= 2 * rhythm_value("tone_hz"):
        raise UsageError(
            f"expected a sample rate above {2 * rhythm_value('tone_hz'):g} Hz to find the "
            f"rhythm tone, got {sample_rate}"
        )
    x = _mono(samples)
    tone_db, total_db = _envelope(x, sample_rate, rhythm_value("tone_hz"))
    hop = max(1, round(_HOP_S * sample_rate))
    win = max(2, round(_WINDOW_S * sample_rate))
    offset = (win / 2.0 - hop / 2.0) / sample_rate  # frame k stands for the hop at its centre

    def at(k: int) -> float:
        return k * hop / sample_rate + offset

    spans = [(at(a), at(b)) for a, b in _bursts(tone_db, total_db)]
    loud = total_db >= _CONTENT_DBFS
    hits: list[RhythmHit] = []
    i = 0
    while i + 4 <= len(spans):
        matched = _match(spans, i)
        if matched is None:
            i += 1
            continue
        start, end = spans[i][0], spans[i + 3][1]
        hits.append(
            RhythmHit(
                start=round(start, 3),
                end=round(end, 3),
                position=_position(loud, spans, i, hop / sample_rate, offset),
                durations=tuple(round(v, 3) for v in matched[1:5]),
                gaps=tuple(round(v, 3) for v in matched[5:8]),
                ratio=round(matched[0], 2),
            )
        )
        i += 4
    return hits


def _position(
    loud: np.ndarray, spans: list[tuple[float, float]], i: int, hop_s: float, offset: float
) -> str:
    """``start`` when nothing loud comes before the mark, ``end`` when nothing comes after."""
    first = max(0, math.floor((spans[i][0] - offset) / hop_s) - 3)
    last = min(loud.size, math.ceil((spans[i + 3][1] - offset) / hop_s) + 3)
    before = bool(loud[:first].any())
    after = bool(loud[last:].any())
    if not before:
        return "start"
    if not after:
        return "end"
    return "middle"


def find_rhythm_mark(samples: np.ndarray, sample_rate: int) -> RhythmHit | None:
    """The first rhythm label in ``samples``, or ``None`` (a missing label is a value)."""
    hits = find_rhythm_marks(samples, sample_rate)
    return hits[0] if hits else None


def verify_audio_mark(
    src: str | os.PathLike[str],
    *,
    where: str | None = None,
    settings: Settings | None = None,
) -> AudioMarkCheck:
    """Decode the final audio file (or a video's sound) and check its rhythm labels.

    Without ``where``, one label anywhere passes (R-EXP-4: start, end or a suitable middle);
    with ``where`` in ``start``, ``end`` or ``both`` those positions must hold one.
    """
    expected = {None: (), "start": ("start",), "end": ("end",), "both": ("start", "end")}
    if where not in expected:
        raise UsageError(f"expected where in start, end, both or None, got {where!r}")
    with _open_audio(src, settings) as media:
        clip = media.audio(
            sample_rate=_VERIFY_RATE, mono=True, end=float(media.settings.max_duration_s)
        )
    hits = tuple(find_rhythm_marks(clip.samples, clip.sample_rate))
    want = expected[where]
    found = {h.position for h in hits}
    if want:
        missing = [w for w in want if w not in found]
        passed = not missing
        message = (
            f"expected the rhythm label at the {' and '.join(want)}, found it at "
            f"{', '.join(sorted(found)) or 'no position'}"
        )
    else:
        passed = bool(hits)
        message = (
            f"expected a rhythm label (short-long short-short), found {len(hits)}"
        )
    return AudioMarkCheck(
        passed=passed, hits=hits, expected=want, message=message, duration=clip.duration
    )


def _open_audio(src: str | os.PathLike[str], settings: Settings | None) -> Any:
    """Audio files and videos (their sound) alike, through the boundary."""
    media = open_media(src, settings=settings)
    if media.kind not in (Kind.AUDIO, Kind.VIDEO):
        media.close()
        raise UsageError(
            f"expected audio or video input, got {media.kind.value} ({media.format})"
        )
    return media
