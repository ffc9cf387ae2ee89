"""Placeholder: replaced by the intake work (magic-byte sniffing)."""

from __future__ import annotations

from dataclasses import dataclass

from synthguard.media._types import Kind


@dataclass(frozen=True)
class Sniffed:
    kind: Kind
    format: str
    mime: str


def sniff(head: bytes, *, size: int | None = None, name: str | None = None) -> Sniffed | None:
    raise NotImplementedError
