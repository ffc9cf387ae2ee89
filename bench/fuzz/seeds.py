"""Seed corpora for ``bench/fuzz_labels.py``, made at run time (no binary file is checked in).

Each fuzz target starts from valid files of its format that carry a GB 45438 label, so the
fuzzer begins deep inside the label readers rather than at the magic bytes:

- the demo set of :func:`synthguard.samples.generate_samples`, labelled with
  :func:`synthguard.provenance.aigc.write_label` (and the unlabelled original next to it);
- for images, a 32x24 thumbnail of the demo photo in the same format, labelled too: small
  inputs run many more executions per second and mutate where the metadata is;
- for audio, a 0.2 s clip (:func:`synthguard.samples.make_audio_files`), labelled;
- for ``xmp`` and ``payload``, the packet and the JSON the writers produce;
- for ``c2pa``, the labelled JPEG signed with a throw-away test PKI
  (``tests/provenance/c2pa_pki.py``); its root is written next to the seeds as ``root.pem``.

:func:`build_seeds` writes one directory per target and returns them.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthguard.provenance.aigc import AigcLabel

REPO = Path(__file__).resolve().parents[2]
PKI_MODULE = REPO / "tests" / "provenance" / "c2pa_pki.py"

PRODUCER = "0011" + "91110108MA01ABCD2X" + "1" + "AB12"

# target -> the demo files (by name) its seeds are made from.
SAMPLE_FILES: dict[str, tuple[str, ...]] = {
    "jpeg": ("photo.jpg",),
    "png": ("photo.png",),
    "webp": ("photo.webp",),
    "tiff": ("photo.tiff",),
    "gif": ("animation.gif",),
    "mp4": ("clip.mp4", "clip.mov", "voice.m4a"),
    "mkv": ("clip.mkv", "clip.webm"),
    "wav": ("voice.wav",),
    "avi": ("clip.avi",),
    "mp3": ("voice.mp3",),
    "flac": ("voice.flac",),
    "ogg": ("voice.ogg", "voice.opus"),
    "flv": ("clip.flv",),
    "pdf": ("notes.pdf",),
    "docx": ("notes.docx",),
    "md": ("notes.md",),
    "c2pa": ("photo.jpg",),
}
# Pillow's save() format for the small image seeds.
_THUMB_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "gif": "GIF"}
_SHORT_AUDIO = {"wav": 0, "mp3": 1, "flac": 2}  # index in make_audio_files' wav/mp3/flac cycle

TARGETS: tuple[str, ...] = ("xmp", "payload", *SAMPLE_FILES)


def load_by_path(name: str, path: Path) -> ModuleType:
    """Import a helper module that is not on ``sys.path`` (the test PKI) without editing it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"expected a Python module at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _labels() -> list[AigcLabel]:
    from synthguard.provenance.aigc import AigcLabel

    first = AigcLabel.first_write("1", PRODUCER, "fuzz-0001")
    return [first, first.propagated("0011" + "91310000MA1FL0XY3K" + "2" + "CD34", "pub-42")]


def _labelled(src: Path, dst: Path) -> Path | None:
    from synthguard.errors import SynthguardError
    from synthguard.provenance.aigc import write_label

    try:
        write_label(src, dst, _labels()[0])
    except SynthguardError as exc:  # a seed we cannot make is skipped, not fatal
        print(f"  seed {dst.name}: not labelled ({exc})", file=sys.stderr)
        return None
    return dst


def _thumbnail(photo: Path, fmt: str, dst: Path) -> Path:
    from PIL import Image

    with Image.open(photo) as im:
        small = im.convert("RGB").resize((32, 24))
    if fmt == "GIF":
        small = small.quantize(16)
    small.save(dst, format=fmt)
    return dst


def _media_seeds(target: str, samples: Path, work: Path, out: Path) -> None:
    for name in SAMPLE_FILES[target]:
        src = samples / name
        if not src.exists():
            continue
        shutil.copyfile(src, out / f"plain-{name}")
        _labelled(src, out / f"label-{name}")
    if target in _THUMB_FORMATS:
        ext = SAMPLE_FILES[target][0].rsplit(".", 1)[1]
        photo = samples / ("animation.gif" if target == "gif" else "photo.png")
        thumb = _thumbnail(photo, _THUMB_FORMATS[target], work / f"thumb-{target}.{ext}")
        _labelled(thumb, out / f"label-thumb.{ext}")
    if target in _SHORT_AUDIO:
        clip = _short_audio(work)[_SHORT_AUDIO[target]]
        _labelled(clip, out / f"label-short{clip.suffix}")


