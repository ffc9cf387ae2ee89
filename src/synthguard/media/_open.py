"""Placeholder: replaced by the intake work (open_media)."""

from __future__ import annotations

from typing import Any

from synthguard.media._types import Media


def open_media(source: Any, *, name: str | None = None, settings: Any = None) -> Media:
    raise NotImplementedError
