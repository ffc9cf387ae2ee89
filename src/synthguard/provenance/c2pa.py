"""C2PA manifests: read and verify offline, sign, and re-sign after a propagation write.

C2PA is file metadata but not the GB 45438 label (R-C2PA-5); :func:`read_c2pa` reports what a
manifest says and how section 10 maps it (R-PLAT-7), :func:`sign_c2pa` writes one after the
metadata label (R-C2PA-6), :func:`resign_c2pa` keeps a valid chain when a platform's
propagation write broke the original. Needs the ``c2pa`` extra (``c2pa-python``,
``cryptography``), imported on first use.
"""

from __future__ import annotations

from typing import Any

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
    "offline_settings",
    "read_c2pa",
    "resign_c2pa",
    "sign_c2pa",
]


def c2pa_provenance(media: Media) -> dict[str, Any]:
    """The provenance-registry reader: ``{"c2pa": read_c2pa(media).to_dict()}`` with no
    trust anchors configured (a valid manifest then reads ``untrusted``)."""
    return {"c2pa": read_c2pa(media).to_dict()}
