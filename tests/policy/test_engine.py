"""The policy engine: one table per R-PLAT rule, the R-PLAT-10 conflicts, detector thresholds
and review bands, policy checking, and the decision record (R-PLAT-9)."""

from __future__ import annotations

from typing import Any

import pytest

from synthguard.errors import ConfigError
from synthguard.policy import (
    Evidence,
    check_policy,
    decide,
    default_policy,
    default_policy_text,
    evaluate,
    parse_policy,
)
from synthguard.report import Detection, Outcome

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
VALID_AI = {"state": "valid", "digital_source_types": [IPTC + "trainedAlgorithmicMedia"],
            "gb45438_mapping": {"label": "1", "trace": False}}
UNTRUSTED_AI = {"state": "untrusted", "digital_source_types": [IPTC + "trainedAlgorithmicMedia"],
                "gb45438_mapping": {"label": None, "trace": True}}


def prov(label: str | None = None, c2pa: dict[str, Any] | None = None,
         iptc: tuple[str, ...] = ()) -> dict[str, Any]:
    aigc: dict[str, Any] = {"verdict": "not_found", "label": None, "sites": [], "findings": []}
    if label is not None:
        fields = {"Label": label, "ContentProducer": "P", "ProduceID": "x"}
        aigc = {"verdict": "compliant", "label": fields, "findings": [],
                "sites": [{"carrier": "png.xmp", "form": "bare", "fields": fields,
                           "valid": True, "findings": []}]}
    out: dict[str, Any] = {"aigc": aigc, "iptc": {"digital_source_types": list(iptc)}}
    if c2pa is not None:
        out["c2pa"] = c2pa
    return out


def det(score: float | None, name: str = "faceswap", version: str = "1.2.0") -> Detection:
    if score is None:
        return Detection(name, version, None, abstained=True, reason="no face")
    return Detection(name, version, score)


DETECTOR_POLICY = default_policy_text().replace(
    "detectors: {}", 'detectors:\n  faceswap: {versions: ">=1.0,<2"}'
) + """
  - name: faceswap-high
    outcome: suspected
    requirement: R-PLAT-8
    when: {detector: faceswap, min_score: 0.9, review_band: [0.5, 0.9]}
    message: the face-swap detector scored {score}
  - name: faceswap-abstained
    outcome: none
    review: true
    when: {detector: faceswap, abstained: true}
    message: the face-swap detector abstained
"""


@pytest.fixture(scope="module")
def dpolicy() -> Any:
    return parse_policy(DETECTOR_POLICY, source="test")


# -- one table per rule -----------------------------------------------------------------------
R_PLAT = [
    # R-PLAT-1: the three outcomes, in the Art 6 order
    ("R-PLAT-1", Evidence(prov("1")), Outcome.CONFIRMED, "aigc-label-1"),
    ("R-PLAT-1", Evidence(prov(), declared_ai=True), Outcome.POSSIBLE, "declared-ai"),
    ("R-PLAT-1", Evidence(prov(), marks={"visible_found": True}), Outcome.SUSPECTED,
     "explicit-label-found"),  # section 11: OCR finds AI生成 -> SUSPECTED, Label "3"
    ("R-PLAT-1", Evidence(prov()), Outcome.NONE, "no-evidence"),
    # R-PLAT-4: carry-over of an earlier platform's "2"/"3"
    ("R-PLAT-4", Evidence(prov("2")), Outcome.POSSIBLE, "aigc-label-2"),
    ("R-PLAT-4", Evidence(prov("3")), Outcome.SUSPECTED, "aigc-label-3"),
    # R-PLAT-7: valid C2PA AI claim confirms; an untrusted one or IPTC only is a trace
    ("R-PLAT-7", Evidence(prov(c2pa=VALID_AI)), Outcome.CONFIRMED, "c2pa-valid-ai"),
    ("R-PLAT-7", Evidence(prov(c2pa=UNTRUSTED_AI)), Outcome.SUSPECTED, "c2pa-trace"),
    ("R-PLAT-7", Evidence(prov(iptc=(IPTC + "compositeSynthetic",))), Outcome.SUSPECTED,
     "iptc-ai-source-type"),
    # R-PLAT-8: watermark hit feeds only the suspected branch
    ("R-PLAT-8", Evidence(prov(), watermark={"hit": True}), Outcome.SUSPECTED, "watermark-hit"),
    # R-PLAT-10 conflicts
    ("R-PLAT-10", Evidence(prov("1"), declared_ai=False), Outcome.CONFIRMED,
     "label-over-declaration"),
    ("R-PLAT-10", Evidence(prov("3"), declared_ai=True), Outcome.POSSIBLE, "declared-ai"),
    ("R-PLAT-10", Evidence(prov(), declared_ai=False, watermark={"hit": True}),
     Outcome.SUSPECTED, "evidence-over-declaration"),
    ("R-PLAT-10", Evidence(prov("2", c2pa=VALID_AI)), Outcome.CONFIRMED, "c2pa-valid-ai"),
]


@pytest.mark.parametrize(("req", "evidence", "outcome", "rule"), R_PLAT)
def test_rplat_table(req: str, evidence: Evidence, outcome: Outcome, rule: str) -> None:
    decision = decide(evidence)
    assert decision.outcome is outcome, req
    assert rule in {r.rule for r in decision.reasons}
    # R-PLAT-2: a prompt per outcome; R-PLAT-3: the Label it maps to
    assert decision.label == {"confirmed": "1", "possible": "2", "suspected": "3"}.get(
        outcome.value)
    assert (decision.prompt is None) == (outcome is Outcome.NONE)


