"""open_media(): sources, path checks, probe facts for every format, and the promise that no
input bytes ever produce anything but a SynthguardError."""

from __future__ import annotations

import hashlib
import io
import os
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_factory import samples

from synthguard.errors import (
    EmptyFileError,
    FileTooLargeError,
    MissingDependencyError,
    SymlinkLoopError,
    SynthguardError,
    UnreadableError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.media import Kind, Media, open_media
from synthguard.settings import Settings

# name -> (kind, format, facts that must hold)
FACTS: dict[str, tuple[Kind, str, dict[str, object]]] = {
    "image.jpg": (Kind.IMAGE, "jpeg", {"width": 64, "height": 48, "mode": "RGB"}),
    "image.png": (Kind.IMAGE, "png", {"width": 64, "height": 48, "mode": "RGB"}),
    "image.webp": (Kind.IMAGE, "webp", {"width": 64, "height": 48}),
    "image.gif": (Kind.IMAGE, "gif", {"width": 64, "height": 48, "pages": 3, "animated": True}),
    "image.tiff": (Kind.IMAGE, "tiff", {"width": 64, "height": 48, "mode": "RGB"}),
    "image.bmp": (Kind.IMAGE, "bmp", {"width": 64, "height": 48, "mode": "RGB"}),
    "image.avif": (Kind.IMAGE, "avif", {"width": 64, "height": 48}),
    "image.heic": (Kind.IMAGE, "heic", {"width": 64, "height": 48}),
    "audio.wav": (Kind.AUDIO, "wav", {"sample_rate": 16000, "channels": 1, "duration": 0.5}),
    "audio.mp3": (Kind.AUDIO, "mp3", {"sample_rate": 44100, "codecs": ("mp3",)}),
    "audio.flac": (Kind.AUDIO, "flac", {"sample_rate": 22050, "duration": 0.5}),
    "audio.ogg": (Kind.AUDIO, "ogg", {"sample_rate": 44100, "codecs": ("vorbis",)}),
    "audio.opus": (Kind.AUDIO, "opus", {"sample_rate": 48000, "codecs": ("opus",)}),
    "audio.m4a": (Kind.AUDIO, "m4a", {"sample_rate": 44100, "codecs": ("aac",)}),
    "audio-only.mp4": (Kind.AUDIO, "m4a", {"sample_rate": 44100}),
    "audio.aac": (Kind.AUDIO, "aac", {"sample_rate": 44100}),
    "audio-only.webm": (Kind.AUDIO, "webm", {"sample_rate": 48000}),
    "video.mp4": (Kind.VIDEO, "mp4", {"width": 32, "height": 32, "fps": 10.0, "frames": 10,
                                      "codecs": ("h264", "aac"), "sample_rate": 48000}),
    "video.mov": (Kind.VIDEO, "mov", {"width": 32, "height": 32, "frames": 10}),
    "video.mkv": (Kind.VIDEO, "mkv", {"width": 32, "height": 32, "codecs": ("h264", "opus")}),
    "video.webm": (Kind.VIDEO, "webm", {"width": 32, "height": 32, "codecs": ("vp8", "opus")}),
    "video.avi": (Kind.VIDEO, "avi", {"width": 32, "height": 32, "frames": 10}),
    "video.flv": (Kind.VIDEO, "flv", {"width": 32, "height": 32}),
    "text.txt": (Kind.TEXT, "txt", {"encoding": "utf-8", "chars": 42}),
    "notes.md": (Kind.TEXT, "md", {"encoding": "utf-8"}),
    "front.txt": (Kind.TEXT, "md", {}),
    "doc.pdf": (Kind.TEXT, "pdf", {"pages": 2}),
    "doc.docx": (Kind.TEXT, "docx", {"pages": 3}),
}
DURATIONS = {  # seconds, with tolerance: encoders pad and prime
    "audio.mp3": 0.5, "audio.ogg": 0.5, "audio.opus": 0.5, "audio.m4a": 0.5, "audio.aac": 0.5,
    "video.mp4": 1.0, "video.mov": 1.0, "video.mkv": 1.0, "video.webm": 1.0, "video.avi": 1.0,
    "video.flv": 1.0,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("intake")
    for name, data in samples().items():
        (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("name", sorted(FACTS))
@pytest.mark.parametrize("how", ["path", "bytes", "stream"])
def test_probe_facts(name: str, how: str, files: Path) -> None:
    data = samples()[name]
    if how == "path":
        media = open_media(files / name)
    elif how == "bytes":
        media = open_media(data, name=name)
    else:
        media = open_media(io.BytesIO(data), name=name)
    kind, fmt, facts = FACTS[name]
    assert (media.kind, media.format) == (kind, fmt)
    assert media.sha256 == hashlib.sha256(data).hexdigest()
    assert media.size == len(data)
    assert media.warnings == ()
    for key, value in facts.items():
        assert getattr(media.info, key) == value, key
    if name in DURATIONS:
        assert media.info.duration == pytest.approx(DURATIONS[name], abs=0.06)
    if how == "path":
        assert media.path == files / name and media.name == str(files / name)
    else:
        assert media.path is None and media.read_bytes() == data
    assert media.info.to_dict()  # JSON-ready


def test_stream_info_for_video(files: Path) -> None:
    info = open_media(files / "video.mp4").info
    video, audio = info.streams
    assert (video.type, video.codec, video.width, video.frames) == ("video", "h264", 32, 10)
    assert (audio.type, audio.codec, audio.sample_rate) == ("audio", "aac", 48000)
    assert audio.channels == 1
    assert info.has_video and info.has_audio


def test_mime_follows_the_probe() -> None:
    assert open_media(samples()["audio-only.mp4"]).mime == "audio/mp4"
    assert open_media(samples()["audio-only.webm"]).mime == "audio/webm"
    assert open_media(samples()["doc.docx"]).mime.endswith("wordprocessingml.document")


# -- sources and names ---------------------------------------------------------------------


def test_pathlike_and_str(files: Path) -> None:
    assert open_media(str(files / "image.png")).format == "png"
    assert open_media(os.fsencode(files / "image.png").decode()).format == "png"


def test_non_utf8_file_name(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"bad-\xff\xfe.png")
    with open(raw, "wb") as fh:
        fh.write(samples()["image.png"])
    media = open_media(os.fsdecode(raw))
    assert media.format == "png"
    assert os.fsencode(media.name) == raw
    assert media.read_bytes() == samples()["image.png"]


def test_stream_name_and_text_stream() -> None:
    stream = io.BytesIO(samples()["image.png"])
    assert open_media(stream).name == "<stream>"
    with pytest.raises(UsageError):
        open_media(io.StringIO("text"))  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        open_media(12345)  # type: ignore[arg-type]


def test_in_memory_threshold_does_not_change_results(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthguard.media import _open

    monkeypatch.setattr(_open, "IN_MEMORY_BYTES", 100)  # force the chunked, seeking path
    for name, (kind, fmt, facts) in FACTS.items():
        media = open_media(files / name)
        assert (media.kind, media.format) == (kind, fmt)
        assert all(getattr(media.info, key) == value for key, value in facts.items())
        assert media.sha256 == hashlib.sha256(samples()[name]).hexdigest()
    jpeg = samples()["image.jpg"]
    (files / "cut.jpg").write_bytes(jpeg[:-100])
    with pytest.raises(SynthguardError, match="end-of-image"):
        open_media(files / "cut.jpg")


def test_short_reads_and_growing_files_are_read_to_the_end() -> None:
    from synthguard.media._open import _read_small

    content = bytes(range(256)) * 10
    assert _read_small(io.BytesIO(content), 1000, Settings()) == content  # grew since stat
    assert _read_small(io.BytesIO(content), 5000, Settings()) == content  # shrank since stat
    with pytest.raises(FileTooLargeError):
        _read_small(io.BytesIO(content), 1000, Settings().replace(max_file_bytes=2000))


# -- path checks ----------------------------------------------------------------------------


def _code(source: object, **kw: object) -> str:
    with pytest.raises(SynthguardError) as info:
        open_media(source, **kw)  # type: ignore[arg-type]
    return info.value.code


def test_directory_fifo_missing(tmp_path: Path) -> None:
    with pytest.raises(UnreadableError, match="directory"):
        open_media(tmp_path)
    fifo = tmp_path / "pipe.mp3"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableError, match="FIFO"):
        open_media(fifo)  # returns at once: a FIFO is never opened
    with pytest.raises(UnreadableError, match="no such file"):
        open_media(tmp_path / "missing.jpg")


def test_character_device() -> None:
    with pytest.raises(UnreadableError, match="character device"):
        open_media("/dev/null")


def test_symlink_loop(tmp_path: Path) -> None:
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    with pytest.raises(SymlinkLoopError):
        open_media(tmp_path / "loop.jpg")


def test_symlink_to_a_file_is_followed(tmp_path: Path, files: Path) -> None:
    os.symlink(files / "image.jpg", tmp_path / "link.jpg")
    assert open_media(tmp_path / "link.jpg").format == "jpeg"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads anything")
def test_permission_denied(tmp_path: Path) -> None:
    locked = tmp_path / "locked.jpg"
    locked.write_bytes(samples()["image.jpg"])
    locked.chmod(0)
    with pytest.raises(UnreadableError, match="permission denied"):
        open_media(locked)


def test_empty_and_too_large(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert _code(empty) == EmptyFileError.code
    assert _code(b"") == EmptyFileError.code
    assert _code(io.BytesIO(b"")) == EmptyFileError.code
    small = Settings().replace(max_file_bytes=100)
    jpeg = tmp_path / "a.jpg"
    jpeg.write_bytes(samples()["image.jpg"])
    for source in (jpeg, samples()["image.jpg"], io.BytesIO(samples()["image.jpg"])):
        assert _code(source, settings=small) == FileTooLargeError.code


# -- names and types ------------------------------------------------------------------------


def test_extension_mismatch_is_a_notice_not_an_error() -> None:
    media = open_media(samples()["image.png"], name="photo.jpg")
    assert media.format == "png"
    (notice,) = media.warnings
    assert notice.code == "extension_mismatch"
    assert ".jpg" in notice.message and "png" in notice.message


@pytest.mark.parametrize("name", ["clip.MP4", "song.m4a", "x.mov", "noext", "data.bin"])
def test_compatible_or_unknown_extensions_give_no_notice(name: str) -> None:
    assert open_media(samples()["video.mp4"], name=name).warnings == ()


def test_unsupported_names_the_extension() -> None:
    junk = random.Random(3).randbytes(4096)
    with pytest.raises(UnsupportedFormatError) as info:
        open_media(junk, name="holiday.JPG")
    assert info.value.message == (
        "could not recognise the content as any supported image, audio, video or text format "
        "(the name says .jpg)"
    )
    with pytest.raises(UnsupportedFormatError, match=r"format$"):
        open_media(junk)


# -- dependencies ---------------------------------------------------------------------------


def test_missing_pyav(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingDependencyError) as info:
        open_media(samples()["audio.wav"])
    assert info.value.extra == "video" and "synthguard[video]" in info.value.message


def test_missing_pillow_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthguard.media import _probe

    monkeypatch.setattr(_probe, "_heif_registered", False)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    with pytest.raises(MissingDependencyError) as info:
        open_media(samples()["image.heic"])
    assert info.value.extra == "heif"


def test_pillow_bomb_limit_is_raised_to_ours() -> None:
    from PIL import Image

    # A big (but allowed) TIFF would warn under Pillow's default 89M-pixel limit.
    open_media(samples()["image.tiff"], settings=Settings().replace(max_pixels=200_000_000))
    assert Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS >= 200_000_000


def test_a_jpeg_within_our_limit_never_warns_in_pillow_later() -> None:
    """JPEG skips Pillow at the boundary, yet the decoder opens it with Pillow: 95 MP is
    within our 100 MP default and above Pillow's own 89 MP default, and must not warn
    (pytest turns warnings into errors)."""
    import struct

    from PIL import Image

    data = bytearray(samples()["image.jpg"])
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 9500, 10000)
    media = open_media(bytes(data))
    assert (media.info.width, media.info.height) == (10000, 9500)
    with Image.open(io.BytesIO(bytes(data))) as im:
        assert im.size == (10000, 9500)


# -- never a raw exception ------------------------------------------------------------------

_ALL = sorted(samples())


def _check_only_synthguard_errors(data: bytes, name: str) -> None:
    try:
        media = open_media(data, name=name)
    except SynthguardError:
        return
    assert isinstance(media, Media)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(_ALL),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=8),
)
def test_mutated_and_truncated_files_raise_only_synthguard_errors(
    which: str, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(samples()[which])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    end = max(1, int(len(data) * cut)) if cut < 1.0 else len(data)
    _check_only_synthguard_errors(bytes(data[:end]), which)


def test_systematic_truncation_of_every_format() -> None:
    for name in _ALL:
        data = samples()[name]
        for end in sorted({1, 2, 4, 8, 12, 16, 32, 64, 100, len(data) // 3, len(data) - 1}):
            if 0 < end < len(data):
                _check_only_synthguard_errors(data[:end], name)


def test_random_byte_flips_in_headers() -> None:
    rng = random.Random(11)
    for name in _ALL:
        base = samples()[name]
        for _ in range(40):
            data = bytearray(base)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(min(len(data), 512))] = rng.randrange(256)
            _check_only_synthguard_errors(bytes(data), name)
