"""Decoding behind Media.image/frames/audio/text: real sizes, times and samples, and every
failure as a synthguard error."""

from __future__ import annotations

import io
import math
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from decode_helpers import build_media
from PIL import Image

from synthguard.errors import (
    DecodeError,
    LimitExceededError,
    MissingDependencyError,
    TooManyPixelsError,
    UsageError,
)
from synthguard.media import Media, _decode, open_media
from synthguard.samples import make_videos
from synthguard.settings import Settings

MediaOf = Callable[..., Media]

IMAGES = ["photo.jpg", "photo.png", "photo.webp", "photo.tiff", "photo.bmp", "photo.avif"]
VIDEOS = ["clip.mp4", "clip.mov", "clip.mkv", "clip.webm", "clip.avi", "clip.flv"]
AUDIO = ["voice.wav", "voice.mp3", "voice.flac", "voice.ogg", "voice.opus", "voice.m4a"]


@pytest.fixture(scope="module")
def clip3s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s, 25 fps H.264 clip with a keyframe every second."""
    return make_videos(tmp_path_factory.mktemp("clip3s"), 1, seconds=3.0)[0]


# -- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", IMAGES)
def test_image_full_size_rgb(media_of: MediaOf, name: str) -> None:
    im = media_of(name).image()
    assert im.mode == "RGB"
    assert im.size == (320, 240)


@pytest.mark.parametrize("name", IMAGES)
def test_image_downscaled_from_bytes(media_of: MediaOf, name: str) -> None:
    im = media_of(name, in_memory=True).image(max_side=100)
    assert im.mode == "RGB"
    assert im.size == (100, 75)


def test_heic_image(media_of: MediaOf, samples_dir: Path) -> None:
    if not (samples_dir / "photo.heic").exists():
        pytest.skip("pillow-heif not installed")
    assert media_of("photo.heic").image(max_side=160).size == (160, 120)


def test_heic_without_pillow_heif(
    media_of: MediaOf, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (samples_dir / "photo.heic").exists():
        pytest.skip("pillow-heif not installed")
    from synthguard.media import _probe

    monkeypatch.setattr(_probe, "_heif_registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    with pytest.raises(MissingDependencyError, match="heif"):
        media_of("photo.heic").image()


def test_gif_first_frame(media_of: MediaOf, samples_dir: Path) -> None:
    with Image.open(samples_dir / "animation.gif") as raw:
        assert raw.n_frames == 6
        first = np.asarray(raw.convert("RGB"))
    im = media_of("animation.gif").image()
    assert im.size == (160, 120)
    assert np.array_equal(np.asarray(im), first)


def test_exif_orientation_applied(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.new("RGB", (64, 32), (200, 10, 10)).save(path, exif=exif)
    assert build_media(path).image().size == (32, 64)
    assert build_media(path).image(max_side=16).size == (8, 16)


def test_transparency_flattened_on_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(path)
    assert np.asarray(build_media(path).image()).min() == 255


def test_pixel_limit_refuses_without_warning(media_of: MediaOf) -> None:
    # pytest turns warnings into errors: a DecompressionBombWarning would fail differently.
    for limit in (1000, 50_000):  # above 2x and within 2x of Pillow's threshold
        with pytest.raises(TooManyPixelsError, match="320x240|76800|76,800"):
            media_of("photo.jpg", Settings(max_pixels=limit), raw=True).image()
    assert Image.MAX_IMAGE_PIXELS != 1000


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_image_is_decode_error(samples_dir: Path, tmp_path: Path, cut: float) -> None:
    data = (samples_dir / "photo.png").read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(DecodeError, match="cut.png"):
        build_media(path).image()


def test_garbage_image_is_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    with pytest.raises(DecodeError):
        build_media(path).image()


# -- video ------------------------------------------------------------------------------------


def test_frames_at_two_fps(clip3s: Path) -> None:
    frames = list(open_media(clip3s, settings=Settings()).frames(fps=2.0))
    assert [f.index for f in frames] == list(range(6))
    for k, frame in enumerate(frames):
        assert abs(frame.time - 0.5 * k) <= 0.021  # the nearest frame: within half of 40 ms
        assert frame.rgb.shape == (240, 320, 3)
        assert frame.rgb.dtype == np.uint8
    # The scene moves: consecutive samples differ.
    assert all(not np.array_equal(a.rgb, b.rgb) for a, b in zip(frames, frames[1:], strict=False))


def _sample(
    media: Media, monkeypatch: pytest.MonkeyPatch, gap: float, **kwargs: object
) -> tuple[list[float], list[np.ndarray], int]:
    seeks = 0
    real_seek = _decode._Cursor._restart

    def counting(self: _decode._Cursor, seek_to: float | None) -> None:
        nonlocal seeks
        seeks += seek_to is not None
        real_seek(self, seek_to)

    with monkeypatch.context() as m:
        m.setattr(_decode, "SEEK_GAP_S", gap)
        m.setattr(_decode._Cursor, "_restart", counting)
        frames = list(media.frames(**kwargs))  # type: ignore[arg-type]
    return [f.time for f in frames], [f.rgb for f in frames], seeks


def test_seeking_gives_the_same_frames_as_decoding(
    clip3s: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = open_media(clip3s, settings=Settings())
    t_seq, rgb_seq, seeks_seq = _sample(media, monkeypatch, math.inf, fps=1.6, start=0.3)
    t_seek, rgb_seek, seeks_seek = _sample(media, monkeypatch, 0.0, fps=1.6, start=0.3)
    assert seeks_seq == 0 and seeks_seek == len(t_seek) == 5
    assert t_seq == t_seek
    for a, b in zip(rgb_seq, rgb_seek, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("name", VIDEOS)
def test_every_container_seeks_consistently(
    media_of: MediaOf, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    media = media_of(name, in_memory=name.endswith(("mkv", "flv")))
    t_seq, rgb_seq, _ = _sample(media, monkeypatch, math.inf, fps=1.0, max_side=80)
    t_seek, rgb_seek, _ = _sample(media, monkeypatch, 0.0, fps=1.0, max_side=80)
    assert len(t_seq) == 4  # 3.2 s at 1 fps: 0, 1, 2, 3
    for k, t in enumerate(t_seq):
        assert abs(t - k) <= 0.021
    assert t_seq == t_seek
    for a, b in zip(rgb_seq, rgb_seek, strict=True):
        assert a.shape == (60, 80, 3)
        assert np.array_equal(a, b)


def test_far_apart_samples_seek_by_default(clip3s: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.4 fps: samples 2.5 s apart, beyond SEEK_GAP_S; a keyframe a second also says "seek".
    times, _, seeks = _sample(
        open_media(clip3s, settings=Settings()), monkeypatch, _decode.SEEK_GAP_S, fps=0.4
    )
    assert len(times) == 2 and seeks == 1


def test_frames_bounded(clip3s: Path) -> None:
    media = open_media(clip3s, settings=Settings())
    assert len(list(media.frames(fps=25.0, max_frames=7))) == 7
    window = list(media.frames(fps=10.0, start=1.0, end=1.5))  # end is exclusive
    assert len(window) == 5
    for k, frame in enumerate(window):
        assert abs(frame.time - (1.0 + 0.1 * k)) <= 0.021
    # Faster than the stream's own rate: every frame at most once.
    fast = list(media.frames(fps=100.0, start=0.0, end=0.5))
    assert len(fast) == len({f.time for f in fast}) == 13


def test_frames_bad_arguments(clip3s: Path) -> None:
    media = open_media(clip3s, settings=Settings())
    with pytest.raises(UsageError):
        media.frames(fps=0.0)
    with pytest.raises(UsageError):
        media.frames(start=-1.0)


def test_frames_of_garbage_is_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    with pytest.raises(DecodeError, match="junk.mp4"):
        list(build_media(path).frames())


def test_frames_without_pyav(clip3s: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingDependencyError, match="'video' extra"):
        open_media(clip3s, settings=Settings()).frames()


# -- audio ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", AUDIO)
def test_audio_resampled_mono(media_of: MediaOf, name: str) -> None:
    clip = media_of(name).audio(sample_rate=16_000)
    assert clip.sample_rate == 16_000
    assert clip.samples.dtype == np.float32
    assert clip.samples.ndim == 1
    assert abs(clip.duration - 2.0) < 0.08  # encoder padding is a few ms
    assert -1.0 <= float(clip.samples.min()) < -0.1 and 0.1 < float(clip.samples.max()) <= 1.0


def test_audio_keeps_channels(media_of: MediaOf) -> None:
    clip = media_of("voice.ogg", in_memory=True).audio(sample_rate=8_000, mono=False)
    assert clip.samples.shape[0] == 2  # the Vorbis sample is stereo
    assert abs(clip.samples.shape[1] - 16_000) < 8_000 * 0.08


def test_audio_window_matches_full_decode(media_of: MediaOf) -> None:
    media = media_of("voice.wav")
    full = media.audio(sample_rate=22_050).samples
    part = media.audio(sample_rate=22_050, start=1.0, end=1.5)
    assert part.start == 1.0
    assert part.samples.shape == (11_025,)
    assert np.allclose(part.samples, full[22_050:33_075], atol=1e-4)


def test_audio_track_of_video(media_of: MediaOf) -> None:
    clip = media_of("clip.mp4").audio()
    assert clip.sample_rate == 16_000
    assert abs(clip.duration - 3.2) < 0.08


def test_audio_bounded_by_max_duration(media_of: MediaOf) -> None:
    clip = media_of("voice.flac", Settings(max_duration_s=0.5), raw=True).audio(sample_rate=8_000)
    assert clip.samples.shape == (4_000,)


def test_no_audio_stream(media_of: MediaOf) -> None:
    with pytest.raises(DecodeError, match="expected an audio stream"):
        media_of("animation.gif").audio()


def test_audio_bad_arguments(media_of: MediaOf) -> None:
    with pytest.raises(UsageError):
        media_of("voice.wav").audio(start=1.0, end=0.5)


# -- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["notes.txt", "notes.md", "notes.pdf", "notes.docx"])
def test_text_has_the_known_words(media_of: MediaOf, name: str) -> None:
    text = media_of(name).text()
    assert "synthguard sample notes" in text
    assert "Reference number" in text
    assert "labels, provenance and detection" in text


def test_markdown_keeps_front_matter(media_of: MediaOf) -> None:
    assert media_of("notes.md").text().startswith("---\ntitle: synthguard sample notes")


@pytest.mark.parametrize("name", ["notes.txt", "notes.pdf", "notes.docx"])
def test_text_bounded(media_of: MediaOf, name: str) -> None:
    text = media_of(name, Settings(max_text_chars=12)).text()
    assert len(text) == 12


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("\ufeffhello BOM".encode(), "hello BOM"),
        ("héllo wörld".encode("utf-16"), "héllo wörld"),
        (b"caf\xe9 latin", "caf\ufffd latin"),
    ],
)
def test_text_encodings(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    assert build_media(path).text() == expected


def test_corrupt_pdf_is_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer <<>>\n")
    with pytest.raises(DecodeError, match="bad.pdf"):
        build_media(path).text()


def test_pdf_without_pypdf(media_of: MediaOf, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)
    with pytest.raises(MissingDependencyError, match="'text' extra"):
        media_of("notes.pdf").text()


def _docx(tmp_path: Path, members: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    path = tmp_path / "doc.docx"
    path.write_bytes(buf.getvalue())
    return path


def test_docx_without_body(tmp_path: Path) -> None:
    path = _docx(tmp_path, {"[Content_Types].xml": b"<Types/>"})
    with pytest.raises(DecodeError, match="word/document.xml"):
        build_media(path).text()


def test_docx_entities_refused(tmp_path: Path) -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;">]><d>&b;</d>'
    )
    path = _docx(tmp_path, {"word/document.xml": xml})
    with pytest.raises(DecodeError):
        build_media(path).text()


def test_docx_member_limit(tmp_path: Path) -> None:
    path = _docx(tmp_path, {f"m{i}": b"" for i in range(5)} | {"word/document.xml": b"<d/>"})
    with pytest.raises(LimitExceededError, match="members"):
        build_media(path, Settings(max_archive_members=3)).text()
