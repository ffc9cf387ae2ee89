"""The scan report: one :class:`Report` per input, its JSON schema, and its renderings.

The value types here sit at the bottom of the layer cake (beside ``media``) because detectors
produce :class:`Detection` and the policy produces :class:`Decision`. The schema is versioned
(``SCHEMA_ID``); later work adds optional fields without breaking it. ``docs/report.schema.json``
is a copy of ``report.schema.json`` in this package, kept in sync by a test.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from synthguard._version import __version__
from synthguard.errors import SynthguardError

__all__ = [
    "Decision",
    "Detection",
    "Outcome",
    "Reason",
    "Report",
    "SCHEMA_ID",
    "Segment",
    "display_path",
    "report_schema",
]

SCHEMA_ID = "synthguard.report/1"


class Outcome(StrEnum):
    """Platform outcomes of R-PLAT-1, strongest first, plus ``none``."""

    CONFIRMED = "confirmed"
    POSSIBLE = "possible"
    SUSPECTED = "suspected"
    NONE = "none"

    @property
    def label(self) -> str | None:
        """The GB 45438 ``Label`` value this outcome writes (R-PLAT-3)."""
        return {"confirmed": "1", "possible": "2", "suspected": "3"}.get(self.value)

    @property
    def rank(self) -> int:
        """Strength for precedence (R-PLAT-10): higher is stronger."""
        return {"none": 0, "suspected": 1, "possible": 2, "confirmed": 3}[self.value]


@dataclass(frozen=True)
class Segment:
    """Where in the content a detector saw something: a time range, a box, or both."""

    start: float | None = None  # seconds
    end: float | None = None
    score: float | None = None
    box: tuple[float, float, float, float] | None = None  # x, y, width, height in pixels
    track: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("start", "end", "score", "track", "note"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.box is not None:
            out["box"] = [float(v) for v in self.box]
        return out


@dataclass(frozen=True)
class Detection:
    """One detector's result: a calibrated probability that the content is synthetic, or an
    explicit abstention with a reason (never a silent 0.5)."""

    detector: str
    version: str
    score: float | None
    abstained: bool = False
    reason: str | None = None
    segments: tuple[Segment, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()  # e.g. {"type": "heatmap", "png_b64": ...}

    def __post_init__(self) -> None:
        if self.abstained != (self.score is None):
            raise ValueError("a detection has a score exactly when it does not abstain")
        if self.abstained and not self.reason:
            raise ValueError("an abstention needs a reason")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must lie in [0, 1], got {self.score}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "detector": self.detector,
            "version": self.version,
            "score": self.score,
            "abstained": self.abstained,
            "reason": self.reason,
            "segments": [s.to_dict() for s in self.segments],
        }
        if self.evidence:
            out["evidence"] = list(self.evidence)
        return out


@dataclass(frozen=True)
class Reason:
    """Why a decision came out as it did: the rule that fired, the requirement it implements."""

    rule: str
    message: str
    requirement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "requirement": self.requirement, "message": self.message}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    prompt: str | None = None
    review: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # decision record fields (R-PLAT-9)

    @property
    def label(self) -> str | None:
        return self.outcome.label

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "outcome": self.outcome.value,
            "label": self.label,
            "reasons": [r.to_dict() for r in self.reasons],
            "prompt": self.prompt,
            "review": self.review,
        }
        out.update(self.extra)
        return out


def display_path(path: str | os.PathLike[str] | bytes) -> tuple[str, str | None]:
    """A printable path, and the base64 of its raw bytes when they are not valid UTF-8."""
    raw = os.fsencode(path)
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace"), base64.b64encode(raw).decode("ascii")


@dataclass
class Report:
    """Everything synthguard found about one input. One JSON Lines row per report."""

    path: str
    path_b64: str | None = None
    size: int | None = None
    sha256: str | None = None
    kind: str | None = None
    format: str | None = None
    mime: str | None = None
    media: dict[str, Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    detections: list[Detection] = field(default_factory=list)
    decision: Decision | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    error: dict[str, str] | None = None
    elapsed_ms: float | None = None

    @classmethod
    def for_path(cls, path: str | os.PathLike[str] | bytes) -> Report:
        shown, raw = display_path(path)
        return cls(path=shown, path_b64=raw)

    @classmethod
    def failed(cls, path: str | os.PathLike[str] | bytes, error: SynthguardError) -> Report:
        report = cls.for_path(path)
        report.error = error.to_dict()
        return report

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "synthguard_version": __version__,
            "path": self.path,
        }
        if self.path_b64 is not None:
            out["path_b64"] = self.path_b64
        out.update(
            {
                "size": self.size,
                "sha256": self.sha256,
                "kind": self.kind,
                "format": self.format,
                "mime": self.mime,
                "media": self.media,
                "provenance": self.provenance,
                "detections": [d.to_dict() for d in self.detections],
                "decision": None if self.decision is None else self.decision.to_dict(),
                "warnings": self.warnings,
                "error": self.error,
                "elapsed_ms": self.elapsed_ms,
            }
        )
        return out

    def to_json(self) -> str:
        """One compact JSON line (ASCII-safe, so any terminal or pipe can carry it)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=True)


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema every report line validates against."""
    text = resources.files("synthguard.report").joinpath("report.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