def test_rplat7_option_off_makes_valid_c2pa_a_trace() -> None:
    text = default_policy_text().replace("c2pa_valid_ai_is_confirmed: true",
                                         "c2pa_valid_ai_is_confirmed: false")
    d = evaluate(Evidence(prov(c2pa=VALID_AI)), parse_policy(text))
    assert d.outcome is Outcome.SUSPECTED and d.reasons[0].rule == "c2pa-trace"


def test_composite_synthetic_option() -> None:
    text = default_policy_text().replace("composite_synthetic_is_ai: true",
                                         "composite_synthetic_is_ai: false")
    ev = Evidence(prov(iptc=(IPTC + "compositeSynthetic",)))
    assert evaluate(ev, parse_policy(text)).outcome is Outcome.NONE


def test_lower_rules_are_listed_but_not_decisive() -> None:
    d = decide(Evidence(prov("3"), declared_ai=True))
    rules = {r["rule"]: r for r in d.extra["rules"]}
    assert rules["declared-ai"]["decisive"] and not rules["aigc-label-3"]["decisive"]


# -- detectors: thresholds, review band, abstention, calibration -------------------------------
@pytest.mark.parametrize(
    ("evidence", "outcome", "review"),
    [
        (Evidence(prov(), detections=(det(0.95),)), Outcome.SUSPECTED, False),
        (Evidence(prov(), detections=(det(0.7),)), Outcome.NONE, True),  # review band
        (Evidence(prov(), detections=(det(0.1),)), Outcome.NONE, False),  # clearly real
        (Evidence(prov(), detections=(det(None),)), Outcome.NONE, True),  # abstained -> review
        (Evidence(prov(), detections=(det(0.99, version="2.0"),)), Outcome.NONE, True),
        # R-PLAT-10: a detector never overrides a label or a declaration
        (Evidence(prov("1"), detections=(det(0.99),)), Outcome.CONFIRMED, False),
        (Evidence(prov(), declared_ai=True, detections=(det(0.99),)), Outcome.POSSIBLE, False),
        (Evidence(prov("2"), detections=(det(0.0),)), Outcome.POSSIBLE, False),
    ],
)
def test_detector_rules(dpolicy: Any, evidence: Evidence, outcome: Outcome,
                        review: bool) -> None:
    d = evaluate(evidence, dpolicy)
    assert d.outcome is outcome
    assert d.review is review


def test_uncalibrated_detector_is_recorded(dpolicy: Any) -> None:
    d = evaluate(Evidence(prov(), detections=(det(0.99, version="2.0"),)), dpolicy)
    assert any(r["rule"] == "detector-uncalibrated" for r in d.extra["rules"])


# -- policy check ------------------------------------------------------------------------------
def test_default_policy_is_valid() -> None:
    assert check_policy(default_policy_text()) == []
    assert default_policy().id == "synthguard-default"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("  c2pa_valid_ai_is_confirmed: true", "  c2pa_valid_ai_is_confirmd: true"),
         "unknown field 'c2pa_valid_ai_is_confirmd'"),
        (("when: {watermark.hit: true}", "when: {watermark.hits: true}"),
         "unknown evidence field 'watermark.hits'"),
        (("when: {watermark.hit: true}", "when: {detector: deepfake, min_score: 0.5}"),
         "unknown detector 'deepfake'"),
        (("when: {watermark.hit: true}", "when: {watermark.hit: false}"),
         "may only be tested for true"),
        (("outcome: confirmed\n    requirement: R-PLAT-1",
          "outcome: certain\n    requirement: R-PLAT-1"), "expected outcome"),
        (("rules:", "rules: ["), "syntax error"),
    ],
)
def test_check_reports_errors(edit: tuple[str, str], expected: str) -> None:
    text = default_policy_text()
    assert edit[0] in text
    problems = check_policy(text.replace(edit[0], edit[1], 1))
    assert any(expected in p for p in problems), problems
    with pytest.raises(ConfigError, match="invalid policy"):
        parse_policy(text.replace(edit[0], edit[1], 1))


def test_check_overlapping_thresholds() -> None:
    bad = DETECTOR_POLICY.replace("review_band: [0.5, 0.9]", "review_band: [0.5, 0.95]")
    assert any("overlapping thresholds" in p for p in check_policy(bad))
    two = DETECTOR_POLICY + """
  - name: faceswap-possible
    outcome: none
    when: {detector: faceswap, min_score: 0.6}
"""
    assert any("overlapping thresholds" in p for p in check_policy(two))
    assert check_policy(DETECTOR_POLICY) == []


def test_detector_rule_cannot_confirm() -> None:
    bad = DETECTOR_POLICY.replace("name: faceswap-high\n    outcome: suspected",
                                  "name: faceswap-high\n    outcome: confirmed")
    assert any("R-PLAT-8" in p for p in check_policy(bad))


# -- decision record (R-PLAT-9) ---------------------------------------------------------------
def test_decision_record() -> None:
    ev = Evidence(prov("1"), declared_ai=False, sha256="ab" * 32, media_type="image/png",
                  detections=(det(0.2),))
    rec = decide(ev, decided_at="2025-09-01T04:00:00Z").extra["record"]
    assert rec["schema"] == "aigc-decision/1"
    assert rec["content_id"] == "sg-" + "ab" * 16
    assert rec["outcome"] == "CONFIRMED" and rec["rule"] == "R-PLAT-1/aigc-label-1"
    assert rec["user_declared_ai"] is False and rec["prompt_text"] == "内容由AI生成"
    assert rec["sites"][0]["carrier"] == "png.xmp"
    assert rec["detectors"] == [{"name": "faceswap", "version": "1.2.0", "score": 0.2,
                                 "abstained": False}]
    assert rec["policy"]["id"] == "synthguard-default" and len(rec["policy"]["sha256"]) == 64
    assert rec["decided_at"] == "2025-09-01T04:00:00Z"
