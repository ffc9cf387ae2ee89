"""Verifying visible labels on the *final* pixels (R-IMPL-5): separate from the renderer.

Nothing the renderer reports is trusted. The verifier finds the mark in the decoded output (after
encoding, and after any resize or crop), and measures the text's ink height in output pixels
against ``ceil(0.05 x min(W, H))`` (R-EXP-3, R-EXP-6, R-EXP-11), its place on an edge or in a
corner (R-EXP-3); :mod:`._verify_video` adds how long it stays visible (R-EXP-6).

It knows the mark's *style* (light text on a dark plate, as :mod:`._render_image` draws it), not
its placement: an optional :class:`~synthguard.marks.MarkPlacement` only says where to look
first. Finding arbitrary third-party labels needs OCR and is out of scope here.

How the mark is found: in the top and bottom bands of the picture, blocks whose darkest pixel
is dark form a grid; the largest dark rectangles in it are plate candidates. Each candidate's
edges move inward to the plate's own dark padding rows and columns, so bright background next
to the plate can never count as ink; the ink is then every pixel brighter than halfway between
the plate and the text levels, and its bounding box is measured.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import MissingSystemPackageError, UsageError
from synthguard.marks._render_image import (
    INK_THRESHOLD,
    PLATE_ALPHA,
    MarkPlacement,
    required_height_px,
)
from synthguard.requirements import IMAGE_MARK_EDGE_BAND_RATIO

if TYPE_CHECKING:
    from PIL import Image


__all__ = ["Finding", "MarkCheck", "verify_image_mark"]

# A plate pixel is at most this bright: black at PLATE_ALPHA over white, plus codec noise.
_DARK_MAX = round(255 * (1.0 - PLATE_ALPHA)) + 35
_MIN_CONTRAST = 80  # text level minus plate level, in 8-bit luma
_SEARCH_BAND = 0.3  # the top and bottom bands searched, of the height
_BLOCK_RATIO = 0.01  # grid block side, of the shortest side
_PADDING_DARK = 0.75  # a plate padding row/column is at least this dark
_CANDIDATES = 6  # plate candidates tried per band
_SHAPE_TOLERANCE = 0.15  # ink width/height within 15 % of the expected text's


@dataclass(frozen=True)
class Finding:
    """One check made on a mark, with the requirement it serves."""

    check: str
    requirement: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "requirement": self.requirement,
            "passed": self.passed,
            "message": self.message,
        }


@dataclass(frozen=True)
class MarkCheck:
    """The visible mark as measured on one picture. ``passed`` is true when a mark was found,
    its text is at least ``required_height_px`` high and it sits on an edge or in a corner."""

    passed: bool
    measured_height_px: int | None
    required_height_px: int
    position: str | None
    text_box: tuple[int, int, int, int] | None = None  # (x, y, w, h) of the ink
    plate_box: tuple[int, int, int, int] | None = None  # the ink plus the dark ring checked
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "measured_height_px": self.measured_height_px,
            "required_height_px": self.required_height_px,
            "position": self.position,
            "text_box": self.text_box,
            "plate_box": self.plate_box,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class _Found:
    ink: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    plate: tuple[int, int, int, int]
    cut: bool  # the ink touches the plate's edge: the mark is cut off or not ours


# -- locating -----------------------------------------------------------------------------------


def _luma(img: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(img, np.ndarray):
        arr = img.astype(np.float32)
        if arr.ndim == 3:
            arr = arr[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return arr
    return np.asarray(img.convert("L"), dtype=np.float32)


def _max_rectangle(grid: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest all-True rectangle of a boolean grid as ``(r0, c0, r1, c1)`` (exclusive),
    by the histogram-and-stack method, O(rows x cols)."""
    rows, cols = grid.shape
    heights = np.zeros(cols, dtype=np.int64)
    best: tuple[int, int, int, int] | None = None
    best_area = 0
    for r in range(rows):
        heights = np.where(grid[r], heights + 1, 0)
        stack: list[int] = []
        hs = heights.tolist() + [0]
        for c, h in enumerate(hs):
            start = c
            while stack and hs[stack[-1]] >= h:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                area = hs[top] * (c - left)
                if area > best_area:
                    best_area = area
                    best = (r - hs[top] + 1, left, r + 1, c)
                start = left
            del start
            stack.append(c)
    return best


