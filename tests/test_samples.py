"""The demo media generator: every format, small, decodable, deterministic."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import av
import pytest
from PIL import Image

from synthguard.samples import generate_samples, make_audio_files, make_jpegs, make_videos

EXPECTED = {
    "photo.jpg",
    "photo.png",
    "photo.webp",
    "photo.tiff",
    "photo.bmp",
    "photo.avif",
    "animation.gif",
    "voice.wav",
    "voice.mp3",
    "voice.flac",
    "voice.ogg",
    "voice.opus",
    "voice.m4a",
    "clip.mp4",
    "clip.mov",
    "clip.mkv",
    "clip.webm",
    "clip.avi",
    "clip.flv",
    "notes.txt",
    "notes.md",
    "notes.pdf",
    "notes.docx",
}


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], float]:
    started = time.perf_counter()
    paths = generate_samples(tmp_path_factory.mktemp("set"), seed=3)
    return paths, time.perf_counter() - started


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_every_format_small_and_quick(sample_set: tuple[list[Path], float]) -> None:
    paths, seconds = sample_set
    names = {p.name for p in paths}
    assert EXPECTED <= names <= EXPECTED | {"photo.heic"}
    assert sum(p.stat().st_size for p in paths) < 5 * 1024 * 1024
    assert seconds < 30  # a few seconds on two cores; generous for slow CI


def test_images_open_at_their_size(sample_set: tuple[list[Path], float]) -> None:
    for path in sample_set[0]:
        if path.name.startswith("photo.") and path.suffix != ".heic":
            with Image.open(path) as im:
                assert im.size == (320, 240), path.name
    gif = next(p for p in sample_set[0] if p.name == "animation.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 6


@pytest.mark.parametrize(
    ("name", "vcodec", "acodec"),
    [
        ("clip.mp4", "h264", "aac"),
        ("clip.mov", "h264", "aac"),
        ("clip.mkv", "h264", "vorbis"),
        ("clip.webm", "vp9", "opus"),
        ("clip.avi", "mpeg4", "mp3"),
        ("clip.flv", "flv", "mp3"),
    ],
)
def test_videos_have_both_tracks(
    sample_set: tuple[list[Path], float], name: str, vcodec: str, acodec: str
) -> None:
    path = next(p for p in sample_set[0] if p.name == name)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, video.width, video.height) == (vcodec, 320, 240)
        assert acodec in container.streams.audio[0].codec_context.name
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 80  # 3.2 s at 25 fps


def test_same_seed_same_bytes(tmp_path: Path, sample_set: tuple[list[Path], float]) -> None:
    again = generate_samples(tmp_path, seed=3)
    assert _digests(again) == _digests(sample_set[0])
    other = generate_samples(tmp_path / "other", seed=4)
    changed = {k for k, v in _digests(other).items() if _digests(sample_set[0])[k] != v}
    assert changed == {p.name for p in other}


def test_count_writes_numbered_sets(tmp_path: Path) -> None:
    paths = generate_samples(tmp_path, count=2)
    names = {p.name for p in paths}
    assert {"photo.jpg", "photo-2.jpg", "notes-2.pdf", "clip-2.webm"} <= names
    assert len(paths) == len(set(paths))


def test_make_jpegs(tmp_path: Path) -> None:
    paths = make_jpegs(tmp_path, 5, size=(64, 48), seed=1)
    assert [p.name for p in paths] == [f"image-{i:04d}.jpg" for i in range(5)]
    assert len(set(_digests(paths).values())) == 5
    with Image.open(paths[0]) as im:
        assert (im.format, im.size) == ("JPEG", (64, 48))
    assert _digests(make_jpegs(tmp_path / "again", 5, size=(64, 48), seed=1)) == _digests(paths)


def test_make_audio_files(tmp_path: Path) -> None:
    paths = make_audio_files(tmp_path, 4, seconds=1.0)
    assert [p.suffix for p in paths] == [".wav", ".mp3", ".flac", ".wav"]
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(stream))
        assert abs(samples / stream.rate - 1.0) < 0.08


def test_make_videos(tmp_path: Path) -> None:
    paths = make_videos(tmp_path, 2, seconds=1.0, size=(96, 64))
    assert [p.name for p in paths] == ["video-0000.mp4", "video-0001.mp4"]
    with av.open(str(paths[0])) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (96, 64)
        assert container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 25
