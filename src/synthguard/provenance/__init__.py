"""Readers and writers of machine-readable labels (GB 45438 AIGC metadata, C2PA, watermarks).

The label work (issue #3) registers its readers here; :func:`read_provenance` runs every
reader that accepts the media's kind and format and returns the report's ``provenance`` object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthguard.media import Media

__all__ = ["ProvenanceReader", "read_provenance", "register_reader", "registered_readers"]

ProvenanceReader = Callable[[Media], dict[str, Any]]
"""A reader returns a fragment of the ``provenance`` object (e.g. ``{"aigc": {...}}``)."""

_READERS: dict[str, ProvenanceReader] = {}


def register_reader(name: str, reader: ProvenanceReader) -> None:
    """Add a reader; names are unique (a duplicate name is a programming error)."""
    if name in _READERS:
        raise ValueError(f"a provenance reader named {name!r} is already registered")
    _READERS[name] = reader


def registered_readers() -> list[str]:
    return sorted(_READERS)


def read_provenance(media: Media) -> dict[str, Any]:
    """Run every registered reader; their fragments are merged into one object."""
    out: dict[str, Any] = {}
    for name in sorted(_READERS):
        out.update(_READERS[name](media))
    return out
