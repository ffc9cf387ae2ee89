"""The ``synthguard`` command: thin commands over the library.

Commands::

    synthguard scan PATH...      scan files and folders; a table, JSON Lines or an HTML report
    synthguard demo              make the bundled sample media, scan it, write the reports
    synthguard settings          the settings table (``--format markdown`` makes docs/settings.md)
    synthguard schema            the JSON Schema of one report line
    synthguard policy ...        check a policy file, explain a decision (see _cli_policy)
    synthguard --version

Exit codes:

- **0** every file was scanned;
- **1** some files could not be scanned (each has an ``error`` in its report), or synthguard
  itself failed;
- **2** usage error: a bad option, a bad ``--set``, no paths, an unknown format;
- **130** interrupted (Ctrl-C): workers are stopped, no traceback.

User errors print one line, ``synthguard: error: <message>``, on stderr and never a traceback;
set ``SYNTHGUARD_DEBUG=1`` to get the traceback of an unexpected failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from synthguard._cli_policy import (
    Applier,
    policy_group,
    policy_overrides,
    preflight,
    scan_policy_options,
)
from synthguard._version import __version__
from synthguard.errors import SynthguardError, UsageError
from synthguard.report import Report
from synthguard.settings import Settings

__all__ = ["cli", "main"]

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_FORMATS = ("table", "jsonl", "html")


def _fail(message: str) -> None:
    click.echo(f"synthguard: error: {message}", err=True)


class _Group(click.Group):
    """Turns every failure into one line on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("synthguard: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except UsageError as exc:
            _fail(exc.message)
            ctx.exit(EXIT_USAGE)
        except SynthguardError as exc:
            _fail(exc.message)
            ctx.exit(EXIT_SOME_FAILED)
        except BrokenPipeError:
            # The reader went away (``| head``); stop quietly, as other Unix tools do.
            _silence_stdout()
            ctx.exit(EXIT_SOME_FAILED)
        except Exception as exc:  # noqa: BLE001 - the last net: never a traceback for users
            if os.environ.get("SYNTHGUARD_DEBUG") == "1":
                raise
            _fail(
                f"unexpected {type(exc).__name__}: {exc} (set SYNTHGUARD_DEBUG=1 for the traceback)"
            )
            ctx.exit(EXIT_SOME_FAILED)


def _silence_stdout() -> None:
    # Python flushes stdout at exit; on a closed pipe that raises again. Point it at devnull.
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="synthguard")
def cli() -> None:
    """Scan uploads for AI-generated content and deepfakes, and write reports.

    \b
    Exit codes: 0 every file was scanned; 1 some files could not be scanned
    (each has an error in its report); 2 usage error; 130 interrupted.
    """


