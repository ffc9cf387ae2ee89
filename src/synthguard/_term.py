"""Terminal output for the CLI: safe text, the scan table, the progress bar.

Kept apart from :mod:`synthguard.cli` so that the commands stay thin. Everything here writes
to text streams it is given and holds no global state.
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any, TextIO

from synthguard.report import Outcome, Report

__all__ = ["Progress", "TableWriter", "human_size", "safe_text", "summary_line"]

# Control characters, line/paragraph separators, and format characters such as the bidi
# overrides that make "gpj.exe" display as "exe.jpg": none of them may reach a terminal raw.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def safe_text(text: str) -> str:
    """``text`` with every character that could move the cursor, spoof the direction of the
    text or fail to encode replaced by a visible escape (``\\x1b``, ``\\u202e``)."""
    if text.isprintable() and text.isascii():
        return text
    out = []
    for ch in text:
        if unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def human_size(size: int | None) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _details(report: Report) -> str:
    """The DETAILS cell: the error code, or dimensions/duration/pages by kind."""
    if report.error is not None:
        return report.error.get("code", "error")
    media: dict[str, Any] = report.media or {}
    parts: list[str] = []
    if media.get("width") and media.get("height"):
        parts.append(f"{media['width']}x{media['height']}")
    if media.get("duration") is not None:
        parts.append(f"{float(media['duration']):.1f} s")
    if report.kind == "audio" and media.get("sample_rate"):
        parts.append(f"{media['sample_rate'] / 1000:g} kHz")
    if report.kind == "text":
        if media.get("pages"):
            parts.append(f"{media['pages']} page{'s' if media['pages'] != 1 else ''}")
        elif media.get("chars") is not None:
            parts.append(f"{media['chars']} chars")
    elif media.get("animated") and media.get("pages"):
        parts.append(f"{media['pages']} frames")
    return " ".join(parts) or "-"


def _outcome(report: Report) -> str:
    if report.error is not None:
        return "error"
    return report.decision.outcome.value if report.decision is not None else "-"


_COLUMNS = (
    ("OUTCOME", 9), ("KIND", 5), ("FORMAT", 8), ("SIZE", 10), ("DETAILS", 20), ("LABELS", 22),
)
# Short names of the AIGC verdicts and C2PA states for the LABELS column.
_VERDICTS = {"compliant": "aigc ok", "noncompliant": "aigc BAD", "inconclusive": "aigc ?"}


def _labels(report: Report) -> str:
    """What the label readers found: the AIGC verdict with its Label, and a C2PA manifest."""
    prov = report.provenance or {}
    parts = []
    aigc = prov.get("aigc") or {}
    verdict = aigc.get("verdict")
    if verdict in _VERDICTS:
        label = (aigc.get("label") or {}).get("Label")
        parts.append(_VERDICTS[verdict] + (f" L{label}" if label else ""))
    state = (prov.get("c2pa") or {}).get("state")
    if state and state != "absent":
        parts.append(f"c2pa {state}")
    return ", ".join(parts) or "-"



class TableWriter:
    """Writes the scan table row by row (fixed columns, so rows can stream), then a summary.

    Columns: OUTCOME, KIND, FORMAT, SIZE, DETAILS (dimensions/duration, or the error code),
    LABELS (AIGC verdict and Label, C2PA state), PATH (escaped: no raw control or direction
    characters reach the terminal).
    """

    def __init__(self, stream: TextIO, *, max_error_lines: int = 20) -> None:
        self.stream = stream
        self.max_error_lines = max_error_lines
        self.reports: list[Report] = []
        self._header_written = False

    def _line(self, cells: Iterable[str]) -> str:
        *fixed, path = list(cells)
        parts = []
        for (name, width), cell in zip(_COLUMNS, fixed, strict=True):
            if len(cell) > width:
                cell = cell[: width - 1] + "~"
            parts.append(cell.rjust(width) if name == "SIZE" else cell.ljust(width))
        return "  ".join(parts) + "  " + path

    def write(self, report: Report) -> None:
        if not self._header_written:
            self.stream.write(self._line([name for name, _ in _COLUMNS] + ["PATH"]) + "\n")
            self._header_written = True
        self.reports.append(report)
        row = [
            _outcome(report),
            report.kind or "-",
            report.format or "-",
            human_size(report.size),
            _details(report),
            _labels(report),
            safe_text(report.path),
        ]
        self.stream.write(self._line(row) + "\n")

    def finish(self) -> None:
        """The summary line, and the message of each error (the table shows only codes)."""
        if not self._header_written:
            self.stream.write("no files to scan\n")
            return
        failed = [r for r in self.reports if r.error is not None]
        if failed:
            self.stream.write("\n")
            for report in failed[: self.max_error_lines]:
                assert report.error is not None
                self.stream.write(
                    f"{safe_text(report.path)}: {report.error.get('code')}: "
                    f"{safe_text(report.error.get('message', ''))}\n"
                )
            if len(failed) > self.max_error_lines:
                more = len(failed) - self.max_error_lines
                self.stream.write(f"... and {more} more (see --format jsonl)\n")
        self.stream.write("\n" + summary_line(self.reports) + "\n")


def summary_line(reports: list[Report]) -> str:
    """``"5 files: 1 possible, 2 none; 2 errors (empty_file 1, unreadable 1)"``."""
    outcomes: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for report in reports:
        if report.error is not None:
            errors[report.error.get("code", "error")] += 1
        elif report.decision is not None:
            outcomes[report.decision.outcome.value] += 1
        else:
            outcomes["-"] += 1
    n = len(reports)
    text = f"{n} file{'s' if n != 1 else ''}"
    order = [o.value for o in sorted(Outcome, key=lambda o: -o.rank)] + ["-"]
    scanned = [f"{outcomes[o]} {o}" for o in order if outcomes[o]]
    if scanned:
        text += ": " + ", ".join(scanned)
    if errors:
        total = sum(errors.values())
        detail = ", ".join(f"{code} {count}" for code, count in sorted(errors.items()))
        text += f"{';' if scanned else ':'} {total} error{'s' if total != 1 else ''} ({detail})"
    elif n:
        text += "; no errors"
    return text


class Progress:
    """A one-line progress bar (files done/total, rate, ETA) for a terminal's stderr.

    Redraws at most ten times a second. :meth:`clear` erases it so that other output can be
    written to the same terminal; the next :meth:`advance` draws it again.
    """

    def __init__(self, total: int, stream: TextIO, *, label: str = "scanning") -> None:
        self.total = total
        self.stream = stream
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last_draw >= 0.1 or self.done >= self.total:
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        width = shutil.get_terminal_size((80, 24)).columns
        fraction = self.done / self.total if self.total else 1.0
        counts = f"{self.done}/{self.total} files"
        tail = f"{rate:.1f} files/s"
        if 0 < self.done < self.total and rate > 0:
            tail += f", {(self.total - self.done) / rate:.0f} s left"
        bar_width = max(10, min(40, width - len(self.label) - len(counts) - len(tail) - 8))
        filled = int(bar_width * fraction)
        bar = "#" * filled + "-" * (bar_width - filled)
        line = f"{self.label} [{bar}] {counts} {tail}"[: width - 1]
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._last_draw = now
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
            self._last_draw = 0.0  # draw again at the next advance

    def close(self) -> None:
        self.clear()
