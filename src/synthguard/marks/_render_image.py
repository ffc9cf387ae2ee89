"""Rendering the visible label on images (R-EXP-3, R-EXP-11); video frames reuse the overlay.

The label is white text on a semi-opaque black plate, on an edge or in a corner. White on a
darkened plate stays legible on any background, and one fixed style lets the separate verifier
(:mod:`._verify`, R-IMPL-5) re-measure the mark on the final pixels.

The text height rule is applied to the *ink*: the font size grows until the rendered text's
bounding box, measured on the rasterised glyphs at half coverage (the same threshold the verifier
uses), is at least ``ceil(0.05 x min(W, H))`` output pixels, plus a small margin so that JPEG
ringing or a proportional resize cannot round it below the rule.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import UnsupportedFormatError, UsageError
from synthguard.marks._fonts import find_font, load_font
from synthguard.marks._io import atomic_output, open_kind
from synthguard.media import Kind
from synthguard.requirements import (
    EXPLICIT_LABEL_DEFAULTS,
    IMAGE_MARK_MIN_HEIGHT_RATIO,
    IMAGE_MARK_POSITIONS,
    has_explicit_label_elements,
)

if TYPE_CHECKING:
    from PIL import Image

    from synthguard.settings import Settings

__all__ = [
    "MarkPlacement",
    "mark_image",
    "mark_image_file",
    "render_overlay",
    "required_height_px",
]

DEFAULT_TEXT = EXPLICIT_LABEL_DEFAULTS[0]
PLATE_ALPHA = 0.7  # opacity of the black plate: the text reads on white and on black alike
TEXT_VALUE = 255  # white text
INK_THRESHOLD = 0.5  # a pixel is ink at half coverage (render) / halfway plate->text (verify)
_EDGE_MARGIN_RATIO = 0.02  # gap between the plate and the image edge, of the shortest side
_PAD_RATIO = 0.3  # plate padding around the ink, of the ink height
_HEIGHT_MARGIN_RATIO = 0.04  # ink is made this much taller than the rule (at least 1 px)

# Formats re-encoded by mark_image_file, with Pillow's writer name.
_WRITERS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP",
            "gif": "GIF"}
_ORIENTATION_TAG = 0x0112


@dataclass(frozen=True)
class MarkPlacement:
    """Where and how a mark was drawn; boxes are ``(x, y, w, h)`` in output pixels.

    ``box`` is the plate, ``text_box`` the ink of the text. A hint for the verifier, never a
    proof: :func:`~synthguard.marks.verify_image_mark` re-measures the pixels.
    """

    box: tuple[int, int, int, int]
    text_box: tuple[int, int, int, int]
    text: str
    font: str
    font_size: int
    position: str
    image_size: tuple[int, int]
    required_height_px: int
    text_height_px: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def required_height_px(size: tuple[int, int], ratio: float = IMAGE_MARK_MIN_HEIGHT_RATIO) -> int:
    """R-EXP-3 / R-EXP-11: ``ceil(ratio x min(W, H))`` (``ceil`` robust to float noise)."""
    return max(1, math.ceil(ratio * min(size) - 1e-9))


def _check_text(text: str) -> None:
    if not text.strip():
        raise UsageError("expected label text, got an empty string")
    if not has_explicit_label_elements(text):
        raise UsageError(
            "expected label text with an AI element ('AI' or '人工智能') and a synthesis "
            f"element ('生成' or '合成') (R-EXP-1), got {text!r}"
        )


def _ink_box(font: Any, text: str) -> tuple[int, int, int, int]:
    """The ink of ``text`` drawn at the origin (anchor ``la``), as ``(left, top, right,
    bottom)``: pixels of at least half coverage, measured on the rasterised glyphs."""
    mask = _coverage(font, text)
    ink = mask >= INK_THRESHOLD
    if not ink.any():
        raise UsageError(f"the mark font draws nothing for {text!r}: does it cover Chinese?")
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    left, top, _, _ = font.getbbox(text)
    return (
        int(left + cols[0]),
        int(top + rows[0]),
        int(left + cols[-1] + 1),
        int(top + rows[-1] + 1),
    )


def _coverage(font: Any, text: str) -> np.ndarray:
    """Glyph coverage in [0, 1] over ``font.getbbox(text)``."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text)
    im = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(im).text((-left, -top), text, font=font, fill=255)
    return np.asarray(im, dtype=np.float32) / 255.0


