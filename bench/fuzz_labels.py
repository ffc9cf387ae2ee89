"""Coverage-guided fuzzing of the label readers: hostile metadata gets a finding, never a crash.

One atheris (libFuzzer) target per reader family. Each takes the fuzzer's bytes through the
whole untrusted path, with synthguard's modules instrumented for coverage:

- media targets (``jpeg``, ``png``, ``webp``, ``tiff``, ``gif``, ``mp4``, ``mkv``, ``wav``,
  ``avi``, ``mp3``, ``flac``, ``ogg``, ``flv``, ``pdf``, ``docx``, ``md``):
  ``open_media(bytes)`` then ``read_aigc(media)``; ``c2pa`` adds ``read_c2pa(media)`` against
  the seed's trust anchor;
- ``xmp``: ``read_xmp(bytes)``; ``payload``: ``parse_site()`` on the bytes and on their text.

The contract checked on every input: only :class:`~synthguard.errors.SynthguardError` may
escape ``open_media`` (and only ``XmpError`` escape ``read_xmp``); ``read_aigc``,
``read_c2pa`` and ``parse_site`` never raise, and their result serialises to JSON. Any other
exception, an input that runs past ``-timeout`` seconds, or a process crash is a finding:
libFuzzer writes the input to ``.bench/fuzz/<target>/crash-*`` (``timeout-*``, ``oom-*``).

The targets are named after the seed corpus they start from (made at run time by
``bench/fuzz/seeds.py``: labelled demo files of that format), not a filter: a mutated input
may sniff as any format and is read as such, as an upload would be.

Besides crashes, the table counts *net catches*: distinct places where an exception raised in
synthguard's own code (not a library's) was turned into a value only by a catch-all safety
net: the ``open_media`` boundary or ``read_labels``' per-reader guard. They are not crashes
(the contract holds), but each is a reader bug the net hid; ``--strict`` makes them crashes.

Each target runs in its own process (atheris installs its own signal handlers and
instrumentation), one after another, for ``--seconds-per-target`` seconds each.

    .venv/bin/python bench/fuzz_labels.py                   # all targets, 20 s each; docs
    .venv/bin/python bench/fuzz_labels.py --quick --targets payload,png,mp4 --no-write
    .venv/bin/python bench/fuzz_labels.py --child png --reproduce .bench/fuzz/png/crash-...

Exits 1 when any target found a crash, printing the input's path and the traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from _docs import DOCS, write_section  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python bench/fuzz_labels.py"
SEEDS_MODULE = REPO / "bench" / "fuzz" / "seeds.py"
DEFAULT_SECONDS = 20
QUICK_SECONDS = 3
INPUT_TIMEOUT_S = 10
RSS_LIMIT_MB = 2048
# Past its fuzzing time a child gets this long to start up and write its stats before it is
# killed and reported as hung.
CHILD_GRACE_S = 120
_ARTIFACTS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


def _seeds() -> ModuleType:
    """``bench/fuzz/seeds.py``, loaded by path (``bench`` is not a package)."""
    name = "synthguard_bench_fuzz_seeds"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SEEDS_MODULE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- the child: one target under atheris ------------------------------------------------------


class _Net:
    """Records each distinct place where synthguard's own code raised and a catch-all turned it
    into a value (one line per place in ``path``, with the input kept next to it)."""

    def __init__(self, path: Path, strict: bool) -> None:
        self.path = path
        self.strict = strict
        self.seen: set[tuple[str, str]] = set()
        self.pending: str | None = None  # --strict: raised by the target once the net returns
        self.src = str(Path(__file__).resolve().parents[1] / "src" / "synthguard")

    def _ours(self, exc: BaseException) -> str | None:
        """``file:line in function`` of the innermost frame, when it is in synthguard."""
        tb = exc.__traceback__
        last = None
        while tb is not None:
            last = tb
            tb = tb.tb_next
        if last is None:
            return None
        code = last.tb_frame.f_code
        if not os.path.realpath(code.co_filename).startswith(os.path.realpath(self.src)):
            return None
        where = os.path.relpath(code.co_filename, Path(self.src).parents[1])
        return f"{where}:{last.tb_lineno} in {code.co_name}"

    def record(self, exc: BaseException, data: bytes, via: str) -> None:
        where = self._ours(exc)
        if where is None:
            return
        if self.strict:
            self.pending = f"{via} caught {type(exc).__name__}: {exc} (raised at {where})"
            return
        key = (type(exc).__name__, where)
        if key in self.seen:
            return
        self.seen.add(key)
        import hashlib

        digest = hashlib.sha1(data).hexdigest()
        (self.path.parent / f"net-{digest}").write_bytes(data)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{via}\t{type(exc).__name__}: {str(exc)[:200]!r}\t{where}\tnet-{digest}\n")


def _child_target(target: str, net: _Net, anchors: bytes | None) -> Callable[[bytes], None]:
    """Import synthguard (instrumented by the caller) and return the target's test function."""
    from synthguard.errors import SynthguardError
    from synthguard.media import _open as open_module
    from synthguard.media import open_media
    from synthguard.provenance.aigc import _read as read_module
    from synthguard.provenance.aigc import parse_site, read_aigc
    from synthguard.provenance.aigc._xmp import XmpError, read_xmp
    from synthguard.settings import Settings

    settings = Settings.load(env={})

    if target == "xmp":
        def test_xmp(data: bytes) -> None:
            try:
                facts = read_xmp(data)
            except XmpError:
                return
            json.dumps([facts.aigc, facts.digital_source_types])
        return test_xmp

    if target == "payload":
        def test_payload(data: bytes) -> None:
            for value in (data, data.decode("utf-8", "replace")):
                site = parse_site(value, "fuzz")
                json.dumps(site.to_dict())
        return test_payload

    # The safety nets: the boundary's catch-all (open_media) and the per-reader guard
    # (read_labels). Wrapping them only observes; what they return is unchanged.
    current: list[bytes] = [b""]
    examine = open_module._examine

    def watched_examine(*args: Any, **kwargs: Any) -> Any:
        try:
            return examine(*args, **kwargs)
        except SynthguardError as exc:
            cause = exc.__context__
            if (exc.__suppress_context__ and cause is not None
                    and not isinstance(cause, (SynthguardError, MemoryError, RecursionError))):
                net.record(cause, current[0], "open_media")
            raise

    open_module._examine = watched_examine

    def watch(reader: Callable[[Any], None]) -> Callable[[Any], None]:
        def watched(c: Any) -> None:
            try:
                reader(c)
            except MemoryError:
                raise
            except Exception as exc:
                net.record(exc, current[0], "read_labels")
                raise
        return watched

    for fmt, reader in list(read_module._READERS.items()):
        read_module._READERS[fmt] = watch(reader)

    # How many inputs reached the readers, written twice a second (libFuzzer ends the process
    # with exit(), so nothing runs after the last input).
    counts = {"inputs": 0, "opened": 0, "labelled": 0}
    counts_file = net.path.parent / "counts.json"
    flushed = [time.monotonic()]

    def count(key: str) -> None:
        counts[key] += 1
        now = time.monotonic()
        if now - flushed[0] > 0.5:
            flushed[0] = now
            counts_file.write_text(json.dumps(counts), "utf-8")

    read_c2pa = None
    if target == "c2pa":
        from synthguard.provenance.c2pa import read_c2pa

    def test_media(data: bytes) -> None:
        current[0] = data
        net.pending = None
        count("inputs")
        try:
            media = open_media(data, name="upload", settings=settings)
        except SynthguardError:
            if net.pending:
                raise AssertionError(net.pending) from None
            return
        count("opened")
        with media:
            result = read_aigc(media)
            json.dumps(result.to_dict())
            if result.sites:
                count("labelled")
            if read_c2pa is not None:
                c2pa = read_c2pa(media, trust_anchors=(anchors,) if anchors else None)
                json.dumps(c2pa.to_dict())
        if net.pending:
            raise AssertionError(net.pending)

    return test_media


