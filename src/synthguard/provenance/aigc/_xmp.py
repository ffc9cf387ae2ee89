"""XMP packets: find and set the ``TC260:AIGC`` property (R-FMT-1) with a hardened parser.

XMP is attacker-controlled XML. ``defusedxml`` refuses DTDs, entity declarations and external
references (no billion-laughs, no XXE); packets above ``MAX_XMP_BYTES`` are refused before
parsing (R-IMPL-1). The property is found by namespace URI, not by prefix, in both the attribute
form (``TC260:AIGC="..."``) and the element form (``<TC260:AIGC>...</TC260:AIGC>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from synthguard.requirements import XMP_AIGC_PROPERTY, XMP_TC260_NAMESPACE

MAX_XMP_BYTES = 4 * 1024 * 1024
"""Real XMP packets are kilobytes; a label reader has no reason to parse megabytes."""

MAX_XMP_DEPTH = 64
"""Real packets nest about ten deep; deeper is hostile (R-IMPL-1)."""

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
_AIGC_TAG = f"{{{XMP_TC260_NAMESPACE}}}{XMP_AIGC_PROPERTY}"
_DST_TAG = f"{{{IPTC_EXT_NS}}}DigitalSourceType"


class XmpError(ValueError):
    """The packet is too large, hostile or not well-formed XML."""


@dataclass(frozen=True)
class XmpFacts:
    aigc: tuple[str, ...]  # every TC260:AIGC value, in document order
    digital_source_types: tuple[str, ...]  # IPTC DigitalSourceType values (R-C2PA-4)


def parse_xmp(packet: bytes) -> Element:
    if len(packet) > MAX_XMP_BYTES:
        raise XmpError(
            f"expected an XMP packet of at most {MAX_XMP_BYTES} bytes, got {len(packet)}"
        )
    text = packet.lstrip(b"\xef\xbb\xbf").rstrip(b"\x00 \t\r\n")
    try:
        root: Element = SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise XmpError(
            f"XMP refused: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from None
    except (SafeET.ParseError, ValueError, RecursionError) as exc:
        raise XmpError(f"XMP is not well-formed XML: {exc}") from None
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > MAX_XMP_DEPTH:
            raise XmpError(f"expected XMP nested at most {MAX_XMP_DEPTH} deep, got deeper")
        stack.extend((child, depth + 1) for child in el)
    return root


def _values(root: Element, tag: str) -> list[str]:
    out: list[str] = []
    for el in root.iter():
        attr = el.attrib.get(tag)
        if attr is not None:
            out.append(attr)
        if el.tag == tag:
            # Simple value, or an rdf:Seq/Bag/Alt of rdf:li values.
            items = [li.text or "" for li in el.iter(f"{{{RDF_NS}}}li")]
            out.extend(items if items else [el.text or ""])
    return out


def read_xmp(packet: bytes) -> XmpFacts:
    """The AIGC values and IPTC digital source types in one packet."""
    root = parse_xmp(packet)
    return XmpFacts(tuple(_values(root, _AIGC_TAG)), tuple(_values(root, _DST_TAG)))