def _fit_font(path: Path, text: str, target: int) -> tuple[Any, int, tuple[int, int, int, int]]:
    """The smallest font size whose ink is at least ``target`` pixels high."""
    size = max(4, target)
    for _ in range(32):
        font = load_font(path, size)
        box = _ink_box(font, text)
        height = box[3] - box[1]
        if height >= target:
            # Step back while a smaller size still meets the target (the first guess and the
            # proportional steps may overshoot by a pixel or two).
            while size > 4:
                smaller = load_font(path, size - 1)
                small_box = _ink_box(smaller, text)
                if small_box[3] - small_box[1] < target:
                    break
                size, font, box = size - 1, smaller, small_box
            return font, size, box
        size = max(size + 1, math.ceil(size * target / max(height, 1)))
    raise UsageError(f"could not fit {text!r} to {target} px with the font {str(path)!r}")


def render_overlay(
    size: tuple[int, int],
    *,
    text: str = DEFAULT_TEXT,
    position: str = IMAGE_MARK_POSITIONS[0],
    height_ratio: float | None = None,
    text_height_px: int | None = None,
    font: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, MarkPlacement]:
    """The mark for a ``size = (W, H)`` picture: an RGBA ``uint8`` patch the size of the plate
    (non-premultiplied) and its :class:`MarkPlacement`.

    The ink is at least ``required_height_px(size)`` high plus a small margin. ``height_ratio``
    or ``text_height_px`` force another ink height (a *non-compliant* one when below the rule;
    for test vectors and demonstrations).
    """
    _check_text(text)
    if position not in IMAGE_MARK_POSITIONS:
        choices = ", ".join(IMAGE_MARK_POSITIONS)
        raise UsageError(f"expected position in {choices}, got {position!r}")
    width, height = int(size[0]), int(size[1])
    if width < 1 or height < 1:
        raise UsageError(f"expected a picture of at least 1x1 pixels, got {width}x{height}")
    required = required_height_px((width, height))
    if text_height_px is not None:
        target = int(text_height_px)
    elif height_ratio is not None:
        if not 0.0 < height_ratio < 1.0:
            raise UsageError(f"expected 0 < height_ratio < 1, got {height_ratio}")
        target = required_height_px((width, height), height_ratio)
    else:
        target = required + max(1, math.ceil(_HEIGHT_MARGIN_RATIO * required))
    if target < 1:
        raise UsageError(f"expected a text height of at least 1 px, got {target}")
    path = find_font(font)
    pil_font, font_size, ink = _fit_font(path, text, target)
    ink_w, ink_h = ink[2] - ink[0], ink[3] - ink[1]
    pad = max(2, round(_PAD_RATIO * ink_h))
    plate_w, plate_h = ink_w + 2 * pad, ink_h + 2 * pad
    margin = max(1, round(_EDGE_MARGIN_RATIO * min(width, height)))
    if plate_w + 2 * margin > width or plate_h + 2 * margin > height:
        raise UsageError(
            f"expected the mark ({plate_w}x{plate_h} px for {text!r} at {ink_h} px high) to fit "
            f"in the {width}x{height} picture, it does not: use a shorter label text"
        )
    x = {
        "left": margin,
        "right": width - margin - plate_w,
        "center": (width - plate_w) // 2,
    }[_horizontal(position)]
    y = margin if position.startswith("top") else height - margin - plate_h
    patch = _patch(pil_font, text, (plate_w, plate_h), pad, ink)
    placement = MarkPlacement(
        box=(x, y, plate_w, plate_h),
        text_box=(x + pad, y + pad, ink_w, ink_h),
        text=text,
        font=str(path),
        font_size=font_size,
        position=position,
        image_size=(width, height),
        required_height_px=required,
        text_height_px=ink_h,
    )
    return patch, placement


def _horizontal(position: str) -> str:
    if position.endswith("left"):
        return "left"
    if position.endswith("right"):
        return "right"
    return "center"


def _patch(
    font: Any, text: str, size: tuple[int, int], pad: int, ink: tuple[int, int, int, int]
) -> np.ndarray:
    """White text over the black plate, composited exactly (the "over" operator) into one
    non-premultiplied RGBA patch."""
    plate_w, plate_h = size
    cov_full = _coverage(font, text)
    left, top, _, _ = font.getbbox(text)
    # Crop the coverage to the ink box and place it ``pad`` pixels inside the plate.
    cov = np.zeros((plate_h, plate_w), dtype=np.float32)
    y0, x0 = ink[1] - top, ink[0] - left
    piece = cov_full[max(y0, 0) : ink[3] - top, max(x0, 0) : ink[2] - left]
    cov[pad : pad + piece.shape[0], pad : pad + piece.shape[1]] = piece
    alpha = PLATE_ALPHA + (1.0 - PLATE_ALPHA) * cov
    colour = TEXT_VALUE * cov / alpha
    out = np.empty((plate_h, plate_w, 4), dtype=np.uint8)
    out[..., :3] = np.clip(np.rint(colour), 0, 255).astype(np.uint8)[..., None]
    out[..., 3] = np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)
    return out


