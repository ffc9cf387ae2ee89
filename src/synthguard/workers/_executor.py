"""The executor protocol, its result type, and the in-process executor.

An executor turns a stream of :class:`~synthguard.workers.Input` items into reports. Every
backend (in this process, worker processes, later Celery) satisfies :class:`Executor`; results
come back in *completion* order, each tagged with the position of its input so that callers
which want input order can restore it with :func:`in_order`.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from synthguard.report import Report
from synthguard.settings import Settings
from synthguard.workers._discover import Input

__all__ = [
    "Executor",
    "InlineExecutor",
    "Result",
    "ScanFunction",
    "in_order",
    "make_executor",
    "scan_input",
]


@dataclass(frozen=True, slots=True)
class Result:
    """One finished item: ``index`` is the position of its input in the batch."""

    index: int
    report: Report


class ScanFunction(Protocol):
    """The shape of :func:`synthguard.pipeline.scan` as executors call it."""

    def __call__(self, source: str, *, settings: Settings, run_detection: bool) -> Report: ...


@runtime_checkable
class Executor(Protocol):
    """Runs a batch: every input yields exactly one :class:`Result`, in completion order.

    Executors never raise for a bad item: refused input, timeouts and crashes are reports with
    ``error`` set. They raise only for failures of the machinery as a whole.
    """

    def run(self, inputs: Iterable[Input], settings: Settings) -> Iterator[Result]:
        """Scan ``inputs`` under ``settings`` and yield one result per input."""
        ...


def _pipeline_scan(source: str, *, settings: Settings, run_detection: bool) -> Report:
    # Looked up at call time (not bound at import) so that the pipeline is imported only when a
    # scan runs, and so that tests can replace ``synthguard.pipeline.scan``.
    from synthguard import pipeline

    return pipeline.scan(source, settings=settings, run_detection=run_detection)


def scan_input(
    item: Input,
    settings: Settings,
    *,
    run_detection: bool = True,
    scan: ScanFunction | None = None,
) -> Report:
    """The report for one input: the pre-failed report, or the pipeline's scan of the file."""
    if item.error is not None:
        return item.failed_report()
    # ``os.fsdecode`` maps undecodable bytes to surrogates, which ``open()`` and
    # ``Report.for_path`` turn back into the very same bytes.
    return (scan or _pipeline_scan)(
        os.fsdecode(item.path), settings=settings, run_detection=run_detection
    )


class InlineExecutor:
    """Scans in this process, one file after the other.

    Used when ``settings.workers == 1`` and in tests. It bounds nothing: a file that hangs a
    decoder hangs the batch, and a crash takes the process down; use :class:`ProcessExecutor`
    for untrusted batches. ``scan`` replaces the pipeline (a fake for unit tests).
    """

    def __init__(self, *, run_detection: bool = True, scan: ScanFunction | None = None) -> None:
        self.run_detection = run_detection
        self.scan = scan

    def run(self, inputs: Iterable[Input], settings: Settings) -> Generator[Result, None, None]:
        """Scan each input in turn; results come back in input order."""
        for index, item in enumerate(inputs):
            yield Result(
                index,
                scan_input(item, settings, run_detection=self.run_detection, scan=self.scan),
            )


def in_order(results: Iterable[Result]) -> Iterator[Result]:
    """Re-emit ``results`` in input order, buffering those that finish early.

    Streaming is delayed only behind the slowest unfinished item (at most ``timeout_s``).
    """
    waiting: dict[int, Result] = {}
    next_index = 0
    for result in results:
        waiting[result.index] = result
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1
    # Indices should be contiguous; if an executor skipped one, flush the rest in order anyway.
    for index in sorted(waiting):
        yield waiting[index]


def make_executor(settings: Settings, *, run_detection: bool = True) -> Executor:
    """The executor ``settings.workers`` asks for: 1 -> in this process, otherwise worker
    processes (0 = one per CPU core)."""
    if settings.workers == 1:
        return InlineExecutor(run_detection=run_detection)
    from synthguard.workers._process import ProcessExecutor

    return ProcessExecutor(run_detection=run_detection)
