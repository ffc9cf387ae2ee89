"""The ``synthguard`` command: formats, exit codes, one-line errors, real subprocess runs."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import synthguard.cli
import synthguard.pipeline
from synthguard.errors import UnreadableError
from synthguard.report import Decision, Outcome, Report, report_schema
from synthguard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGUARD_")}


def fake_scan(source: str, *, settings: Settings | None = None, **_: Any) -> Report:
    """A pipeline stand-in: 'bad*' files are refused, 'int*' is interrupted, others pass."""
    name = os.path.basename(source)
    if name.startswith("bad"):
        return Report.failed(source, UnreadableError("permission denied: cannot read this path"))
    if name.startswith("int"):
        raise KeyboardInterrupt
    report = Report.for_path(source)
    report.size = os.path.getsize(source)
    report.kind, report.format, report.mime = "image", "png", "image/png"
    report.media = {"width": 4, "height": 3}
    report.decision = Decision(Outcome.NONE)
    report.elapsed_ms = 0.1
    return report


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synthguard.pipeline, "scan", fake_scan)


def invoke(*args: str | bytes, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"SYNTHGUARD_WORKERS": "1", **(env or {})})
    return runner.invoke(synthguard.cli.cli, [os.fsdecode(a) for a in args])


def tree(root: Path, names: list[str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).write_bytes(b"data")
    return root


# -- scan, with the pipeline replaced -------------------------------------------------------------
def test_jsonl_when_piped_in_input_order(tmp_path: Path, fake: None) -> None:
    root = tree(tmp_path / "d", ["b.png", "a.png", "c.png"])
    result = invoke("scan", str(root / "c.png"), str(root))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(r["path"]).name for r in rows] == ["c.png", "a.png", "b.png", "c.png"]
    assert all(r["error"] is None and r["schema"] == "synthguard.report/1" for r in rows)
    assert result.stderr == ""


def test_some_files_failed_exits_1(tmp_path: Path, fake: None) -> None:
    root = tree(tmp_path / "d", ["ok.png", "bad.png"])
    result = invoke("scan", str(root), str(tmp_path / "missing.png"))
    assert result.exit_code == 1
    rows = {Path(r["path"]).name: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["ok.png"]["error"] is None
    assert rows["bad.png"]["error"]["code"] == "unreadable"
    assert rows["missing.png"]["error"] == {
        "code": "unreadable",
        "message": "no such file or directory",
    }


@pytest.mark.parametrize(
    "args, message",
    [
        (["scan"], "Missing argument"),
        (["scan", "x", "--set", "workers"], "expected NAME=VALUE"),
        (["scan", "x", "--set", "nope=1"], "synthguard: error: unknown setting 'nope'"),
        (["scan", "x", "--set", "max_pixels=lots"], "synthguard: error: setting max_pixels"),
        (["scan", "x", "--format", "pdf"], "Invalid value for '--format'"),
        (["scan", "x", "--format", "html"], "--format html needs --out"),
        (["scan", "x", "--workers", "-1"], "Invalid value for '--workers'"),
        (["scan", "x", "--bogus"], "No such option"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, fake: None) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_bad_environment_setting_is_a_usage_error(tmp_path: Path, fake: None) -> None:
    result = invoke("scan", str(tmp_path), env={"SYNTHGUARD_TIMEOUT_S": "soon"})
    assert result.exit_code == 2
    assert result.stderr == "synthguard: error: setting timeout_s expects a number, got 'soon'\n"


def test_table_rows_summary_and_escaped_paths(tmp_path: Path, fake: None) -> None:
    root = tree(tmp_path / "d", ["ok.png", "bad.png", "evil\x1b[2J\u202egpj.exe"])
    with open(os.path.join(os.fsencode(root), b"\xff\xfe.png"), "wb") as f:
        f.write(b"data")
    result = invoke("scan", "--format", "table", str(root))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["OUTCOME", "KIND", "FORMAT", "SIZE", "DETAILS", "LABELS", "PATH"]
    assert lines[1].split()[:5] == ["error", "-", "-", "-", "unreadable"]
    assert lines[2].split()[:6] == ["none", "image", "png", "4", "B", "4x3"]
    assert lines[2].endswith("evil\\x1b[2J\\u202egpj.exe")
    assert lines[4].endswith("\\xff\\xfe.png")
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "bad.png: unreadable: permission denied" in result.stdout
    assert lines[-1] == "4 files: 3 none; 1 error (unreadable 1)"


def test_out_writes_the_file_and_a_summary(tmp_path: Path, fake: None) -> None:
    root = tree(tmp_path / "d", ["a.png", "b.png"])
    out = tmp_path / "r.jsonl"
    result = invoke("scan", str(root), "--out", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert len(out.read_text().splitlines()) == 2
    assert result.stderr == f"synthguard: 2 files: 2 none; no errors; wrote {out}\n"
    quiet = invoke("scan", str(root), "--out", str(tmp_path / "r.txt"), "-q")
    assert quiet.stderr == ""
    assert (tmp_path / "r.txt").read_text().startswith("OUTCOME")  # .txt -> table


def test_html_is_written_atomically(
    tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def render(reports: list[Report], settings: Settings, title: str | None = None) -> str:
        seen["reports"], seen["settings"] = reports, settings
        return "<!doctype html><title>r</title>"

    monkeypatch.setattr(synthguard.cli, "_render_html", render)
    root = tree(tmp_path / "d", ["a.png"])
    out = tmp_path / "report.html"
    out.write_text("old")
    result = invoke("scan", str(root), "--out", str(out), "--set", "thumbnail_px=99")
    assert result.exit_code == 0, result.output
    assert out.read_text() == "<!doctype html><title>r</title>"
    assert [Path(r.path).name for r in seen["reports"]] == ["a.png"]
    assert seen["settings"].thumbnail_px == 99
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "report.html"]  # no temp left


def test_unreadable_file_is_reported(
    tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What chmod 000 does for non-root users, made to happen for root too."""
    root = tree(tmp_path / "d", ["a.png", "locked.png"])
    real_open = open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if os.fsdecode(file).endswith("locked.png"):
            raise PermissionError(13, "Permission denied", os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    def scan(source: str, **kwargs: Any) -> Report:
        try:
            with guarded_open(source, "rb"):
                pass
        except PermissionError:
            return Report.failed(source, UnreadableError("permission denied"))
        return fake_scan(source, **kwargs)

    monkeypatch.setattr(synthguard.pipeline, "scan", scan)
    result = invoke("scan", str(root))
    assert result.exit_code == 1
    errors = [json.loads(line)["error"] for line in result.stdout.splitlines()]
    assert errors == [None, {"code": "unreadable", "message": "permission denied"}]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_permissions(tmp_path: Path) -> None:
    root = tree(tmp_path / "d", ["locked.png"])
    os.chmod(root / "locked.png", 0)
    result = invoke("scan", str(root))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unreadable"


@pytest.mark.timeout(60)
def test_worker_processes_keep_input_order(tmp_path: Path, fake: None) -> None:
    names = [f"f{i:03d}.png" for i in range(60)]
    root = tree(tmp_path / "d", names)
    result = invoke("scan", str(root), "--workers", "2")
    assert result.exit_code == 0
    assert [Path(json.loads(x)["path"]).name for x in result.stdout.splitlines()] == names


def test_unexpected_errors_are_one_line(
    tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(synthguard.cli, "run_scan", broken)
    result = invoke("scan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == (
        "synthguard: error: unexpected RuntimeError: the disk is on fire "
        "(set SYNTHGUARD_DEBUG=1 for the traceback)\n"
    )
    debug = invoke("scan", str(tmp_path), env={"SYNTHGUARD_DEBUG": "1"})
    assert isinstance(debug.exception, RuntimeError)


def test_interrupt_exits_130(tmp_path: Path, fake: None) -> None:
    root = tree(tmp_path / "d", ["a.png", "int.png"])
    result = invoke("scan", str(root))
    assert result.exit_code == 130
    assert result.stderr == "synthguard: interrupted\n"


# -- other commands -----------------------------------------------------------------------------
def test_settings_formats() -> None:
    table = invoke("settings")
    assert table.exit_code == 0 and "max_pixels" in table.stdout and "[limits]" in table.stdout
    rows = json.loads(invoke("settings", "--format", "json").stdout)
    assert {r["name"] for r in rows} >= {"workers", "timeout_s", "worker_memory_mb"}
    markdown = invoke("settings", "--format", "markdown").stdout
    assert markdown.startswith("# Settings\n")
    assert "| `timeout_s` | `120.0` | `SYNTHGUARD_TIMEOUT_S` |" in markdown


def test_schema_and_version() -> None:
    assert json.loads(invoke("schema").stdout) == report_schema()
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("synthguard, version ")


def test_demo_writes_both_reports(
    tmp_path: Path, fake: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthguard.samples

    def generate(out_dir: Path, *, count: int = 1, seed: int = 0) -> list[Path]:
        paths = [out_dir / "photo.png", out_dir / "tone.png"]
        for path in paths:
            path.write_bytes(b"data")
        return paths

    monkeypatch.setattr(synthguard.samples, "generate_samples", generate)
    monkeypatch.setattr(synthguard.cli, "_render_html", lambda reports, settings, title: "<html>")
    result = invoke("demo", "--out", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "photo.png" in result.stdout and "2 files: 2 none" in result.stdout
    assert (tmp_path / "demo" / "report.html").read_text() == "<html>"
    assert len((tmp_path / "demo" / "report.jsonl").read_text().splitlines()) == 2


# -- real processes ---------------------------------------------------------------------------
def run_cli(*args: str | bytes, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "synthguard", *args],
        capture_output=True,
        env=ENV,
        cwd=cwd,
        timeout=120,
    )


def test_subprocess_version_and_usage_error() -> None:
    assert run_cli("--version").stdout.startswith(b"synthguard, version ")
    bad = run_cli("scan", "x", "--set", "nope=1")
    assert bad.returncode == 2
    assert bad.stderr.count(b"\n") == 1 and bad.stderr.startswith(b"synthguard: error: ")
    script = Path(sys.executable).parent / "synthguard"
    if script.exists():  # the console script of the installed package
        missing = subprocess.run([script, "scan", "/nonexistent"], capture_output=True, env=ENV)
        assert missing.returncode == 1
        assert json.loads(missing.stdout)["error"]["code"] == "unreadable"


@pytest.mark.timeout(60)
def test_subprocess_ctrl_c_stops_workers_without_traceback(tmp_path: Path) -> None:
    tree(tmp_path / "d", [f"f{i}" for i in range(8)])
    script = textwrap.dedent(
        """
        import sys, time
        import synthguard.pipeline
        from synthguard.cli import main

        def slow(*args, **kwargs):
            time.sleep(60)

        synthguard.pipeline.scan = slow
        main(["scan", sys.argv[1], "--workers", "2"])
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
        start_new_session=True,  # a process group of its own, like a shell job
    )
    try:
        time.sleep(2.0)  # workers started and asleep on their first file
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert err == b"synthguard: interrupted\n"
    assert out == b""
    survivors = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True)
    assert survivors.stdout == b""


# -- real media, real pipeline ------------------------------------------------------------------
def hostile_folder(root: Path) -> Path:
    """A good PNG and JPEG beside the things that must not stop or hang a batch."""
    from PIL import Image

    root.mkdir()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(root / "good.png")
    Image.new("RGB", (40, 30), (30, 200, 30)).save(root / "photo.jpg", quality=90)
    with open(os.path.join(os.fsencode(root), b"\xff\xfe.png"), "wb") as f:
        Image.new("RGB", (8, 8)).save(f, format="PNG")
    (root / "empty.png").write_bytes(b"")
    os.mkfifo(root / "fifo.png")
    os.symlink("loop", root / "loop")
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    return root


EXPECTED = {
    "\\xff\\xfe.png": None,
    "empty.png": "empty_file",
    "fifo.png": "unreadable",
    "good.png": None,
    "loop": "symlink_loop",
    "photo.jpg": None,
    "up": "symlink_loop",
}


def _codes(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {Path(r["path"]).name: None if r["error"] is None else r["error"]["code"] for r in rows}


@pytest.mark.timeout(60)
def test_real_scan_of_a_hostile_folder_inline(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path / "in")
    result = invoke("scan", str(root))
    assert result.exit_code == 1, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert _codes(rows) == EXPECTED
    by_name = {Path(r["path"]).name: r for r in rows}
    assert by_name["good.png"]["kind"] == "image" and by_name["good.png"]["format"] == "png"
    assert by_name["good.png"]["media"]["width"] == 32
    assert by_name["photo.jpg"]["decision"]["outcome"] == "none"
    raw = by_name["\\xff\\xfe.png"]
    assert base64.b64decode(raw["path_b64"]) == os.path.join(os.fsencode(root), b"\xff\xfe.png")
    jsonschema = pytest.importorskip("jsonschema")
    for row in rows:
        jsonschema.validate(row, report_schema())


@pytest.mark.timeout(120)
def test_real_scan_of_a_hostile_folder_in_worker_processes(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path / "in")
    jsonl = run_cli("scan", str(root), "--workers", "2")
    assert jsonl.returncode == 1, jsonl.stderr
    assert jsonl.stderr == b""
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert _codes(rows) == EXPECTED
    # The same files in the same order as the inline run, whatever finished first.
    inline = run_cli("scan", str(root), "--workers", "1")
    assert [r["path"] for r in rows] == [json.loads(x)["path"] for x in inline.stdout.splitlines()]
    table = run_cli("scan", str(root), "--format", "table")
    assert table.returncode == 1
    text = table.stdout.decode()
    assert text.splitlines()[-1] == (
        "7 files: 3 none; 4 errors (empty_file 1, symlink_loop 2, unreadable 1)"
    )
    assert "\\xff\\xfe.png" in text
    good = run_cli("scan", str(root / "good.png"), str(root / "photo.jpg"), "--format", "table")
    assert good.returncode == 0
    assert good.stdout.decode().splitlines()[-1] == "2 files: 2 none; no errors"


@pytest.mark.timeout(120)
def test_real_html_report(tmp_path: Path) -> None:
    root = hostile_folder(tmp_path / "in")
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    result = invoke("scan", str(root), "--out", str(out))  # .html chooses the format
    assert result.exit_code == 1, result.output
    page = out.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "good.png" in page and "symlink_loop" in page
    assert os.listdir(out.parent) == ["report.html"]


def test_table_shows_label_findings(tmp_path: Path) -> None:
    from PIL import Image

    from synthguard.provenance.aigc import AigcLabel, write_label

    plain, labelled = tmp_path / "plain.png", tmp_path / "labelled.png"
    Image.new("RGB", (16, 12)).save(plain)
    write_label(plain, labelled, AigcLabel.first_write("1", "001191440300708461136T1WFUO", "i"))
    result = invoke("scan", str(tmp_path), "--format", "table", "--workers", "1", "--no-progress")
    rows = {line.split()[-1]: line for line in result.stdout.splitlines() if ".png" in line}
    assert "aigc ok L1" in rows[str(labelled)] and rows[str(labelled)].startswith("confirmed")
    assert "aigc" not in rows[str(plain)]
