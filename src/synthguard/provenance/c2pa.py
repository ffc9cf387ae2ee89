"""C2PA manifests: read and verify offline, sign, and re-sign after a propagation write.

C2PA is file metadata but not the GB 45438 label (R-C2PA-5); :func:`read_c2pa` reports what a
manifest says and how section 10 maps it (R-PLAT-7), :func:`sign_c2pa` writes one after the
metadata label (R-C2PA-6), :func:`resign_c2pa` keeps a valid chain when a platform's
propagation write broke the original. Needs the ``c2pa`` extra (``c2pa-python``,
``cryptography``), imported on first use.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthguard.errors import ConfigError
from synthguard.media import Media
from synthguard.provenance._c2pa_read import (
    HARD_BINDING_CODES,
    SUPPORTED_FORMATS,
    C2paAction,
    C2paIngredient,
    C2paResult,
    C2paState,
    c2pa_invalidated_by_propagation,
    gb45438_mapping,
    offline_settings,
    read_c2pa,
)
from synthguard.provenance._c2pa_sign import (
    TRAINED_ALGORITHMIC_MEDIA,
    SignResult,
    resign_c2pa,
    sign_c2pa,
)
from synthguard.requirements import C2PA_JPEG_MARKER, C2PA_RIFF_CHUNK
from synthguard.settings import Settings

__all__ = [
    "C2paAction",
    "C2paIngredient",
    "C2paResult",
    "C2paState",
    "HARD_BINDING_CODES",
    "SUPPORTED_FORMATS",
    "SignResult",
    "TRAINED_ALGORITHMIC_MEDIA",
    "c2pa_invalidated_by_propagation",
    "c2pa_provenance",
    "gb45438_mapping",
    "may_hold_manifest",
    "offline_settings",
    "read_c2pa",
    "resign_c2pa",
    "sign_c2pa",
    "trust_anchors_from",
]


# Formats whose manifest store the media walkers record (R-C2PA-3); for the other supported
# formats the library itself is asked.
_STORE_BLOCKS: dict[str, tuple[str, str | None, str | None]] = {
    "jpeg": ("jpeg.app", "marker", f"{C2PA_JPEG_MARKER:02X}"),
    "png": ("png.c2pa", None, None),
    "webp": ("webp.c2pa", None, None),
    "wav": ("wav.chunk", "id", C2PA_RIFF_CHUNK.decode("ascii")),
    "mp4": ("bmff.uuid.c2pa", None, None),
    "mov": ("bmff.uuid.c2pa", None, None),
    "m4a": ("bmff.uuid.c2pa", None, None),
    "heic": ("bmff.uuid.c2pa", None, None),
    "avif": ("bmff.uuid.c2pa", None, None),
}


def may_hold_manifest(media: Media) -> bool:
    """Whether ``media`` can carry an embedded manifest store, decided from the metadata index
    that :func:`~synthguard.media.open_media` recorded (no I/O). The native reader costs
    milliseconds per file, so a scan asks it only when this says yes."""
    if media.format not in SUPPORTED_FORMATS:
        return False
    where = _STORE_BLOCKS.get(media.format)
    if where is None:
        return True
    carrier, key, value = where
    return any(
        b.carrier == carrier and (key is None or b.get(key) == value) for b in media.metadata
    )


@lru_cache(maxsize=8)
def _anchors(path: str, mtime_ns: int) -> tuple[bytes, ...]:
    del mtime_ns  # part of the cache key only: a changed file is read again
    return (Path(path).read_bytes(),)


def trust_anchors_from(settings: Settings) -> tuple[bytes, ...]:
    """The PEM roots named by the ``c2pa_trust_anchors`` setting (none when empty)."""
    path = settings.c2pa_trust_anchors
    if not path:
        return ()
    try:
        return _anchors(path, os.stat(path).st_mtime_ns)
    except OSError as exc:
        raise ConfigError(
            f"setting c2pa_trust_anchors expects a readable PEM file, got {path!r}: "
            f"{exc.strerror or exc}"
        ) from None


@lru_cache(maxsize=2)
def _absent_json(format_supported: bool) -> str:
    return json.dumps(
        C2paResult(
            state=C2paState.ABSENT,
            format_supported=format_supported,
            gb45438_mapping=gb45438_mapping(C2paState.ABSENT, (), ()),
        ).to_dict()
    )


def c2pa_provenance(media: Media) -> dict[str, Any]:
    """The provenance-registry reader: ``{"c2pa": ...}``, trusting the roots of the
    ``c2pa_trust_anchors`` setting. Files without a manifest store cost next to nothing: the
    "absent" answer is built once and copied (a fresh dict per report, never shared)."""
    if not may_hold_manifest(media):
        return {"c2pa": json.loads(_absent_json(media.format in SUPPORTED_FORMATS))}
    anchors = trust_anchors_from(media.settings)
    return {"c2pa": read_c2pa(media, trust_anchors=anchors or None).to_dict()}
