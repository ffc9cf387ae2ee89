"""Applying decisions: labelled copies pass the label reader (one site, propagation fields as
R-PLAT-3/R-PLAT-4 say, producer fields untouched, essence unchanged), and scan --apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from synthguard.cli import cli
from synthguard.media import open_media
from synthguard.pipeline import scan
from synthguard.policy import apply_decision
from synthguard.provenance.aigc import AigcLabel, Verdict, read_aigc, write_label
from synthguard.settings import Settings

PLATFORM = "001191110108MA00XXXXXX2V001"
PRODUCER = "001191440300708461136T1WFUO"


def png(path: Path, label: str | None = None) -> Path:
    Image.new("RGB", (32, 24), (10, 200, 30)).save(path)
    if label is not None:
        write_label(path, path, AigcLabel.first_write(label, PRODUCER, "img-01"))
    return path


def read(path: Path) -> tuple[Verdict, AigcLabel | None, int]:
    with open_media(path) as media:
        result = read_aigc(media)
    return result.verdict, result.label, len(result.sites)


@pytest.mark.parametrize(
    ("label", "declared", "expect"),
    [
        # section 11: no label, user declares AI -> Label "2", platform is the first writer
        (None, True, AigcLabel("2", PLATFORM, "vid-1", "", PLATFORM, "vid-1", "")),
        # confirmed: producer fields kept, only propagation fields change
        ("1", None, AigcLabel("1", PRODUCER, "img-01", "", PLATFORM, "vid-1", "")),
        # an earlier "3" is upgraded by a declaration (3 -> 2), producer kept
        ("3", True, AigcLabel("2", PRODUCER, "img-01", "", PLATFORM, "vid-1", "")),
        # an earlier "2" is never downgraded
        ("2", None, AigcLabel("2", PRODUCER, "img-01", "", PLATFORM, "vid-1", "")),
    ],
)
def test_labelled_copy(tmp_path: Path, label: str | None, declared: bool | None,
                       expect: AigcLabel) -> None:
    src = png(tmp_path / "in.png", label)
    report = scan(src, settings=Settings.load(env={}), declared_ai=declared, content_id="vid-1")
    assert report.decision is not None
    dst = tmp_path / "out.png"
    applied = apply_decision(src, dst, report.decision, platform=PLATFORM)
    verdict, got, sites = read(dst)
    assert (verdict, got, sites) == (Verdict.COMPLIANT, expect, 1)
    assert applied["first_writer"] == ("platform" if label is None else "producer")
    assert report.decision.extra["record"]["written_label"]["PropagateID"] == "vid-1"
    with Image.open(src) as a, Image.open(dst) as b:
        assert a.tobytes() == b.tobytes()  # essence unchanged


def test_scan_apply_cli(tmp_path: Path) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    png(inp / "a.png", "1")
    png(inp / "b.png")  # none: no copy
    (inp / "c.txt").write_text("hello\n")  # declared below; txt has no metadata writer
    decl = tmp_path / "decl.yaml"
    decl.write_text(f"- path: {inp / 'c.txt'}\n  declared_ai: true\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, [
        "scan", str(inp), "--format", "jsonl", "--apply", str(out), "--platform", PLATFORM,
        "--declarations", str(decl), "--set", "workers=1", "--no-progress",
    ])
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    by_name = {Path(x["path"]).name: x for x in lines}
    assert by_name["a.png"]["decision"]["applied"]["path"] == str(out / "a.png")
    assert "applied" not in by_name["b.png"]["decision"]
    c = by_name["c.txt"]["decision"]
    assert c["outcome"] == "possible"
    assert c["record"]["user_declared_ai"] is True
    if c["applied"]["error"] is not None:  # per-file error, the batch went on
        assert result.exit_code == 1 and "apply: error" in result.stderr
    assert read(out / "a.png")[1] == AigcLabel("1", PRODUCER, "img-01", "", PLATFORM,
                                               by_name["a.png"]["decision"]["record"]
                                               ["content_id"], "")
    assert not (out / "b.png").exists()


def test_apply_needs_platform(tmp_path: Path) -> None:
    png(tmp_path / "a.png", "1")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path / "a.png"), "--apply",
                                      str(tmp_path / "o")])
    assert result.exit_code == 2 and "platform" in result.stderr


def test_policy_check_and_explain(tmp_path: Path) -> None:
    runner = CliRunner()
    default = runner.invoke(cli, ["policy", "default"]).stdout
    good = tmp_path / "p.yaml"
    good.write_text(default)
    ok = runner.invoke(cli, ["policy", "check", str(good)])
    assert ok.exit_code == 0 and "valid policy synthguard-default" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(default.replace("when: {watermark.hit: true}",
                                   "when: {detector: faceswap, min_score: 0.9}"))
    res = runner.invoke(cli, ["policy", "check", str(bad)])
    assert res.exit_code == 2 and "unknown detector 'faceswap'" in res.stderr
    src = png(tmp_path / "x.png", "1")
    line = scan(src, settings=Settings.load(env={}), declared_ai=False).to_json()
    res = runner.invoke(cli, ["policy", "explain", line])
    assert res.exit_code == 0
    assert "confirmed" in res.stdout and "label-over-declaration" in res.stdout
    res = runner.invoke(cli, ["scan", str(src), "--policy", str(bad)])
    assert res.exit_code == 2 and "invalid policy" in res.stderr
