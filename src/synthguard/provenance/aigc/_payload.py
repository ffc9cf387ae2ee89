"""The GB 45438 Annex E payload: build, serialise, parse and validate (REGULATIONS 3.1-3.2).

Readers for each carrier (XMP, RIFF chunks, ID3, Vorbis comments, MP4 keys, ...) extract raw
values and hand them to :func:`parse_site`; :func:`assess` turns all the sites of one file into
a verdict (R-IMPL-2) with findings that cite requirement ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from synthguard.errors import UsageError
from synthguard.requirements import (
    AIGC_FIELDS,
    AIGC_KEY,
    ID_MAX_CHARS,
    LABEL_VALUES,
    PRODUCER_FIELDS,
    RESERVED_FIELDS,
    charset_ok,
)

MAX_VALUE_CHARS = 64 * 1024
"""A label is a few hundred characters; anything beyond this is refused unparsed (R-IMPL-1)."""


class Verdict(StrEnum):
    """Per-file verdicts of R-IMPL-2."""

    COMPLIANT = "compliant"
    NONCOMPLIANT = "noncompliant"
    NOT_FOUND = "not_found"
    INCONCLUSIVE = "inconclusive"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One check result, named by its check id of REGULATIONS 3.2 and a requirement id."""

    check: str
    severity: Severity
    requirement: str
    message: str
    carrier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "severity": self.severity.value,
            "requirement": self.requirement,
            "message": self.message,
        }
        if self.carrier is not None:
            out["carrier"] = self.carrier
        return out


@dataclass(frozen=True)
class AigcLabel:
    """The seven Annex E fields. Values are strings (R-META-1)."""

    Label: str
    ContentProducer: str
    ProduceID: str
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    @classmethod
    def first_write(
        cls, label: str, producer: str, produce_id: str, reserved1: str = ""
    ) -> AigcLabel:
        """A producer's first write: propagation fields mirror the producer fields (R-META-5)."""
        return cls(label, producer, produce_id, reserved1, producer, produce_id, "")

    def propagated(self, propagator: str, propagate_id: str, reserved2: str = "") -> AigcLabel:
        """A platform's update: only the propagation fields change (R-PLAT-3, R-META-5)."""
        return AigcLabel(
            self.Label, self.ContentProducer, self.ProduceID, self.ReservedCode1,
            propagator, propagate_id, reserved2,
        )

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in AIGC_FIELDS}

    def check_writable(self) -> None:
        """Writers are strict (R-META-4): refuse what a reader would only warn about."""
        if self.Label not in LABEL_VALUES:
            raise UsageError(f"Label must be one of 1, 2, 3 (R-META-1), got {self.Label!r}")
        for name in AIGC_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise UsageError(f"{name} must be a string (R-META-1), got {value!r}")
            if name not in RESERVED_FIELDS and not value:
                raise UsageError(f"{name} must not be empty (Annex E)")
            if not charset_ok(value):
                raise UsageError(
                    f"{name} must use printable ASCII without spaces, quotes or backslashes "
                    f"(R-META-4), got {value!r}"
                )
            if name in ("ProduceID", "PropagateID") and len(value) > ID_MAX_CHARS:
                raise UsageError(
                    f"{name} must be at most {ID_MAX_CHARS} characters (R-META-8), "
                    f"got {len(value)}"
                )

    def to_json(self, *, wrapped: bool = False) -> str:
        """Compact UTF-8 JSON, keys in Annex E order (R-META-7); bare for keyed carriers, wrapped
        in ``{"AIGC": ...}`` for keyless ones (R-META-3)."""
        self.check_writable()
        body: dict[str, Any] = self.as_dict()
        if wrapped:
            body = {AIGC_KEY: body}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Site:
    """One place in a file that carries an AIGC payload."""

    carrier: str  # e.g. "png.iTXt.xmp", "wav.chunk.AIGC", "mp3.id3.TXXX"
    form: str | None  # "bare" | "wrapped" | None when unparseable
    fields: dict[str, Any] | None
    findings: tuple[Finding, ...] = ()
    raw: str = ""

    @property
    def valid(self) -> bool:
        return self.fields is not None and not any(
            f.severity is Severity.ERROR for f in self.findings
        )

    def label(self) -> AigcLabel | None:
        """The fields as an :class:`AigcLabel`, when they are all strings."""
        if self.fields is None or not all(isinstance(v, str) for v in self.fields.values()):
            return None
        known = {k: v for k, v in self.fields.items() if k in AIGC_FIELDS}
        if not all(k in known for k in PRODUCER_FIELDS[:3]):
            return None
        return AigcLabel(**known)

    def to_dict(self) -> dict[str, Any]:
        return {
            "carrier": self.carrier,
            "form": self.form,
            "fields": self.fields,
            "valid": self.valid,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class AigcResult:
    """All sites of one file and the verdict over them."""

    verdict: Verdict
    sites: tuple[Site, ...] = ()
    findings: tuple[Finding, ...] = ()  # file-level: duplicate, disagree, container
    label: AigcLabel | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "label": None if self.label is None else self.label.as_dict(),
            "sites": [s.to_dict() for s in self.sites],
            "findings": [f.to_dict() for f in self.findings],
        }


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_site(value: str | bytes, carrier: str) -> Site:
    """Parse and check one raw value (checks ``aigc.parse`` .. ``aigc.first_write``)."""

    def err(check: str, req: str, msg: str) -> Finding:
        return Finding(check, Severity.ERROR, req, msg, carrier)

    if isinstance(value, bytes):
        # Containers pad with NUL (WAV/AVI, R-META-7); anything else must be UTF-8.
        value = value.rstrip(b"\x00")
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return Site(carrier, None, None, (err("aigc.parse", "R-META-7", "value is not UTF-8"),))
    else:
        text = value.rstrip("\x00")
    if len(text) > MAX_VALUE_CHARS:
        return Site(carrier, None, None, (err(
            "aigc.parse", "R-IMPL-1",
            f"expected a label of at most {MAX_VALUE_CHARS} characters, got {len(text)}",
        ),))
    raw = text
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        return Site(carrier, None, None, (err(
            "aigc.parse", "R-META-1", f"duplicate JSON key {exc.args[0]!r}"),), raw)
    except (ValueError, RecursionError) as exc:
        return Site(carrier, None, None, (err(
            "aigc.parse", "R-META-1", f"value is not valid JSON: {exc}"),), raw)
    if not isinstance(obj, dict):
        return Site(carrier, None, None, (err(
            "aigc.parse", "R-META-1", f"expected a JSON object, got {type(obj).__name__}"),), raw)
    form = "bare"
    if set(obj) == {AIGC_KEY} and isinstance(obj[AIGC_KEY], dict):
        obj, form = obj[AIGC_KEY], "wrapped"  # R-META-3: readers accept both forms
    return Site(carrier, form, obj, tuple(_check_fields(obj, carrier)), raw)


