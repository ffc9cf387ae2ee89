"""Visible video marks: rendered by marks._render_video, re-measured by marks._verify on the
decoded output (R-EXP-6, R-EXP-7, R-IMPL-5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthguard.errors import UnsupportedFormatError, UsageError
from synthguard.marks import mark_video_file, verify_video_mark
from synthguard.media import open_media
from synthguard.requirements import VIDEO_MARK_DEFAULT_SECONDS, VIDEO_SHORT_NOTE
from synthguard.samples import make_videos

av = pytest.importorskip("av")
pytestmark = pytest.mark.usefixtures("cjk_font")


def _facts(path: Path) -> tuple[int, float, list[bytes], Any]:
    """Decoded frame count, container duration, raw audio packets, video codec name."""
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(str(path)) as container:
        duration = float(container.duration or 0) / 1e6
        codec = container.streams.video[0].codec_context.name
        audio = (
            [bytes(p) for p in container.demux(audio=0) if p.dts is not None]
            if container.streams.audio
            else []
        )
    return frames, duration, audio, codec


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mov", "clip.mkv", "clip.webm"])
def test_marked_video_plays_keeps_audio_and_shows_the_mark(
    mark_samples: Path, tmp_path: Path, name: str
) -> None:
    src = mark_samples / name
    dst = tmp_path / f"marked-{name}"
    result = mark_video_file(src, dst)
    frames_in, duration_in, audio_in, _ = _facts(src)
    frames_out, duration_out, audio_out, codec = _facts(dst)
    assert abs(frames_out - frames_in) <= 1
    assert result.frames == frames_out
    assert duration_out == pytest.approx(duration_in, abs=0.05)
    assert audio_in and audio_out == audio_in  # remuxed byte for byte, never re-encoded
    assert result.audio_packets == len(audio_in)
    assert codec in ({"vp9", "libvpx-vp9"} if name.endswith(".webm") else {"h264"})
    with open_media(dst) as media:
        assert media.format == open_media(src).format
    check = verify_video_mark(dst, expected_text="AI生成")
    assert check.passed, check.findings
    assert check.visible_seconds >= 2.0
    # Sampling at 10 fps: visible until the first frame past the requested 3 s.
    assert check.visible_seconds == pytest.approx(VIDEO_MARK_DEFAULT_SECONDS, abs=0.11)
    assert check.measured_height_px is not None
    assert check.measured_height_px >= check.required_height_px == 12


def test_vector_label_visible_0_to_1_8_s_fails_r_exp_6(mark_samples: Path, tmp_path: Path) -> None:
    # REGULATIONS section 11: "Video label visible 0-1.8 s -> fail R-EXP-6".
    dst = tmp_path / "short-mark.mp4"
    mark_video_file(mark_samples / "clip.mp4", dst, seconds=1.8)
    check = verify_video_mark(dst, expected_text="AI生成")
    assert not check.passed
    assert check.visible_seconds == pytest.approx(1.8, abs=0.11)
    assert [(f.check, f.requirement) for f in check.findings] == [("mark.duration", "R-EXP-6")]


def test_exactly_two_seconds_passes(mark_samples: Path, tmp_path: Path) -> None:
    dst = tmp_path / "two.mp4"
    result = mark_video_file(mark_samples / "clip.mp4", dst, seconds=2.0)
    check = verify_video_mark(dst, placement=result.placement)
    assert check.passed, check.findings
    assert check.visible_seconds == pytest.approx(2.0, abs=0.11)


def test_clip_shorter_than_two_seconds_is_marked_throughout(tmp_path: Path) -> None:
    (src,) = make_videos(tmp_path / "in", 1, seconds=1.2, size=(320, 240))
    dst = tmp_path / "short.mp4"
    result = mark_video_file(src, dst)
    assert result.notes == (VIDEO_SHORT_NOTE,)
    assert result.marked_frames == result.frames == 30
    check = verify_video_mark(dst, expected_text="AI生成")
    assert check.passed, check.findings
    assert check.notes == (VIDEO_SHORT_NOTE,)
    assert check.findings[0].requirement == "R-EXP-7"


def test_unmarked_video_fails(mark_samples: Path) -> None:
    check = verify_video_mark(mark_samples / "clip.mp4", expected_text="AI生成")
    assert not check.passed
    assert check.visible_seconds == 0.0


def test_720p_clip_is_marked_at_its_own_scale(tmp_path: Path) -> None:
    (src,) = make_videos(tmp_path / "in", 1, seconds=2.6, size=(1280, 720))
    dst = tmp_path / "hd.mp4"
    result = mark_video_file(src, dst, position="bottom-left")  # the caption is top-left
    assert result.placement.required_height_px == 36
    check = verify_video_mark(dst, expected_text="AI生成")
    assert check.passed, check.findings
    assert check.frames[0].position == "bottom-left"
    assert check.measured_height_px is not None and check.measured_height_px >= 36


def test_refusals(mark_samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="mkv, mov, mp4, webm"):
        mark_video_file(mark_samples / "clip.avi", tmp_path / "o.avi")
    with pytest.raises(UsageError, match="expected video input"):
        mark_video_file(mark_samples / "voice.wav", tmp_path / "o.wav")
    with pytest.raises(UsageError, match="seconds"):
        mark_video_file(mark_samples / "clip.mp4", tmp_path / "o.mp4", seconds=0)
    with pytest.raises(UsageError, match="R-EXP-1"):
        mark_video_file(mark_samples / "clip.mp4", tmp_path / "o.mp4", text="AI")
    assert not list(tmp_path.iterdir())
