"""Where the benchmark scripts write their tables: one section of docs/benchmarks.md each,
between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``, leaving the other sections alone."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
INTRO = (
    "# Benchmarks\n\n"
    "Measured results of the scripts in `bench/`. Each section is rewritten by its script;\n"
    "the command to reproduce it is given in the section.\n"
)


def write_section(name: str, section: str, path: Path = DOCS) -> None:
    """Replace the text between the markers of ``name``, keeping every other section."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{section}{end}\n"
    text = path.read_text("utf-8") if path.exists() else INTRO
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, "utf-8")
