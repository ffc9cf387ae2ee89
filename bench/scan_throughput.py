"""Scan throughput on the provenance-only path, against the cost of reading and hashing.

For each set (small JPEGs, short audio files, short videos) it measures, in one run:

(a) ``read+hash``: read every file and sha256 it in this process: the floor any scan pays;
(b) ``inline``: :func:`synthguard.pipeline.scan` with ``run_detection=False``, in this process;
(c) ``2 workers``: the CLI's batch path, :class:`synthguard.workers.ProcessExecutor` with two
    worker processes, start-up included;

as files per second and as the ratio scan time / read+hash time (the issue's target: at most
2x on images). The page cache is warmed by one untimed pass and each figure is the best of
at least three runs (small sets are repeated until a second of work is timed), so the table
compares CPU work rather than disk luck.

It also checks that probing does not decode video frames, at two levels, in untimed inline
passes over the videos:

- synthguard's own calls: :func:`sys.setprofile` sees every call into PyAV's ``decode`` entry
  points (``InputContainer.decode``, ``Stream.decode``, ``Packet.decode``,
  ``CodecContext.decode``); the count must be 0;
- FFmpeg's own work: PyAV's ``av.open()`` always runs ``avformat_find_stream_info()``, which
  decodes the first key frame of an H.264 stream to learn its parameters, out of the
  profiler's sight. The H.264 decoder's debug log (one line per slice it decodes) counts that,
  next to the count of a full decode for scale.

Both counters are first shown a real decode, so a 0 means something. The script exits 1 if
synthguard decodes, if FFmpeg's probe decodes half a video or more, or if a good file fails to
scan, so the smoke test catches each.

Inputs are generated with :mod:`synthguard.samples` into ``.bench/`` (gitignored) and reused.

    .venv/bin/python bench/scan_throughput.py                 # full run, updates docs/benchmarks.md
    .venv/bin/python bench/scan_throughput.py --quick --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from _docs import DOCS, write_section  # bench/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python bench/scan_throughput.py"
WORKERS = 2
REPEATS = 3
MIN_TIMED_S = 1.0
MAX_REPEATS = 20


@dataclass(frozen=True)
class FileSet:
    name: str
    files: list[Path]

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)


@dataclass(frozen=True)
class Row:
    name: str
    files: int
    total_bytes: int
    read_hash_s: float
    inline_s: float
    workers_s: float
    failed: int  # files whose scan reported an error (the inputs are all good files)
    # Videos only: PyAV decode calls synthguard made during an inline scan, and H.264 slices
    # FFmpeg decoded inside av.open() (its stream-info probe) during the same kind of scan.
    decode_calls: int | None
    ffmpeg_slices: int | None
    full_decode_slices: int | None  # slices a full decode of the first video takes, for scale

    def rate(self, seconds: float) -> float:
        return self.files / seconds


# -- inputs ----------------------------------------------------------------------------------


def _generator_fingerprint() -> str:
    """A digest of the sample generator's source: inputs made by an older generator (other
    codec options, other sizes) are regenerated instead of silently benchmarked."""
    import synthguard.samples

    source = Path(synthguard.samples.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


def _cached(directory: Path, n: int, make: Callable[[Path, int], list[Path]]) -> list[Path]:
    """The ``n`` files of ``directory``, generated once; a stamp file marks a complete set (so
    that an interrupted generation is redone rather than benchmarked) and its generator."""
    stamp = directory / ".complete"
    fingerprint = _generator_fingerprint()
    if stamp.exists():
        recorded = json.loads(stamp.read_text("utf-8"))
        if not isinstance(recorded, dict):  # a stamp from an older version of this script
            recorded = {}
        paths = [directory / name for name in recorded.get("files", [])]
        if (
            recorded.get("generator") == fingerprint
            and len(paths) == n
            and all(p.exists() for p in paths)
        ):
            return paths
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    paths = [Path(p) for p in make(directory, n)]
    if len(paths) != n:
        raise SystemExit(f"expected {n} generated files in {directory}, got {len(paths)}")
    stamp.write_text(
        json.dumps({"generator": fingerprint, "files": [p.name for p in paths]}), "utf-8"
    )
    return paths


def build_inputs(cache: Path, jpegs: int, audio: int, videos: int) -> list[FileSet]:
    from synthguard.samples import make_audio_files, make_jpegs, make_videos

    return [
        FileSet("JPEG 640x480", _cached(cache / f"jpegs-{jpegs}", jpegs, make_jpegs)),
        FileSet(
            "audio 5 s (wav, mp3, flac)", _cached(cache / f"audio-{audio}", audio, make_audio_files)
        ),
        FileSet(
            "video 3 s 320x240 (mp4)", _cached(cache / f"videos-{videos}", videos, make_videos)
        ),
    ]


# -- the three measurements ------------------------------------------------------------------


def read_and_hash(files: Sequence[Path]) -> int:
    for path in files:
        with open(path, "rb") as fh:
            hashlib.sha256(fh.read()).hexdigest()
    return 0  # reading cannot "fail" a file the way a scan can; same shape as the scans


def scan_inline(files: Sequence[Path]) -> int:
    from synthguard.pipeline import scan
    from synthguard.settings import Settings

    settings = Settings.load(env={})
    return sum(not scan(path, settings=settings, run_detection=False).ok for path in files)


def scan_workers(files: Sequence[Path]) -> int:
    from synthguard.settings import Settings
    from synthguard.workers import Input, ProcessExecutor

    settings = Settings.load({"workers": WORKERS}, env={})
    inputs = [Input(os.fsencode(path)) for path in files]
    results = list(ProcessExecutor(workers=WORKERS, run_detection=False).run(inputs, settings))
    if len(results) != len(files):
        raise SystemExit(f"expected {len(files)} results from the workers, got {len(results)}")
    return sum(not r.report.ok for r in results)


def best_of(
    fn: Callable[[Sequence[Path]], int], files: Sequence[Path], min_timed_s: float
) -> tuple[float, int]:
    """The shortest of at least ``REPEATS`` timed runs, and the failures the last one counted.

    Small sets finish in tens of milliseconds, where one scheduler hiccup skews a run; they are
    repeated until ``min_timed_s`` of work has been timed (at most ``MAX_REPEATS`` runs)."""
    best, failed, spent, runs = float("inf"), 0, 0.0, 0
    while runs < REPEATS or (spent < min_timed_s and runs < MAX_REPEATS):
        start = time.perf_counter()
        failed = fn(files)
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best, failed


def count_av_decode_calls(run: Callable[[], object]) -> int:
    """PyAV decode calls made while ``run()`` runs in this thread (untimed: profiling is slow).

    PyAV's methods are compiled, so they cannot be monkeypatched; the profiler hook still sees
    each call into them from Python, which is where every decode synthguard asks for starts."""
    calls = 0

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "c_call" and getattr(arg, "__name__", None) == "decode":
            if type(getattr(arg, "__self__", None)).__module__.startswith("av."):
                calls += 1

    sys.setprofile(hook)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


# The H.264 decoder logs each NAL unit it splits out of a packet at DEBUG level; coded slices are
# types 1 (non-IDR) and 5 (IDR). Only the decoder does this with slices (the parser and the
# extradata reader never see them), so these lines count picture decoding that happens inside
# FFmpeg, where the profiler cannot look: avformat_find_stream_info(), which PyAV's av.open()
# always runs, decodes the first key frame of an H.264 stream to learn its codec parameters.
_H264_SLICE = re.compile(r"nal_unit_type: (1|5)\(")


def count_h264_slices_decoded(run: Callable[[], object]) -> int:
    """H.264 slices FFmpeg decoded while ``run()`` ran, from its DEBUG log (untimed)."""
    import av.logging

    previous = av.logging.get_level()
    with av.logging.Capture(local=False) as logs:
        av.logging.set_level(av.logging.DEBUG)
        try:
            run()
        finally:
            av.logging.set_level(previous)
    return sum(1 for _, name, msg in logs if name == "h264" and _H264_SLICE.match(msg))


def _decode_video(video: Path, frames: int | None) -> None:
    """Open ``video`` and decode its first ``frames`` frames (0: only open; None: all)."""
    import av

    with av.open(str(video)) as container:
        if frames == 0:
            return
        for i, _ in enumerate(container.decode(video=0)):
            if frames is not None and i + 1 >= frames:
                break


def _decode_counts(files: Sequence[Path]) -> tuple[int, int, int]:
    """(synthguard's PyAV decode calls, H.264 slices FFmpeg decoded) for an inline scan of
    ``files``, and the slices a full decode of the first file takes."""
    # Both counters must see a real decode, or a 0 in the table would prove nothing.
    if count_av_decode_calls(partial(_decode_video, files[0], 1)) == 0:
        raise SystemExit("the PyAV decode-call counter saw no call while decoding a frame")
    probe_only = count_h264_slices_decoded(partial(_decode_video, files[0], 0))
    full = count_h264_slices_decoded(partial(_decode_video, files[0], None))
    if full <= probe_only:
        raise SystemExit("the H.264 slice counter saw no slice while decoding a whole video")
    return (
        count_av_decode_calls(partial(scan_inline, files)),
        count_h264_slices_decoded(partial(scan_inline, files)),
        full,
    )


def measure(sets: Sequence[FileSet], min_timed_s: float) -> list[Row]:
    rows = []
    for fs in sets:
        print(f"  {fs.name}: {len(fs.files)} files", file=sys.stderr, flush=True)
        # Warm the page cache and every lazy import (PyAV, Pillow plugins) untimed.
        read_and_hash(fs.files)
        scan_inline(fs.files)
        read_s, _ = best_of(read_and_hash, fs.files, min_timed_s)
        inline_s, failed_inline = best_of(scan_inline, fs.files, min_timed_s)
        workers_s, failed_workers = best_of(scan_workers, fs.files, min_timed_s)
        decode_calls = ffmpeg_slices = full_decode_slices = None
        if fs.name.startswith("video"):
            decode_calls, ffmpeg_slices, full_decode_slices = _decode_counts(fs.files)
        rows.append(
            Row(
                name=fs.name,
                files=len(fs.files),
                total_bytes=fs.total_bytes,
                read_hash_s=read_s,
                inline_s=inline_s,
                workers_s=workers_s,
                failed=max(failed_inline, failed_workers),
                decode_calls=decode_calls,
                ffmpeg_slices=ffmpeg_slices,
                full_decode_slices=full_decode_slices,
            )
        )
    return rows


# -- output ----------------------------------------------------------------------------------


def render(rows: Sequence[Row], command: str, min_timed_s: float) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        "## Scan throughput (provenance-only path, no detectors)",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.system()} {platform.release()} "
        f"({cpu}, {os.cpu_count()} CPU cores), Python {platform.python_version()}. "
        f"Best of {REPEATS} to {MAX_REPEATS} runs (at least {min_timed_s:g} s timed per cell) "
        f"with a warm page cache. Reproduce with `{command}`.",
        "",
        "- *read+hash*: read each file and sha256 it, in one process: the floor of any scan.",
        "- *inline*: `synthguard.pipeline.scan(path, run_detection=False)` in one process "
        "(sniff, hash, probe, limits, report).",
        f"- *{WORKERS} workers*: the CLI's batch path, `ProcessExecutor` with {WORKERS} worker "
        "processes, start-up included.",
        "- *x read+hash*: scan time divided by read+hash time (target: at most 2 on images).",
        "- *decode calls*: PyAV `decode` calls synthguard made while scanning the videos "
        "inline (must be 0: probing reads headers only).",
        "- *FFmpeg probe slices*: H.264 slices FFmpeg itself decoded during the same scan, "
        "counted from its decoder's debug log (must be 0 for MP4: synthguard probes WAV, FLAC, "
        "MP4/MOV/M4A and Matroska from its own walkers; `av.open()`, which would run "
        "`avformat_find_stream_info()` and decode a key frame, is used only for formats whose "
        "walker lacks a fact). For scale, the brackets give the count per file and that of a "
        "full decode of one file.",
        "",
        "| set | files | MB | read+hash files/s | inline files/s | x read+hash "
        f"| {WORKERS} workers files/s | x read+hash | failed | decode calls "
        "| FFmpeg probe slices |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        decode = "n/a" if r.decode_calls is None else str(r.decode_calls)
        slices = (
            "n/a"
            if r.ffmpeg_slices is None
            else f"{r.ffmpeg_slices} ({r.ffmpeg_slices / r.files:.1f}/file; "
            f"full decode: {r.full_decode_slices}/file)"
        )
        lines.append(
            f"| {r.name} | {r.files} | {r.total_bytes / 1e6:.1f} "
            f"| {r.rate(r.read_hash_s):,.0f} "
            f"| {r.rate(r.inline_s):,.0f} | {r.inline_s / r.read_hash_s:.1f} "
            f"| {r.rate(r.workers_s):,.0f} | {r.workers_s / r.read_hash_s:.1f} "
            f"| {r.failed} | {decode} | {slices} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jpegs", type=int, default=1000, help="number of JPEGs (1000)")
    parser.add_argument("--audio", type=int, default=100, help="number of audio files (100)")
    parser.add_argument("--videos", type=int, default=20, help="number of videos (20)")
    parser.add_argument("--quick", action="store_true", help="100 JPEGs, 10 audio, 4 videos")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    parser.add_argument(
        "--cache", type=Path, default=REPO / ".bench", help="where inputs are generated (.bench)"
    )
    args = parser.parse_args(argv)
    min_timed_s = MIN_TIMED_S
    if args.quick:  # a smoke run: correctness, not stable figures
        args.jpegs, args.audio, args.videos = 100, 10, 4
        min_timed_s = 0.0
    if min(args.jpegs, args.audio, args.videos) < 1:
        parser.error("each set needs at least one file")

    print(f"generating inputs into {args.cache} (cached)", file=sys.stderr, flush=True)
    sets = build_inputs(args.cache, args.jpegs, args.audio, args.videos)
    print("measuring", file=sys.stderr, flush=True)
    rows = measure(sets, min_timed_s)

    command = COMMAND
    if args.quick:
        command += " --quick"
    elif (args.jpegs, args.audio, args.videos) != (1000, 100, 20):
        command += f" --jpegs {args.jpegs} --audio {args.audio} --videos {args.videos}"
    section = render(rows, command, min_timed_s)
    print(section)
    if not args.no_write:
        write_section("scan_throughput", section)
        print(f"wrote {DOCS.relative_to(REPO)}", file=sys.stderr)

    problems = [f"{r.name}: {r.failed} good files failed to scan" for r in rows if r.failed]
    problems += [
        f"{r.name}: probing made {r.decode_calls} PyAV decode calls (expected 0)"
        for r in rows
        if r.decode_calls
    ]
    # FFmpeg's own stream-info probe decoding the first key frame is tolerated (PyAV offers
    # no way to skip it); a probe that decodes a good part of every video is not.
    problems += [
        f"{r.name}: FFmpeg decoded {r.ffmpeg_slices / r.files:.1f} H.264 slices per file while "
        f"probing, against {r.full_decode_slices} for a full decode"
        for r in rows
        if r.ffmpeg_slices is not None
        and r.full_decode_slices is not None
        and r.ffmpeg_slices / r.files >= r.full_decode_slices / 2
    ]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
