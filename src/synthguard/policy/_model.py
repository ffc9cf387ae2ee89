"""The policy model: what a policy file says, as frozen values (no I/O here; see ``_load``).

A policy has an identity (``id``, ``version``), options, the detectors it was calibrated for,
per-outcome actions and an ordered list of named rules. A rule is a conjunction of conditions
over the :class:`Evidence`; when all hold it *fires* with its outcome. The decision is the
strongest outcome among the fired rules (R-PLAT-10: nothing ever lowers an outcome), so adding
evidence for "synthetic" can only raise it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthguard.report import Detection, Outcome

__all__ = [
    "CONDITION_FIELDS",
    "DetectorSpec",
    "Evidence",
    "OutcomeActions",
    "Policy",
    "PolicyOptions",
    "Rule",
]

# Evidence fields a rule may test, with the Python type of the value it compares against.
# ``detector`` rules are separate (a name plus ``min_score``/``max_score``/``review_band``/
# ``abstained``).
CONDITION_FIELDS: dict[str, tuple[type, ...]] = {
    "aigc.label": (str, list),  # "1" / "2" / "3", or a list of them
    "aigc.verdict": (str, list),  # compliant / noncompliant / not_found / inconclusive
    "c2pa.valid_ai": (bool,),  # a manifest that validates declares an AI source type (R-PLAT-7)
    "c2pa.trace": (bool,),  # an AI claim that does not validate as trusted: a trace (R-PLAT-7)
    "c2pa.state": (str, list),
    "c2pa.source_type": (str, list),  # any of these digitalSourceType URIs
    "iptc.ai_source_type": (bool,),  # XMP Iptc4xmpExt:DigitalSourceType is an AI type
    "declared_ai": (bool,),  # the uploader's declaration (True: AI; False: not AI)
    "marks.visible_found": (bool,),  # an explicit (visible or audible) label was found
    "watermark.hit": (bool,),  # a watermark decoder found a mark
}
# Fields where ``true`` is evidence for "synthetic": conditions on them may only ask for true
# (asking for false would make a rule fire on *less* evidence and break monotonicity).
MONOTONE_TRUE_ONLY = frozenset(
    {
        "c2pa.valid_ai",
        "c2pa.trace",
        "iptc.ai_source_type",
        "declared_ai",
        "marks.visible_found",
        "watermark.hit",
    }
)


@dataclass(frozen=True)
class Evidence:
    """Everything the decision may look at, gathered by the pipeline.

    ``provenance`` is the report's provenance object (``aigc``, ``c2pa``, ``iptc``);
    ``marks`` and ``watermark`` carry explicit-label and watermark findings when a reader
    produced them (``{"visible_found": bool}``, ``{"hit": bool}``); the identity fields feed the
    decision record (R-PLAT-9) and never the outcome.
    """

    provenance: dict[str, Any] = field(default_factory=dict)
    detections: tuple[Detection, ...] = ()
    declared_ai: bool | None = None
    marks: dict[str, Any] | None = None
    watermark: dict[str, Any] | None = None
    sha256: str | None = None
    media_type: str | None = None
    content_id: str | None = None


@dataclass(frozen=True)
class DetectorSpec:
    """A detector the policy expects, and the version range its thresholds were calibrated
    for (e.g. ``">=1.0,<2"``; empty = any)."""

    name: str
    versions: str = ""


@dataclass(frozen=True)
class Rule:
    """One named rule: all of ``when`` must hold for it to fire with ``outcome``."""

    name: str
    outcome: Outcome
    when: dict[str, Any]
    message: str
    requirement: str | None = None
    review: bool = False
    block: bool = False
    detector: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    review_band: tuple[float, float] | None = None
    abstained: bool | None = None


@dataclass(frozen=True)
class OutcomeActions:
    """What the platform does for one outcome (R-PLAT-2, R-PLAT-3)."""

    prompt: str | None = None
    write_label: bool = True
    review: bool = False
    block: bool = False
    visible_mark: bool = False


@dataclass(frozen=True)
class PolicyOptions:
    c2pa_valid_ai_is_confirmed: bool = True  # R-PLAT-7
    composite_synthetic_is_ai: bool = True  # R-C2PA-1: compositeSynthetic counts as AI


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy. Build with :func:`load_policy` / :func:`default_policy`."""

    id: str
    version: str
    rules: tuple[Rule, ...]
    outcomes: dict[Outcome, OutcomeActions]
    options: PolicyOptions = PolicyOptions()
    detectors: tuple[DetectorSpec, ...] = ()
    sha256: str = ""
    source: str = ""

    def identity(self) -> dict[str, str]:
        """``{id, version, sha256}`` for the decision record."""
        return {"id": self.id, "version": self.version, "sha256": self.sha256}
