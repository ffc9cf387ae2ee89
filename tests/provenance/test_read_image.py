"""Image label readers: XMP in JPEG/PNG/WebP/TIFF/GIF (R-FMT-1..6), the EXIF UserComment and
PNG text alternatives (R-FMT-7), legacy variants (R-FMT-20) and the section 11 vectors."""

from __future__ import annotations

import json

import pytest
from builders import (
    BARE,
    IPTC_AI,
    LABEL,
    WRAPPED,
    app1_exif,
    app1_xmp,
    chunk,
    exif_tiff,
    gif,
    itxt,
    jpeg,
    png,
    read_label,
    segment,
    text_chunk,
    tiff_file,
    user_comment,
    webp,
    xmp_packet,
    ztxt,
)

from synthguard.media import open_media
from synthguard.provenance.aigc import Verdict
from synthguard.provenance.aigc._read import read_labels
from synthguard.requirements import Carrier
from synthguard.settings import Settings


def checks(result: object) -> set[str]:
    findings = list(result.findings)  # type: ignore[attr-defined]
    for site in result.sites:  # type: ignore[attr-defined]
        findings.extend(site.findings)
    return {f.check for f in findings}


@pytest.mark.parametrize(
    ("data", "name", "carrier"),
    [
        (jpeg(app1_xmp(xmp_packet(BARE))), "x.jpg", Carrier.JPEG_XMP),  # R-FMT-2
        (png(itxt(b"XML:com.adobe.xmp", xmp_packet(BARE))), "x.png", Carrier.PNG_XMP),  # R-FMT-3
        (webp((b"XMP ", xmp_packet(BARE))), "x.webp", Carrier.WEBP_XMP),  # R-FMT-4
        (tiff_file(xmp=xmp_packet(BARE)), "x.tif", Carrier.TIFF_XMP),  # R-FMT-5
        (gif(xmp_packet(BARE)), "x.gif", Carrier.GIF_XMP),  # R-FMT-6
    ],
)
def test_xmp_in_every_image_format_is_compliant(data: bytes, name: str, carrier: str) -> None:
    # R-FMT-1: TC260:AIGC, bare 7 keys, Label "1"
    result = read_label(data, name)
    assert result.verdict is Verdict.COMPLIANT, result.to_dict()
    assert [s.carrier for s in result.sites] == [carrier]
    assert result.label == LABEL


def test_section11_png_xmp_then_text_copy_is_duplicate() -> None:
    # Section 11: same PNG plus a tEXt AIGC copy -> noncompliant (aigc.duplicate, R-META-6)
    data = png(itxt(b"XML:com.adobe.xmp", xmp_packet(BARE)), text_chunk(b"AIGC", BARE.encode()))
    result = read_label(data, "x.png")
    assert result.verdict is Verdict.NONCOMPLIANT
    assert "aigc.duplicate" in checks(result)
    assert {s.carrier for s in result.sites} == {Carrier.PNG_XMP, Carrier.PNG_TEXT_AIGC}


@pytest.mark.parametrize("make", [text_chunk, ztxt, lambda k, t: itxt(k, t)])
def test_png_text_alternatives(make: object) -> None:
    # R-FMT-7: PNG tEXt/zTXt/iTXt keyword AIGC, bare or wrapped
    result = read_label(png(make(b"AIGC", WRAPPED.encode())), "x.png")  # type: ignore[operator]
    assert result.verdict is Verdict.COMPLIANT
    assert result.sites[0].form == "wrapped"


def test_png_compressed_xmp_itxt_is_read_with_a_warning() -> None:
    result = read_label(png(itxt(b"XML:com.adobe.xmp", xmp_packet(BARE), compressed=True)),
                        "x.png")
    assert result.verdict is Verdict.COMPLIANT
    assert "aigc.carrier" in checks(result)


def test_section11_jpeg_exif_usercomment_wrapped_only_is_compliant() -> None:
    # Section 11 vector, R-FMT-7: 8-byte ASCII prefix + the wrapped object
    data = jpeg(app1_exif(exif_tiff(user_comment=user_comment(WRAPPED))))
    result = read_label(data, "x.jpg")
    assert result.verdict is Verdict.COMPLIANT
    assert result.sites[0].carrier == Carrier.JPEG_EXIF_USERCOMMENT
    assert result.sites[0].form == "wrapped"


@pytest.mark.parametrize("order", ["<", ">"])
def test_exif_usercomment_in_png_webp_and_big_endian(order: str) -> None:
    tiff = exif_tiff(user_comment=user_comment(WRAPPED), order=order)
    result = read_label(png(chunk(b"eXIf", tiff)), "x.png")
    assert result.verdict is Verdict.COMPLIANT
    assert result.sites[0].carrier == Carrier.PNG_EXIF_USERCOMMENT
    result = read_label(webp((b"EXIF", tiff)), "x.webp")
    assert result.verdict is Verdict.COMPLIANT
    assert result.sites[0].carrier == Carrier.WEBP_EXIF_USERCOMMENT


def test_tiff_exif_usercomment() -> None:
    result = read_label(tiff_file(comment=user_comment(WRAPPED)), "x.tif")
    assert result.verdict is Verdict.COMPLIANT
    assert result.sites[0].carrier == Carrier.TIFF_EXIF_USERCOMMENT


def test_ordinary_exif_comments_are_not_sites() -> None:
    data = jpeg(app1_exif(exif_tiff(user_comment=user_comment("holiday"),
                                    description=b"a red square")))
    assert read_label(data, "x.jpg").verdict is Verdict.NOT_FOUND