def _warm_libraries() -> None:
    """Import what the readers import lazily, so the first inputs do not pay for it (and so
    ``instrument_all`` sees it)."""
    from PIL import Image

    Image.init()
    for name in ("av", "pypdf", "c2pa", "defusedxml.ElementTree", "zipfile", "zlib"):
        try:
            __import__(name)
        except ImportError:
            pass


def child_main(args: argparse.Namespace, libfuzzer_args: list[str]) -> int:
    import atheris

    work = args.dir
    net = _Net(work / "net.tsv", args.strict)
    anchors_path = work / "root.pem"
    anchors = anchors_path.read_bytes() if anchors_path.exists() else None
    if args.instrument == "all":
        _warm_libraries()
        test_one = _child_target(args.child, net, anchors)
        atheris.instrument_all()
    else:
        with atheris.instrument_imports(include=["synthguard"]):
            test_one = _child_target(args.child, net, anchors)
            # Modules the readers import lazily are instrumented only if imported here.
            import synthguard.media._decode  # noqa: F401
            import synthguard.provenance._c2pa_read  # noqa: F401
        _warm_libraries()
    atheris.Setup([sys.argv[0], *libfuzzer_args], test_one)
    atheris.Fuzz()
    return 0


# -- the parent: seeds, one child per target, the table ----------------------------------------


