"""From evidence to a platform decision (REGULATIONS section 5, R-PLAT-1..10).

:func:`decide` is the decision flow of section 5 as a pure function of the evidence, with the
precedence of R-PLAT-10: a label saying "AI-generated" wins over everything, a declaration over
detector silence, and a detector never downgrades a labelled or declared item. The configurable
rule engine (YAML policies, per-detector thresholds, review bands) builds on this with issue #4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthguard.report import Decision, Detection, Outcome, Reason
from synthguard.requirements import C2PA_AI_SOURCE_TYPES, OUTCOME_PROMPTS

__all__ = ["Evidence", "decide"]


@dataclass(frozen=True)
class Evidence:
    """Everything the decision may look at, gathered by the pipeline."""

    provenance: dict[str, Any] = field(default_factory=dict)
    detections: tuple[Detection, ...] = ()
    declared_ai: bool | None = None


def _aigc_label(provenance: dict[str, Any]) -> tuple[str | None, str | None]:
    """The ``Label`` of the first valid AIGC site and the file's verdict."""
    aigc = provenance.get("aigc") or {}
    label = (aigc.get("label") or {}).get("Label")
    return label, aigc.get("verdict")


def decide(evidence: Evidence) -> Decision:
    """R-PLAT-1 in its order: label or valid C2PA AI claim, then declaration or Label "2",
    then Label "3" or other generation traces; otherwise ``none``."""
    prov = evidence.provenance
    label, verdict = _aigc_label(prov)
    c2pa = prov.get("c2pa") or {}
    mapping = c2pa.get("gb45438_mapping") or {}
    reasons: list[Reason] = []

    def done(outcome: Outcome) -> Decision:
        return Decision(outcome, tuple(reasons), prompt=OUTCOME_PROMPTS.get(outcome.value))

    if label == "1":
        reasons.append(Reason("aigc-label-1", f"the file's AIGC metadata says AI-generated "
                              f"(Label \"1\", verdict {verdict})", "R-PLAT-1"))
    if mapping.get("label") == "1":
        reasons.append(Reason("c2pa-valid-ai", "a C2PA manifest that validates declares an AI "
                              "digital source type", "R-PLAT-7"))
    if reasons:
        if evidence.declared_ai is False:
            reasons.append(Reason("label-over-declaration", "the uploader said not AI; the "
                                  "label wins", "R-PLAT-10"))
        return done(Outcome.CONFIRMED)
    if evidence.declared_ai:
        reasons.append(Reason("declared-ai", "the uploader declared the content AI-generated",
                              "R-PLAT-1"))
    if label == "2":
        reasons.append(Reason("aigc-label-2", "an earlier platform labelled the content as "
                              "possibly AI-generated (Label \"2\")", "R-PLAT-4"))
    if reasons:
        return done(Outcome.POSSIBLE)
    if label == "3":
        reasons.append(Reason("aigc-label-3", "an earlier platform labelled the content as "
                              "suspected AI-generated (Label \"3\")", "R-PLAT-4"))
    if mapping.get("trace"):
        reasons.append(Reason("c2pa-trace", f"a C2PA manifest ({c2pa.get('state')}) claims AI "
                              "generation but does not validate as trusted", "R-PLAT-7"))
    iptc = [t for t in (prov.get("iptc") or {}).get("digital_source_types", ())
            if t in C2PA_AI_SOURCE_TYPES]
    if iptc:
        reasons.append(Reason("iptc-ai-source-type", f"the XMP declares an AI digital source "
                              f"type ({iptc[0].rsplit('/', 1)[-1]})", "R-PLAT-7"))
    if reasons:
        return done(Outcome.SUSPECTED)
    return Decision(
        Outcome.NONE,
        reasons=(
            Reason(
                rule="no-evidence",
                requirement="R-PLAT-1",
                message="no AIGC label, declaration or generation trace was found",
            ),
        ),
    )
