"""Interoperability: files labelled by independent tools (exiftool, the ffmpeg CLI, mutagen)
are read by our readers (R-IMPL-8, section 4 rows R-FMT-1..14).

A test skips only when its tool is genuinely missing.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest
from builders import BARE, LABEL, WRAPPED, av_file, read_label

from synthguard.provenance.aigc import Verdict
from synthguard.requirements import XMP_TC260_NAMESPACE, Carrier

EXIFTOOL = shutil.which("exiftool")
FFMPEG = shutil.which("ffmpeg")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="the ffmpeg CLI is not installed")

# exiftool user-defined XMP namespace TC260 (R-FMT-1)
EXIFTOOL_CONFIG = f"""
%Image::ExifTool::UserDefined = (
    'Image::ExifTool::XMP::Main' => {{
        TC260 => {{ SubDirectory => {{ TagTable => 'Image::ExifTool::UserDefined::TC260' }} }},
    }},
);
%Image::ExifTool::UserDefined::TC260 = (
    GROUPS => {{ 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' }},
    NAMESPACE => {{ 'TC260' => '{XMP_TC260_NAMESPACE}' }},
    WRITABLE => 'string',
    AIGC => {{ }},
);
1;
"""


def _run(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")


def _image(path: Path) -> Path:
    from PIL import Image

    im = Image.new("RGB", (16, 16), (30, 60, 90))
    im.save(path, **({"lossless": True} if path.suffix == ".webp" else {}))
    return path


@needs_exiftool
@pytest.mark.parametrize(
    ("ext", "carrier"),
    [("jpg", Carrier.JPEG_XMP), ("png", Carrier.PNG_XMP), ("tif", Carrier.TIFF_XMP),
     ("webp", Carrier.WEBP_XMP), ("gif", Carrier.GIF_XMP)],
)
def test_exiftool_xmp_tc260(tmp_path: Path, ext: str, carrier: str) -> None:
    config = tmp_path / "tc260.config"
    config.write_text(EXIFTOOL_CONFIG)
    path = _image(tmp_path / f"x.{ext}")
    assert EXIFTOOL is not None
    _run(EXIFTOOL, "-config", str(config), f"-XMP-TC260:AIGC={BARE}", "-overwrite_original",
         str(path))
    result = read_label(path.read_bytes(), path.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [carrier]
    assert result.label == LABEL


@needs_exiftool
def test_exiftool_xmp_in_avif(tmp_path: Path) -> None:
    # R-FMT-6: HEIF/AVIF XMP item (mime application/rdf+xml via iinf/iloc)
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow cannot write AVIF")
    config = tmp_path / "tc260.config"
    config.write_text(EXIFTOOL_CONFIG)
    path = _image(tmp_path / "x.avif")
    assert read_label(path.read_bytes(), path.name).verdict is Verdict.NOT_FOUND
    assert EXIFTOOL is not None
    _run(EXIFTOOL, "-config", str(config), f"-XMP-TC260:AIGC={BARE}", "-overwrite_original",
         str(path))
    result = read_label(path.read_bytes(), path.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.HEIF_XMP]


@needs_exiftool
@pytest.mark.parametrize(
    ("ext", "carrier"),
    [("jpg", Carrier.JPEG_EXIF_USERCOMMENT), ("webp", Carrier.WEBP_EXIF_USERCOMMENT),
     ("png", Carrier.PNG_EXIF_USERCOMMENT), ("tif", Carrier.TIFF_EXIF_USERCOMMENT)],
)
def test_exiftool_usercomment(tmp_path: Path, ext: str, carrier: str) -> None:
    # R-FMT-7: exiftool writes the 8-byte ASCII prefix itself
    path = _image(tmp_path / f"x.{ext}")
    assert EXIFTOOL is not None
    _run(EXIFTOOL, f"-UserComment={WRAPPED}", "-overwrite_original", str(path))
    result = read_label(path.read_bytes(), path.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [carrier]


@needs_ffmpeg
@pytest.mark.parametrize("ext", ["mp4", "mov", "m4a"])
def test_ffmpeg_cli_use_metadata_tags(tmp_path: Path, ext: str) -> None:
    # R-FMT-8: the guide's command, -c copy
    src = av_file(tmp_path / f"src.{'mp4' if ext != 'mov' else 'mov'}",
                  "mp4" if ext != "mov" else "mov", video=ext != "m4a")
    out = tmp_path / f"out.{ext}"
    assert FFMPEG is not None
    _run(FFMPEG, "-v", "error", "-i", str(src), "-metadata", f"AIGC={BARE}",
         "-movflags", "use_metadata_tags", "-c", "copy", str(out))
    result = read_label(out.read_bytes(), out.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [Carrier.MP4_KEYS_AIGC]


@needs_ffmpeg
def test_ffmpeg_cli_without_movflag_drops_the_label(tmp_path: Path) -> None:
    # Section 11 vector with the real CLI: exit code 0, label silently dropped (R-FMT-8)
    src = av_file(tmp_path / "src.mp4", "mp4")
    out = tmp_path / "out.mp4"
    assert FFMPEG is not None
    _run(FFMPEG, "-v", "error", "-i", str(src), "-metadata", f"AIGC={BARE}", "-c", "copy",
         str(out))
    assert read_label(out.read_bytes(), out.name).verdict is Verdict.NOT_FOUND


@needs_ffmpeg
@pytest.mark.parametrize(
    ("ext", "args", "carrier"),
    [
        ("mkv", ["-c:v", "mpeg4"], Carrier.MKV_SIMPLETAG_AIGC),
        ("webm", ["-c:v", "libvpx", "-b:v", "100k"], Carrier.MKV_SIMPLETAG_AIGC),
        ("flac", ["-vn", "-c:a", "flac"], Carrier.FLAC_VORBIS_AIGC),
        ("ogg", ["-vn", "-c:a", "libvorbis"], Carrier.OGG_VORBIS_AIGC),
        ("opus", ["-vn", "-c:a", "libopus"], Carrier.OPUS_VORBIS_AIGC),
        ("mp3", ["-vn", "-c:a", "libmp3lame"], Carrier.MP3_ID3_TXXX_AIGC),
        ("flv", ["-c:v", "flv"], Carrier.FLV_ONMETADATA_AIGC),
    ],
)
def test_ffmpeg_cli_metadata(tmp_path: Path, ext: str, args: list[str], carrier: str) -> None:
    # R-FMT-9/11/13/14: what the ffmpeg CLI writes for -metadata AIGC=... per container
    out = tmp_path / f"out.{ext}"
    assert FFMPEG is not None
    video = ["-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.3:r=10"]
    audio = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.3:sample_rate=48000"]
    inputs = audio if "-vn" in args else video
    _run(FFMPEG, "-v", "error", *inputs, "-metadata", f"AIGC={BARE}", *args, str(out))
    result = read_label(out.read_bytes(), out.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [carrier]


@pytest.mark.skipif(importlib.util.find_spec("mutagen") is None, reason="mutagen missing")
def test_mutagen_id3_txxx_v23_and_v24(tmp_path: Path) -> None:
    from builders import mp3_frames
    from mutagen.id3 import ID3, TXXX

    for version in (3, 4):
        path = tmp_path / f"v{version}.mp3"
        path.write_bytes(mp3_frames())
        tags = ID3()
        tags.add(TXXX(encoding=1 if version == 3 else 3, desc="AIGC", text=[BARE]))
        tags.save(str(path), v2_version=version)
        result = read_label(path.read_bytes(), path.name)
        assert result.verdict is Verdict.COMPLIANT, (version, result.to_dict())


@pytest.mark.skipif(importlib.util.find_spec("mutagen") is None, reason="mutagen missing")
@needs_ffmpeg
@pytest.mark.parametrize(("ext", "codec"), [("flac", "flac"), ("ogg", "libvorbis"),
                                            ("opus", "libopus")])
def test_mutagen_vorbis_comments_spanning_pages(tmp_path: Path, ext: str, codec: str) -> None:
    # R-FMT-14; a 100 KB comment makes the Ogg comment packet span several pages
    import mutagen

    path = tmp_path / f"x.{ext}"
    assert FFMPEG is not None
    _run(FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.3:sample_rate=48000",
         "-c:a", codec, str(path))
    audio = mutagen.File(str(path))
    assert audio is not None
    audio["comment"] = "x" * 100_000
    audio["aigc"] = BARE
    audio.save()
    result = read_label(path.read_bytes(), path.name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()


def test_cntc260_package(tmp_path: Path) -> None:
    # cntc260 (a GB 45438 XMP writer on PyPI) needs python-xmp-toolkit and the native
    # libexempi; it is not a dependency of ours.
    if importlib.util.find_spec("cntc260") is None or importlib.util.find_spec("libxmp") is None:
        pytest.skip("cntc260 / python-xmp-toolkit are not installed")
    try:
        import libxmp  # noqa: F401 - loads the native libexempi
    except Exception as exc:  # noqa: BLE001 - libxmp raises its own error type
        pytest.skip(f"libexempi (Debian libexempi8) is not loadable: {exc}")
    from cntc260.tc260 import GBxmp

    path = _image(tmp_path / "x.jpg")
    w = GBxmp(str(path))
    w.setAIGC(LABEL.as_dict())
    w.writeXmp()
    assert read_label(path.read_bytes(), path.name).verdict is Verdict.COMPLIANT