@dataclass(frozen=True)
class Row:
    target: str
    seeds: int
    seconds: int
    executions: int | None
    exec_per_s: int | None
    cov: int | None
    ft: int | None
    corpus: int | None
    peak_rss_mb: int | None
    opened: float | None  # share of inputs that passed open_media (sampled twice a second)
    labelled: float | None  # share whose read found at least one AIGC site
    crashes: list[Path]
    net: list[str]
    log: Path
    status: str  # "ok", "crash", "hung" (killed past its time), "error" (exited otherwise)


_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
_PULSE = re.compile(
    r"^#(\d+)\s+(?:INITED|NEW|REDUCE|pulse|DONE|RELOAD)\s+cov: (\d+) ft: (\d+) corp: (\d+)/"
    r".*?(?:exec/s: (\d+))?", re.M,
)


def parse_log(text: str) -> dict[str, int]:
    """libFuzzer's final stats (``-print_final_stats=1``) and its last status line."""
    out = {key: int(value) for key, value in _STAT.findall(text)}
    lines = _PULSE.findall(text)
    if lines:
        n, cov, ft, corp, _ = lines[-1]
        out.update(last_unit=int(n), cov=int(cov), ft=int(ft), corpus=int(corp))
    done = re.findall(r"^#(\d+)\s+DONE .*?exec/s: (\d+)", text, re.M)
    if done:
        out["done_units"], out["done_exec_per_s"] = int(done[-1][0]), int(done[-1][1])
    return out


