"""Fixtures for the decoding tests: the generated sample set opened through open_media."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from decode_helpers import build_media

from synthguard.media import Media, open_media
from synthguard.samples import generate_samples
from synthguard.settings import Settings


@pytest.fixture(scope="session")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate_samples(out)
    return out


@pytest.fixture()
def media_of(samples_dir: Path) -> Iterator[Callable[..., Media]]:
    """Open a sample through the real boundary (open_media), from its path or its bytes; with
    ``raw=True`` build the Media here instead, for settings the boundary itself would refuse."""
    opened: list[Media] = []

    def make(
        name: str,
        settings: Settings | None = None,
        *,
        in_memory: bool = False,
        raw: bool = False,
    ) -> Media:
        path = samples_dir / name
        if raw:
            return build_media(path, settings, in_memory=in_memory)
        source: Path | bytes = path.read_bytes() if in_memory else path
        media = open_media(source, name=name, settings=settings or Settings())
        opened.append(media)
        return media

    yield make
    for media in opened:
        media.close()