def mark_image(
    img: Image.Image,
    *,
    text: str = DEFAULT_TEXT,
    position: str = IMAGE_MARK_POSITIONS[0],
    height_ratio: float | None = None,
    text_height_px: int | None = None,
    font: str | os.PathLike[str] | None = None,
) -> tuple[Image.Image, MarkPlacement]:
    """Draw the visible label onto a copy of ``img`` (R-EXP-3); return it and its placement.

    The result is RGBA when ``img`` has transparency, RGB otherwise. See :func:`render_overlay`
    for the options.
    """
    from PIL import Image

    patch, placement = render_overlay(
        img.size,
        text=text,
        position=position,
        height_ratio=height_ratio,
        text_height_px=text_height_px,
        font=font,
    )
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    )
    base = img.convert("RGBA")
    x, y, _, _ = placement.box
    base.alpha_composite(Image.fromarray(patch, "RGBA"), dest=(x, y))
    return (base if has_alpha else base.convert("RGB")), placement


def mark_image_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    text: str = DEFAULT_TEXT,
    position: str = IMAGE_MARK_POSITIONS[0],
    height_ratio: float | None = None,
    text_height_px: int | None = None,
    font: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> MarkPlacement:
    """Mark the image at ``src`` and write it to ``dst`` in the same format, atomically.

    ``src`` goes through :func:`~synthguard.media.open_media`. JPEG is re-encoded at quality 95
    and WebP at 95 (lossless when the source is lossless); PNG, TIFF, BMP and GIF are lossless.
    EXIF (with the orientation reset, the pixels being upright now) and the ICC profile are
    kept. Animated images are refused.
    """
    _check_text(text)
    with open_kind(src, Kind.IMAGE, settings) as media:
        fmt = media.format.lower()
        if fmt not in _WRITERS:
            raise UnsupportedFormatError(
                f"expected an image in {', '.join(sorted(_WRITERS))} to mark, got {fmt}"
            )
        if media.info.animated or (media.info.pages or 1) > 1:
            raise UnsupportedFormatError(
                f"expected a still image to mark, got an animated {fmt}: label each frame as a "
                "video instead"
            )
        rgb = media.image()
        original = _original(media)
        img = _with_alpha(rgb, original)
        marked, placement = mark_image(
            img,
            text=text,
            position=position,
            height_ratio=height_ratio,
            text_height_px=text_height_px,
            font=font,
        )
        options = _save_options(fmt, original, media.read_bytes()[:64])
    with atomic_output(dst) as tmp:
        marked.save(tmp, format=_WRITERS[fmt], **options)
    return placement


def _original(media: Any) -> Image.Image | None:
    """The undecoded Pillow image (for its metadata and alpha); ``None`` if Pillow balks."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # The boundary already enforced the configured pixel limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with media.open() as fp:
                im = Image.open(fp)
                im.load()
        return im
    except Exception:  # noqa: BLE001 - metadata is best effort; the pixels came from open_media
        return None


def _with_alpha(rgb: Image.Image, original: Image.Image | None) -> Image.Image:
    """Put the source's transparency back (``Media.image`` flattens it onto white)."""
    from PIL import ImageOps

    if original is None:
        return rgb
    has_alpha = original.mode in ("RGBA", "LA", "PA") or (
        original.mode == "P" and "transparency" in original.info
    )
    if not has_alpha:
        return rgb
    upright = ImageOps.exif_transpose(original.convert("RGBA"))
    if upright.size != rgb.size:
        return rgb
    out = rgb.convert("RGBA")
    out.putalpha(upright.getchannel("A"))
    return out


def _save_options(fmt: str, original: Image.Image | None, head: bytes) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if original is not None:
        icc = original.info.get("icc_profile")
        if icc and fmt in ("jpeg", "png", "webp", "tiff"):
            options["icc_profile"] = icc
        if fmt in ("jpeg", "png", "webp", "tiff"):
            exif = original.getexif()
            if len(exif):
                if _ORIENTATION_TAG in exif:
                    exif[_ORIENTATION_TAG] = 1  # the decoded pixels are already upright
                options["exif"] = exif.tobytes()
    if fmt == "jpeg":
        options["quality"] = 95
    elif fmt == "webp":
        if head[12:16] == b"VP8L":
            options["lossless"] = True
        else:
            options["quality"] = 95
    elif fmt == "png":
        options["optimize"] = False
    return options
