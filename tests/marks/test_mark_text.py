"""Explicit labels on text (R-EXP-2)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from synthguard.errors import UnsupportedFormatError, UsageError
from synthguard.marks import mark_text, mark_text_file

DOC = "第一段。\n\nSecond paragraph.\n"
FRONT = "---\ntitle: 报告\ntags: [a, b]\n---\n# Title\n\nBody text.\n"


def test_plain_text_positions() -> None:
    assert mark_text(DOC).startswith("【AI生成】\n\n第一段。")
    assert mark_text(DOC, position="end").endswith("Second paragraph.\n\n【AI生成】\n")
    both = mark_text(DOC, position="both", label="人工智能生成")
    assert both.startswith("【人工智能生成】") and both.rstrip().endswith("【人工智能生成】")
    assert DOC in both


def test_markdown_label_goes_after_front_matter() -> None:
    out = mark_text(FRONT, fmt="md", position="both")
    assert out.startswith("---\ntitle: 报告\ntags: [a, b]\n---\n> **AI生成**\n\n# Title")
    assert out.endswith("Body text.\n\n> **AI生成**\n")
    plain = mark_text("# Title\n", fmt="md")
    assert plain == "> **AI生成**\n\n# Title\n"


def test_toml_front_matter_and_unclosed_block() -> None:
    toml = "+++\ntitle = 'x'\n+++\nBody\n"
    assert mark_text(toml, fmt="md").startswith("+++\ntitle = 'x'\n+++\n> **AI生成**")
    unclosed = "---\nnot front matter\n"
    assert mark_text(unclosed, fmt="md").startswith("> **AI生成**\n\n---")


def test_marking_twice_adds_one_label_and_crlf_is_kept() -> None:
    once = mark_text(FRONT, fmt="md", position="both")
    assert mark_text(once, fmt="md", position="both") == once
    crlf = mark_text("a\r\nb\r\n", position="both")
    assert crlf == "【AI生成】\r\n\r\na\r\nb\r\n\r\n【AI生成】\r\n"


@pytest.mark.parametrize("label", ["AI", "生成", "机器写的"])
def test_label_needs_both_elements(label: str) -> None:
    with pytest.raises(UsageError, match="R-EXP-1"):
        mark_text(DOC, label=label)


def test_bad_options() -> None:
    with pytest.raises(UsageError, match="fmt"):
        mark_text(DOC, fmt="html")
    with pytest.raises(UsageError, match="position"):
        mark_text(DOC, position="middle")


def test_files_keep_encoding_and_bom(tmp_path: Path) -> None:
    src = tmp_path / "in.md"
    src.write_bytes(codecs.BOM_UTF8 + FRONT.encode("utf-8"))
    dst = tmp_path / "out.md"
    assert mark_text_file(src, dst, position="end") == "md"
    data = dst.read_bytes()
    assert data.startswith(codecs.BOM_UTF8 + b"---\ntitle:")
    assert data.decode("utf-8-sig").endswith("> **AI生成**\n")
    txt = tmp_path / "in.txt"
    txt.write_text(DOC, encoding="utf-8")
    mark_text_file(txt, tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8").startswith("【AI生成】")


def test_file_refusals(mark_samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="TXT or Markdown"):
        mark_text_file(mark_samples / "notes.pdf", tmp_path / "o.pdf")
    with pytest.raises(UsageError, match="expected text input"):
        mark_text_file(mark_samples / "photo.png", tmp_path / "o.png")
