"""Worker processes that bound every file in time and memory and survive crashes.

How it works, and why:

- Each worker has its own duplex pipe, so the parent always knows which files a worker holds;
  a shared queue would lose that when a worker dies.
- Tasks go out in small chunks and results come back in batches (IPC per file would cost as
  much as scanning a small image); a worker sends what it holds at least every 50 ms. The
  chunk size adapts to the measured time per file, aiming at ~50 ms of work per chunk, and
  shrinks towards the end of a batch so that all workers finish together. About two chunks
  are queued per worker, so a worker never waits for a round trip between chunks, and the
  parent's sends never block.
- Deadlines stay per file: before each file a worker writes ``(index, start time)`` into shared
  memory, and the parent compares the start time with ``CLOCK_MONOTONIC`` (system-wide on
  Linux). A worker past ``timeout_s`` gets ``SIGKILL``; its file is reported ``timeout``.
- A worker that dies (a segfault in a decoder, the kernel's OOM killer) has its current file
  reported ``worker_crashed``; the other files it held are queued again, a new worker takes its
  place, and the batch goes on.
- ``RLIMIT_AS`` (``worker_memory_mb``) turns a memory bomb into a ``MemoryError`` that the
  pipeline reports as ``out_of_memory``, instead of a machine stalled by swapping.
- The "fork" start method makes a new worker cost milliseconds: the parent imports the scanning
  path once (:func:`_preload`) and every worker inherits it. Forking is safe because the parent
  starts no threads of its own; the one foreign thread, OpenBLAS's pool, registers
  ``pthread_atfork`` handlers for exactly this case, and the CLI sets
  ``OPENBLAS_NUM_THREADS=1`` (unless set) so that it is not even started. Each worker starts
  one thread, its outbox, after the fork.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

from synthguard.errors import (
    InternalError,
    OutOfMemoryError,
    ScanTimeoutError,
    SynthguardError,
    WorkerCrashedError,
)
from synthguard.report import Report
from synthguard.settings import Settings
from synthguard.workers._discover import Input
from synthguard.workers._executor import Result, ScanFunction, scan_input

__all__ = ["ProcessExecutor"]

_TARGET_CHUNK_S = 0.05  # seconds of work per chunk: long enough to amortise the round trip
_RESULT_FLUSH_S = 0.05  # a worker sends what it has at least this often (streaming, progress)
_MAX_CHUNK_BYTES = 16 * 1024  # bound on path bytes per chunk: two chunks fit any pipe buffer
_IDLE = -1.0


@dataclass
class _Worker:
    slot: int
    proc: BaseProcess
    conn: Connection
    # Tasks sent and not yet answered, in the order sent: index -> raw path.
    assigned: dict[int, bytes] = field(default_factory=dict)
    scanned: int = 0


class ProcessExecutor:
    """Scans in ``workers`` processes (default ``settings.workers``; 0 = one per CPU core).

    Each file is bounded by ``settings.timeout_s`` (0 = no limit) and each worker's address
    space by ``settings.worker_memory_mb`` (0 = no limit). Results come in completion order.
    Closing the iterator returned by :meth:`run` (or an exception such as ``KeyboardInterrupt``
    inside it) kills the workers.
    """

    def __init__(
        self,
        *,
        workers: int | None = None,
        run_detection: bool = True,
        max_chunk: int = 64,
        start_method: str | None = None,
        scan: ScanFunction | None = None,
    ) -> None:
        if max_chunk < 1:
            raise ValueError(f"max_chunk must be at least 1, got {max_chunk}")
        self.workers = workers
        self.run_detection = run_detection
        self.max_chunk = max_chunk
        self.start_method = start_method
        self.scan = scan

    def run(self, inputs: Iterable[Input], settings: Settings) -> Generator[Result, None, None]:
        """Scan ``inputs`` in worker processes; see the class documentation."""
        count = self.workers if self.workers is not None else settings.workers
        count = count or os.cpu_count() or 1
        method = self.start_method or (
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        if method == "fork":
            _preload()
        pool = _Pool(
            multiprocessing.get_context(method),
            count,
            settings,
            run_detection=self.run_detection,
            max_chunk=self.max_chunk,
            scan=self.scan,
        )
        return pool.run(inputs)


class _Pool:
    """The state of one :meth:`ProcessExecutor.run` call."""

    def __init__(
        self,
        ctx: BaseContext,
        size: int,
        settings: Settings,
        *,
        run_detection: bool,
        max_chunk: int,
        scan: ScanFunction | None,
    ) -> None:
        self.ctx: Any = ctx  # typeshed's BaseContext lacks Process/Pipe; each concrete one has them
        self.size = size
        self.settings = settings
        self.run_detection = run_detection
        self.max_chunk = max_chunk
        self.scan = scan
        self.timeout = settings.timeout_s or None
        # Per slot: [index of the file being scanned or -1, its start time or 0].
        self.state: Any = ctx.RawArray("d", 2 * size)
        self.workers: dict[int, _Worker] = {}
        self.backlog: deque[tuple[int, bytes]] = deque()
        self.source_done = False
        self.per_file_s = 0.002  # running estimate of the time per file, seeded pessimistically
        self.orphan_deaths = 0  # workers that died holding no file: a broken environment

    # -- the loop ------------------------------------------------------------------------------
    def run(self, inputs: Iterable[Input]) -> Generator[Result, None, None]:
        source = enumerate(inputs)
        clean = False
        try:
            while True:
                yield from self._refill(source)
                self._dispatch()
                if (
                    not self.backlog
                    and self.source_done
                    and not any(w.assigned for w in self.workers.values())
                ):
                    break
                yield from self._wait_and_collect()
            clean = True
        finally:
            self._shutdown(graceful=clean)

    def _refill(self, source: Iterator[tuple[int, Input]]) -> Iterator[Result]:
        """Pull inputs until the backlog holds enough work for every worker."""
        want = self.size * self.max_chunk * 2
        while not self.source_done and len(self.backlog) < want:
            try:
                index, item = next(source)
            except StopIteration:
                self.source_done = True
                break
            if item.error is not None:
                yield Result(index, item.failed_report())
            else:
                self.backlog.append((index, item.path))

    def _chunk_size(self) -> int:
        size = int(_TARGET_CHUNK_S / max(self.per_file_s, 1e-6))
        if self.source_done:  # the tail: share what is left so all workers finish together
            size = min(size, -(-len(self.backlog) // (2 * self.size)))
        return max(1, min(self.max_chunk, size))

    def _dispatch(self) -> None:
        for slot in range(self.size):
            if not self.backlog:
                return
            worker = self.workers.get(slot)
            if worker is None:
                worker = self._start(slot)
            chunk_size = self._chunk_size()
            if len(worker.assigned) > chunk_size:
                # It holds more than a chunk: one being scanned and the next already queued,
                # so it never waits for a round trip through this process between chunks.
                continue
            chunk: list[tuple[int, bytes]] = []
            nbytes = 0
            while self.backlog and len(chunk) < chunk_size:
                if chunk and nbytes + len(self.backlog[0][1]) > _MAX_CHUNK_BYTES:
                    break
                index, path = self.backlog.popleft()
                chunk.append((index, path))
                nbytes += len(path)
            for index, path in chunk:
                worker.assigned[index] = path
            try:
                worker.conn.send(chunk)
            except OSError:
                pass  # it died just now; its sentinel fires and the chunk is queued again

    def _wait_and_collect(self) -> Iterator[Result]:
        busy = [w for w in self.workers.values() if w.assigned]
        timeout = 1.0
        if self.timeout is not None:
            now = time.monotonic()
            for w in busy:
                current = self._current(w.slot)
                if current is not None:
                    timeout = min(timeout, current[1] + self.timeout - now)
        handles: list[Any] = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
        ready = set(wait(handles, timeout=max(0.0, timeout))) if handles else set()
        for w in busy:
            if w.conn in ready:
                yield from self._receive(w)
        for w in busy:
            if w.proc.sentinel in ready or not w.proc.is_alive():
                yield from self._retire(w, self._current(w.slot), timed_out=False)
            elif self.timeout is not None:
                current = self._current(w.slot)
                if current is not None and time.monotonic() - current[1] > self.timeout:
                    yield from self._retire(w, current, timed_out=True)

    def _receive(self, w: _Worker) -> Iterator[Result]:
        """Everything ``w`` has sent so far (it may have died after sending)."""
        while True:
            try:
                if not w.conn.poll():
                    return
                batch: list[tuple[int, Report]] = w.conn.recv()
            except (EOFError, OSError):
                return  # closed, or cut mid-message by a kill: the sentinel handles the rest
            except Exception:  # noqa: BLE001 - a truncated pickle from a dying worker
                return
            for index, report in batch:
                if w.assigned.pop(index, None) is None:
                    continue  # already reported (e.g. blamed for a timeout just before)
                w.scanned += 1
                if report.elapsed_ms is not None:
                    # An exponential moving average: adapts within a few chunks.
                    self.per_file_s += 0.1 * (report.elapsed_ms / 1000.0 - self.per_file_s)
                yield Result(index, report)

    # -- workers ---------------------------------------------------------------------------------
    def _current(self, slot: int) -> tuple[int, float] | None:
        """The ``(index, start)`` of the file a worker is on, or ``None`` between files.

        The worker zeroes the start time, writes the index, then writes the new start time;
        reading start, index, start and requiring both starts equal and non-zero therefore
        never pairs an index with another file's start time.
        """
        state = self.state
        start = state[2 * slot + 1]
        index = state[2 * slot]
        if start == 0.0 or state[2 * slot + 1] != start or index < 0:
            return None
        return int(index), start

    def _start(self, slot: int) -> _Worker:
        parent_conn, child_conn = self.ctx.Pipe(duplex=True)
        self.state[2 * slot] = _IDLE
        self.state[2 * slot + 1] = 0.0
        inherited: list[Connection] = []
        if self.ctx.get_start_method() == "fork":
            # The child inherits every descriptor of the parent; it must close the parent's
            # ends, or a worker would keep its siblings' pipes open after the parent died.
            inherited = [w.conn for w in self.workers.values()] + [parent_conn]
        proc = self.ctx.Process(
            target=_worker_main,
            name=f"synthguard-worker-{slot}",
            args=(
                slot,
                child_conn,
                self.state,
                self.settings,
                self.run_detection,
                self.scan,
                inherited,
                # Under forkserver the worker's parent is the server, not this process, so the
                # parent-death signal would watch the wrong process; it then relies on EOF.
                None if self.ctx.get_start_method() == "forkserver" else os.getpid(),
            ),
            daemon=True,
        )
        proc.start()
        child_conn.close()
        worker = _Worker(slot, proc, parent_conn)
        self.workers[slot] = worker
        return worker

    def _retire(
        self, w: _Worker, current: tuple[int, float] | None, *, timed_out: bool
    ) -> Iterator[Result]:
        """Stop ``w`` (killing it if needed), report ``current`` (the ``(index, start)`` of
        the file it was on), and queue the rest of its files again."""
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(5.0)
        yield from self._receive(w)  # results it sent before it died are good
        with contextlib.suppress(OSError):
            w.conn.close()
        del self.workers[w.slot]
        blamed: int | None = None
        if current is not None and current[0] in w.assigned:
            blamed = current[0]
            path = w.assigned.pop(blamed)
            elapsed = time.monotonic() - current[1]
            error: SynthguardError
            if timed_out:
                error = ScanTimeoutError(
                    f"expected the scan to finish within timeout_s={self.timeout:g} s, "
                    f"gave up after {elapsed:.0f} s and stopped the worker"
                )
            else:
                error = WorkerCrashedError(
                    f"the worker process died while scanning this file "
                    f"({_describe_exit(w.proc.exitcode)})"
                )
            report = Report.failed(path, error)
            report.elapsed_ms = round(elapsed * 1000.0, 3)
            yield Result(blamed, report)
        elif w.assigned and not timed_out:
            self.orphan_deaths += 1
        # The others it held were never started or finished unsent: scan them elsewhere, first.
        self.backlog.extendleft(reversed(list(w.assigned.items())))
        w.assigned.clear()
        if self.orphan_deaths > 2 * self.size + 2:
            raise InternalError(
                "worker processes keep dying without scanning anything "
                f"(last: {_describe_exit(w.proc.exitcode)})"
            )

    def _shutdown(self, *, graceful: bool) -> None:
        for w in self.workers.values():
            if graceful:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
            else:
                w.proc.kill()
        deadline = time.monotonic() + 2.0
        for w in self.workers.values():
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(2.0)
            with contextlib.suppress(OSError):
                w.conn.close()
        self.workers.clear()


def _preload() -> None:
    """Import the scanning path once in the parent so that forked workers inherit it.

    Without this every worker imports numpy, Pillow and the pipeline itself and loads
    Pillow's format plugins: about 0.45 s per worker on a small machine, most of the time
    a batch of a thousand small images takes.
    """
    from PIL import Image

    import synthguard.pipeline  # noqa: F401 - imported for its side effect: loaded modules
    from synthguard.provenance import load_readers

    Image.init()
    load_readers()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "it did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"killed by {name}, e.g. by the kernel's out-of-memory killer"
        return f"killed by {name}"
    return f"exited with status {code}"


# -- the worker side ------------------------------------------------------------------------------
def _worker_main(
    slot: int,
    conn: Connection,
    state: Any,
    settings: Settings,
    run_detection: bool,
    scan: ScanFunction | None,
    inherited: list[Connection],
    parent_pid: int | None,
) -> None:
    for other in inherited:
        other.close()
    # Ctrl-C reaches the whole process group; the parent alone decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    if settings.worker_memory_mb > 0:
        limit = settings.worker_memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    outbox = _Outbox(conn)
    while True:
        try:
            chunk: list[tuple[int, bytes]] | None = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if chunk is None:
            return
        for index, path in chunk:
            state[2 * slot + 1] = 0.0
            state[2 * slot] = float(index)
            state[2 * slot + 1] = time.monotonic()
            report = _scan_one(path, settings, run_detection, scan)
            state[2 * slot + 1] = 0.0
            state[2 * slot] = _IDLE
            outbox.put((index, report))
        outbox.flush()  # the parent sends the next chunk when results come back


class _Outbox:
    """Results waiting to be sent, batched.

    A background thread sends whatever has waited ``_RESULT_FLUSH_S``: without it, the results
    of fast files scanned just before a file that hangs would sit here until the parent kills
    the worker, and would be lost and scanned again. The thread polls (a sleep releases the
    GIL) rather than being woken per result: waking it costs two context switches each time,
    which measured as 15% of the throughput on small images. Every send holds the lock, so
    messages never interleave on the pipe.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.items: list[tuple[int, Report]] = []
        self.since = 0.0
        self.lock = threading.Lock()
        threading.Thread(target=self._flusher, name="synthguard-outbox", daemon=True).start()

    def put(self, item: tuple[int, Report]) -> None:
        with self.lock:
            if not self.items:
                self.since = time.monotonic()
            self.items.append(item)

    def flush(self) -> None:
        with self.lock:
            self._send_locked()

    def _send_locked(self) -> None:
        if self.items:
            batch, self.items = self.items, []
            _send(self.conn, batch)

    def _flusher(self) -> None:
        while True:
            time.sleep(_RESULT_FLUSH_S / 2)
            # Unlocked peek: a stale answer only delays the send to the next round.
            if self.items and time.monotonic() - self.since >= _RESULT_FLUSH_S:
                with self.lock:
                    self._send_locked()


def _scan_one(
    path: bytes, settings: Settings, run_detection: bool, scan: ScanFunction | None
) -> Report:
    try:
        return scan_input(Input(path), settings, run_detection=run_detection, scan=scan)
    except MemoryError:
        return Report.failed(path, OutOfMemoryError("ran out of memory while scanning"))
    except Exception as exc:  # noqa: BLE001 - one bad item never stops a batch
        return Report.failed(
            path, InternalError(f"unexpected {type(exc).__name__} while scanning: {exc}")
        )


def _send(conn: Connection, batch: list[tuple[int, Report]]) -> None:
    try:
        conn.send(batch)
    except (EOFError, OSError):
        os._exit(0)  # the parent is gone (this may run on the outbox thread: exit for real)
    except Exception as exc:  # noqa: BLE001 - e.g. a report that does not pickle
        error = InternalError(f"could not send the report back: {type(exc).__name__}: {exc}")
        fallback = []
        for index, report in batch:
            failed = Report.for_path(report.path)
            failed.path_b64 = report.path_b64
            failed.error = error.to_dict()
            fallback.append((index, failed))
        conn.send(fallback)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this worker when the parent dies (no orphans left decoding)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)
