"""The label-writer framework (R-IMPL-3 read-back, atomic replace, R-META-4 strict writer)."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
from pathlib import Path

import pytest
from PIL import Image
from write_helpers import LABEL, READER

from synthguard.errors import (
    LabelWriteError,
    SynthguardError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.media import Media
from synthguard.provenance.aigc import (
    AigcLabel,
    AigcResult,
    Verdict,
    WriteInfo,
    WriteResult,
    _writers,
    parse_site,
    supported_write_formats,
    write_label,
)
from synthguard.provenance.aigc._writers import rewritten_between

IMAGE = "synthguard.provenance.aigc._write_image"


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 30)).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_result_fields(png: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(png.read_bytes()).hexdigest()
    dst = tmp_path / "b.png"
    result = write_label(png, dst, LABEL)
    assert isinstance(result, WriteResult)
    assert result.path == dst and result.payload == LABEL.to_json()
    assert result.sha256_before == before
    assert result.sha256_after == hashlib.sha256(dst.read_bytes()).hexdigest()
    assert result.to_dict()["carrier"] == "png.xmp"
    assert _names(tmp_path) == ["a.png", "b.png"]  # no temporary file left


def test_supported_formats_are_the_static_table() -> None:
    formats = supported_write_formats()
    assert list(formats) == sorted(formats)
    assert {"jpeg", "png", "webp", "tiff", "gif", "docx", "pdf", "md"} <= set(formats)
    assert set(formats) <= set(_writers._WRITER_MODULES)


def test_unsupported_format_names_the_supported_ones(tmp_path: Path) -> None:
    src = tmp_path / "a.bmp"
    Image.new("RGB", (4, 4)).save(src, "BMP")
    with pytest.raises(UnsupportedFormatError, match="got bmp") as exc:
        write_label(src, tmp_path / "b.bmp", LABEL)
    assert "jpeg" in exc.value.message and "png" in exc.value.message
    assert _names(tmp_path) == ["a.bmp"]


def test_a_missing_writer_module_is_unsupported(
    png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(_writers._WRITER_MODULES, "png", "synthguard.provenance.aigc._nope")
    with pytest.raises(UnsupportedFormatError, match="got png"):
        write_label(png, png, LABEL)
    assert "png" not in supported_write_formats()


def test_strict_label_is_checked_before_any_io(tmp_path: Path) -> None:
    """R-META-4: a writer refuses what a reader would only warn about (here a space)."""
    bad = AigcLabel.first_write("1", "ACME Corp", "id-1")
    with pytest.raises(UsageError, match="R-META-4"):
        write_label(tmp_path / "missing.png", tmp_path / "x.png", bad)


def test_open_media_errors_propagate(tmp_path: Path) -> None:
    src = tmp_path / "empty.png"
    src.write_bytes(b"")
    with pytest.raises(SynthguardError) as exc:
        write_label(src, tmp_path / "x.png", LABEL)
    assert exc.value.code == "empty_file"


def test_writer_failure_leaves_the_original_and_no_temp(
    png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Atomicity: a writer that dies midway leaves the file byte-identical, no temp file."""
    original = png.read_bytes()
    module = importlib.import_module(IMAGE)

    def half_then_fail(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
        tmp.write_bytes(original[: len(original) // 2])
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(module, "write", half_then_fail)
    with pytest.raises(LabelWriteError, match="disk on fire") as exc:
        write_label(png, png, LABEL)
    assert exc.value.code == "label_write_failed" and exc.value.status == 500
    assert png.read_bytes() == original
    assert _names(png.parent) == ["a.png"]


def test_temp_file_lives_beside_the_destination(
    png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.replace is atomic only within one file system: the temp file is in dst's folder."""
    module = importlib.import_module(IMAGE)
    real = module.write
    seen: list[Path] = []

    def spy(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
        seen.append(tmp)
        info: WriteInfo = real(media, tmp, label)
        return info

    monkeypatch.setattr(module, "write", spy)
    (tmp_path / "out").mkdir()
    write_label(png, tmp_path / "out" / "b.png", LABEL)
    assert seen and seen[0].parent == tmp_path / "out"


def _reader_returning(monkeypatch: pytest.MonkeyPatch, result: AigcResult) -> None:
    module = importlib.import_module(READER)
    monkeypatch.setattr(module, "read_aigc", lambda media: result)


@pytest.mark.parametrize(
    "result",
    [
        AigcResult(Verdict.NOT_FOUND),  # the ffmpeg silent drop (R-FMT-8)
        AigcResult(Verdict.COMPLIANT, (
            parse_site(LABEL.to_json(), "png.xmp"), parse_site(LABEL.to_json(), "png.xmp"))),
        AigcResult(Verdict.COMPLIANT, (parse_site(
            LABEL.propagated(LABEL.ContentProducer, "other").to_json(), "png.xmp"),)),
        AigcResult(Verdict.COMPLIANT, (parse_site(LABEL.to_json(wrapped=True), "png.xmp"),)),
        AigcResult(Verdict.COMPLIANT, (parse_site(LABEL.to_json(), "png.text.aigc"),)),
    ],
    ids=["not_found", "two_sites", "other_value", "wrapped", "other_carrier"],
)
def test_read_back_failure_aborts(
    png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, result: AigcResult
) -> None:
    """R-IMPL-3: unless exactly the written JSON reads back from the one site, nothing is
    published: LabelWriteError, destination untouched, no temp file."""
    _reader_returning(monkeypatch, result)
    dst = tmp_path / "b.png"
    dst.write_bytes(b"previous")
    with pytest.raises(LabelWriteError, match="R-IMPL-3"):
        write_label(png, dst, LABEL)
    assert dst.read_bytes() == b"previous"
    assert _names(tmp_path) == ["a.png", "b.png"]


def test_file_mode_is_kept(png: Path) -> None:
    os.chmod(png, 0o640)
    write_label(png, png, LABEL)
    assert png.stat().st_mode & 0o777 == 0o640


def test_rewritten_between() -> None:
    assert rewritten_between(b"abcdef", b"abcdef") == 0
    assert rewritten_between(b"abcdef", b"abXYef") == 2  # same length: in place
    assert rewritten_between(b"abcdef", b"abXcdef") == 5  # insertion moves the rest
    assert rewritten_between(b"abc", b"abcdef") == 3  # append
