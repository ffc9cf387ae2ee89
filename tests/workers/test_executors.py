"""Executors: every input yields one result; worker processes bound time and memory and
survive crashes.

The process tests replace ``synthguard.pipeline.scan`` (or ``open_media``) in this process
*before* the workers fork, so the children inherit the hostile behaviour without any test hook
in production code.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import synthguard.pipeline
from synthguard.errors import UnreadableError
from synthguard.report import Report
from synthguard.settings import Settings
from synthguard.workers import (
    Executor,
    InlineExecutor,
    Input,
    ProcessExecutor,
    Result,
    in_order,
    iter_inputs,
    make_executor,
)

SETTINGS = Settings.load(env={})


def fake_scan(source: str, *, settings: Settings | None = None, **_: Any) -> Report:
    """Hash the file; misbehave on request, as named by the file."""
    name = os.path.basename(source)
    if name.startswith("slow"):
        time.sleep(60)
    elif name.startswith("exit"):
        os._exit(3)
    elif name.startswith("segv"):
        os.kill(os.getpid(), signal.SIGSEGV)
    elif name.startswith("raise"):
        raise RuntimeError("a bug in a detector")
    report = Report.for_path(source)
    data = Path(source).read_bytes()
    report.size = len(data)
    report.sha256 = hashlib.sha256(data).hexdigest()
    report.elapsed_ms = 0.01
    return report


@pytest.fixture
def patched_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(synthguard.pipeline, "scan", fake_scan)


def _files(root: Path, names: list[str]) -> list[Input]:
    for name in names:
        (root / name).write_bytes(name.encode())
    return list(iter_inputs([root]))


def _by_name(results: list[Result]) -> dict[str, Report]:
    return {os.path.basename(r.report.path): r.report for r in results}


@pytest.fixture(autouse=True)
def no_leftover_workers() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


def test_both_executors_satisfy_the_protocol() -> None:
    assert isinstance(InlineExecutor(), Executor)
    assert isinstance(ProcessExecutor(), Executor)
    assert isinstance(make_executor(SETTINGS.replace(workers=1)), InlineExecutor)
    assert isinstance(make_executor(SETTINGS.replace(workers=2)), ProcessExecutor)
    assert isinstance(make_executor(SETTINGS.replace(workers=0)), ProcessExecutor)


def test_inline_scans_files_and_passes_failed_items_through(tmp_path: Path) -> None:
    inputs = _files(tmp_path, ["a", "b"]) + [Input(b"/nowhere", UnreadableError("gone"))]
    results = list(InlineExecutor(scan=fake_scan).run(inputs, SETTINGS))
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].report.sha256 == hashlib.sha256(b"a").hexdigest()
    assert results[2].report.error == {"code": "unreadable", "message": "gone"}


def test_inline_uses_the_pipeline(tmp_path: Path, patched_scan: None) -> None:
    (result,) = InlineExecutor().run(_files(tmp_path, ["a"]), SETTINGS)
    assert result.report.size == 1


def test_in_order_restores_input_order() -> None:
    shuffled = [Result(i, Report(path=str(i))) for i in (2, 0, 3, 1, 5, 4)]
    assert [r.index for r in in_order(shuffled)] == [0, 1, 2, 3, 4, 5]


@pytest.mark.timeout(60)
def test_process_executor_returns_every_file_once(tmp_path: Path, patched_scan: None) -> None:
    names = [f"f{i:03d}" for i in range(300)]
    inputs = _files(tmp_path, names)
    inputs.insert(7, Input(b"/nowhere", UnreadableError("gone")))
    results = list(ProcessExecutor(workers=2).run(inputs, SETTINGS))
    assert sorted(r.index for r in results) == list(range(len(inputs)))
    expected = {r.index: r.report.to_dict() for r in InlineExecutor().run(inputs, SETTINGS)}
    for r in results:
        got = r.report.to_dict()
        got["elapsed_ms"] = expected[r.index]["elapsed_ms"]
        assert got == expected[r.index]


@pytest.mark.timeout(60)
def test_process_executor_survives_crashes(tmp_path: Path, patched_scan: None) -> None:
    names = [f"a{i:02d}" for i in range(20)] + ["exit-1", "segv-1", "raise-1"]
    names += [f"z{i:02d}" for i in range(20)]
    results = list(ProcessExecutor(workers=2).run(_files(tmp_path, names), SETTINGS))
    reports = _by_name(results)
    assert len(results) == len(names) and set(reports) == set(names)
    assert reports["exit-1"].error is not None
    assert reports["exit-1"].error["code"] == "worker_crashed"
    assert "exited with status 3" in reports["exit-1"].error["message"]
    assert reports["segv-1"].error is not None
    assert reports["segv-1"].error["code"] == "worker_crashed"
    assert "SIGSEGV" in reports["segv-1"].error["message"]
    assert reports["raise-1"].error is not None
    assert reports["raise-1"].error["code"] == "internal"
    ok = [n for n in names if n[0] in "az"]
    assert all(reports[n].ok and reports[n].size == 3 for n in ok)


@pytest.mark.timeout(60)
def test_process_executor_kills_a_file_past_its_deadline(
    tmp_path: Path, patched_scan: None
) -> None:
    names = ["a", "b", "slow-1", "c", "d", "slow-2", "e"]
    settings = SETTINGS.replace(timeout_s=1.0)
    started = time.monotonic()
    results = list(ProcessExecutor(workers=2).run(_files(tmp_path, names), settings))
    elapsed = time.monotonic() - started
    reports = _by_name(results)
    assert set(reports) == set(names)
    for slow in ("slow-1", "slow-2"):
        error = reports[slow].error
        assert error is not None and error["code"] == "timeout"
        assert "gave up after 1 s" in error["message"]
        elapsed_ms = reports[slow].elapsed_ms
        assert elapsed_ms is not None and elapsed_ms >= 1000
    assert all(reports[n].ok for n in "abcde")
    assert elapsed < 15


@pytest.mark.timeout(60)
def test_a_memory_bomb_is_out_of_memory_not_a_dead_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def greedy_open_media(*args: Any, **kwargs: Any) -> Any:
        return bytearray(8 * 1024**3)  # 8 GiB: far past the limit below

    monkeypatch.setattr(synthguard.pipeline, "open_media", greedy_open_media)
    status = Path("/proc/self/status").read_text().splitlines()
    vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize"))
    # The children start as copies of this process: allow its size plus some room.
    settings = SETTINGS.replace(worker_memory_mb=vm_kib // 1024 + 512)
    (result,) = ProcessExecutor(workers=1).run(_files(tmp_path, ["bomb"]), settings)
    assert result.report.error is not None
    assert result.report.error["code"] == "out_of_memory"


@pytest.mark.timeout(60)
def test_closing_the_run_kills_busy_workers(tmp_path: Path, patched_scan: None) -> None:
    inputs = _files(tmp_path, ["a"] + [f"slow-{i}" for i in range(4)])
    run = ProcessExecutor(workers=2).run(inputs, SETTINGS)
    first = next(run)
    assert first.report.path.endswith("a")
    assert len(multiprocessing.active_children()) == 2  # both asleep on a slow file
    started = time.monotonic()
    run.close()  # what the CLI does on Ctrl-C
    assert multiprocessing.active_children() == []
    assert time.monotonic() - started < 5


@pytest.mark.timeout(60)
def test_workers_exit_when_the_batch_ends(tmp_path: Path, patched_scan: None) -> None:
    inputs = _files(tmp_path, ["a", "b", "c"])
    assert len(list(ProcessExecutor(workers=4).run(inputs, SETTINGS))) == 3
    # The fixture checks no child is left; an empty batch starts no worker at all.
    assert list(ProcessExecutor(workers=4).run([], SETTINGS)) == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_real_pipeline_in_workers(tmp_path: Path, method: str) -> None:
    """The real scan path in real workers; with forkserver nothing is inherited from tests."""
    from PIL import Image

    for i in range(6):
        Image.new("RGB", (16 + i, 16), (i * 40, 0, 0)).save(tmp_path / f"img{i}.png")
    (tmp_path / "empty.png").write_bytes(b"")
    inputs = list(iter_inputs([tmp_path]))
    executor = ProcessExecutor(workers=2, start_method=method, run_detection=False)
    reports = _by_name(list(executor.run(inputs, SETTINGS)))
    assert reports["empty.png"].error is not None
    assert reports["empty.png"].error["code"] == "empty_file"
    for i in range(6):
        report = reports[f"img{i}.png"]
        assert report.ok and report.media is not None and report.media["width"] == 16 + i