def run_target(
    target: str, seeds: Path, seconds: int, *, instrument: str, strict: bool,
    runs: int | None,
) -> Row:
    work = seeds.parent
    corpus = work / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)  # every run starts from the seeds: comparable figures
    corpus.mkdir()
    for old in work.iterdir():
        if old.name.startswith((*_ARTIFACTS, "net-")) or old.name in ("net.tsv", "counts.json"):
            old.unlink()
    log = work / "fuzz.log"
    flags = [
        f"-max_total_time={seconds}", f"-timeout={INPUT_TIMEOUT_S}",
        f"-rss_limit_mb={RSS_LIMIT_MB}", "-print_final_stats=1", f"-artifact_prefix={work}/",
        "-close_fd_mask=1",  # libraries printing on stdout would drown the log
    ]
    if runs is not None:
        flags.append(f"-runs={runs}")
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child", target, "--dir", str(work),
        "--instrument", instrument, *(["--strict"] if strict else []),
        "--", *flags, str(corpus), str(seeds),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGUARD_")}
    status = "ok"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=seconds + CHILD_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            rc, status = -9, "hung"
    text = log.read_text("utf-8", "replace")
    stats = parse_log(text)
    crashes = sorted(p for p in work.iterdir() if p.name.startswith(_ARTIFACTS[:4]))
    net_file = work / "net.tsv"
    net = net_file.read_text("utf-8").splitlines() if net_file.exists() else []
    opened = labelled = None
    counts_file = work / "counts.json"
    if counts_file.exists():
        counts = json.loads(counts_file.read_text("utf-8"))
        if counts.get("inputs"):
            opened = counts["opened"] / counts["inputs"]
            labelled = counts["labelled"] / counts["inputs"]
    if crashes:
        status = "crash"
    elif status == "ok" and (rc != 0 or "stat::number_of_executed_units" not in text):
        status = "error"
    return Row(
        target=target,
        seeds=sum(1 for _ in seeds.iterdir()),
        seconds=seconds,
        executions=stats.get("number_of_executed_units", stats.get("last_unit")),
        exec_per_s=stats.get("average_exec_per_sec", stats.get("done_exec_per_s")),
        cov=stats.get("cov"),
        ft=stats.get("ft"),
        corpus=stats.get("corpus"),
        peak_rss_mb=stats.get("peak_rss_mb"),
        opened=opened,
        labelled=labelled,
        crashes=crashes,
        net=net,
        log=log,
        status=status,
    )


