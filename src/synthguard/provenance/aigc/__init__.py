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
from synthguard.provenance.aigc._read import read_aigc, read_labels
from synthguard.provenance.aigc._writers import (
    WriteInfo,
    WriteResult,
    supported_write_formats,
    write_label,
)

__all__ = [
    "AigcLabel",
    "AigcResult",
    "Finding",
    "Severity",
    "Site",
    "Verdict",
    "WriteInfo",
    "WriteResult",
    "assess",
    "parse_site",
    "read_aigc",
    "read_labels",
    "supported_write_formats",
    "write_label",
]
