"""Readers and writers of machine-readable labels (GB 45438 AIGC metadata, C2PA, watermarks).

:func:`read_provenance` runs every registered reader and merges their fragments into the
report's ``provenance`` object. The built-in readers are named in a static table and imported
on first use (no work at import time); :func:`register_reader` adds more.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from synthguard.media import Media

__all__ = [
    "ProvenanceReader",
    "load_readers",
    "read_provenance",
    "register_reader",
    "registered_readers",
]

ProvenanceReader = Callable[[Media], dict[str, Any]]
"""A reader returns a fragment of the ``provenance`` object (e.g. ``{"aigc": {...}}``)."""

# name -> "module:function" of the built-in readers, imported lazily.
_BUILTIN: dict[str, str] = {
    "aigc": "synthguard.provenance.aigc._read:provenance_fragment",  # GB 45438 + IPTC
}
if importlib.util.find_spec("c2pa") is not None:  # the c2pa extra is installed
    _BUILTIN["c2pa"] = "synthguard.provenance.c2pa:c2pa_provenance"  # R-C2PA-*, R-PLAT-7
_READERS: dict[str, ProvenanceReader | str] = dict(_BUILTIN)


def register_reader(name: str, reader: ProvenanceReader) -> None:
    """Add a reader; names are unique (a duplicate name is a programming error)."""
    if name in _READERS:
        raise ValueError(f"a provenance reader named {name!r} is already registered")
    _READERS[name] = reader


def registered_readers() -> list[str]:
    return sorted(_READERS)


def _resolve(name: str) -> ProvenanceReader:
    reader = _READERS[name]
    if isinstance(reader, str):
        module, _sep, attr = reader.partition(":")
        reader = getattr(importlib.import_module(module), attr)
        _READERS[name] = reader
    return reader


def load_readers() -> None:
    """Import every registered reader now (they load lazily otherwise). A process that forks
    workers calls this first, so that each worker does not pay the imports (the native C2PA
    library among them) on its first file."""
    for name in list(_READERS):
        _resolve(name)


def read_provenance(media: Media) -> dict[str, Any]:
    """Run every registered reader; their fragments are merged into one object."""
    out: dict[str, Any] = {}
    for name in sorted(_READERS):
        out.update(_resolve(name)(media))
    return out
