"""Read the GB 45438 implicit label from every carrier of a file (R-FMT-1..20).

:func:`read_aigc` looks at every place section 4 names for the media's format (and the legacy
variants of R-FMT-20), parses every value it finds with :func:`parse_site` and returns the
verdict of :func:`assess`. It works on the metadata index that
:func:`~synthguard.media.open_media` recorded while walking the container once
(:attr:`Media.metadata <synthguard.media.Media.metadata>`): only those byte ranges are read,
nothing is decoded, and the total is bounded by ``max_metadata_bytes`` (R-IMPL-1).

Bad input never raises: a malformed, truncated or unsupported structure is an
``aigc.container`` finding and the verdict ``inconclusive`` (R-IMPL-1), never ``not_found``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthguard.media import Media
from synthguard.provenance.aigc._collect import Collector
from synthguard.provenance.aigc._payload import AigcResult
from synthguard.provenance.aigc._read_av import AV_READERS
from synthguard.provenance.aigc._read_docs import DOC_READERS
from synthguard.provenance.aigc._read_image import IMAGE_READERS

__all__ = ["provenance_fragment", "read_aigc", "read_labels"]

_READERS: dict[str, Callable[[Collector], None]] = {
    **IMAGE_READERS, **AV_READERS, **DOC_READERS,
}


def read_labels(media: Media) -> tuple[AigcResult, tuple[str, ...]]:
    """The AIGC verdict and the IPTC digital source types found in the file's XMP
    (R-C2PA-4)."""
    c = Collector(media)
    reader = _READERS.get(media.format)
    if reader is not None:
        try:
            reader(c)
        except MemoryError:
            c.container("ran out of memory reading the metadata")
        except Exception as exc:  # noqa: BLE001 - hostile metadata is a finding, not a crash
            c.container(f"the {media.format} metadata could not be read "
                        f"({type(exc).__name__}: {exc})")
        finally:
            c.close()
    return c.result(), tuple(dict.fromkeys(c.digital_source_types))


def read_aigc(media: Media) -> AigcResult:
    """Every AIGC site of the file and the verdict over them (R-IMPL-2, R-META-6)."""
    return read_labels(media)[0]


def provenance_fragment(media: Media) -> dict[str, Any]:
    """The report's ``provenance.aigc`` and ``provenance.iptc`` (the registered reader)."""
    result, source_types = read_labels(media)
    return {
        "aigc": result.to_dict(),
        "iptc": {"digital_source_types": list(source_types)},
    }