_short: list[Path] = []


def _short_audio(work: Path) -> list[Path]:
    from synthguard.samples import make_audio_files

    if not _short:
        _short.extend(make_audio_files(work / "short", 3, seconds=0.2))
    return _short


def _xmp_seeds(out: Path) -> None:
    from synthguard.provenance.aigc._write_xmp import xmp_with_aigc

    for i, label in enumerate(_labels()):
        packet = xmp_with_aigc(None, label.to_json())
        (out / f"packet-{i}.xmp").write_bytes(packet)
        # The writer's update path: an existing packet with the property replaced.
        (out / f"update-{i}.xmp").write_bytes(xmp_with_aigc(packet, label.to_json()))


def _payload_seeds(out: Path) -> None:
    for i, label in enumerate(_labels()):
        (out / f"bare-{i}.json").write_text(label.to_json(), "utf-8")
        (out / f"wrapped-{i}.json").write_text(label.to_json(wrapped=True), "utf-8")
    (out / "number.json").write_bytes(b'{"Label":1,"ContentProducer":"x","ProduceID":"y"}\x00\x00')


def _c2pa_seeds(samples: Path, work: Path, out: Path) -> None:
    from synthguard.provenance.c2pa import sign_c2pa

    pki = load_by_path("c2pa_pki", PKI_MODULE).make_pki("synthguard fuzz")
    labelled = _labelled(samples / "photo.jpg", work / "c2pa-labelled.jpg")
    if labelled is None:
        raise SystemExit("could not label the JPEG the c2pa seed is signed from")
    sign_c2pa(
        labelled, out / "signed.jpg", cert_chain_pem=pki.chain_pem,
        private_key_pem=pki.signer_key_pem, aigc_label=_labels()[0],
    )
    thumb = _thumbnail(samples / "photo.png", "JPEG", work / "c2pa-thumb.jpg")
    small = _labelled(thumb, work / "c2pa-thumb-labelled.jpg")
    if small is not None:
        sign_c2pa(small, out / "signed-thumb.jpg", cert_chain_pem=pki.chain_pem,
                  private_key_pem=pki.signer_key_pem)
    # The trust anchor the fuzz target verifies against (not an input: kept beside the dir).
    (out.parent / "root.pem").write_bytes(pki.root_pem)


def build_seeds(root: Path, targets: Sequence[str]) -> dict[str, Path]:
    """Write the seed corpus of each target into ``root/<target>/seeds`` (emptied first)."""
    from synthguard.samples import generate_samples

    unknown = sorted(set(targets) - set(TARGETS))
    if unknown:
        raise SystemExit(f"unknown fuzz targets {unknown}; expected some of {', '.join(TARGETS)}")
    out_dirs: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="synthguard-fuzz-seeds-") as tmp:
        work = Path(tmp)
        samples = work / "samples"
        if any(t in SAMPLE_FILES for t in targets):
            generate_samples(samples)
        makers: dict[str, Callable[[Path], None]] = {
            "xmp": _xmp_seeds,
            "payload": _payload_seeds,
            "c2pa": lambda out: _c2pa_seeds(samples, work, out),
        }
        for target in targets:
            out = root / target / "seeds"
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            maker = makers.get(target)
            if maker is not None:
                maker(out)
            else:
                _media_seeds(target, samples, work, out)
            if not any(out.iterdir()):
                raise SystemExit(f"no seed could be made for the fuzz target {target}")
            out_dirs[target] = out
    _short.clear()
    return out_dirs


if __name__ == "__main__":
    # Run as a script by bench/fuzz_labels.py, so that generating the seeds (PyAV, Pillow)
    # does not grow the parent whose memory every fuzzing child would inherit (on Linux
    # ru_maxrss survives fork and exec, and libFuzzer reports it as the peak).
    build_seeds(Path(sys.argv[1]), sys.argv[2:])
