"""GB 45438 implicit metadata labels (the ``AIGC`` payload), per carrier format."""

from __future__ import annotations

from synthguard.provenance.aigc._payload import (
    AigcLabel,
    AigcResult,
    Finding,
    Severity,
    Site,
    Verdict,
    assess,
    parse_site,
)

__all__ = [
    "AigcLabel",
    "AigcResult",
    "Finding",
    "Severity",
    "Site",
    "Verdict",
    "assess",
    "parse_site",
]
