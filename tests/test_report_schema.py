"""Report lines against their JSON schema: good scans of every sample format validate, the
published copy in ``docs/`` is the packaged one byte for byte, and the schema really rejects
bad lines (so the positive checks mean something)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from synthguard.errors import TruncatedMediaError
from synthguard.pipeline import scan
from synthguard.report import Report, report_schema
from synthguard.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DOCS_SCHEMA = REPO / "docs" / "report.schema.json"
PACKAGE_SCHEMA = REPO / "src" / "synthguard" / "report" / "report.schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(DOCS_SCHEMA.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def sample_reports(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    from synthguard.samples import generate_samples

    out = tmp_path_factory.mktemp("samples")
    generate_samples(out, count=1, seed=0)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert files, "generate_samples wrote no files"
    # Default settings regardless of the caller's SYNTHGUARD_* environment.
    settings = Settings.load(env={})
    # Round-trip through the JSON text: that, not the dict, is what users receive.
    return [json.loads(scan(path, settings=settings).to_json()) for path in files]


def test_docs_schema_is_the_packaged_schema() -> None:
    assert DOCS_SCHEMA.read_bytes() == PACKAGE_SCHEMA.read_bytes(), (
        "docs/report.schema.json drifted from src/synthguard/report/report.schema.json; "
        "copy the packaged file over the docs one"
    )
    assert report_schema() == json.loads(DOCS_SCHEMA.read_text("utf-8"))


def test_samples_cover_every_kind(sample_reports: list[dict[str, Any]]) -> None:
    kinds = {r["kind"] for r in sample_reports if r["error"] is None}
    assert {"image", "audio", "video", "text"} <= kinds, kinds


def test_good_scans_of_every_sample_scan_cleanly(sample_reports: list[dict[str, Any]]) -> None:
    failed = [f"{r['path']}: {r['error']}" for r in sample_reports if r["error"] is not None]
    assert not failed, "\n".join(failed)


def test_good_scans_validate(
    validator: Draft202012Validator, sample_reports: list[dict[str, Any]]
) -> None:
    invalid = [
        f"{r['path']} ({r['format']}): {e.json_path}: {e.message}"
        for r in sample_reports
        for e in validator.iter_errors(r)
    ]
    assert not invalid, "\n".join(invalid)


def test_failed_report_validates(validator: Draft202012Validator) -> None:
    report = Report.failed(b"bad-\xff.jpg", TruncatedMediaError("expected 100 bytes, got 50"))
    line = json.loads(report.to_json())
    assert "path_b64" in line
    validator.validate(line)


# -- the schema can fail ---------------------------------------------------------------------


def _good_line() -> dict[str, Any]:
    """A hand-built report line that validates, with one detection to tamper with."""
    line: dict[str, Any] = json.loads(Report.for_path("x.png").to_json())
    line.update(
        size=10,
        sha256="0" * 64,
        kind="image",
        format="png",
        mime="image/png",
        media={"width": 1, "height": 1},
        detections=[
            {
                "detector": "d",
                "version": "1",
                "score": 0.5,
                "abstained": False,
                "reason": None,
                "segments": [],
            }
        ],
        decision={"outcome": "none", "label": None, "reasons": [], "prompt": None, "review": False},
    )
    return line


def test_the_good_line_is_good(validator: Draft202012Validator) -> None:
    validator.validate(_good_line())


def _drop_sha256(line: dict[str, Any]) -> None:
    del line["sha256"]


def _score_too_high(line: dict[str, Any]) -> None:
    line["detections"][0]["score"] = 1.5


def _abstained_with_score(line: dict[str, Any]) -> None:
    line["detections"][0].update(abstained=True, reason="too small")


def _empty_error_message(line: dict[str, Any]) -> None:
    line["error"] = {"code": "truncated", "message": ""}


def _unknown_kind(line: dict[str, Any]) -> None:
    line["kind"] = "hologram"


def _uppercase_sha256(line: dict[str, Any]) -> None:
    line["sha256"] = "A" * 64


def _extra_top_level_key(line: dict[str, Any]) -> None:
    line["verdict"] = "fake"


def _wrong_schema_id(line: dict[str, Any]) -> None:
    line["schema"] = "synthguard.report/2"


@pytest.mark.parametrize(
    "tamper",
    [
        _drop_sha256,
        _score_too_high,
        _abstained_with_score,
        _empty_error_message,
        _unknown_kind,
        _uppercase_sha256,
        _extra_top_level_key,
        _wrong_schema_id,
    ],
)
def test_schema_rejects(
    validator: Draft202012Validator, tamper: Callable[[dict[str, Any]], None]
) -> None:
    line = copy.deepcopy(_good_line())
    tamper(line)
    assert not validator.is_valid(line), f"{tamper.__name__} was accepted"
