"""Visible image marks: rendered by marks._render_image, re-measured by marks._verify on the
final encoded pixels (R-EXP-3, R-EXP-11, R-IMPL-5)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthguard.errors import MissingSystemPackageError, UnsupportedFormatError, UsageError
from synthguard.marks import (
    mark_image,
    mark_image_file,
    required_height_px,
    verify_image_mark,
)
from synthguard.media import open_media
from synthguard.requirements import IMAGE_MARK_MIN_HEIGHT_RATIO, IMAGE_MARK_POSITIONS

pytestmark = pytest.mark.usefixtures("cjk_font")


def _scene(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """A photo-like picture: gradients, a bright disc and noise (light and dark areas)."""
    width, height = size
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    img = 40 + 180 * (0.6 * y + 0.4 * x) * np.array([0.6, 0.8, 1.0], dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    disc = np.hypot(xx - 0.3 * width, yy - 0.3 * height) < 0.1 * min(size)
    img = np.where(disc[..., None], np.float32(240.0), img)
    img = img + rng.normal(0, 4, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def _jpeg(img: Image.Image, quality: int = 95) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return open_media(buf.getvalue(), name="out.jpg").image()


def test_required_height_is_the_ceiling_of_five_percent() -> None:
    assert required_height_px((1080, 1920)) == 54
    assert required_height_px((1920, 1080)) == 54
    assert required_height_px((641, 481)) == math.ceil(IMAGE_MARK_MIN_HEIGHT_RATIO * 481)
    assert required_height_px((10, 10)) == 1


@pytest.mark.parametrize("size", [(1080, 1920), (1280, 720), (640, 480)])
def test_compliant_mark_passes_on_the_encoded_output(size: tuple[int, int]) -> None:
    marked, placement = mark_image(_scene(size))
    required = required_height_px(size)
    assert placement.required_height_px == required
    assert placement.text_height_px >= required
    for decoded in (_jpeg(marked), _jpeg(marked, quality=80)):
        check = verify_image_mark(decoded, expected_text="AI生成")
        assert check.passed, check.findings
        assert check.measured_height_px is not None
        assert check.measured_height_px >= required
        assert abs(check.measured_height_px - placement.text_height_px) <= 1
        assert check.position == "bottom-right"


@pytest.mark.parametrize("position", IMAGE_MARK_POSITIONS)
def test_every_position_is_found_where_it_was_put(position: str) -> None:
    marked, placement = mark_image(_scene((800, 600), seed=3), position=position)
    check = verify_image_mark(_jpeg(marked))
    assert check.passed, check.findings
    assert check.position == position
    x, y, w, h = placement.text_box
    assert check.text_box is not None
    assert abs(check.text_box[1] - y) <= 1 and abs(check.text_box[3] - h) <= 1


def test_vector_portrait_1080x1920_with_50px_text_fails_r_exp_3() -> None:
    # REGULATIONS section 11: "Image 1080x1920 with label text 50 px high -> fail R-EXP-3".
    marked, placement = mark_image(_scene((1080, 1920)), text_height_px=50)
    assert placement.text_height_px == 50
    check = verify_image_mark(_jpeg(marked))
    assert not check.passed
    assert check.required_height_px == 54
    assert check.measured_height_px == 50
    failed = [f for f in check.findings if not f.passed]
    assert [f.check for f in failed] == ["mark.height"]
    assert failed[0].requirement == "R-EXP-11" and "54" in failed[0].message


def test_proportional_resize_keeps_the_ratio_and_passes() -> None:
    marked, placement = mark_image(_scene((1600, 1200)))
    half = marked.resize((800, 600), Image.Resampling.LANCZOS)
    for hint in (None, placement):
        check = verify_image_mark(_jpeg(half), placement=hint)
        assert check.passed, check.findings
        assert check.required_height_px == 30
        assert check.measured_height_px is not None and check.measured_height_px >= 30


def test_crop_that_cuts_the_mark_fails() -> None:
    marked, placement = mark_image(_scene((1200, 900)))
    x, y, w, h = placement.text_box
    # Through the middle of the text: what is left is cut and too low.
    cut = marked.crop((0, 0, 1200, y + h // 2))
    check = verify_image_mark(_jpeg(cut), placement=placement)
    assert not check.passed
    # Past the mark entirely: nothing to find.
    gone = marked.crop((0, 0, 1200, y - 10))
    check = verify_image_mark(_jpeg(gone), placement=placement)
    assert not check.passed
    assert check.measured_height_px is None


def test_upscaled_small_mark_is_measured_not_trusted() -> None:
    # The renderer's report says 50 px; the verifier measures the pixels (here after 2x).
    marked, placement = mark_image(_scene((600, 900)), text_height_px=20)
    big = marked.resize((1200, 1800), Image.Resampling.BICUBIC)
    check = verify_image_mark(big, placement=placement)
    assert check.measured_height_px is not None
    assert abs(check.measured_height_px - 40) <= 2
    assert not check.passed  # 40 < 60 required at 1200x1800


@pytest.mark.parametrize("seed", range(3))
def test_unmarked_pictures_have_no_mark(seed: int) -> None:
    check = verify_image_mark(_jpeg(_scene((900, 700), seed=seed)))
    assert not check.passed
    assert check.measured_height_px is None
    assert [f.check for f in check.findings] == ["mark.present"]


def test_caption_of_another_shape_is_not_taken_for_the_label() -> None:
    from PIL import ImageDraw, ImageFont

    from synthguard.marks import find_font

    img = _scene((1280, 720))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 700, 90), fill=(10, 10, 10))
    font = ImageFont.truetype(str(find_font()), 56, index=0)
    draw.text((16, 12), "frame 0000  t=0.00s", font=font, fill=(255, 255, 255))
    assert not verify_image_mark(img, expected_text="AI生成").passed
    marked, _ = mark_image(img)
    check = verify_image_mark(marked, expected_text="AI生成")
    assert check.passed and check.position == "bottom-right"


@pytest.mark.parametrize("text", ["AI", "人工智能", "生成", "机器合成", ""])
def test_label_without_both_elements_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="R-EXP-1|empty"):
        mark_image(_scene((200, 200)), text=text)


@pytest.mark.parametrize("text", ["人工智能生成", "AI合成", "由人工智能生成", "豆包AI生成"])
def test_other_valid_labels_render_and_pass(text: str) -> None:
    marked, placement = mark_image(_scene((1200, 800)), text=text)
    check = verify_image_mark(_jpeg(marked), expected_text=text)
    assert check.passed, check.findings
    assert placement.text == text


def test_bad_position_and_tiny_picture_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="position"):
        mark_image(_scene((200, 200)), position="middle")
    with pytest.raises(UsageError, match="fit"):
        mark_image(_scene((200, 200)), text="由人工智能生成", text_height_px=60)


def test_missing_font_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthguard.marks import _fonts

    monkeypatch.setattr(_fonts, "_FONT_DIRS", ("/nonexistent-font-dir",))
    with pytest.raises(MissingSystemPackageError, match="fonts-wqy-microhei"):
        mark_image(_scene((200, 200)))
    with pytest.raises(UsageError, match="font file"):
        mark_image(_scene((200, 200)), font="/nonexistent.ttf")


# -- files --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "photo.webp", "photo.tiff"])
def test_mark_image_file_same_format_and_verified(
    mark_samples: Path, tmp_path: Path, name: str
) -> None:
    dst = tmp_path / f"marked-{name}"
    placement = mark_image_file(mark_samples / name, dst)
    with open_media(dst) as out, open_media(mark_samples / name) as src:
        assert out.format == src.format
        assert (out.info.width, out.info.height) == (src.info.width, src.info.height)
        check = verify_image_mark(out.image(), expected_text="AI生成")
    assert check.passed, check.findings
    assert check.measured_height_px is not None
    assert check.measured_height_px >= placement.required_height_px
    assert [p.name for p in tmp_path.iterdir()] == [dst.name]  # no temp file left behind


def test_jpeg_keeps_exif_and_icc_and_resets_orientation(tmp_path: Path) -> None:
    from PIL import ImageCms

    src = tmp_path / "in.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the decoded pixels are turned upright by open_media
    exif[0x010F] = "synthguard-test"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    _scene((640, 480)).save(src, "JPEG", quality=95, exif=exif.tobytes(), icc_profile=icc)
    dst = tmp_path / "out.jpg"
    placement = mark_image_file(src, dst)
    assert placement.image_size == (480, 640)  # upright
    with Image.open(dst) as out:
        assert out.info.get("icc_profile") == icc
        assert out.getexif()[0x010F] == "synthguard-test"
        assert out.getexif()[0x0112] == 1
        assert out.size == (480, 640)


def test_png_alpha_is_kept(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    rgba = _scene((400, 300)).convert("RGBA")
    alpha = np.full((300, 400), 255, dtype=np.uint8)
    alpha[:100, :100] = 0
    rgba.putalpha(Image.fromarray(alpha, "L"))
    rgba.save(src)
    dst = tmp_path / "out.png"
    mark_image_file(src, dst)
    with Image.open(dst) as out:
        assert out.mode == "RGBA"
        assert np.asarray(out.getchannel("A"))[:100, :100].max() == 0


def test_mark_image_file_refuses_what_it_cannot_mark(mark_samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="expected image input"):
        mark_image_file(mark_samples / "voice.wav", tmp_path / "x.wav")
    with pytest.raises(UnsupportedFormatError, match="animated|still"):
        mark_image_file(mark_samples / "animation.gif", tmp_path / "x.gif")
    with pytest.raises(UsageError, match="R-EXP-1"):
        mark_image_file(mark_samples / "photo.png", tmp_path / "x.png", text="AI")
    assert not list(tmp_path.iterdir())
