"""The one orchestrator: ``Media -> provenance -> detectors -> policy -> Report``.

Every entry point (CLI, HTTP API, workers, live streams, Python calls) goes through
:func:`analyze` or :func:`scan`.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import BinaryIO

from synthguard.detectors import run_detectors
from synthguard.errors import ConfigError, InternalError, SynthguardError
from synthguard.media import Media, open_media
from synthguard.policy import Evidence, Policy, evaluate, load_policy
from synthguard.policy._load import load_declarations
from synthguard.provenance import read_provenance
from synthguard.report import Report
from synthguard.settings import Settings

__all__ = ["analyze", "scan"]


def analyze(
    media: Media,
    *,
    settings: Settings | None = None,
    detectors: list[str] | None = None,
    run_detection: bool = True,
    declared_ai: bool | None = None,
    policy: Policy | None = None,
    content_id: str | None = None,
) -> Report:
    """Read labels, run detectors and decide, for media that already passed the boundary.

    ``policy`` defaults to the ``policy_file`` setting (else the shipped default);
    ``declared_ai`` and ``content_id`` default to the ``declarations_file`` entry for this
    file (by sha256 or path), then to the ``declared_ai`` setting."""
    settings = settings or media.settings
    report = Report.for_path(media.name)
    report.size = media.size
    report.sha256 = media.sha256
    report.kind = media.kind.value
    report.format = media.format
    report.mime = media.mime
    report.media = media.info.to_dict()
    report.warnings = [w.to_dict() for w in media.warnings]
    report.provenance = read_provenance(media)
    if run_detection:
        report.detections = run_detectors(media, settings, detectors)
    if policy is None:
        policy = load_policy(settings.policy_file)
    if settings.declarations_file and (declared_ai is None or content_id is None):
        found = load_declarations(settings.declarations_file).lookup(
            media.name, media.sha256
        )
        if found is not None:
            declared_ai = found.declared_ai if declared_ai is None else declared_ai
            content_id = found.content_id if content_id is None else content_id
    if declared_ai is None:
        declared_ai = _setting_declared(settings.declared_ai)
    evidence = Evidence(
        provenance=report.provenance,
        detections=tuple(report.detections),
        declared_ai=declared_ai,
        marks=report.provenance.get("marks"),
        watermark=report.provenance.get("watermark"),
        sha256=media.sha256,
        media_type=media.mime,
        content_id=content_id,
    )
    decided_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    report.decision = evaluate(evidence, policy, decided_at=decided_at)
    return report


def _setting_declared(value: str) -> bool | None:
    text = value.strip().lower()
    if text in ("", "none", "unknown"):
        return None
    if text in ("yes", "true", "1", "ai"):
        return True
    if text in ("no", "false", "0", "not-ai"):
        return False
    raise ConfigError(f"setting declared_ai expects yes, no or empty, got {value!r}")


def scan(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    name: str | None = None,
    settings: Settings | None = None,
    detectors: list[str] | None = None,
    run_detection: bool = True,
    declared_ai: bool | None = None,
    policy: Policy | None = None,
    content_id: str | None = None,
) -> Report:
    """Open and analyze one input. Refused input becomes a report with ``error`` set; this
    function raises only for programming errors."""
    settings = settings or Settings.load()
    started = time.perf_counter()
    label: str | os.PathLike[str] | bytes
    if name is not None:
        label = name
    elif isinstance(source, (str, os.PathLike)):
        label = source
    else:
        label = "<bytes>" if isinstance(source, (bytes, bytearray)) else "<stream>"
    try:
        with open_media(source, name=name, settings=settings) as media:
            report = analyze(
                media,
                settings=settings,
                detectors=detectors,
                run_detection=run_detection,
                declared_ai=declared_ai,
                policy=policy,
                content_id=content_id,
            )
    except SynthguardError as exc:
        report = Report.failed(label, exc)
    except MemoryError:
        from synthguard.errors import OutOfMemoryError

        report = Report.failed(label, OutOfMemoryError("ran out of memory while scanning"))
    except Exception as exc:  # noqa: BLE001 - the safety net: one bad item never stops a batch
        report = Report.failed(
            label, InternalError(f"unexpected {type(exc).__name__} while scanning: {exc}")
        )
    report.elapsed_ms = round((time.perf_counter() - started) * 1000.0, 3)
    return report
