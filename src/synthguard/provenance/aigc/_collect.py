"""What every label reader shares: the :class:`Collector` of sites and findings, bounded reads
of the metadata blocks the media walk indexed, and the XMP step (R-FMT-1, R-FMT-15).

A reader never raises for bad input (R-IMPL-1): a block that cannot be read, or whose
structure is malformed or truncated, becomes an ``aigc.container`` finding, which makes the
verdict ``inconclusive`` rather than ``not_found``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from synthguard.media import Media, MetaBlock
from synthguard.provenance.aigc._payload import (
    AigcResult,
    Finding,
    Severity,
    Site,
    Verdict,
    assess,
    parse_site,
)
from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES, XmpError, read_xmp
from synthguard.requirements import AIGC_KEY, CARRIERS, Carrier

__all__ = ["Collector", "Malformed", "looks_like_label"]

_NOT_FOUND = AigcResult(Verdict.NOT_FOUND)  # immutable: shared by every file without a label


class Malformed(ValueError):
    """A block's structure is truncated, malformed or an unsupported variant (R-IMPL-1)."""


def looks_like_label(text: str) -> bool:
    """Whether free text (a comment, a description) is meant as an AIGC payload: a JSON object
    naming the label. Ordinary comments are not sites and must not become parse errors."""
    head = text.lstrip()
    return head.startswith("{") and (AIGC_KEY in head or '"Label"' in head)


@dataclass
class Collector:
    """The sites and findings of one file, and the bytes its readers may still read."""

    media: Media
    sites: list[Site] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # container and legacy findings
    digital_source_types: list[str] = field(default_factory=list)  # R-C2PA-4
    budget: int = 0
    _fh: BinaryIO | None = None  # one handle for all the blocks of a file on disk

    def __post_init__(self) -> None:
        # The walk already charged every indexed block to max_metadata_bytes; this is the same
        # bound on what the readers read back (R-IMPL-1).
        self.budget = self.media.settings.max_metadata_bytes

    def blocks(self, *names: str) -> Iterator[MetaBlock]:
        """The indexed blocks of the given kinds, in file order."""
        for block in self.media.metadata:
            if block.carrier in names:
                yield block

    def read(self, block: MetaBlock, carrier: Carrier, cap: int | None = None) -> bytes | None:
        """The block's bytes, or ``None`` with a finding when it is larger than ``cap`` or the
        remaining budget; the bytes are never read in that case."""
        limit = self.budget if cap is None else min(cap, self.budget)
        if block.length > limit:
            self.container(
                f"expected a {block.carrier} block of at most {limit:,} bytes, got "
                f"{block.length:,}; not read", carrier,
            )
            return None
        data = self.read_at(block.offset, block.length)
        self.budget -= len(data)
        if len(data) < block.length:
            self.container(
                f"expected a {block.carrier} block of {block.length:,} bytes at offset "
                f"{block.offset:,}, but the file ends first", carrier,
            )
            return None
        return data

    def read_at(self, offset: int, length: int) -> bytes:
        """Bytes of the content (in memory: a slice; on disk: through one handle)."""
        if self.media.path is None:
            return self.media.read_range(offset, length)
        if self._fh is None:
            self._fh = self.media.open()
        self._fh.seek(max(0, offset))
        return self._fh.read(max(0, length))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def site(self, value: str | bytes, carrier: Carrier) -> Site:
        """Parse one value found at ``carrier`` with every check of REGULATIONS 3.2."""
        try:
            site = parse_site(value, carrier)
        except (TypeError, ValueError, RecursionError) as exc:  # hostile values: a finding
            site = Site(carrier, None, None, (Finding(
                "aigc.parse", Severity.ERROR, "R-META-1",
                f"value could not be checked ({type(exc).__name__})", carrier),))
        self.sites.append(site)
        return site

    def container(self, message: str, carrier: Carrier | None = None,
                  requirement: str = "R-IMPL-1") -> None:
        """A malformed, truncated or unsupported structure: the verdict becomes
        ``inconclusive`` unless a site already makes it ``noncompliant``."""
        self.findings.append(Finding("aigc.container", Severity.ERROR, requirement, message,
                                     carrier))

    def warn(self, check: str, requirement: str, message: str,
             carrier: Carrier | None = None) -> None:
        self.findings.append(Finding(check, Severity.WARNING, requirement, message, carrier))

    def legacy(self, message: str, carrier: Carrier) -> None:
        """A vendor or pre-standard label location or shape (R-FMT-20): read, flagged."""
        self.warn("aigc.legacy", CARRIERS[carrier], message, carrier)

    def xmp(self, packet: bytes | None, carrier: Carrier) -> None:
        """Every ``TC260:AIGC`` value of an XMP packet is a site (R-FMT-1); IPTC digital
        source types are kept for the policy (R-C2PA-4)."""
        if packet is None:
            return
        if len(packet) > MAX_XMP_BYTES:
            self.container(
                f"expected an XMP packet of at most {MAX_XMP_BYTES:,} bytes, got "
                f"{len(packet):,}; not parsed", carrier,
            )
            return
        try:
            facts = read_xmp(packet)
        except XmpError as exc:
            self.container(f"XMP packet not read: {exc}", carrier)
            return
        for value in facts.aigc:
            self.site(value, carrier)
        self.digital_source_types.extend(facts.digital_source_types)

    def result(self) -> AigcResult:
        if not self.sites and not self.findings:
            return _NOT_FOUND
        return assess(self.sites, self.findings)