def _check_fields(obj: dict[str, Any], carrier: str) -> list[Finding]:
    out: list[Finding] = []

    def add(check: str, sev: Severity, req: str, msg: str) -> None:
        out.append(Finding(check, sev, req, msg, carrier))

    for name in ("Label", "ContentProducer", "ProduceID"):
        if name not in obj:
            add("aigc.fields", Severity.ERROR, "R-META-1", f"required field {name} is missing")
        elif obj[name] in ("", None):
            add("aigc.fields", Severity.ERROR, "R-META-1", f"required field {name} is empty")
    for name in ("ContentPropagator", "PropagateID"):
        if name not in obj:
            add("aigc.fields", Severity.ERROR, "R-META-5", f"propagation field {name} is missing")
        elif obj[name] == "":
            add("aigc.fields", Severity.WARNING, "R-META-5", f"propagation field {name} is empty")
    for name in RESERVED_FIELDS:
        if name not in obj:
            add("aigc.fields", Severity.INFO, "R-META-1", f"reserved field {name} is absent")
    for name, value in obj.items():
        if name not in AIGC_FIELDS:
            add("aigc.unknown_key", Severity.WARNING, "R-META-1",
                f"unknown key {name!r} (expected only {', '.join(AIGC_FIELDS)})")
            continue
        if not isinstance(value, str):
            add("aigc.types", Severity.ERROR, "R-META-1",
                f"{name} must be a JSON string, got {json.dumps(value)[:40]}")
        elif not charset_ok(value):
            add("aigc.charset", Severity.WARNING, "R-META-4",
                f"{name} has characters outside the Annex E set (spaces, quotes, backslashes "
                f"or non-ASCII): {value[:40]!r}")
    label = obj.get("Label")
    if "Label" in obj:
        if isinstance(label, str) and label in LABEL_VALUES:  # a list is unhashable
            pass
        elif isinstance(label, int) and not isinstance(label, bool) and str(label) in LABEL_VALUES:
            add("aigc.label_enum", Severity.WARNING, "R-META-1",
                f"Label {label} is a number; accepted as \"{label}\"")
        else:
            add("aigc.label_enum", Severity.ERROR, "R-PLAT-3",
                f"Label must be \"1\", \"2\" or \"3\", got {json.dumps(label)[:40]}")
    if (
        obj.get("ContentPropagator") not in (None, "")
        and (obj.get("ContentPropagator"), obj.get("PropagateID"))
        != (obj.get("ContentProducer"), obj.get("ProduceID"))
    ):
        add("aigc.first_write", Severity.INFO, "R-META-5",
            "propagation fields differ from producer fields (normal after propagation)")
    return out


def assess(sites: Sequence[Site], container: Sequence[Finding] = ()) -> AigcResult:
    """The verdict over every site of one file (R-IMPL-2, R-META-6).

    ``container`` carries ``aigc.container`` findings from the readers (truncated or malformed
    structure, unsupported variants): they make the verdict ``inconclusive`` unless a site
    already makes it ``noncompliant``; they never produce ``not_found`` (R-IMPL-1).
    """
    findings = list(container)
    if len(sites) > 1:
        findings.append(Finding(
            "aigc.duplicate", Severity.ERROR, "R-META-6",
            f"{len(sites)} AIGC sites found ({', '.join(s.carrier for s in sites)}); "
            "exactly one is allowed",
        ))
        keys = {
            tuple(str((s.fields or {}).get(k)) for k in ("Label", "ContentProducer", "ProduceID"))
            for s in sites
        }
        if len(keys) > 1:
            findings.append(Finding(
                "aigc.disagree", Severity.ERROR, "R-META-6",
                "the sites disagree on Label, ContentProducer or ProduceID",
            ))
    site_errors = any(not s.valid for s in sites)
    label = next((lbl for s in sites if s.valid and (lbl := s.label()) is not None), None)
    if site_errors or any(f.severity is Severity.ERROR for f in findings
                          if f.check != "aigc.container"):
        verdict = Verdict.NONCOMPLIANT
    elif any(f.check == "aigc.container" for f in findings):
        verdict = Verdict.INCONCLUSIVE
    elif not sites:
        verdict = Verdict.NOT_FOUND
    else:
        verdict = Verdict.COMPLIANT
    return AigcResult(verdict, tuple(sites), tuple(findings), label)
