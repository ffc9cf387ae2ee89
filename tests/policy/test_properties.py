"""Properties of the engine (hypothesis): more evidence for "synthetic" never lowers the
outcome, and decisions are deterministic (everything but ``decided_at``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import DETECTOR_POLICY, IPTC, UNTRUSTED_AI, VALID_AI, prov

from synthguard.policy import Evidence, evaluate, parse_policy
from synthguard.report import Detection

POLICY = parse_policy(DETECTOR_POLICY, source="test")
LABEL_STRENGTH = [None, "3", "2", "1"]  # weakest first
C2PA_STRENGTH = [None, UNTRUSTED_AI, VALID_AI]


@st.composite
def evidence(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "label": draw(st.integers(0, 3)),
        "c2pa": draw(st.integers(0, 2)),
        "iptc": draw(st.booleans()),
        "declared": draw(st.sampled_from([None, False, True])),
        "mark": draw(st.booleans()),
        "wm": draw(st.booleans()),
        "score": draw(st.one_of(st.none(), st.floats(0, 1))),
        "version": draw(st.sampled_from(["1.0", "1.5.2", "2.0"])),
    }


def build(e: dict[str, Any]) -> Evidence:
    dets = ()
    if e["score"] is not None:
        dets = (Detection("faceswap", e["version"], e["score"]),)
    return Evidence(
        prov(LABEL_STRENGTH[e["label"]], C2PA_STRENGTH[e["c2pa"]],
             (IPTC + "trainedAlgorithmicMedia",) if e["iptc"] else ()),
        detections=dets, declared_ai=e["declared"], marks={"visible_found": e["mark"]},
        watermark={"hit": e["wm"]}, sha256="0" * 64,
    )


def stronger(e: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """``e`` with some evidence for "synthetic" added (never any taken away)."""
    out = dict(e)
    what = data.draw(st.sampled_from(["label", "c2pa", "iptc", "declared", "mark", "wm",
                                      "score"]))
    if what == "label":
        out["label"] = data.draw(st.integers(e["label"], 3))
    elif what == "c2pa":
        out["c2pa"] = data.draw(st.integers(e["c2pa"], 2))
    elif what == "declared":
        out["declared"] = True
    elif what == "score":
        low = 0.0 if e["score"] is None else e["score"]
        out["score"] = data.draw(st.floats(low, 1))
    else:
        out[what] = True
    return out


@settings(max_examples=400, deadline=None)
@given(evidence(), st.data())
def test_more_synthetic_evidence_never_lowers(e: dict[str, Any], data: st.DataObject) -> None:
    more = e
    for _ in range(data.draw(st.integers(1, 4))):
        more = stronger(more, data)
    before = evaluate(build(e), POLICY).outcome
    after = evaluate(build(more), POLICY).outcome
    assert after.rank >= before.rank, (e, more, before, after)


@settings(max_examples=200, deadline=None)
@given(evidence())
def test_decisions_are_deterministic(e: dict[str, Any]) -> None:
    first = evaluate(build(e), POLICY, decided_at="2025-09-01T00:00:00Z")
    second = evaluate(build(e), POLICY, decided_at="2025-09-02T00:00:00Z")
    a, b = first.to_dict(), second.to_dict()
    assert a["record"].pop("decided_at") != b["record"].pop("decided_at")
    assert a == b
    assert replace(first, extra={}) == replace(second, extra={})
