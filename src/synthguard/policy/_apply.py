"""Applying a decision: the labelled copy a platform publishes (R-PLAT-3, R-PLAT-4, R-C2PA-6).

- confirmed with an existing label: only the propagation fields change (producer untouched);
- possible/suspected with no label: the platform is the first writer (R-PLAT-4), producer
  fields = platform code and content id;
- an existing "2"/"3" is upgraded to a stronger outcome, never downgraded (3 -> 2 -> 1);
- optionally a visible mark first (it re-encodes the essence), then the metadata write
  (``write_label``: atomic, read back), then, when the upload had a C2PA manifest that the
  write broke, a re-signed manifest if a platform certificate and key are given; otherwise the
  ``c2pa_invalidated_by_propagation`` record.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from synthguard.errors import UsageError
from synthguard.media import open_media
from synthguard.provenance.aigc import AigcLabel, read_aigc, write_label
from synthguard.report import Decision, Outcome
from synthguard.requirements import EXPLICIT_LABEL_DEFAULTS, LABEL_VALUES
from synthguard.settings import Settings

__all__ = ["apply_decision", "label_to_write"]

_RANK = {"1": 3, "2": 2, "3": 1}


def label_to_write(
    existing: AigcLabel | None, outcome: Outcome, platform: str, content_id: str
) -> tuple[AigcLabel, str]:
    """The label the platform writes, and who is the first writer (``producer``/``platform``)."""
    target = outcome.label
    if target is None:
        raise UsageError("the outcome none writes no label")
    if existing is None or existing.Label not in LABEL_VALUES:
        return AigcLabel.first_write(target, platform, content_id), "platform"
    label = target if _RANK[target] > _RANK[existing.Label] else existing.Label
    kept = AigcLabel(label, existing.ContentProducer, existing.ProduceID, existing.ReservedCode1)
    return kept.propagated(platform, content_id), "producer"


def apply_decision(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    decision: Decision,
    *,
    platform: str,
    content_id: str | None = None,
    visible_mark: bool | None = None,
    c2pa_cert: str | os.PathLike[str] | None = None,
    c2pa_key: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Write the labelled copy of ``src`` to ``dst`` and return the ``applied`` object of the
    report (also recorded into the decision record's ``written_label``)."""
    settings = settings or Settings.load()
    if decision.outcome is Outcome.NONE:
        raise UsageError("the outcome none has no labelled copy")
    if not platform:
        raise UsageError("applying a decision needs the platform code (--platform or the "
                         "platform_code setting)")
    record = decision.extra.get("record") or {}
    content_id = content_id or record.get("content_id")
    if not content_id:
        raise UsageError("applying a decision needs a content id")
    actions = decision.extra.get("actions") or {}
    if visible_mark is None:
        visible_mark = bool(actions.get("visible_mark"))
    if (c2pa_cert is None) != (c2pa_key is None):
        raise UsageError("C2PA re-signing needs both a certificate chain and a private key")
    with open_media(src, settings=settings) as media:
        existing = read_aigc(media).label
        c2pa_before = _read_c2pa(media)
    label, first_writer = label_to_write(existing, decision.outcome, platform, content_id)
    dst_path = Path(dst)
    work = Path(tempfile.mkdtemp(prefix=".synthguard-apply-", dir=dst_path.parent or "."))
    try:
        current = Path(src)
        mark = None
        if visible_mark:
            from synthguard.marks import mark_file

            out = work / f"mark{dst_path.suffix}"
            mark = mark_file(current, out, text=EXPLICIT_LABEL_DEFAULTS[0], settings=settings)
            current = out
        out = work / f"label{dst_path.suffix}"
        written = write_label(current, out, label, settings=settings)
        current = out
        c2pa: dict[str, Any] | None = None
        if c2pa_before is not None:
            c2pa = _c2pa_step(src, current, work, dst_path.suffix, label, c2pa_before,
                              c2pa_cert, c2pa_key, settings)
            if c2pa.get("resigned_path"):
                current = Path(c2pa.pop("resigned_path"))
        os.replace(current, dst_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    written_label = {k: v for k, v in label.as_dict().items()
                     if k in ("Label", "ContentPropagator", "PropagateID", "ReservedCode2")}
    if isinstance(record, dict):
        record["written_label"] = written_label
        if c2pa is not None and c2pa.get("invalidated"):
            record["c2pa_invalidated_by_propagation"] = c2pa["invalidated"]
    return {"path": str(dst_path), "label": label.as_dict(), "carrier": written.carrier,
            "first_writer": first_writer, "c2pa": c2pa, "mark": mark, "error": None}


def _read_c2pa(media: Any) -> Any:
    """The upload's C2PA state when it had a manifest that validated (else ``None``)."""
    try:
        from synthguard.provenance.c2pa import C2paState, may_hold_manifest, read_c2pa
    except ImportError:  # the c2pa extra is not installed: nothing to keep valid
        return None
    if not may_hold_manifest(media):
        return None
    try:
        before = read_c2pa(media)
    except Exception:  # noqa: BLE001 - a broken manifest is not ours to keep valid
        return None
    return before if before.state in (C2paState.VALID, C2paState.UNTRUSTED) else None


def _c2pa_step(
    src: str | os.PathLike[str], current: Path, work: Path, suffix: str, label: AigcLabel,
    before: Any, cert: str | os.PathLike[str] | None, key: str | os.PathLike[str] | None,
    settings: Settings,
) -> dict[str, Any]:
    from synthguard.provenance.c2pa import c2pa_invalidated_by_propagation, read_c2pa, resign_c2pa

    with open_media(current, settings=settings) as media:
        after = read_c2pa(media)
    invalidated = c2pa_invalidated_by_propagation(before, after)
    out: dict[str, Any] = {"invalidated": invalidated, "resigned": False}
    if invalidated is not None and cert is not None and key is not None:
        signed_path = work / f"signed{suffix}"
        signed = resign_c2pa(
            current, signed_path, cert_chain_pem=Path(cert).read_bytes(),
            private_key_pem=Path(key).read_bytes(), parent=src, aigc_label=label,
            settings=settings,
        )
        out.update(resigned=True, manifest=signed.to_dict(), resigned_path=str(signed_path))
    return out
