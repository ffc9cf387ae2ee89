from __future__ import annotations

import pytest

from synthguard.provenance.aigc._xmp import MAX_XMP_BYTES, XmpError, read_xmp

NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
VALUE = '{"Label":"1","ContentProducer":"p","ProduceID":"i"}'
ESCAPED = VALUE.replace('"', "&quot;")


def packet(body: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f"{body}</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    ).encode()


def test_attribute_form_any_prefix() -> None:
    # R-FMT-1: found by namespace URI, whatever prefix the writer chose
    facts = read_xmp(packet(f'<rdf:Description xmlns:tc="{NS}" tc:AIGC="{ESCAPED}"/>'))
    assert facts.aigc == (VALUE,)


def test_element_form_and_iptc_source_type() -> None:
    body = (
        f'<rdf:Description xmlns:TC260="{NS}" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<TC260:AIGC>{ESCAPED}</TC260:AIGC>"
        "<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/"
        "trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType></rdf:Description>"
    )
    facts = read_xmp(packet(body))
    assert facts.aigc == (VALUE,)
    assert facts.digital_source_types[0].endswith("trainedAlgorithmicMedia")


def test_no_label() -> None:
    body = '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
    assert read_xmp(packet(body)).aigc == ()


@pytest.mark.parametrize(
    "hostile",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<x>&b;</x>",
        # external entity (XXE)
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        b"<x><unclosed></x>",
        b"<a>" * 50_000 + b"</a>" * 50_000,
    ],
)
def test_hostile_xml_is_refused(hostile: bytes) -> None:
    with pytest.raises(XmpError):
        read_xmp(hostile)


def test_huge_packet_is_refused_before_parsing() -> None:
    with pytest.raises(XmpError, match="at most"):
        read_xmp(b" " * (MAX_XMP_BYTES + 1))