# -- settings ---------------------------------------------------------------------------------
def _parse_set(values: Sequence[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for value in values:
        name, sep, raw = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint="'--set'")
        overrides[name.strip().replace("-", "_").lower()] = raw
    return overrides


def load_settings(
    sets: Sequence[str] = (), *, workers: int | None = None, timeout: float | None = None
) -> Settings:
    """Settings from the environment, ``--set`` values and the dedicated options (which win).

    Raises :class:`~synthguard.errors.ConfigError` (exit 2) for unknown names or bad values.
    """
    overrides: dict[str, Any] = dict(_parse_set(sets))
    if workers is not None:
        overrides["workers"] = workers
    if timeout is not None:
        overrides["timeout_s"] = timeout
    return Settings.load(overrides)


# -- output -----------------------------------------------------------------------------------
def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    path = path.expanduser()
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        # backslashreplace: a stray surrogate (an undecodable file name) must not lose the
        # whole report; it shows up escaped instead.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _render_html(reports: list[Report], settings: Settings, title: str | None = None) -> str:
    from synthguard.report._html import render_html  # loaded only when HTML is asked for

    if title is None:
        return render_html(reports, settings=settings)
    return render_html(reports, settings=settings, title=title)


def _resolve_format(fmt: str | None, out: Path | None) -> str:
    if fmt is not None:
        return fmt
    if out is not None:
        suffix = out.suffix.lower()
        return {".html": "html", ".htm": "html", ".txt": "table"}.get(suffix, "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


@contextlib.contextmanager
def _open_output(out: Path | None) -> Iterator[TextIO]:
    if out is None:
        yield sys.stdout
        return
    try:
        f = open(out.expanduser(), "w", encoding="utf-8", errors="backslashreplace")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    with f:
        yield f


def run_scan(
    paths: Sequence[str | bytes | os.PathLike[str]],
    settings: Settings,
    *,
    on_report: Any = None,
    progress: Any = None,
) -> list[Report]:
    """Discover and scan ``paths`` in input order; call ``on_report(report)`` as each becomes
    available in order and ``progress.advance()`` as each finishes. Returns all reports."""
    from synthguard.workers import in_order, iter_inputs, make_executor

    inputs = list(iter_inputs(paths))
    if progress is not None:
        progress.total = len(inputs)
    executor = make_executor(settings)
    results = executor.run(inputs, settings)
    reports: list[Report] = []

    def ticking() -> Iterator[Any]:
        for result in results:
            if progress is not None:
                progress.advance()
            yield result

    try:
        for result in in_order(ticking()):
            reports.append(result.report)
            if on_report is not None:
                on_report(result.report)
    finally:
        # On Ctrl-C (or any error) this kills the worker processes before the exception leaves.
        close = getattr(results, "close", None)
        if close is not None:
            close()
    return reports


def _exit_for(reports: list[Report]) -> None:
    code = EXIT_SOME_FAILED if any(r.error is not None for r in reports) else EXIT_OK
    click.get_current_context().exit(code)


# -- scan -------------------------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    help="Output format. Default: table on a terminal, jsonl when piped; with --out, "
    "chosen from its extension (.html, .txt for a table, else jsonl).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the output to this file instead of stdout (required for html).",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(min=0),
    help="Worker processes (0 = one per CPU core, 1 = in this process). Setting: workers.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Seconds allowed per file (0 = no limit). Setting: timeout_s.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a setting (repeatable); see 'synthguard settings'.",
)
@click.option("--no-progress", is_flag=True, help="Never show the progress bar.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no messages on stderr.")
@scan_policy_options
def scan(
    paths: tuple[str, ...],
    fmt: str | None,
    out: Path | None,
    workers: int | None,
    timeout: float | None,
    sets: tuple[str, ...],
    no_progress: bool,
    quiet: bool,
    policy_file: str | None = None,
    declared_ai: bool = False,
    declarations: str | None = None,
    apply_dir: Path | None = None,
    platform: str | None = None,
    visible_mark: bool = False,
    c2pa_cert: str | None = None,
    c2pa_key: str | None = None,
) -> None:
    """Scan files and folders (walked recursively) for AI-generated content.

    JSON Lines come in the order of the inputs (folders sorted by name), one report per line,
    written as soon as it and all before it are done. Files that cannot be scanned (missing,
    unreadable, FIFOs, symlink loops, corrupt or hostile media, timeouts, crashed decoders) get
    a report with an "error" and the rest of the batch goes on.

    \b
    Exit codes: 0 every file was scanned; 1 some files could not be scanned
    (each has an error in its report); 2 usage error; 130 interrupted.
    """
    settings = load_settings(sets, workers=workers, timeout=timeout).replace(
        **policy_overrides(policy_file, declared_ai, declarations, platform)
    )
    preflight(settings)
    applier = None
    if apply_dir is not None:
        applier = Applier(apply_dir, settings, visible_mark=visible_mark, c2pa_cert=c2pa_cert,
                          c2pa_key=c2pa_key)
    fmt = _resolve_format(fmt, out)
    if fmt == "html" and out is None:
        raise click.UsageError("--format html needs --out FILE (an HTML page is not for a pipe)")
    from synthguard._term import Progress, TableWriter, summary_line

    progress = None
    if not (quiet or no_progress) and sys.stderr.isatty():
        progress = Progress(0, sys.stderr)
    shares_terminal = progress is not None and out is None and sys.stdout.isatty()

    with _open_output(None if fmt == "html" else out) as stream:
        table = TableWriter(stream) if fmt == "table" else None

        def emit(report: Report) -> None:
            if applier is not None:
                applier(report)  # before the line is written: it records the labelled copy
            if shares_terminal and progress is not None:
                progress.clear()  # rows and the bar share the terminal: no torn lines
            if table is not None:
                table.write(report)
            elif fmt == "jsonl":
                stream.write(report.to_json() + "\n")
            stream.flush()

        try:
            reports = run_scan(paths, settings, on_report=emit, progress=progress)
        finally:
            if progress is not None:
                progress.close()
        if table is not None:
            table.finish()
            stream.flush()
    if fmt == "html":
        assert out is not None
        _write_atomic(out, _render_html(reports, settings))
    if out is not None and not quiet:
        click.echo(f"synthguard: {summary_line(reports)}; wrote {out}", err=True)
    if applier is not None:
        if not quiet or applier.failed:
            click.echo(applier.summary(), err=True)
        if applier.failed:
            click.get_current_context().exit(EXIT_SOME_FAILED)
    _exit_for(reports)


# -- demo -------------------------------------------------------------------------------------
@cli.command()
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("synthguard-demo"),
    show_default=True,
    help="Folder for the sample media and the reports.",
)
@click.option("--workers", "-j", type=click.IntRange(min=0), help="Worker processes.")
@click.option("--no-progress", is_flag=True, help="Never show the progress bar.")
def demo(out_dir: Path, workers: int | None, no_progress: bool) -> None:
    """Make the bundled sample media, scan it, and write report.html and report.jsonl.

    The sample files (images, audio, video, documents) are synthesised locally; nothing is
    downloaded. The table goes to stdout.
    """
    from synthguard import samples
    from synthguard._term import Progress, TableWriter

    settings = load_settings(workers=workers)
    samples_dir = out_dir / "samples"
    try:
        samples_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {samples_dir}: {exc.strerror or exc}") from None
    click.echo(f"making sample media in {samples_dir} ...", err=True)
    made = {p.name: p for p in samples.generate_samples(samples_dir)}
    _label_demo_samples(made, samples_dir / "labelled", settings)
    progress = None
    if not no_progress and sys.stderr.isatty():
        progress = Progress(0, sys.stderr)
    table = TableWriter(sys.stdout)

    def emit(report: Report) -> None:
        if progress is not None:
            progress.clear()
        table.write(report)
        sys.stdout.flush()

    try:
        reports = run_scan([samples_dir], settings, on_report=emit, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    table.finish()
    jsonl = "".join(r.to_json() + "\n" for r in reports)
    _write_atomic(out_dir / "report.jsonl", jsonl)
    _write_atomic(out_dir / "report.html", _render_html(reports, settings, title="synthguard demo"))
    click.echo(
        f"\nwrote {out_dir / 'report.html'} (open it in a browser)\n"
        f"  and {out_dir / 'report.jsonl'} (one JSON report per line)"
    )
    _exit_for(reports)


# A provider code of the R-META-9 shape, made up for the demo.
_DEMO_PRODUCER = "001191440300708461136T1DEMO"


def _label_demo_samples(made: dict[str, Path], out: Path, settings: Settings) -> None:
    """Label a few samples as a generation service would, so the scan shows labelled content
    next to unlabelled content. The visible mark needs a CJK font (scripts/setup-system.sh);
    without one the demo labels metadata only and says so."""
    from synthguard.errors import MissingDependencyError
    from synthguard.labelling import label_file

    out.mkdir(exist_ok=True)
    for name, visible in (("photo.jpg", True), ("voice.mp3", True), ("clip.mp4", False)):
        src = made.get(name)
        if src is None:
            continue
        dst = out / f"{src.stem}-ai{src.suffix}"
        try:
            label_file(src, dst, producer=_DEMO_PRODUCER, content_id=f"demo-{src.stem}",
                       visible=visible, settings=settings)
        except MissingDependencyError as exc:
            click.echo(f"note: {exc.message}; labelling {name} without a visible mark", err=True)
            label_file(src, dst, producer=_DEMO_PRODUCER, content_id=f"demo-{src.stem}",
                       settings=settings)


# -- settings and schema ----------------------------------------------------------------------
def settings_markdown() -> str:
    """``docs/settings.md``: the settings table as Markdown, grouped."""
    from synthguard.settings import ENV_PREFIX, settings_table

    rows = settings_table()
    lines = [
        "# Settings",
        "",
        "<!-- Generated by `synthguard settings --format markdown`; do not edit by hand. -->",
        "",
        "Every setting has a default, can be set in the environment as "
        f"`{ENV_PREFIX}<NAME>` and on the command line as `--set name=value`; the command line "
        "wins over the environment, which wins over the default.",
    ]
    for group in dict.fromkeys(row["group"] for row in rows):
        lines += ["", f"## {group}", "", "| Setting | Default | Environment | Description |"]
        lines.append("|---|---|---|---|")
        for row in rows:
            if row["group"] == group:
                help_text = str(row["help"]).replace("|", "\\|")
                lines.append(
                    f"| `{row['name']}` | `{row['default']}` | `{row['env']}` | {help_text} |"
                )
    return "\n".join(lines) + "\n"


@cli.command("settings")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "markdown")),
    default="table",
    show_default=True,
)
def settings_command(fmt: str) -> None:
    """Show every setting with its default, environment variable and meaning."""
    from synthguard.settings import settings_table

    rows = settings_table()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "markdown":
        click.echo(settings_markdown(), nl=False)
    else:
        width = max(len(row["name"]) for row in rows)
        dwidth = max(len(str(row["default"])) for row in rows)
        group = None
        for row in rows:
            if row["group"] != group:
                group = row["group"]
                click.echo(f"{'' if group == rows[0]['group'] else chr(10)}[{group}]")
            click.echo(f"  {row['name']:<{width}}  {row['default']!s:>{dwidth}}  {row['help']}")