def _refine(luma: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Shrink ``box`` (x0, y0, x1, y1) to the plate: move each edge inward to the first row or
    column that is (almost) all dark, i.e. the plate's padding."""
    x0, y0, x1, y1 = box
    dark = luma[y0:y1, x0:x1] <= _DARK_MAX
    if dark.size == 0:
        return None
    row_ok = np.flatnonzero(dark.mean(axis=1) >= _PADDING_DARK)
    if row_ok.size < 2:
        return None
    top, bottom = y0 + int(row_ok[0]), y0 + int(row_ok[-1]) + 1
    dark = luma[top:bottom, x0:x1] <= _DARK_MAX
    col_ok = np.flatnonzero(dark.mean(axis=0) >= _PADDING_DARK)
    if col_ok.size < 2:
        return None
    return x0 + int(col_ok[0]), top, x0 + int(col_ok[-1]) + 1, bottom


def _runs(mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in a 1-D mask, bridging gaps of at most ``gap``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _text_lines(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes ``(x0, y0, x1, y1)`` of separate blobs of ink: rows split first, then columns
    split wherever the gap is wider than half the line height (wider than any gap between the
    characters of a label)."""
    out: list[tuple[int, int, int, int]] = []
    for r0, r1 in _runs(np.asarray(ink.any(axis=1)), 1):
        line = ink[r0:r1]
        for c0, c1 in _runs(np.asarray(line.any(axis=0)), max(2, (r1 - r0) // 2)):
            rows = np.flatnonzero(line[:, c0:c1].any(axis=1))
            out.append((c0, r0 + int(rows[0]), c1, r0 + int(rows[-1]) + 1))
    return out


def _measure(luma: np.ndarray, box: tuple[int, int, int, int]) -> _Found | None:
    """The label text inside a plate candidate, or ``None`` when it holds no light text.

    Tried on the candidate shrunk to the plate's padding (exact when the background is light)
    and as it is (when a dark background merges with the plate)."""
    plate = _refine(luma, box)
    results = [_measure_in(luma, b) for b in ((plate, box) if plate is not None else (box,))]
    found = [r for r in results if r is not None]
    if not found:
        return None
    return min(found, key=lambda f: (f.cut, -(f.ink[3] - f.ink[1])))


def _levels(pixels: np.ndarray) -> tuple[float, float] | None:
    """Plate and text levels of a patch: the median of its dark pixels and the 90th percentile
    of those clearly brighter; ``None`` without both."""
    dark = pixels[pixels <= _DARK_MAX]
    if dark.size == 0:
        return None
    plate = float(np.median(dark))
    bright = pixels[pixels >= plate + _MIN_CONTRAST]
    if bright.size == 0:
        return None
    return plate, float(np.percentile(bright, 90))


def _measure_in(luma: np.ndarray, box: tuple[int, int, int, int]) -> _Found | None:
    """Blobs of light pixels are found with the levels of the whole candidate; each is then
    re-measured against its own surroundings: label text is wider than high, not solid, and
    ringed by dark plate (the renderer's padding). The tallest such blob wins; one whose ring
    would leave the picture is reported as cut."""
    x0, y0, x1, y1 = box
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    region = luma[y0:y1, x0:x1]
    levels = _levels(region)
    if levels is None:
        return None
    ink = region > levels[0] + INK_THRESHOLD * (levels[1] - levels[0])
    best: _Found | None = None
    for bx0, by0, bx1, by1 in _text_lines(ink):
        found = _local(luma, (x0 + bx0, y0 + by0, x0 + bx1, y0 + by1))
        if found is None:
            continue
        h = found.ink[3] - found.ink[1]
        if best is None or (best.cut, -(best.ink[3] - best.ink[1])) > (found.cut, -h):
            best = found
    return best


def _local(luma: np.ndarray, blob: tuple[int, int, int, int]) -> _Found | None:
    """Re-measure one blob with the levels of its own neighbourhood: its ink box (grown by up
    to ``t`` pixels, as the rough levels may have thinned it) must be ringed by ``t`` pixels of
    dark plate without ink."""
    gx0, gy0, gx1, gy1 = blob
    h, w = gy1 - gy0, gx1 - gx0
    if h < 2 or w < 1.5 * h:
        return None
    height, width = luma.shape
    t = max(1, round(0.15 * h))
    # Window: the blob plus 2t (t to regrow the ink, t more for the ring).
    wx0, wy0 = max(gx0 - 2 * t, 0), max(gy0 - 2 * t, 0)
    wx1, wy1 = min(gx1 + 2 * t, width), min(gy1 + 2 * t, height)
    window = luma[wy0:wy1, wx0:wx1]
    levels = _levels(window)
    if levels is None:
        return None
    plate, text = levels
    ink = window > plate + INK_THRESHOLD * (text - plate)
    # The ink within the blob grown by t.
    ax0, ay0 = max(gx0 - t, 0) - wx0, max(gy0 - t, 0) - wy0
    ax1, ay1 = min(gx1 + t, width) - wx0, min(gy1 + t, height) - wy0
    core = ink[ay0:ay1, ax0:ax1]
    if not core.any():
        return None
    rows = np.flatnonzero(core.any(axis=1))
    cols = np.flatnonzero(core.any(axis=0))
    ix0, iy0 = ax0 + int(cols[0]), ay0 + int(rows[0])
    ix1, iy1 = ax0 + int(cols[-1]) + 1, ay0 + int(rows[-1]) + 1
    ih, iw = iy1 - iy0, ix1 - ix0
    if iw < 1.5 * ih:
        return None
    density = float(ink[iy0:iy1, ix0:ix1].mean())
    if not 0.08 <= density <= 0.7:
        return None
    # The ring: t pixels around the ink box, inside the picture.
    rx0, ry0 = max(ix0 - t, 0), max(iy0 - t, 0)
    rx1, ry1 = min(ix1 + t, window.shape[1]), min(iy1 + t, window.shape[0])
    inner = np.zeros((ry1 - ry0, rx1 - rx0), dtype=bool)
    inner[iy0 - ry0 : iy1 - ry0, ix0 - rx0 : ix1 - rx0] = True
    ring_px = window[ry0:ry1, rx0:rx1][~inner]
    ring_ink = ink[ry0:ry1, rx0:rx1][~inner]
    if ring_px.size == 0 or float((ring_px <= _DARK_MAX).mean()) < 0.9 or ring_ink.mean() > 0.01:
        return None  # not on a plate: a bright shape in a dark picture, or bright background
    gx = (wx0 + ix0, wy0 + iy0, wx0 + ix1, wy0 + iy1)
    cut = gx[0] - t < 0 or gx[1] - t < 0 or gx[2] + t > width or gx[3] + t > height
    return _Found(ink=gx, plate=(wx0 + rx0, wy0 + ry0, wx0 + rx1, wy0 + ry1), cut=cut)


def _search(luma: np.ndarray) -> list[_Found]:
    """Plate candidates in the top and bottom bands of the picture, best first."""
    from PIL import Image, ImageFilter

    height, width = luma.shape
    block = max(1, round(_BLOCK_RATIO * min(width, height)))
    band = min(height, max(math.ceil(_SEARCH_BAND * height), 4 * block))
    rows = band // block
    cols = width // block
    if rows < 1 or cols < 1:
        return []
    found: list[_Found] = []
    for top in (0, height - rows * block):
        cells = luma[top : top + rows * block, : cols * block]
        grid = cells.reshape(rows, block, cols, block).min(axis=(1, 3)) <= _DARK_MAX
        # A 3x3 closing fills blocks that fall wholly inside a thick stroke of the text.
        im = Image.fromarray(grid.astype(np.uint8) * 255, "L")
        grid = np.asarray(
            im.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(3))
        ).astype(bool) | grid
        for _ in range(_CANDIDATES):
            rect = _max_rectangle(grid)
            if rect is None:
                break
            r0, c0, r1, c1 = rect
            grid[r0:r1, c0:c1] = False
            if r1 - r0 < 2 or c1 - c0 < 3:
                break
            box = (
                max(0, c0 * block - block),
                max(0, top + r0 * block - block),
                min(width, c1 * block + block),
                min(height, top + r1 * block + block),
            )
            hit = _measure(luma, box)
            if hit is not None:
                found.append(hit)
    found.sort(key=lambda f: (not f.cut, f.ink[3] - f.ink[1]), reverse=True)
    return found


def _from_hint(luma: np.ndarray, hint: MarkPlacement | tuple[int, int, int, int]) -> _Found | None:
    """Measure at a known plate box, scaled when the picture was resized proportionally."""
    height, width = luma.shape
    if isinstance(hint, MarkPlacement):
        sx = width / hint.image_size[0]
        sy = height / hint.image_size[1]
        if abs(sx - sy) > 0.02 * max(sx, sy):
            return None  # cropped or distorted: the hint says nothing any more
        x, y, w, h = hint.box
        box = (x * sx, y * sy, (x + w) * sx, (y + h) * sy)
    else:
        box = tuple(float(v) for v in hint)  # type: ignore[assignment]
    grow = 2.0 + 0.05 * (box[3] - box[1])
    x0 = max(0, math.floor(box[0] - grow))
    y0 = max(0, math.floor(box[1] - grow))
    x1 = min(width, math.ceil(box[2] + grow))
    y1 = min(height, math.ceil(box[3] + grow))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    return _measure(luma, (x0, y0, x1, y1))


def _position(ink: tuple[int, int, int, int], size: tuple[int, int]) -> str:
    width, height = size
    cx = (ink[0] + ink[2]) / 2.0
    cy = (ink[1] + ink[3]) / 2.0
    vertical = "top" if cy < height / 2.0 else "bottom"
    if cx < width / 3.0:
        return f"{vertical}-left"
    if cx > 2.0 * width / 3.0:
        return f"{vertical}-right"
    return vertical


# -- image --------------------------------------------------------------------------------------


def verify_image_mark(
    img: Image.Image | np.ndarray,
    *,
    placement: MarkPlacement | tuple[int, int, int, int] | None = None,
    expected_text: str | None = None,
    font: str | os.PathLike[str] | None = None,
) -> MarkCheck:
    """Find and measure the visible label on the final picture (R-EXP-3, R-EXP-11).

    ``img`` is a Pillow image or an RGB/grey array, as decoded from the output. ``placement``
    (what :func:`mark_image` returned, or an ``(x0, y0, x1, y1)`` plate box) only says where to
    look first; the pixels decide. With ``expected_text`` the ink's width-to-height ratio is
    compared with that text drawn in the mark font (a shape check, not OCR); pass it (or
    ``placement``) when the picture may hold other light text on a dark ground, such as
    burned-in captions, which would otherwise be taken for the label.
    """
    return _check(img, placement, expected_text, font, search=True)


def _check(
    img: Image.Image | np.ndarray,
    placement: MarkPlacement | tuple[int, int, int, int] | None,
    expected_text: str | None,
    font: str | os.PathLike[str] | None,
    *,
    search: bool,
) -> MarkCheck:
    luma = _luma(img)
    if luma.ndim != 2 or luma.shape[0] < 2 or luma.shape[1] < 2:
        raise UsageError(f"expected a picture of at least 2x2 pixels, got shape {luma.shape}")
    size = (luma.shape[1], luma.shape[0])
    required = required_height_px(size)
    hint = _from_hint(luma, placement) if placement is not None else None
    candidates = [hint] if hint is not None else []
    if search and (hint is None or hint.cut):
        candidates += _search(luma)
    want = _text_ratio(expected_text, font) if expected_text is not None else None
    if want is not None:
        # Other light text on a dark ground (a burned-in caption) is not the label asked for.
        shaped = [c for c in candidates if _ratio_ok(c, want)]
        candidates = shaped or candidates
    hit = min(candidates, key=lambda c: (c.cut, -(c.ink[3] - c.ink[1]))) if candidates else None
    if hit is None:
        finding = Finding(
            "mark.present", "R-EXP-3", False, "expected a visible label on an edge or in a "
            "corner, found none"
        )
        return MarkCheck(False, None, required, None, findings=(finding,))
    return _judge(hit, size, required, expected_text, font)


def _judge(
    hit: _Found,
    size: tuple[int, int],
    required: int,
    expected_text: str | None,
    font: str | os.PathLike[str] | None,
) -> MarkCheck:
    width, height = size
    x0, y0, x1, y1 = hit.ink
    measured = y1 - y0
    findings = [
        Finding(
            "mark.intact",
            "R-EXP-3",
            not hit.cut,
            "the label text is whole" if not hit.cut else
            "expected the whole label inside its plate, found its text cut at the plate edge "
            "(cropped?)",
        ),
        Finding(
            "mark.height",
            "R-EXP-11",
            measured >= required,
            f"expected text at least {required} px high (5% of {min(size)} px), "
            f"measured {measured} px",
        ),
    ]
    gap_v = min(y0, height - y1) / height
    gap_h = min(x0, width - x1) / width
    at_edge = min(gap_v, gap_h) <= IMAGE_MARK_EDGE_BAND_RATIO
    findings.append(
        Finding(
            "mark.position",
            "R-EXP-3",
            at_edge,
            f"expected the label within {IMAGE_MARK_EDGE_BAND_RATIO:.0%} of an edge, found it "
            f"{min(gap_v, gap_h):.1%} from the nearest",
        )
    )
    if expected_text is not None:
        findings.append(_shape_check(expected_text, hit, font))
    text_box = (x0, y0, x1 - x0, measured)
    p = hit.plate
    return MarkCheck(
        passed=all(f.passed for f in findings),
        measured_height_px=measured,
        required_height_px=required,
        position=_position(hit.ink, size),
        text_box=text_box,
        plate_box=(p[0], p[1], p[2] - p[0], p[3] - p[1]),
        findings=tuple(findings),
    )


@functools.lru_cache(maxsize=32)
def _text_ratio_at(text: str, font_path: str) -> float:
    from synthguard.marks._fonts import load_font
    from synthguard.marks._render_image import _ink_box

    box = _ink_box(load_font(Path(font_path), 100), text)
    return (box[2] - box[0]) / max(box[3] - box[1], 1)


def _text_ratio(text: str, font: str | os.PathLike[str] | None) -> float | None:
    """Width over height of ``text``'s ink in the mark font; ``None`` without a font."""
    from synthguard.marks._fonts import find_font

    try:
        return _text_ratio_at(text, str(find_font(font)))
    except MissingSystemPackageError:
        return None


def _ratio_ok(hit: _Found, want: float) -> bool:
    x0, y0, x1, y1 = hit.ink
    got = (x1 - x0) / max(y1 - y0, 1)
    return abs(got - want) <= _SHAPE_TOLERANCE * want


def _shape_check(text: str, hit: _Found, font: str | os.PathLike[str] | None) -> Finding:
    want = _text_ratio(text, font)
    if want is None:
        return Finding("mark.text_shape", "R-EXP-1", True, "not checked: no CJK font installed")
    x0, y0, x1, y1 = hit.ink
    got = (x1 - x0) / max(y1 - y0, 1)
    return Finding(
        "mark.text_shape",
        "R-EXP-1",
        _ratio_ok(hit, want),
        f"expected the ink shaped like {text!r} (width/height {want:.2f}), measured {got:.2f}",
    )
