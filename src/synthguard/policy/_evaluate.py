"""Evaluating a policy: a pure function of the evidence and the policy.

The outcome is the strongest outcome of the rules that fired (R-PLAT-10: a stronger outcome is
never downgraded, and since detector rules may only say ``suspected`` (R-PLAT-8), a detector
never overrides a label or a declaration). The decision lists the decisive rules as its
``reasons``, every fired rule under ``rules``, and carries the decision record of R-PLAT-9.
"""

from __future__ import annotations

from typing import Any

from synthguard._version import __version__
from synthguard.policy._load import version_matches
from synthguard.policy._model import Evidence, Policy, Rule
from synthguard.report import Decision, Detection, Outcome, Reason
from synthguard.requirements import (
    C2PA_AI_SOURCE_TYPES,
    IPTC_DIGITAL_SOURCE_TYPE_PREFIX,
    RULES_VERSION,
)

__all__ = ["RECORD_SCHEMA", "content_id_for", "evaluate", "facts"]

RECORD_SCHEMA = "aigc-decision/1"
_COMPOSITE_SYNTHETIC = IPTC_DIGITAL_SOURCE_TYPE_PREFIX + "compositeSynthetic"


def content_id_for(sha256: str | None) -> str | None:
    """The deterministic platform content id used when none is given: ``sg-`` and the first
    32 hex digits of the content's sha256 (R-META-8: unique, short, Annex E charset)."""
    return None if not sha256 else f"sg-{sha256[:32]}"


def _ai_types(policy: Policy) -> frozenset[str]:
    if policy.options.composite_synthetic_is_ai:
        return C2PA_AI_SOURCE_TYPES
    return C2PA_AI_SOURCE_TYPES - {_COMPOSITE_SYNTHETIC}


def facts(evidence: Evidence, policy: Policy) -> dict[str, Any]:
    """The evidence as the flat fields rules test (``CONDITION_FIELDS``)."""
    prov = evidence.provenance or {}
    aigc = prov.get("aigc") or {}
    c2pa = prov.get("c2pa") or {}
    mapping = c2pa.get("gb45438_mapping") or {}
    ai_types = _ai_types(policy)
    c2pa_types = [t for t in c2pa.get("digital_source_types") or () if isinstance(t, str)]
    valid_ai = mapping.get("label") == "1"
    trace = bool(mapping.get("trace"))
    if (valid_ai or trace) and c2pa_types and not any(t in ai_types for t in c2pa_types):
        valid_ai = trace = False  # only compositeSynthetic, and the policy says it is not AI
    if valid_ai and not policy.options.c2pa_valid_ai_is_confirmed:
        valid_ai, trace = False, True  # R-PLAT-7 option off: a valid claim is only a trace
    iptc = [t for t in (prov.get("iptc") or {}).get("digital_source_types") or ()
            if t in ai_types]
    return {
        "aigc.label": (aigc.get("label") or {}).get("Label"),
        "aigc.verdict": aigc.get("verdict"),
        "c2pa.valid_ai": valid_ai,
        "c2pa.trace": trace,
        "c2pa.state": c2pa.get("state"),
        "c2pa.source_type": c2pa_types,
        "iptc.ai_source_type": bool(iptc),
        "iptc.type": iptc[0].rsplit("/", 1)[-1] if iptc else None,
        "declared_ai": evidence.declared_ai,
        "marks.visible_found": bool((evidence.marks or {}).get("visible_found")),
        "watermark.hit": bool((evidence.watermark or {}).get("hit")),
    }


def _holds(key: str, want: Any, have: Any) -> bool:
    if key == "c2pa.source_type":
        wanted = want if isinstance(want, list) else [want]
        return any(t in wanted for t in have)
    if isinstance(want, bool):
        return have is True
    if isinstance(want, list):
        return have in want
    return bool(have == want)


