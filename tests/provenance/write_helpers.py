"""Shared pieces of the label-writer tests: labels, the read-back, exiftool's TC260 config."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from synthguard.media import open_media
from synthguard.provenance.aigc import AigcLabel, AigcResult
from synthguard.provenance.aigc._read import read_aigc

PRODUCER = "001191440300708461136T1WFUO"
PLATFORM = "001191110108MA00XXXXXX2V001"
LABEL = AigcLabel.first_write("1", PRODUCER, "img-01J9Z8K2Q4")
PROPAGATED = LABEL.propagated(PLATFORM, "vid-7731902")
READER = "synthguard.provenance.aigc._read"


def read(path: Path) -> AigcResult:
    """The label read back by the independent reader, as the framework does (R-IMPL-3)."""
    with open_media(path) as media:
        return read_aigc(media)


# exiftool knows no TC260 namespace: this user-defined table teaches it XMP-TC260:AIGC.
EXIFTOOL_CONFIG = """\
%Image::ExifTool::UserDefined = (
    'Image::ExifTool::XMP::Main' => {
        TC260 => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::TC260' } },
    },
);
%Image::ExifTool::UserDefined::TC260 = (
    GROUPS => { 0 => 'XMP', 1 => 'XMP-TC260', 2 => 'Image' },
    NAMESPACE => { 'TC260' => 'http://www.tc260.org.cn/ns/AIGC/1.0/' },
    WRITABLE => 'string',
    AIGC => { },
);
1;
"""


def exiftool_aigc(path: Path, tmp_path: Path) -> str | None:
    """``XMP-TC260:AIGC`` as exiftool reads it (None when absent)."""
    exiftool = shutil.which("exiftool")
    assert exiftool is not None
    config = tmp_path / "tc260.config"
    config.write_text(EXIFTOOL_CONFIG)
    done = subprocess.run(
        [exiftool, "-config", str(config), "-j", "-XMP-TC260:AIGC", str(path)],
        capture_output=True, check=True, timeout=60,
    )
    record = json.loads(done.stdout)[0]
    value = record.get("AIGC")
    return None if value is None else str(value)
