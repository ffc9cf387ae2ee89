"""The ``policy`` command group and the ``scan --apply`` step (kept out of ``cli.py``).

Commands::

    synthguard policy check FILE         validate a policy file; every problem on its own line
    synthguard policy explain LINE       why a report line's decision came out as it did
    synthguard policy default            print the shipped default policy
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from synthguard.errors import SynthguardError, UsageError
from synthguard.report import Report
from synthguard.settings import Settings

__all__ = ["Applier", "policy_group", "policy_overrides", "preflight", "scan_policy_options"]


def scan_policy_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The policy options of ``scan``."""
    options = [
        click.option("--policy", "policy_file", type=click.Path(dir_okay=False),
                     help="YAML policy file (default: the shipped policy). Setting: policy_file."),
        click.option("--declared-ai", is_flag=True, default=False,
                     help="The uploader declared every input AI-generated (R-PLAT-5)."),
        click.option("--declarations", type=click.Path(dir_okay=False),
                     help="YAML/JSON declarations file: path or sha256 -> declared_ai, "
                     "content_id. Setting: declarations_file."),
        click.option("--apply", "apply_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Write a labelled copy of every file whose outcome is not 'none' "
                     "into this folder (R-PLAT-3/4)."),
        click.option("--platform", metavar="CODE",
                     help="Platform provider code written as ContentPropagator by --apply. "
                     "Setting: platform_code."),
        click.option("--visible-mark", is_flag=True, default=False,
                     help="With --apply: also render a visible or audible mark."),
        click.option("--c2pa-cert", type=click.Path(exists=True, dir_okay=False),
                     help="With --apply: platform PEM chain to re-sign C2PA manifests."),
        click.option("--c2pa-key", type=click.Path(exists=True, dir_okay=False),
                     help="With --apply: platform PEM private key for --c2pa-cert."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def policy_overrides(
    policy_file: str | None, declared_ai: bool, declarations: str | None, platform: str | None
) -> dict[str, str]:
    out: dict[str, str] = {}
    if policy_file:
        out["policy_file"] = policy_file
    if declared_ai:
        out["declared_ai"] = "yes"
    if declarations:
        out["declarations_file"] = declarations
    if platform:
        out["platform_code"] = platform
    return out


def preflight(settings: Settings) -> None:
    """Refuse a bad policy or declarations file once, before any file is scanned (exit 2)."""
    from synthguard.policy import load_policy
    from synthguard.policy._load import load_declarations

    load_policy(settings.policy_file)
    if settings.declarations_file:
        load_declarations(settings.declarations_file)


class Applier:
    """Writes the labelled copies of ``scan --apply``, one report at a time, in order."""

    def __init__(self, out_dir: Path, settings: Settings, *, visible_mark: bool,
                 c2pa_cert: str | None, c2pa_key: str | None) -> None:
        if not settings.platform_code:
            raise UsageError("--apply needs the platform code: --platform CODE or the "
                             "platform_code setting")
        if (c2pa_cert is None) != (c2pa_key is None):
            raise UsageError("--c2pa-cert and --c2pa-key go together")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
        self.out_dir, self.settings = out_dir, settings
        self.visible_mark, self.cert, self.key = visible_mark, c2pa_cert, c2pa_key
        self.used: set[str] = set()
        self.written = 0
        self.failed: list[str] = []

    def __call__(self, report: Report) -> None:
        from synthguard.policy import apply_decision
        from synthguard.report import Outcome

        decision = report.decision
        if decision is None or decision.outcome is Outcome.NONE or report.error is not None:
            return
        name = Path(report.path).name
        if name in self.used:
            name = f"{(report.sha256 or 'x')[:12]}-{name}"
        self.used.add(name)
        try:
            applied = apply_decision(
                report.path, self.out_dir / name, decision,
                platform=self.settings.platform_code,
                visible_mark=self.visible_mark or None,
                c2pa_cert=self.cert, c2pa_key=self.key, settings=self.settings,
            )
            self.written += 1
        except SynthguardError as exc:
            applied = {"path": None, "error": exc.to_dict()}
            self.failed.append(f"{report.path}: {exc.message}")
        except OSError as exc:
            applied = {"path": None, "error": {"code": "io", "message": str(exc)}}
            self.failed.append(f"{report.path}: {exc}")
        decision.extra["applied"] = applied

    def summary(self) -> str:
        lines = [f"synthguard: apply: wrote {self.written} labelled copies to {self.out_dir}"
                 + (f", {len(self.failed)} failed" if self.failed else "")]
        lines += [f"synthguard: apply: error: {line}" for line in self.failed]
        return "\n".join(lines)


@click.group("policy")
def policy_group() -> None:
    """Check policy files and explain decisions (see docs/policy.md)."""


@policy_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check_command(file: Path) -> None:
    """Validate a policy FILE: unknown fields, unknown detectors, overlapping thresholds.

    Exit 0 when valid; 2 with one line per problem otherwise.
    """
    from synthguard.policy import check_policy

    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from None
    problems = check_policy(text, source=str(file))
    if problems:
        for problem in problems:
            click.echo(f"synthguard: error: {file}: {problem}", err=True)
        click.get_current_context().exit(2)
    from synthguard.policy import parse_policy

    policy = parse_policy(text, source=str(file))
    click.echo(f"{file}: valid policy {policy.id} {policy.version} ({len(policy.rules)} rules, "
               f"{len(policy.detectors)} detectors)")


@policy_group.command("default")
def default_command() -> None:
    """Print the shipped default policy (a starting point for your own)."""
    from synthguard.policy import default_policy_text

    click.echo(default_policy_text(), nl=False)


@policy_group.command("explain")
@click.argument("report_line")
def explain_command(report_line: str) -> None:
    """Explain the decision of REPORT_LINE: one JSON report line, '-' for stdin, or a file
    (its first line with a decision)."""
    text = sys.stdin.read() if report_line == "-" else report_line
    if report_line != "-" and not report_line.lstrip().startswith("{"):
        try:
            text = Path(report_line).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"expected a JSON report line or a file, got {report_line!r} "
                             f"({exc})") from None
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"expected a JSON report line, got invalid JSON ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("decision"), dict):
            click.echo(explain(data))
            return
    raise UsageError("expected a report line with a decision, found none")


def explain(report: dict[str, Any]) -> str:
    """A human explanation of one report's decision."""
    d = report["decision"]
    out = [f"{report.get('path')}: {d['outcome']}"
           + (f" (Label \"{d['label']}\")" if d.get("label") else "")]
    policy = d.get("policy") or (d.get("record") or {}).get("policy")
    if policy:
        out.append(f"policy {policy.get('id')} {policy.get('version')}"
                   f" sha256 {str(policy.get('sha256', ''))[:12]}")
    out.append("because:")
    out += [f"  - {r['rule']} [{r.get('requirement') or '-'}]: {r['message']}"
            for r in d.get("reasons", [])]
    others = [r for r in d.get("rules", []) if not r.get("decisive")]
    if others:
        out.append("also fired (not decisive; a stronger outcome is never downgraded, "
                   "R-PLAT-10):")
        out += [f"  - {r['rule']} -> {r['outcome']}: {r['message']}" for r in others]
    actions = d.get("actions") or {}
    if d.get("prompt"):
        out.append(f"prompt: {d['prompt']}")
    flags = [k for k in ("review", "block")
             if actions.get(k) or (k == "review" and d.get("review"))]
    if flags:
        out.append("actions: " + ", ".join(flags))
    applied = d.get("applied")
    if applied:
        out.append(f"labelled copy: {applied.get('path') or applied.get('error')}")
    record = d.get("record") or {}
    for det in record.get("detectors", []):
        out.append(f"detector {det['name']} {det['version']}: "
                   + ("abstained" if det.get("abstained") else f"score {det.get('score')}"))
    if record.get("decided_at"):
        out.append(f"decided at {record['decided_at']}")
    return "\n".join(out)
