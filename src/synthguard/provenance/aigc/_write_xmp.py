"""Set the ``TC260:AIGC`` property in an XMP packet (R-FMT-1), keeping everything else.

Shared by every writer whose carrier is XMP (images here; other containers' XMP slots,
R-FMT-15). An existing packet is parsed with the hardened parser of :mod:`._xmp` (no DTDs, no
entities, bounded size and depth) and re-serialised by the small serialiser below, which keeps
every namespace prefix, element, attribute and text of the original; only XML comments and
processing instructions inside the root are dropped (they carry no XMP data). The
``<?xpacket?>`` wrappers are kept as they were. The result is a fixed point: updating a packet
we wrote with the same value gives the same bytes (R-IMPL-4).
"""

from __future__ import annotations

import io
from xml.etree.ElementTree import Element, SubElement

import defusedxml.ElementTree as SafeET

from synthguard.errors import CorruptMediaError
from synthguard.provenance.aigc._xmp import RDF_NS, XmpError, parse_xmp
from synthguard.requirements import XMP_AIGC_PREFIX, XMP_AIGC_PROPERTY, XMP_TC260_NAMESPACE

__all__ = ["XPACKET_BEGIN", "XPACKET_END", "declared_namespaces", "serialise_xml", "xmp_with_aigc"]

XPACKET_BEGIN = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
XPACKET_END = b'<?xpacket end="w"?>'
_X_NS = "adobe:ns:meta/"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_AIGC_TAG = f"{{{XMP_TC260_NAMESPACE}}}{XMP_AIGC_PROPERTY}"
_DESCRIPTION = f"{{{RDF_NS}}}Description"
_ABOUT = f"{{{RDF_NS}}}about"


def _minimal() -> Element:
    root = Element(f"{{{_X_NS}}}xmpmeta")
    rdf = SubElement(root, f"{{{RDF_NS}}}RDF")
    SubElement(rdf, _DESCRIPTION, {_ABOUT: ""})
    return root


def _split_wrappers(packet: bytes) -> tuple[bytes, bytes]:
    """The ``<?xpacket begin?>`` header and ``<?xpacket end?>`` trailer, as they were."""
    body = packet.lstrip(b"\xef\xbb\xbf \t\r\n")
    head = b""
    if body.startswith(b"<?xpacket"):
        end = body.find(b"?>")
        if end > 0:
            head = body[: end + 2]
    tail = b""
    trimmed = packet.rstrip(b"\x00 \t\r\n")
    start = trimmed.rfind(b"<?xpacket")
    if start > 0 and trimmed.endswith(b"?>") and b"end=" in trimmed[start:]:
        tail = trimmed[start:]
    return head, tail


def declared_namespaces(packet: bytes) -> list[tuple[str, str]]:
    """(prefix, uri) in document order, as declared in the packet."""
    text = packet.lstrip(b"\xef\xbb\xbf").rstrip(b"\x00 \t\r\n")
    out: list[tuple[str, str]] = []
    for _event, item in SafeET.iterparse(io.BytesIO(text), events=("start-ns",), forbid_dtd=True):
        out.append(item)
    return out


class _Serialiser:
    """Writes an element tree with the original prefixes, declaring them all on the root."""

    def __init__(self, declared: list[tuple[str, str]]) -> None:
        self.prefix_of: dict[str, str] = {}
        used: set[str] = set()
        for prefix, uri in declared:
            if uri not in self.prefix_of and prefix and prefix not in used and uri != _XML_NS:
                self.prefix_of[uri] = prefix
                used.add(prefix)
        self.default_uri = next((uri for prefix, uri in declared if not prefix), None)
        self._used = used
        self.order: list[str] = list(self.prefix_of)

    def _prefix(self, uri: str) -> str:
        if uri == _XML_NS:
            return "xml"
        if uri not in self.prefix_of:
            n = 0
            while f"ns{n}" in self._used:
                n += 1
            self.prefix_of[uri] = f"ns{n}"
            self._used.add(f"ns{n}")
            self.order.append(uri)
        return self.prefix_of[uri]

    def qname(self, tag: str, *, attribute: bool) -> str:
        if tag.startswith("{"):
            uri, _, local = tag[1:].partition("}")
            if not attribute and uri == self.default_uri:
                return local
            return f"{self._prefix(uri)}:{local}"
        return tag

    def serialise(self, root: Element) -> str:
        # First pass names everything (so every namespace is known), second pass writes.
        for el in root.iter():
            self.qname(el.tag, attribute=False)
            for name in el.attrib:
                self.qname(name, attribute=True)
        parts: list[str] = []
        self._write(root, parts, top=True)
        return "".join(parts)

    def _write(self, el: Element, parts: list[str], *, top: bool) -> None:
        name = self.qname(el.tag, attribute=False)
        parts.append(f"<{name}")
        if top:
            if self.default_uri is not None:
                parts.append(f' xmlns="{_attr(self.default_uri)}"')
            for uri in self.order:
                parts.append(f' xmlns:{self.prefix_of[uri]}="{_attr(uri)}"')
        for key, value in el.attrib.items():
            parts.append(f' {self.qname(key, attribute=True)}="{_attr(value)}"')
        if len(el) == 0 and not el.text:
            parts.append("/>")
        else:
            parts.append(">")
            if el.text:
                parts.append(_text(el.text))
            for child in el:
                self._write(child, parts, top=False)
            parts.append(f"</{name}>")
        if el.tail and not top:
            parts.append(_text(el.tail))


