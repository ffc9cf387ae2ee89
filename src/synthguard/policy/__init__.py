"""From evidence to a platform decision (REGULATIONS section 5, R-PLAT-1..10).

The full rule engine with YAML policies arrives with issue #4; this module already holds the
decision flow's order of precedence so that every entry point gets its decision from one pure
function, :func:`decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synthguard.report import Decision, Detection, Outcome, Reason

__all__ = ["Evidence", "decide"]


@dataclass(frozen=True)
class Evidence:
    """Everything the decision may look at, gathered by the pipeline."""

    provenance: dict[str, Any] = field(default_factory=dict)
    detections: tuple[Detection, ...] = ()
    declared_ai: bool | None = None


def decide(evidence: Evidence) -> Decision:
    """A pure function of the evidence (R-PLAT-1 order: label, declaration, traces)."""
    if evidence.declared_ai:
        return Decision(
            Outcome.POSSIBLE,
            reasons=(
                Reason(
                    rule="declared-ai",
                    requirement="R-PLAT-1",
                    message="no verified label, but the uploader declared the content AI-generated",
                ),
            ),
        )
    return Decision(
        Outcome.NONE,
        reasons=(
            Reason(
                rule="no-evidence",
                requirement="R-PLAT-1",
                message="no AIGC label, declaration or detector evidence of synthesis was found",
            ),
        ),
    )
