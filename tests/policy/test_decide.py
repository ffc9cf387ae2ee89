"""The R-PLAT-1 decision order and the R-PLAT-10 precedence, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from synthguard.policy import Evidence, decide
from synthguard.report import Outcome

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def prov(label: str | None = None, c2pa: dict[str, Any] | None = None,
         iptc: tuple[str, ...] = ()) -> dict[str, Any]:
    aigc = {"verdict": "not_found", "label": None, "sites": [], "findings": []}
    if label is not None:
        aigc = {**aigc, "verdict": "compliant", "label": {"Label": label}}
    out: dict[str, Any] = {"aigc": aigc, "iptc": {"digital_source_types": list(iptc)}}
    if c2pa is not None:
        out["c2pa"] = c2pa
    return out


VALID_AI = {"state": "valid", "gb45438_mapping": {"label": "1", "trace": False}}
UNTRUSTED_AI = {"state": "untrusted", "gb45438_mapping": {"label": None, "trace": True}}


@pytest.mark.parametrize(
    ("evidence", "outcome", "label", "rules"),
    [
        # section 11: PNG with XMP Label "1" -> CONFIRMED
        (Evidence(prov("1")), Outcome.CONFIRMED, "1", {"aigc-label-1"}),
        (Evidence(prov(c2pa=VALID_AI)), Outcome.CONFIRMED, "1", {"c2pa-valid-ai"}),  # R-PLAT-7
        # section 11: no label, user declares AI -> POSSIBLE, written Label "2"
        (Evidence(prov(), declared_ai=True), Outcome.POSSIBLE, "2", {"declared-ai"}),
        (Evidence(prov("2")), Outcome.POSSIBLE, "2", {"aigc-label-2"}),  # R-PLAT-4 carry-over
        (Evidence(prov("3")), Outcome.SUSPECTED, "3", {"aigc-label-3"}),
        (Evidence(prov(c2pa=UNTRUSTED_AI)), Outcome.SUSPECTED, "3", {"c2pa-trace"}),
        (Evidence(prov(iptc=(IPTC + "trainedAlgorithmicMedia",))), Outcome.SUSPECTED, "3",
         {"iptc-ai-source-type"}),
        (Evidence(prov(iptc=(IPTC + "digitalCapture",))), Outcome.NONE, None, {"no-evidence"}),
        (Evidence(prov()), Outcome.NONE, None, {"no-evidence"}),
        # R-PLAT-10: a valid Label "1" wins over the uploader saying "not AI"
        (Evidence(prov("1"), declared_ai=False), Outcome.CONFIRMED, "1",
         {"aigc-label-1", "label-over-declaration"}),
        # R-PLAT-10: a declaration is never downgraded by a weaker label
        (Evidence(prov("3"), declared_ai=True), Outcome.POSSIBLE, "2", {"declared-ai"}),
    ],
)
def test_decision_flow(evidence: Evidence, outcome: Outcome, label: str | None,
                       rules: set[str]) -> None:
    decision = decide(evidence)
    assert decision.outcome is outcome
    assert decision.label == label
    assert {r.rule for r in decision.reasons} == rules
    assert all(r.requirement and r.requirement.startswith("R-PLAT-") for r in decision.reasons)
    if outcome is not Outcome.NONE:
        assert decision.prompt and "AI" in decision.prompt  # R-PLAT-2 prompt per outcome


def test_decide_is_deterministic() -> None:
    ev = Evidence(prov("1", c2pa=VALID_AI), declared_ai=True)
    assert decide(ev) == decide(ev)