def test_legacy_image_description_is_flagged_not_a_site() -> None:
    # R-FMT-20: pre-standard {"AIGC":{"ServiceProvider":...,"ServiceUser":...}}
    legacy = json.dumps({"AIGC": {"Label": "1", "ServiceProvider": "x", "ServiceUser": "y"}})
    result = read_label(jpeg(app1_exif(exif_tiff(description=legacy.encode()))), "x.jpg")
    assert result.verdict is Verdict.NOT_FOUND
    assert [(f.check, f.requirement) for f in result.findings] == [("aigc.legacy", "R-FMT-20")]


def test_gb_payload_in_image_description_is_a_legacy_site() -> None:
    result = read_label(jpeg(app1_exif(exif_tiff(description=BARE.encode()))), "x.jpg")
    assert result.sites[0].carrier == Carrier.JPEG_EXIF_IMAGEDESCRIPTION
    assert "aigc.legacy" in checks(result)


def test_bare_aigc_blob_in_app_segment() -> None:
    # R-FMT-20: vendor variant AIGC{...} in an APP segment
    data = jpeg(segment(0xEB, b"AIGC" + BARE.encode() + b"\0\0trailing"))
    result = read_label(data, "x.jpg")
    assert [s.carrier for s in result.sites] == [Carrier.JPEG_APP_AIGC]
    assert result.sites[0].valid
    assert "aigc.legacy" in checks(result)


def test_section11_label_as_number_is_noncompliant() -> None:
    # Section 11: "Label":1 -> noncompliant (aigc.types, R-META-1)
    value = BARE.replace('"Label":"1"', '"Label":1')
    result = read_label(png(itxt(b"XML:com.adobe.xmp", xmp_packet(value))), "x.png")
    assert result.verdict is Verdict.NONCOMPLIANT
    assert "aigc.types" in checks(result)


def test_charset_warning_keeps_compliant() -> None:
    # Section 11: ContentProducer with a space -> warning aigc.charset
    value = BARE.replace("001191440300708461136T1WFUO\",\"ProduceID",
                         "Some Company\",\"ProduceID", 1)
    result = read_label(jpeg(app1_xmp(xmp_packet(value))), "x.jpg")
    assert "aigc.charset" in checks(result)


def test_two_xmp_values_disagree() -> None:
    other = BARE.replace("img-01J9Z8K2Q4", "img-OTHER", 1)
    result = read_label(jpeg(app1_xmp(xmp_packet(BARE, other))), "x.jpg")
    assert result.verdict is Verdict.NONCOMPLIANT
    assert {"aigc.duplicate", "aigc.disagree"} <= checks(result)


def test_broken_json_and_non_string_values() -> None:
    result = read_label(png(text_chunk(b"AIGC", b"{not json")), "x.png")
    assert result.verdict is Verdict.NONCOMPLIANT
    assert "aigc.parse" in checks(result)
    nested = BARE.replace('"ProduceID":"img-01J9Z8K2Q4"', '"ProduceID":{"a":[1,2]}')
    result = read_label(png(text_chunk(b"AIGC", nested.encode())), "x.png")
    assert "aigc.types" in checks(result)


def test_xmp_with_entities_is_a_container_finding() -> None:
    hostile = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
               b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>&a;</x:xmpmeta>")
    result = read_label(jpeg(app1_xmp(hostile)), "x.jpg")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.findings[0].check == "aigc.container"


def test_huge_xmp_packet_hits_the_readers_cap_not_the_boundary() -> None:
    # R-IMPL-1: a 50 MB packet, admitted by a raised metadata budget, is refused by the reader
    # before parsing (a finding, no crash)
    packet = xmp_packet(BARE, extra="<!--" + "x" * (50 * 1024 * 1024) + "-->")
    settings = Settings(max_metadata_bytes=64 * 1024 * 1024)
    result = read_label(webp((b"XMP ", packet)), "x.webp", settings)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert "at most" in result.findings[0].message


def test_truncated_exif_is_inconclusive() -> None:
    tiff = exif_tiff(user_comment=user_comment(WRAPPED))
    data = jpeg(app1_exif(tiff[:20]))
    result = read_label(data, "x.jpg")
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.findings[0].check == "aigc.container"


def test_iptc_digital_source_type_is_collected() -> None:
    # R-C2PA-4
    data = jpeg(app1_xmp(xmp_packet(BARE, source_type=IPTC_AI)))
    with open_media(data, name="x.jpg", settings=Settings()) as media:
        result, types = read_labels(media)
    assert result.verdict is Verdict.COMPLIANT
    assert types == (IPTC_AI,)


def test_reading_does_not_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    # R-IMPL-1: labels come from the metadata index, never from decoded pixels
    from PIL import Image

    from synthguard.media import _decode

    inputs = [(jpeg(app1_xmp(xmp_packet(BARE))), "x.jpg"),
              (png(itxt(b"XML:com.adobe.xmp", xmp_packet(BARE))), "x.png")]

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("decoded")

    for name in ("decode_image", "sample_frames", "decode_audio", "extract_text"):
        monkeypatch.setattr(_decode, name, boom)
    monkeypatch.setattr(Image.Image, "load", boom)
    monkeypatch.setattr(Image, "open", boom)
    for data, name in inputs:
        assert read_label(data, name).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("label", ["[1]", '{"a":1}', "null", "true"])
def test_non_string_label_values_are_noncompliant_not_crashes(label: str) -> None:
    # R-META-1 / aigc.label_enum: unhashable or odd JSON types are findings
    value = BARE.replace('"Label":"1"', f'"Label":{label}')
    result = read_label(jpeg(app1_exif(exif_tiff(user_comment=user_comment(value)))), "x.jpg")
    assert result.verdict is Verdict.NONCOMPLIANT, result.to_dict()