class _Fmt(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _message(rule: Rule, values: dict[str, Any]) -> str:
    try:
        return rule.message.format_map(_Fmt(values))
    except (ValueError, IndexError, AttributeError):
        return rule.message  # literal braces in a message are not a reason to fail a decision


def _detections(evidence: Evidence, name: str) -> list[Detection]:
    return [d for d in evidence.detections if d.detector == name]


def evaluate(
    evidence: Evidence, policy: Policy, *, decided_at: str | None = None
) -> Decision:
    """Decide for ``evidence`` under ``policy``. Pure: the same evidence, policy and
    ``decided_at`` always give the same decision."""
    f = facts(evidence, policy)
    values = {
        "aigc_verdict": f["aigc.verdict"],
        "c2pa_state": f["c2pa.state"],
        "iptc_type": f["iptc.type"],
    }
    specs = {d.name: d for d in policy.detectors}
    fired: list[tuple[Rule, str, Outcome]] = []
    review_notes: list[dict[str, Any]] = []
    uncalibrated: set[str] = set()
    for rule in policy.rules:
        if not all(_holds(k, v, f.get(k)) for k, v in rule.when.items()):
            continue
        if rule.detector is None:
            fired.append((rule, _message(rule, values), rule.outcome))
            continue
        spec = specs.get(rule.detector)
        for det in _detections(evidence, rule.detector):
            if spec is not None and not version_matches(det.version, spec.versions):
                uncalibrated.add(f"{det.detector} {det.version}")
                continue
            dvalues = {**values, "detector": det.detector, "score": det.score,
                       "version": det.version}
            if det.abstained:
                if rule.abstained:
                    fired.append((rule, _message(rule, {**dvalues, "score": "abstained"})
                                  + f" (abstained: {det.reason})", rule.outcome))
                continue
            assert det.score is not None
            score = det.score
            if rule.min_score is not None and score >= rule.min_score and (
                rule.max_score is None or score < rule.max_score
            ):
                fired.append((rule, _message(rule, dvalues), rule.outcome))
                break
            band = rule.review_band
            if band is not None and band[0] <= score < band[1]:
                review_notes.append({
                    "rule": rule.name, "outcome": "review", "requirement": rule.requirement,
                    "message": f"{det.detector} {det.version} scored {score:.4g}, inside the "
                               f"review band {band[0]}..{band[1]}: between clearly real and "
                               "clearly synthetic, so a person decides",
                    "decisive": False,
                })
    outcome = max((o for _, _, o in fired), key=lambda o: o.rank, default=Outcome.NONE)
    reasons = [Reason(r.name, msg, r.requirement) for r, msg, o in fired if o is outcome]
    if evidence.declared_ai is False and outcome is not Outcome.NONE:
        # R-PLAT-10: Art 6(1) is checked before the declaration; a "not AI" claim never lowers.
        if outcome is Outcome.CONFIRMED:
            reasons.append(Reason("label-over-declaration", "the uploader said not AI; the "
                                  "label wins", "R-PLAT-10"))
        else:
            reasons.append(Reason("evidence-over-declaration", "the uploader said not AI; the "
                                  "generation traces found still apply", "R-PLAT-10"))
    if not reasons:
        reasons.append(Reason("no-evidence", "no AIGC label, declaration or generation trace "
                              "was found", "R-PLAT-1"))
    actions = policy.outcomes[outcome]
    review = (actions.review or any(r.review for r, _, _ in fired) or bool(review_notes)
              or bool(uncalibrated))
    block = actions.block or any(r.block for r, _, _ in fired)
    rules = [
        {"rule": r.name, "outcome": o.value, "requirement": r.requirement, "message": msg,
         "decisive": o is outcome}
        for r, msg, o in fired
    ] + review_notes
    rules += [
        {"rule": "detector-uncalibrated", "outcome": "review", "requirement": "R-PLAT-8",
         "message": f"{name} is outside the version range the policy was calibrated for; its "
                    "score was not used", "decisive": False}
        for name in sorted(uncalibrated)
    ]
    prompt = actions.prompt if outcome is not Outcome.NONE else None
    decision_actions = {
        "prompt": prompt,
        "write_label": actions.write_label and outcome is not Outcome.NONE,
        "review": review,
        "block": block,
        "visible_mark": actions.visible_mark,
    }
    record = _record(evidence, f, policy, outcome, reasons, prompt, decided_at)
    return Decision(
        outcome, tuple(reasons), prompt=prompt, review=review,
        extra={"rules": rules, "actions": decision_actions, "policy": policy.identity(),
               "record": record},
    )


def _record(
    evidence: Evidence, f: dict[str, Any], policy: Policy, outcome: Outcome,
    reasons: list[Reason], prompt: str | None, decided_at: str | None,
) -> dict[str, Any]:
    """The decision record of R-PLAT-9 (``written_label`` is filled when a copy is written)."""
    prov = evidence.provenance or {}
    aigc = prov.get("aigc") or {}
    c2pa = prov.get("c2pa") or {}
    sites = [
        {
            "carrier": s.get("carrier"),
            "form": s.get("form"),
            "fields": s.get("fields"),
            "checks": [{"id": x.get("check"), "outcome": x.get("severity")}
                       for x in s.get("findings") or ()],
        }
        for s in aigc.get("sites") or ()
    ]
    state = c2pa.get("state")
    specs = {d.name: d for d in policy.detectors}
    detectors = []
    for det in evidence.detections:
        entry: dict[str, Any] = {
            "name": det.detector, "version": det.version, "score": det.score,
            "abstained": det.abstained,
        }
        weights = [e for e in det.evidence if e.get("type") == "weights"]
        if weights:
            entry["weights"] = {k: v for k, v in weights[0].items() if k != "type"}
        spec = specs.get(det.detector)
        if spec is not None:
            entry["calibrated_for"] = spec.versions
        detectors.append(entry)
    decisive = reasons[0]
    return {
        "schema": RECORD_SCHEMA,
        "content_id": evidence.content_id or content_id_for(evidence.sha256),
        "sha256": evidence.sha256,
        "media_type": evidence.media_type,
        "actor_role": "propagator",
        "user_declared_ai": evidence.declared_ai,
        "sites": sites,
        "c2pa": {
            "present": state not in (None, "absent"),
            "state": state,
            "binding_valid": state in ("valid", "untrusted"),
            "signature_valid": state in ("valid", "untrusted"),
            "digital_source_type": (f["c2pa.source_type"] or [None])[0],
            "active_manifest": c2pa.get("active_manifest"),
        },
        "detectors": detectors,
        "outcome": outcome.value.upper(),
        "rule": f"{decisive.requirement}/{decisive.rule}",
        "rules": [r.rule for r in reasons],
        "prompt_text": prompt,
        "written_label": None,
        "verdict": f["aigc.verdict"],
        "policy": policy.identity(),
        "synthguard_version": __version__,
        "rules_version": RULES_VERSION,
        "decided_at": decided_at,
    }
