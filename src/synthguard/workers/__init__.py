"""Executors for batches: find the inputs, scan them in this process or in worker processes.

::

    from synthguard.workers import iter_inputs, make_executor, in_order

    executor = make_executor(settings)
    for result in in_order(executor.run(iter_inputs(["uploads/"]), settings)):
        print(result.index, result.report.to_json())

:func:`iter_inputs` walks files and folders deterministically and turns whatever cannot be
scanned (symlink loops, FIFOs, unreadable folders, missing paths) into pre-failed items.
:class:`InlineExecutor` scans in this process; :class:`ProcessExecutor` scans in worker
processes that bound each file in time and memory and survive crashes. Both satisfy the
:class:`Executor` protocol, which the service and the Celery backend reuse.
"""

from __future__ import annotations

from synthguard.workers._discover import Input, iter_inputs
from synthguard.workers._executor import (
    Executor,
    InlineExecutor,
    Result,
    ScanFunction,
    in_order,
    make_executor,
    scan_input,
)
from synthguard.workers._process import ProcessExecutor

__all__ = [
    "Executor",
    "InlineExecutor",
    "Input",
    "ProcessExecutor",
    "Result",
    "ScanFunction",
    "in_order",
    "iter_inputs",
    "make_executor",
    "scan_input",
]