# -- label ------------------------------------------------------------------------------------
@cli.command()
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--producer", required=True, metavar="CODE",
              help="Provider code of the generation service (R-META-9), e.g. a 27-char code.")
@click.option("--content-id", required=True, metavar="ID",
              help="The service's unique id for this content (R-META-8).")
@click.option("--label", "label_value", type=click.Choice(("1", "2", "3")), default="1",
              show_default=True, help="AIGC Label: 1 generated, 2 possibly, 3 suspected.")
@click.option("--visible", is_flag=True,
              help="Also add the explicit mark: text on images and video, rhythm on audio.")
@click.option("--mark-text", default="AI生成", show_default=True,
              help="Text of the visible mark; must name AI and generation (R-EXP-1).")
@click.option("--c2pa-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM certificate chain (signer first) to sign a C2PA manifest with.")
@click.option("--c2pa-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM private key for --c2pa-cert.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Override a setting.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def label(
    src: Path, dst: Path, producer: str, content_id: str, label_value: str, visible: bool,
    mark_text: str, c2pa_cert: Path | None, c2pa_key: Path | None, sets: Sequence[str],
    as_json: bool,
) -> None:
    """Label SRC as a generation service must and write DST (atomically; may equal SRC).

    Writes exactly one GB 45438 implicit metadata label (first write: the propagation fields
    mirror the producer fields), optionally a visible or audible mark first and a C2PA
    manifest last, then re-reads the finished file to verify all of them. Exit 0 when DST was
    written; 1 when labelling failed (DST untouched); 2 usage error.
    """
    from synthguard.labelling import label_file

    settings = load_settings(sets)
    result = label_file(
        src, dst, producer=producer, content_id=content_id, label=label_value,
        visible=visible, mark_text=mark_text, c2pa_cert=c2pa_cert, c2pa_key=c2pa_key,
        settings=settings,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    click.echo(
        f"wrote {result.path}: {result.kind}/{result.format}, AIGC label in {result.carrier}"
    )
    if result.mark is not None:
        verified = "verified on the output" if "mark" in result.checks else "not re-measured"
        click.echo(f"  explicit mark: {result.mark['type']}, {verified}")
    if result.c2pa is not None:
        click.echo(f"  C2PA manifest: {result.checks.get('c2pa')}")


@cli.command()
def schema() -> None:
    """Print the JSON Schema that every report line validates against."""
    from synthguard.report import report_schema

    click.echo(json.dumps(report_schema(), indent=2))


cli.add_command(policy_group)


def main(argv: Sequence[str] | None = None) -> None:
    """The console-script entry point."""
    # Before anything imports numpy: no BLAS thread pool in this process, so forking workers
    # is thread-free, and N workers on N cores do not each start N BLAS threads.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # File names and messages may hold anything; never crash on a terminal that cannot show it.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="synthguard")
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(EXIT_SOME_FAILED)
