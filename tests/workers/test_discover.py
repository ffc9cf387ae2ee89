"""iter_inputs: deterministic, recursive, and nothing hostile in a tree stops or hangs the walk."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from synthguard.workers import Input, iter_inputs


def _rel(items: list[Input], root: Path) -> list[tuple[bytes, str | None]]:
    base = os.fsencode(root) + b"/"
    return [
        (
            i.path[len(base) :] if i.path.startswith(base) else i.path,
            None if i.error is None else i.error.code,
        )
        for i in items
    ]


def _touch(path: Path | bytes, data: bytes = b"x") -> None:
    with open(path, "wb") as f:
        f.write(data)


def test_files_and_folders_in_sorted_byte_order(tmp_path: Path) -> None:
    for name in ["b.png", "a.jpg", "B.txt", "_x"]:
        _touch(tmp_path / name)
    (tmp_path / "sub").mkdir()
    _touch(tmp_path / "sub" / "z.wav")
    (tmp_path / "sub" / "deeper").mkdir()
    _touch(tmp_path / "sub" / "deeper" / "c.mp4")
    items = list(iter_inputs([tmp_path]))
    assert _rel(items, tmp_path) == [
        (b"B.txt", None),
        (b"_x", None),
        (b"a.jpg", None),
        (b"b.png", None),
        (b"sub/deeper/c.mp4", None),
        (b"sub/z.wav", None),
    ]
    assert all(i.ok for i in items)
    # Twice the same: the order does not depend on the file system's listing order.
    assert list(iter_inputs([tmp_path])) == items


def test_paths_as_str_bytes_and_pathlike_all_work(tmp_path: Path) -> None:
    _touch(tmp_path / "a")
    for arg in (str(tmp_path / "a"), os.fsencode(tmp_path / "a"), tmp_path / "a"):
        assert list(iter_inputs([arg])) == [Input(os.fsencode(tmp_path / "a"))]


def test_missing_path_is_a_failed_item(tmp_path: Path) -> None:
    (item,) = iter_inputs([tmp_path / "nope.jpg"])
    assert item.error is not None and item.error.code == "unreadable"
    assert "no such file or directory" in item.error.message
    report = item.failed_report()
    assert report.error == item.error.to_dict()
    assert report.path.endswith("nope.jpg")


def test_nul_byte_in_a_name_is_a_failed_item() -> None:
    (item,) = iter_inputs(["bad\0name"])
    assert item.error is not None and item.error.code == "unreadable"


def test_symlink_to_itself_is_a_loop(tmp_path: Path) -> None:
    os.symlink("self", tmp_path / "self")
    _touch(tmp_path / "ok")
    assert _rel(list(iter_inputs([tmp_path])), tmp_path) == [
        (b"ok", None),
        (b"self", "symlink_loop"),
    ]
    (item,) = iter_inputs([tmp_path / "self"])  # named on the command line: the same
    assert item.error is not None and item.error.code == "symlink_loop"


def test_symlink_to_an_ancestor_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    _touch(tmp_path / "a" / "b" / "f")
    os.symlink("../..", tmp_path / "a" / "b" / "up")
    os.symlink(".", tmp_path / "a" / "here")
    assert _rel(list(iter_inputs([tmp_path])), tmp_path) == [
        (b"a/b/f", None),
        (b"a/b/up", "symlink_loop"),
        (b"a/here", "symlink_loop"),
    ]


def test_a_folder_reached_twice_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    _touch(tmp_path / "real" / "f")
    os.symlink("real", tmp_path / "alias")  # sorts first, so it is the path walked
    os.symlink("real", tmp_path / "zlias")
    assert _rel(list(iter_inputs([tmp_path])), tmp_path) == [(b"alias/f", None)]
    # The same folder named twice on the command line is also walked once.
    assert len(list(iter_inputs([tmp_path / "real", tmp_path / "real"]))) == 1


def test_broken_symlink_is_unreadable(tmp_path: Path) -> None:
    os.symlink("missing-target", tmp_path / "dangling")
    (item,) = iter_inputs([tmp_path])
    assert item.error is not None and item.error.code == "unreadable"
    assert "broken symbolic link" in item.error.message
    assert "missing-target" in item.error.message


def test_symlink_to_a_file_is_followed(tmp_path: Path) -> None:
    _touch(tmp_path / "target")
    os.symlink("target", tmp_path / "link")
    assert _rel(list(iter_inputs([tmp_path])), tmp_path) == [(b"link", None), (b"target", None)]


@pytest.mark.timeout(10)  # opening a FIFO would block forever: the walk must only stat it
def test_fifo_and_socket_are_reported_and_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        os.symlink("fifo", tmp_path / "to-fifo")
        items = _rel(list(iter_inputs([tmp_path, tmp_path / "fifo", "/dev/null"])), tmp_path)
    finally:
        sock.close()
    assert items == [
        (b"fifo", "unreadable"),
        (b"sock", "unreadable"),
        (b"to-fifo", "unreadable"),
        (b"fifo", "unreadable"),
        (b"/dev/null", "unreadable"),
    ]
    (fifo,) = iter_inputs([tmp_path / "fifo"])
    assert fifo.error is not None and "FIFO" in fifo.error.message


def test_non_utf8_names_survive_as_bytes(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    raw = os.path.join(root, b"\xff\xfe.png")
    _touch(raw)
    (item,) = iter_inputs([tmp_path])
    assert item.path == raw
    assert item.display.endswith("\\xff\\xfe.png")
    (again,) = iter_inputs([raw])  # given as bytes on the "command line"
    assert again.path == raw


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_unreadable_folder_is_reported_and_the_walk_goes_on(tmp_path: Path) -> None:
    (tmp_path / "closed").mkdir()
    _touch(tmp_path / "closed" / "secret")
    _touch(tmp_path / "open")
    os.chmod(tmp_path / "closed", 0)
    try:
        items = _rel(list(iter_inputs([tmp_path])), tmp_path)
    finally:
        os.chmod(tmp_path / "closed", 0o755)
    assert items == [(b"closed", "unreadable"), (b"open", None)]


def test_unreadable_folder_even_as_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "closed").mkdir()
    _touch(tmp_path / "open")
    real_scandir = os.scandir
    closed = os.fsencode(tmp_path / "closed")

    def scandir(path: bytes) -> os._ScandirIterator[bytes]:  # type: ignore[name-defined]
        if path == closed:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = list(iter_inputs([tmp_path]))
    assert _rel(items, tmp_path) == [(b"closed", "unreadable"), (b"open", None)]
    assert items[0].error is not None and "permission denied" in items[0].error.message


def test_deep_tree_does_not_hit_the_recursion_limit(tmp_path: Path) -> None:
    # Deeper than the (lowered) recursion limit, yet shallow enough for pytest's own cleanup,
    # which removes the tree recursively.
    depth = 400
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(b"d", dir_fd=fd)
            new = os.open(b"d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        os.close(os.open(b"leaf", os.O_WRONLY | os.O_CREAT, dir_fd=fd))
    finally:
        os.close(fd)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        items = list(iter_inputs([tmp_path]))
    finally:
        sys.setrecursionlimit(limit)
    assert len(items) == 1
    assert items[0].ok and items[0].path.endswith(b"/d/leaf")
