"""Turn the paths a user names into a deterministic stream of :class:`Input` items.

Folders are walked recursively, depth first, each directory's entries sorted by the bytes of
their names, so two runs over the same tree list the same files in the same order whatever the
locale. Nothing is skipped silently: whatever cannot be scanned becomes a *pre-failed* item that
carries its :class:`~synthguard.errors.SynthguardError`, and the walk goes on.

- a symbolic link to itself (or any link chain the kernel refuses with ``ELOOP``) ->
  ``symlink_loop``;
- a symbolic link to a directory that is an ancestor of the link -> ``symlink_loop``, not
  followed (following it would walk forever);
- a symbolic link (or bind mount) to a directory already walked elsewhere -> not walked again
  and not reported: its files are already reported under their first path;
- a broken symbolic link, a directory that cannot be listed, a name given on the command line
  that does not exist -> ``unreadable``;
- FIFOs, sockets and devices -> ``unreadable``. They are only ever ``stat``-ed, never opened
  (opening a FIFO blocks until a writer appears).

Paths travel as ``bytes`` end to end so that names that are not valid UTF-8 survive intact;
:meth:`synthguard.report.Report.for_path` turns them into a printable ``path`` plus ``path_b64``.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from synthguard.errors import SymlinkLoopError, SynthguardError, UnreadableError
from synthguard.report import Report, display_path

__all__ = ["Input", "iter_inputs"]

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]


@dataclass(frozen=True, slots=True)
class Input:
    """One item of a batch: a regular file to scan, or a path that already failed.

    ``path`` is the raw file name as bytes (``os.fsencode``); ``error`` is set for pre-failed
    items, which executors report without scanning.
    """

    path: bytes
    error: SynthguardError | None = None

    @property
    def ok(self) -> bool:
        """True when this item should be scanned."""
        return self.error is None

    @property
    def display(self) -> str:
        """The path as printable text (non-UTF-8 bytes escaped)."""
        return display_path(self.path)[0]

    def failed_report(self) -> Report:
        """The report of a pre-failed item."""
        if self.error is None:
            raise ValueError("failed_report() needs an item with an error")
        return Report.failed(self.path, self.error)


_KIND_NAMES = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _not_regular(mode: int) -> UnreadableError:
    what = _KIND_NAMES.get(stat.S_IFMT(mode), "not a regular file")
    return UnreadableError(f"expected a regular file or a folder, got {what}")


def _os_error(path: bytes, exc: OSError, *, listing: bool = False) -> SynthguardError:
    """Map an ``OSError`` on ``path`` to the error the report carries."""
    if exc.errno == errno.ELOOP:
        return SymlinkLoopError("too many levels of symbolic links (a symbolic link loop)")
    if exc.errno == errno.ENOENT:
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                target = os.fsdecode(os.readlink(path))
                shown = display_path(target)[0]
                return UnreadableError(f"broken symbolic link: its target {shown!r} does not exist")
        except OSError:
            pass
        return UnreadableError("no such file or directory")
    if exc.errno in (errno.EACCES, errno.EPERM):
        what = "list this folder" if listing else "read this path"
        return UnreadableError(f"permission denied: cannot {what}")
    reason = exc.strerror or type(exc).__name__
    what = "list this folder" if listing else "read this path"
    return UnreadableError(f"cannot {what}: {reason}")


def iter_inputs(paths: Sequence[PathArg]) -> Iterator[Input]:
    """Yield every file under ``paths`` (files and folders, walked recursively) in a
    deterministic order, and a pre-failed :class:`Input` for everything that cannot be scanned.

    Paths named explicitly are followed if they are symbolic links; inside folders, links are
    followed too, except into a directory already on the current walk (a loop) or already
    walked.
    """
    visited: set[tuple[int, int]] = set()
    for arg in paths:
        raw = os.fsencode(arg)
        try:
            st = os.stat(raw)
        except OSError as exc:
            yield Input(raw, _os_error(raw, exc))
            continue
        except ValueError:  # an embedded NUL byte: no such file can exist
            yield Input(raw, UnreadableError("expected a path, got a name with a NUL byte"))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(raw, st, visited)
        elif stat.S_ISREG(st.st_mode):
            yield Input(raw)
        else:
            yield Input(raw, _not_regular(st.st_mode))


def _walk(top: bytes, top_st: os.stat_result, visited: set[tuple[int, int]]) -> Iterator[Input]:
    """Depth-first walk with an explicit stack (deep trees must not hit the recursion limit)."""
    top_id = (top_st.st_dev, top_st.st_ino)
    if top_id in visited:
        return
    visited.add(top_id)
    # Each frame: the directory's identity (for loop detection) and its remaining entries.
    stack: list[tuple[tuple[int, int], Iterator[tuple[bytes, bytes, bool]]]] = []
    listing = _list(top)
    if isinstance(listing, Input):
        yield listing
        return
    stack.append((top_id, iter(listing)))
    while stack:
        try:
            name, path, is_link = next(stack[-1][1])
        except StopIteration:
            stack.pop()
            continue
        del name  # the sort key; ``path`` is what the report carries
        try:
            st = os.stat(path) if is_link else os.lstat(path)
        except OSError as exc:
            yield Input(path, _os_error(path, exc))
            continue
        mode = st.st_mode
        if stat.S_ISREG(mode):
            yield Input(path)
        elif stat.S_ISDIR(mode):
            ident = (st.st_dev, st.st_ino)
            if any(ident == frame[0] for frame in stack):
                yield Input(
                    path,
                    SymlinkLoopError(
                        "expected a folder outside the current walk, got a symbolic link to one "
                        "of its own parent folders (not followed)"
                    ),
                )
                continue
            if ident in visited:
                continue  # walked already under another path; its files are reported there
            visited.add(ident)
            sub = _list(path)
            if isinstance(sub, Input):
                yield sub
                continue
            stack.append((ident, iter(sub)))
        else:
            yield Input(path, _not_regular(mode))


def _list(directory: bytes) -> list[tuple[bytes, bytes, bool]] | Input:
    """The sorted ``(name, path, is_symlink)`` entries of ``directory``, or a failed item.

    The listing is read completely before any entry is handled so that the directory's file
    descriptor is closed before descending (deep trees would otherwise exhaust descriptors).
    """
    entries: list[tuple[bytes, bytes, bool]] = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                try:
                    is_link = entry.is_symlink()
                except OSError:
                    is_link = True  # unknown: stat with follow, the error surfaces there
                entries.append((entry.name, entry.path, is_link))
    except OSError as exc:
        return Input(directory, _os_error(directory, exc, listing=True))
    entries.sort(key=lambda e: e[0])
    return entries