def _traceback_in(log: Path) -> str:
    text = log.read_text("utf-8", "replace")
    start = text.find("=== Uncaught Python exception: ===")
    if start < 0:
        start = max(text.find("==ERROR"), text.find("ALARM"), 0)
        return text[start:][-4000:]
    end = text.find("\n\n", text.find("Traceback", start))
    return text[start:end if end > 0 else None][-4000:]


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def render(rows: Sequence[Row], command: str, instrument: str) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        "## Fuzzing the label readers (atheris, coverage-guided)",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.system()} {platform.release()} "
        f"({cpu}, {os.cpu_count()} CPU cores), Python {platform.python_version()}. "
        "One process per target, one after another; each starts from seeds made at run time "
        "(labelled demo files of its format, `bench/fuzz/seeds.py`) and runs the whole "
        "untrusted path: `open_media(bytes)` then `read_aigc` (and `read_c2pa` for `c2pa`; "
        "`read_xmp` / `parse_site` alone for `xmp` / `payload`). "
        f"Per-input timeout {INPUT_TIMEOUT_S} s, RSS limit {RSS_LIMIT_MB} MB; "
        f"instrumented: {'every loaded module' if instrument == 'all' else 'synthguard'}. "
        f"Reproduce with `{command}`.",
        "",
        "- *executions*: inputs run (libFuzzer's `stat::number_of_executed_units`).",
        "- *cov* / *ft*: coverage edges and features of the instrumented code at the end.",
        "- *opened* / *labelled*: share of the inputs that passed `open_media` and reached "
        "the readers, and share in which the readers found an AIGC site (sampled).",
        "- *crashes*: inputs that broke the contract (an exception other than a "
        "`SynthguardError` out of `open_media`, any exception out of a reader, a hang past the "
        "timeout, a process crash). Target: 0.",
        "- *net catches*: distinct places where synthguard's own code raised and only a "
        "catch-all (the `open_media` boundary, `read_labels`' reader guard) turned it into "
        "a clean error or finding.",
        "",
        "| target | seeds | seconds | executions | exec/s | cov | ft | corpus | opened "
        "| labelled | peak RSS MB | crashes | net catches |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        crashes = str(len(r.crashes)) if r.status in ("ok", "crash") else r.status
        lines.append(
            f"| {r.target} | {r.seeds} | {r.seconds} | {_n(r.executions)} | {_n(r.exec_per_s)} "
            f"| {_n(r.cov)} | {_n(r.ft)} | {_n(r.corpus)} | {_pct(r.opened)} "
            f"| {_pct(r.labelled)} | {_n(r.peak_rss_mb)} "
            f"| {crashes} | {len(r.net)} |"
        )
    total = sum(r.executions or 0 for r in rows)
    lines += [
        "",
        f"Total: {total:,} executions, {sum(len(r.crashes) for r in rows)} crashes.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    libfuzzer_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, libfuzzer_args = argv[:cut], argv[cut + 1:]
    seeds = _seeds()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds-per-target", type=int, default=DEFAULT_SECONDS,
                        help=f"fuzzing time of each target ({DEFAULT_SECONDS})")
    parser.add_argument("--targets", default=",".join(seeds.TARGETS),
                        help="comma-separated targets (all: " + ",".join(seeds.TARGETS) + ")")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_SECONDS} s per target (a smoke run)")
    parser.add_argument("--runs", type=int, default=None,
                        help="stop each target after this many inputs (libFuzzer -runs)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    parser.add_argument("--instrument", choices=("synthguard", "all"), default="synthguard",
                        help="instrument synthguard's modules (default) or every loaded module")
    parser.add_argument("--strict", action="store_true",
                        help="a net catch (see above) is a crash")
    parser.add_argument("--work", type=Path, default=REPO / ".bench" / "fuzz",
                        help="seeds, corpora and crash inputs (.bench/fuzz)")
    # Internal: run one target in this process (the parent starts these).
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reproduce", type=Path, default=None,
                        help="with --child TARGET: run that target on one saved input")
    args = parser.parse_args(argv)

    if args.child:
        if args.dir is None:
            args.dir = args.work / args.child
            args.dir.mkdir(parents=True, exist_ok=True)
        if args.reproduce is not None:
            libfuzzer_args = [*libfuzzer_args, str(args.reproduce)]
        return child_main(args, libfuzzer_args)

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    seconds = QUICK_SECONDS if args.quick else args.seconds_per_target
    if seconds < 1:
        parser.error("--seconds-per-target must be at least 1")
    print(f"making seeds in {args.work}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    unknown = sorted(set(targets) - set(seeds.TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; expected some of {', '.join(seeds.TARGETS)}")
    # In a child process: see the end of bench/fuzz/seeds.py.
    subprocess.run([sys.executable, str(SEEDS_MODULE), str(args.work), *targets], check=True,
                   cwd=REPO)
    seed_dirs = {target: args.work / target / "seeds" for target in targets}
    print(f"  {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)

    rows = []
    for target in targets:
        print(f"fuzzing {target} for {seconds} s", file=sys.stderr, flush=True)
        row = run_target(target, seed_dirs[target], seconds, instrument=args.instrument,
                         strict=args.strict, runs=args.runs)
        print(f"  {row.status}: {_n(row.executions)} executions, {_n(row.exec_per_s)} exec/s, "
              f"cov {_n(row.cov)}, {len(row.crashes)} crashes, {len(row.net)} net catches",
              file=sys.stderr, flush=True)
        rows.append(row)

    command = COMMAND
    if args.quick:
        command += " --quick"
    elif seconds != DEFAULT_SECONDS:
        command += f" --seconds-per-target {seconds}"
    if targets != list(seeds.TARGETS):
        command += f" --targets {','.join(targets)}"
    if args.instrument != "synthguard":
        command += f" --instrument {args.instrument}"
    section = render(rows, command, args.instrument)
    print(section)
    if not args.no_write:
        write_section("fuzz_labels", section)
        print(f"wrote {DOCS.relative_to(REPO)}", file=sys.stderr)

    failed = False
    for r in rows:
        for line in r.net:
            print(f"net catch [{r.target}]: {line}", file=sys.stderr)
        if r.status == "ok":
            continue
        failed = True
        print(f"\nerror: target {r.target}: {r.status} (log: {r.log})", file=sys.stderr)
        for crash in r.crashes:
            print(f"  input: {crash}\n  reproduce: {COMMAND} --child {r.target} "
                  f"--reproduce {crash}", file=sys.stderr)
        print(_traceback_in(r.log), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
