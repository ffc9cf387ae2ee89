"""Finding a font that draws Chinese: visible marks say ``AI生成``, which Latin fonts cannot.

The font is a system package, not a Python one: Debian's ``fonts-wqy-microhei`` (installed by
``scripts/setup-system.sh``). Known CJK fonts are searched in the usual font directories; a
``mark_font`` path overrides the search. Nothing is downloaded.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from synthguard.errors import MissingSystemPackageError, UsageError

__all__ = ["FONT_PACKAGE", "find_font", "load_font"]

FONT_PACKAGE = "fonts-wqy-microhei"
"""The Debian package that provides the default mark font."""

# Preference order: file names of CJK fonts that cover the label text (R-EXP-1 defaults).
_FONT_NAMES = (
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "NotoSansSC[wght].ttf",
    "DroidSansFallbackFull.ttf",
    "DroidSansFallback.ttf",
)
_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/usr/share/fonts-droid-fallback",
    "~/.local/share/fonts",
    "~/.fonts",
)


@functools.lru_cache(maxsize=4)
def _search(dirs: tuple[str, ...]) -> Path | None:
    found: dict[str, Path] = {}
    wanted = set(_FONT_NAMES)
    for base in dirs:
        root = Path(os.path.expanduser(base))
        if not root.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(root):
            for name in filenames:
                if name in wanted and name not in found:
                    found[name] = Path(dirpath) / name
    for name in _FONT_NAMES:
        if name in found:
            return found[name]
    return None


def find_font(override: str | os.PathLike[str] | None = None) -> Path:
    """The font file used for marks: ``override`` when given, else the first known CJK font
    found in the system font directories.

    Raises :class:`~synthguard.errors.MissingSystemPackageError` naming the Debian package when
    none is installed, and :class:`~synthguard.errors.UsageError` for an override that is not a
    file.
    """
    if override is not None:
        path = Path(os.fspath(override)).expanduser()
        if not path.is_file():
            raise UsageError(f"expected mark_font to be a font file, got {str(path)!r}")
        return path
    found = _search(_FONT_DIRS)
    if found is None:
        raise MissingSystemPackageError(
            "visible marks need a CJK font to draw 'AI生成'; expected one of "
            f"{', '.join(_FONT_NAMES[:3])} ... under {', '.join(_FONT_DIRS[:2])}, found none: "
            f"install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}) "
            "or pass mark_font=PATH"
        )
    return found


@functools.lru_cache(maxsize=64)
def _truetype(path: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size, index=0)


def load_font(path: Path, size: int) -> Any:
    """The Pillow font at ``size`` pixels (cached: marking many frames reuses one)."""
    try:
        return _truetype(str(path), int(size))
    except OSError as exc:
        raise UsageError(f"expected a TrueType/OpenType font at {str(path)!r}: {exc}") from None