def serialise_xml(root: Element, declared: list[tuple[str, str]]) -> str:
    """``root`` as XML text with the ``declared`` (prefix, uri) pairs, all declared on the root;
    a fixed point for trees it wrote itself."""
    return _Serialiser(declared).serialise(root)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return (
        _text(value).replace('"', "&quot;").replace("\n", "&#xA;").replace("\r", "&#xD;")
        .replace("\t", "&#x9;")
    )


def _set_property(root: Element, value: str | None) -> None:
    """Exactly one ``TC260:AIGC`` (or none when ``value`` is None), updated where it was."""
    placed = value is None
    for el in list(root.iter()):
        if _AIGC_TAG in el.attrib:
            if placed:
                del el.attrib[_AIGC_TAG]
            else:
                el.attrib[_AIGC_TAG] = value  # type: ignore[assignment]
                placed = True
        for child in list(el):
            if child.tag != _AIGC_TAG:
                continue
            simple = len(child) == 0 and not child.attrib
            if not placed and simple:
                child.text = value
                placed = True
            else:
                el.remove(child)
    if placed:
        return
    descriptions = list(root.iter(_DESCRIPTION))
    # R-FMT-1: if the TC260 namespace already holds properties, the AIGC property joins them.
    home = next(
        (d for d in descriptions
         if any(k.startswith(f"{{{XMP_TC260_NAMESPACE}}}") for k in d.attrib)
         or any(c.tag.startswith(f"{{{XMP_TC260_NAMESPACE}}}") for c in d)),
        descriptions[0] if descriptions else None,
    )
    if home is None:
        rdf = next(root.iter(f"{{{RDF_NS}}}RDF"), None)
        if rdf is None:
            raise CorruptMediaError(
                "expected the existing XMP packet to hold an rdf:RDF element, got none; "
                "refusing to overwrite it"
            )
        home = SubElement(rdf, _DESCRIPTION, {_ABOUT: ""})
    home.attrib[_AIGC_TAG] = value  # type: ignore[assignment]


def xmp_with_aigc(packet: bytes | None, value: str | None) -> bytes:
    """``packet`` (or a new minimal packet) with ``TC260:AIGC`` set to ``value`` as the one
    site, or removed everywhere when ``value`` is None. Raises
    :class:`~synthguard.errors.CorruptMediaError` for an existing packet that is not
    well-formed (it is never silently replaced)."""
    if packet is None:
        root = _minimal()
        declared = [("x", _X_NS), ("rdf", RDF_NS)]
        head, tail = XPACKET_BEGIN, XPACKET_END
    else:
        try:
            root = parse_xmp(packet)
            declared = declared_namespaces(packet)
        except (XmpError, SafeET.ParseError, ValueError) as exc:
            raise CorruptMediaError(
                f"expected the existing XMP packet to be well-formed, got: {exc}; "
                "refusing to overwrite it"
            ) from None
        head, tail = _split_wrappers(packet)
    if value is not None and not any(uri == XMP_TC260_NAMESPACE for _, uri in declared):
        declared.append((XMP_AIGC_PREFIX, XMP_TC260_NAMESPACE))
    _set_property(root, value)
    body = serialise_xml(root, declared).encode("utf-8")
    return head + body + tail
