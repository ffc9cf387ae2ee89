"""The real CLI against the hostile corpus: every bad file is a clean report, never a crash.

The corpus (see ``corpus.py``) is built once per module in a temporary folder and scanned by
``python -m synthguard scan`` in a subprocess, once with 2 worker processes and once inline
(``--workers 1``). A subprocess timeout turns a hang into a failure instead of a stuck CI job.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from .corpus import SCAN_SETTINGS, Expect, build_hostile_corpus

REPO = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO / "docs" / "report.schema.json"
# Generous: the corpus scans in seconds; only a hang (a FIFO opened for reading, a decoder
# looping on a lying header) comes near this.
SCAN_TIMEOUT_S = 300


@dataclass(frozen=True)
class ScanRun:
    root: Path
    expect: dict[str, Expect]
    workers: int
    returncode: int
    stderr: str
    lines: list[str]  # raw JSONL lines, as written
    reports: list[dict[str, Any]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Expect]]:
    root = tmp_path_factory.mktemp("hostile") / "corpus"
    return root, build_hostile_corpus(root)


def _run_cli(root: Path, workers: int, out: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "synthguard", "scan", str(root)]
    args += ["--format", "jsonl", "--out", str(out), "--workers", str(workers)]
    for name, value in SCAN_SETTINGS.items():
        args += ["--set", f"{name}={value}"]
    # The expectations assume the default limits: drop any SYNTHGUARD_* the caller exported.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGUARD_")}
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=SCAN_TIMEOUT_S,
        env=env,
        cwd=out.parent,
        check=False,
    )


@pytest.fixture(scope="module", params=[2, 1], ids=["workers2", "inline"])
def scan_run(request: pytest.FixtureRequest, corpus: tuple[Path, dict[str, Expect]]) -> ScanRun:
    root, expect = corpus
    workers: int = request.param
    out = root.parent / f"report-{workers}.jsonl"
    try:
        proc = _run_cli(root, workers, out)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"synthguard scan --workers {workers} hung for {exc.timeout} s on the corpus")
    lines = out.read_text("utf-8").splitlines() if out.exists() else []
    return ScanRun(
        root=root,
        expect=expect,
        workers=workers,
        returncode=proc.returncode,
        stderr=proc.stderr,
        lines=lines,
        reports=[json.loads(line) for line in lines if line.strip()],
    )


def _relative_name(report: dict[str, Any], root: Path) -> str:
    """The corpus key of a report: its raw path (``path_b64`` when the name is not UTF-8)
    relative to the corpus root, decoded the way the corpus builder decoded it."""
    raw = (
        base64.b64decode(report["path_b64"])
        if "path_b64" in report
        else os.fsencode(report["path"])
    )
    rel = os.path.relpath(raw, os.fsencode(root))
    assert not rel.startswith(b".."), f"report for a path outside the corpus: {report['path']!r}"
    return os.fsdecode(rel)


def _by_name(run: ScanRun) -> dict[str, dict[str, Any]]:
    return {_relative_name(r, run.root): r for r in run.reports}


def test_exit_code_says_some_failed(scan_run: ScanRun) -> None:
    assert scan_run.returncode == 1, (
        f"expected exit 1 (some files failed), got {scan_run.returncode}; "
        f"stderr:\n{scan_run.stderr[-3000:]}"
    )


def test_no_traceback(scan_run: ScanRun) -> None:
    assert "Traceback" not in scan_run.stderr, scan_run.stderr[-5000:]


def test_every_file_reported_exactly_once(scan_run: ScanRun) -> None:
    names = Counter(_relative_name(r, scan_run.root) for r in scan_run.reports)
    duplicated = sorted(n for n, count in names.items() if count > 1)
    required = {n for n, e in scan_run.expect.items() if not e.optional}
    missing = sorted(required - set(names))
    unexpected = sorted(set(names) - set(scan_run.expect))
    assert (duplicated, missing, unexpected) == ([], [], []), (
        f"duplicated={duplicated} missing={missing} unexpected={unexpected}"
    )


def test_error_codes(scan_run: ScanRun) -> None:
    got = _by_name(scan_run)
    wrong = []
    for name, exp in sorted(scan_run.expect.items()):
        report = got.get(name)
        if report is None:
            continue  # reported missing by test_every_file_reported_exactly_once
        error = report["error"]
        code = "ok" if error is None else error["code"]
        if code != exp.code:
            detail = "" if error is None else f": {error['message']}"
            wrong.append(f"{name}: expected {exp.code}, got {code}{detail}")
    assert not wrong, "\n".join(wrong)


def test_error_messages_are_one_clean_line(scan_run: ScanRun) -> None:
    bad = []
    for report in scan_run.reports:
        error = report["error"]
        if error is None:
            continue
        message = error["message"]
        if not message.strip() or "\n" in message or "Traceback" in message:
            bad.append(f"{report['path']}: {message!r}")
    assert not bad, "\n".join(bad)


def test_failed_reports_carry_no_verdict(scan_run: ScanRun) -> None:
    # A file that could not be scanned has no decision: "none" would read as "checked, clean".
    decided = [r["path"] for r in scan_run.reports if r["error"] is not None and r["decision"]]
    assert not decided, decided


def test_good_files_probe_correctly(scan_run: ScanRun) -> None:
    got = _by_name(scan_run)
    wrong = []
    for name, exp in sorted(scan_run.expect.items()):
        report = got.get(name)
        if not exp.ok or report is None or report["error"] is not None:
            continue  # error codes are checked by test_error_codes
        media = report["media"] or {}
        checks: list[tuple[str, object, object]] = [
            ("kind", exp.kind, report["kind"]),
            ("format", exp.format, report["format"]),
            ("width", exp.width, media.get("width")),
            ("height", exp.height, media.get("height")),
            ("sample_rate", exp.sample_rate, media.get("sample_rate")),
        ]
        for what, want, have in checks:
            if want is not None and want != have:
                wrong.append(f"{name}: {what} expected {want!r}, got {have!r}")
        with open(os.path.join(os.fsencode(scan_run.root), os.fsencode(name)), "rb") as fh:
            data = fh.read()
        if (report["size"], report["sha256"]) != (len(data), hashlib.sha256(data).hexdigest()):
            wrong.append(f"{name}: size/sha256 do not match the file's bytes")
        if report["decision"] is None:
            wrong.append(f"{name}: a good scan needs a decision")
        codes = {w["code"] for w in report["warnings"]}
        if exp.warning is not None and exp.warning not in codes:
            wrong.append(f"{name}: expected warning {exp.warning!r}, got {sorted(codes)}")
        if exp.warning is None and "extension_mismatch" in codes:
            wrong.append(f"{name}: unexpected extension_mismatch warning")
        if exp.path_b64 != ("path_b64" in report):
            wrong.append(f"{name}: path_b64 expected {exp.path_b64}, got {'path_b64' in report}")
    assert not wrong, "\n".join(wrong)


def test_every_line_validates_against_the_schema(scan_run: ScanRun) -> None:
    assert scan_run.lines, "the scan wrote no JSONL lines"
    validator = Draft202012Validator(json.loads(SCHEMA_PATH.read_text("utf-8")))
    invalid = []
    for line in scan_run.lines:
        report = json.loads(line)
        for err in validator.iter_errors(report):
            invalid.append(f"{report.get('path')!r}: {err.json_path}: {err.message}")
    assert not invalid, "\n".join(invalid[:50])
