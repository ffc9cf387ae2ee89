"""The HTML report: self-contained, escaped, one card per file with a real preview."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from synthguard.pipeline import scan
from synthguard.report import Detection, Report, Segment
from synthguard.report._html import render_html
from synthguard.samples import generate_samples
from synthguard.settings import Settings

HOSTILE = '<script>alert(1)<\\script> & "quotes".txt'
SETTINGS = Settings(keyframes=4, thumbnail_px=96)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Report]:
    out = tmp_path_factory.mktemp("html")
    generate_samples(out)
    (out / HOSTILE).write_text("hello <b>not bold</b> & goodbye\n", encoding="utf-8")
    (out / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    return [scan(p, settings=SETTINGS) for p in sorted(out.iterdir())]


@pytest.fixture(scope="module")
def page(reports: list[Report]) -> str:
    return render_html(reports, settings=SETTINGS)


def _cards(page: str) -> dict[str, str]:
    """Card HTML by file name."""
    out = {}
    for chunk in page.split('<section class="card')[1:]:
        path = re.search(r'data-path="([^"]*)"', chunk)
        assert path is not None
        out[Path(html.unescape(path.group(1))).name] = chunk
    return out


def _decode_uris(chunk: str) -> list[Image.Image]:
    uris = re.findall(r'src="data:image/(?:png|jpeg);base64,([A-Za-z0-9+/=]+)"', chunk)
    return [Image.open(io.BytesIO(base64.b64decode(u))) for u in uris]


def test_one_card_per_report(page: str, reports: list[Report]) -> None:
    assert page.count('<section class="card') == len(reports)
    assert f"<b>files</b>{len(reports)}</div>" in page
    assert "synthguard 0." in page and "generated" in page


def test_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    # Every src is a data: URI and nothing is fetched from anywhere.
    assert re.findall(r'src="(?!data:)', page) == []
    assert not re.search(r"(?:href|src)=\"?(?:https?:)?//", page)
    assert "Content-Security-Policy" in page


def test_images_get_thumbnails(page: str) -> None:
    cards = _cards(page)
    for name in ["photo.jpg", "photo.png", "photo.webp", "photo.tiff", "photo.bmp", "photo.avif"]:
        (thumb,) = _decode_uris(cards[name])
        assert thumb.size == (96, 72), name
    (gif,) = _decode_uris(cards["animation.gif"])
    assert gif.size == (96, 72)


def test_audio_gets_a_waveform(page: str) -> None:
    cards = _cards(page)
    for name in ["voice.wav", "voice.mp3", "voice.flac", "voice.ogg", "voice.opus", "voice.m4a"]:
        assert "data:image/png;base64," in cards[name], name
        (wave,) = _decode_uris(cards[name])
        assert wave.width == 2 * SETTINGS.thumbnail_px
        assert re.search(r"2\.0\d s of audio", cards[name])


def test_video_gets_keyframes_and_waveform(page: str) -> None:
    cards = _cards(page)
    for name in ["clip.mp4", "clip.mov", "clip.mkv", "clip.webm", "clip.avi", "clip.flv"]:
        images = _decode_uris(cards[name])
        frames = [im for im in images if im.format == "JPEG"]
        waves = [im for im in images if im.format == "PNG"]
        assert [im.size for im in frames] == [(96, 72)] * SETTINGS.keyframes, name
        assert len(waves) == 1, name
        # Evenly spaced through the 3.2 s clip: 0.4, 1.2, 2.0, 2.8 s.
        times = [float(t) for t in re.findall(r"<figcaption>([\d.]+) s</figcaption>", cards[name])]
        assert times == pytest.approx([0.4, 1.2, 2.0, 2.8], abs=0.05)


def test_text_preview(page: str) -> None:
    cards = _cards(page)
    for name in ["notes.txt", "notes.md", "notes.pdf", "notes.docx"]:
        preview = re.search(r"<pre>(.*?)</pre>", cards[name], re.S)
        assert preview is not None and "synthguard sample notes" in preview.group(1), name
        assert len(preview.group(1)) <= 300 + 100  # escaping may lengthen it a little


def test_hostile_name_and_content_escaped(page: str) -> None:
    assert "<script>alert" not in page
    assert "<b>not bold</b>" not in page
    card = _cards(page)[HOSTILE]
    assert "&lt;script&gt;alert(1)" in card
    assert "hello &lt;b&gt;not bold&lt;/b&gt; &amp; goodbye" in card


def test_failed_file_shows_its_error(page: str, reports: list[Report]) -> None:
    failed = next(r for r in reports if r.path.endswith("broken.png"))
    assert failed.error is not None
    card = _cards(page)["broken.png"]
    assert 'data-outcome="error"' in card
    assert f"<code>{failed.error['code']}</code>" in card
    assert "data:image" not in card and "preview unavailable" not in card
    assert "errors</b>" in page and f"{failed.error['code']}: 1" in page


def test_missing_file_preview_unavailable(reports: list[Report], tmp_path: Path) -> None:
    gone = Report.for_path(tmp_path / "gone.jpg")
    gone.kind, gone.format, gone.size = "image", "jpeg", 10
    page = render_html([gone], settings=SETTINGS)
    assert "preview unavailable:" in page
    assert "gone.jpg" in page


def _png_b64() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 0, 0)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def test_detections_rendered(reports: list[Report]) -> None:
    base = next(r for r in reports if r.path.endswith("photo.jpg"))
    report = Report(**{**base.__dict__})
    report.detections = [
        Detection(
            "face-swap",
            "1.0",
            0.75,
            segments=(Segment(start=0.5, end=1.25, score=0.9, box=(1, 2, 3, 4), note="<i>n</i>"),),
            evidence=(
                {"type": "heatmap", "png_b64": _png_b64()},
                {"type": "spectrogram", "png_b64": 'x" onerror="alert(1)'},
            ),
        ),
        Detection("ai-image", "0.3", None, abstained=True, reason="too small <32px>"),
    ]
    page = render_html([report], settings=SETTINGS)
    assert 'style="width:75.0%"' in page and "0.750" in page
    assert "abstained: too small &lt;32px&gt;" in page
    assert "0.50 s" in page and "1.25 s" in page and "&lt;i&gt;n&lt;/i&gt;" in page
    assert page.count("data:image/png;base64,") == 1  # the heatmap; the hostile one is text
    assert 'onerror="alert' not in page


def test_summary_counts(reports: list[Report], page: str) -> None:
    images = sum(1 for r in reports if r.kind == "image")
    assert f"image: {images}" in page
    assert f"none: {sum(1 for r in reports if r.ok)}" in page
