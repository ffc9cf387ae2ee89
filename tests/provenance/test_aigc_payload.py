"""Annex E payload checks (REGULATIONS 3.2), with the section 11 vectors that concern payloads."""

from __future__ import annotations

import json

import pytest

from synthguard.errors import UsageError
from synthguard.provenance.aigc import AigcLabel, Severity, Verdict, assess, parse_site
from synthguard.requirements import PROVIDER_CODE_RE, charset_ok, has_explicit_label_elements

PRODUCER = "001191440300708461136T1WFUO"
GOOD = AigcLabel.first_write("1", PRODUCER, "img-01J9Z8K2Q4")


def checks(site_or_result: object) -> set[str]:
    return {f.check for f in site_or_result.findings}


def test_first_write_mirrors_producer_fields_and_serialises_compactly() -> None:
    # R-META-5, R-META-7: compact, key order of section 3.1
    text = GOOD.to_json()
    assert text == (
        '{"Label":"1","ContentProducer":"001191440300708461136T1WFUO","ProduceID":"img-01J9Z8K2Q4",'
        '"ReservedCode1":"","ContentPropagator":"001191440300708461136T1WFUO",'
        '"PropagateID":"img-01J9Z8K2Q4","ReservedCode2":""}'
    )
    assert json.loads(GOOD.to_json(wrapped=True)) == {"AIGC": json.loads(text)}


def test_propagation_changes_only_propagation_fields() -> None:
    # R-PLAT-3: producer fields untouched
    later = GOOD.propagated("001191110108MA00XXXXXX2V001", "vid-7731902")
    for name in ("Label", "ContentProducer", "ProduceID", "ReservedCode1"):
        assert getattr(later, name) == getattr(GOOD, name)
    assert later.PropagateID == "vid-7731902"


@pytest.mark.parametrize("form", ["bare", "wrapped"])
def test_valid_label_is_compliant_in_both_forms(form: str) -> None:
    # R-META-3: readers accept both forms everywhere
    site = parse_site(GOOD.to_json(wrapped=form == "wrapped"), "png.iTXt.xmp")
    assert site.form == form and site.valid
    result = assess([site])
    assert result.verdict is Verdict.COMPLIANT and result.label == GOOD


def test_numeric_label_is_noncompliant() -> None:
    # section 11 vector: "Label":1 (number) -> noncompliant (aigc.types)
    raw = GOOD.to_json().replace('"Label":"1"', '"Label":1')
    site = parse_site(raw, "png.iTXt.xmp")
    assert "aigc.types" in checks(site)
    label_enum = [f for f in site.findings if f.check == "aigc.label_enum"]
    assert label_enum and label_enum[0].severity is Severity.WARNING
    assert assess([site]).verdict is Verdict.NONCOMPLIANT


@pytest.mark.parametrize("producer", ["某某科技公司", "ACME Corp"])
def test_chinese_or_spaced_producer_is_a_charset_warning(producer: str) -> None:
    # section 11 vector: ContentProducer with a Chinese name or a space -> warning aigc.charset
    raw = json.dumps({**GOOD.as_dict(), "ContentProducer": producer}, ensure_ascii=False)
    site = parse_site(raw, "mp3.id3.TXXX")
    charset = [f for f in site.findings if f.check == "aigc.charset"]
    assert charset and charset[0].severity is Severity.WARNING
    assert charset[0].requirement == "R-META-4"
    assert site.valid  # a warning does not make it noncompliant (reader: warn, do not reject)


def test_two_sites_are_noncompliant_even_if_identical() -> None:
    # section 11 vector: PNG XMP plus tEXt copy -> noncompliant (aigc.duplicate, R-META-6)
    sites = [
        parse_site(GOOD.to_json(), "png.iTXt.xmp"),
        parse_site(GOOD.to_json(), "png.tEXt.AIGC"),
    ]
    result = assess(sites)
    assert result.verdict is Verdict.NONCOMPLIANT
    assert "aigc.duplicate" in checks(result) and "aigc.disagree" not in checks(result)


def test_disagreeing_sites() -> None:
    other = AigcLabel.first_write("1", PRODUCER, "img-other")
    result = assess([parse_site(GOOD.to_json(), "a"), parse_site(other.to_json(), "b")])
    assert {"aigc.duplicate", "aigc.disagree"} <= checks(result)


@pytest.mark.parametrize(
    ("raw", "check"),
    [
        ("{not json", "aigc.parse"),
        ('{"Label":"1","Label":"2","ContentProducer":"a","ProduceID":"b"}', "aigc.parse"),
        ("[1, 2]", "aigc.parse"),
        ('{"Label":"1","ProduceID":"b","ContentPropagator":"a","PropagateID":"b"}', "aigc.fields"),
        ('{"Label":"7","ContentProducer":"a","ProduceID":"b","ContentPropagator":"a",'
         '"PropagateID":"b"}', "aigc.label_enum"),
        ("[" * 100_000 + "]" * 100_000, "aigc.parse"),
        ('"' + "x" * 70_000 + '"', "aigc.parse"),
    ],
)
def test_malformed_values_are_errors(raw: str, check: str) -> None:
    site = parse_site(raw, "xmp")
    assert check in checks(site)
    assert assess([site]).verdict is Verdict.NONCOMPLIANT


def test_unknown_key_warns_and_propagated_label_is_info() -> None:
    label = GOOD.propagated("001191110108MA00XXXXXX2V001", "vid-1")
    raw = json.dumps({**label.as_dict(), "Extra": "x"})
    site = parse_site(raw.encode() + b"\x00", "wav.chunk.AIGC")  # NUL pad (R-FMT-12)
    sev = {f.check: f.severity for f in site.findings}
    assert sev["aigc.unknown_key"] is Severity.WARNING
    assert sev["aigc.first_write"] is Severity.INFO
    assert site.valid


def test_verdicts_without_sites() -> None:
    from synthguard.provenance.aigc import Finding

    assert assess([]).verdict is Verdict.NOT_FOUND
    truncated = Finding("aigc.container", Severity.WARNING, "R-IMPL-1", "truncated chunk")
    # R-IMPL-1: malformed container -> inconclusive, never not_found
    assert assess([], [truncated]).verdict is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    "label",
    [
        AigcLabel("1", PRODUCER, "id", ContentPropagator=PRODUCER, PropagateID="has space"),
        AigcLabel("4", PRODUCER, "id", ContentPropagator=PRODUCER, PropagateID="id"),
        AigcLabel("1", "", "id", ContentPropagator=PRODUCER, PropagateID="id"),
        AigcLabel("1", PRODUCER, "x" * 129, ContentPropagator=PRODUCER, PropagateID="id"),
    ],
)
def test_writer_is_strict(label: AigcLabel) -> None:
    with pytest.raises(UsageError):
        label.to_json()


def test_requirement_helpers() -> None:
    assert PROVIDER_CODE_RE.match(PRODUCER)
    assert not PROVIDER_CODE_RE.match("001191440300708461136T3WFUO")  # service type 3
    assert charset_ok('a\\"b') and not charset_ok("a b") and not charset_ok('a"b')
    for text in ("AI生成", "人工智能合成", "由人工智能生成"):
        assert has_explicit_label_elements(text)
    assert not has_explicit_label_elements("AI") and not has_explicit_label_elements("生成")
