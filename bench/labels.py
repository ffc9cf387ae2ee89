"""Read and write time of the GB 45438 metadata label per format, against a plain file copy.

For each format, on files of realistic size (a 12-megapixel photo as JPEG, PNG, WebP and TIFF; a
5-minute song as MP3, WAV, FLAC, Opus and M4A; a 1-minute 1080p H.264 clip as MP4 with the
``moov`` at the end and at the front, MOV, MKV, AVI and FLV; a 50-page PDF, DOCX and Markdown),
it measures in one run:

- ``copy``: :func:`shutil.copyfile` to a new file in the same directory: the floor of any
  writer that produces a new file; ``copy+fsync`` adds the ``fsync`` that ``write_label``
  does before its atomic rename, the fair floor of a write;
- ``read``: :func:`~synthguard.media.open_media` (which hashes the whole file) and
  :func:`~synthguard.provenance.aigc.read_aigc` on a labelled file;
- ``write``: :func:`~synthguard.provenance.aigc.write_label` of a producer's first-write label
  into the unlabelled file, to a new destination;
- ``update``: ``write_label`` of the platform's propagated label onto the labelled file, in place;

each the best of three runs after one untimed warm-up (warm page cache), with the
``rewritten_bytes`` and ``note`` the writer reports. "Reading does not decode" is checked while
reading: counters wrapped around every function of :mod:`synthguard.media._decode` and every
Pillow ``load`` (which is where pixels are decoded), and an untimed profiled pass that counts
PyAV ``decode`` calls (PyAV is compiled, so it cannot be wrapped); the counters are first shown a
real decode, so a 0 means something. For H.264 files the table also gives the slices FFmpeg
decodes inside ``av.open()`` itself (its stream-info probe, out of synthguard's hands).

The 1 GB question: the 1080p clip's packets are remuxed (no encoding) over and over with
increasing timestamps into a ~1 GB MP4 (``moov`` at the end), the same with ``faststart`` and
a ~1 GB MKV, and the same four measurements are taken on them. They need disk (skipped below
8 GB free) and are deleted at the end unless ``--keep``.

Inputs are generated into ``.bench/labels/`` (gitignored) and reused while the generator code
below is unchanged. The script exits 1 if reading decodes anything, if a label does not read
back, or if a write fails, so the smoke test catches each.

    .venv/bin/python bench/labels.py                               # full run, docs/benchmarks.md
    .venv/bin/python bench/labels.py --quick --no-write --no-big   # smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import hashlib
import inspect
import io
import json
import math
import os
import platform
import shutil
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from _docs import DOCS, write_section  # bench/ is on sys.path when a script runs
from PIL import Image

# A sibling script (bench/ is on sys.path when this file runs): its PyAV decode-call profiler
# and H.264 slice counter are reused as they are.
from scan_throughput import count_av_decode_calls, count_h264_slices_decoded

REPO = Path(__file__).resolve().parents[1]
COMMAND = ".venv/bin/python bench/labels.py"
REPEATS = 3
BIG_BYTES = 1_000_000_000
BIG_FREE_BYTES = 8 * 1024**3  # the three big files, a labelled copy, an update copy, a temp file
PRODUCER = "001191440300708461136T1WFUO"
PLATFORM = "PLATFORM91440300MA5G0000"


@dataclass(frozen=True)
class Sizes:
    image: tuple[int, int]
    audio_s: float
    video_s: float
    video: tuple[int, int]
    pages: int


FULL = Sizes(image=(4000, 3000), audio_s=300.0, video_s=60.0, video=(1920, 1080), pages=50)
QUICK = Sizes(image=(1152, 864), audio_s=20.0, video_s=5.0, video=(640, 360), pages=5)

# -- inputs: synthesis -----------------------------------------------------------------------


def _photo(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """Photo-like RGB: a sky gradient, soft light blobs, a textured ground, fine detail and
    sensor noise (the detail is what makes a q90 JPEG of 12 MP weigh ~4 MB, as a camera's
    does)."""
    width, height = size
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    img = np.empty((height, width, 3), np.float32)
    for c, (top, bottom) in enumerate(((70, 200), (120, 210), (200, 230))):
        img[..., c] = top + (bottom - top) * y + 25 * x
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 0.6), rng.uniform(0.05, 0.2)
        blob = np.exp(-((x - cx) ** 2 + ((y - cy) * height / width) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.uniform(-60, 60, 3).astype(np.float32)
    ground = (y > 0.6 + 0.05 * np.sin(9 * x + rng.uniform(0, 6)))[..., None]
    texture = 30 * np.sin(x * width / 7.0) * np.cos(y * height / 5.0)
    img = np.where(ground, np.array([60, 110, 45], np.float32) + texture[..., None], img)
    # Fine detail (foliage, fabric) at two-pixel scale, then sensor noise.
    detail = rng.normal(0.0, 9.0, (height // 2 + 1, width // 2 + 1, 3)).astype(np.float32)
    img += detail.repeat(2, 0).repeat(2, 1)[:height, :width]
    img += rng.normal(0.0, 5.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _music(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Music-like stereo float32 (2, n): chords of harmonic tones changing every 2 s, a beat of
    noise bursts and a little hiss, so lossy encoders work as hard as on a song."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n, dtype=np.float64) / rate
    segment = (t // 2.0).astype(np.int64)
    roots = 110.0 * 2 ** (rng.integers(0, 12, segment[-1] + 1) / 12.0)
    out = np.zeros(n)
    for interval in (0, 4, 7):
        f = roots[segment] * 2 ** (interval / 12.0)
        phase = 2 * math.pi * np.cumsum(f) / rate
        for k in range(1, 5):
            out += np.sin(k * phase) / (k * 3)
    beat = np.exp(-((t % 0.5) * 30.0))
    out += beat * rng.normal(0.0, 0.4, n)
    out = 0.4 * out / np.max(np.abs(out))
    hiss = rng.normal(0.0, 0.003, (2, n))
    return (np.stack([out, np.roll(out, rate // 100)]) + hiss).astype(np.float32)


def _video_planes(size: tuple[int, int], frames: int) -> Iterator[np.ndarray]:
    """I420 planes of a moving scene: a drifting luma ramp, moving grain, a bouncing box and a
    slowly changing tint; cheap enough to synthesise 1,500 1080p frames in seconds."""
    width, height = size
    rng = np.random.default_rng(1)
    grain = rng.integers(-12, 13, (height + 64, width + 64), dtype=np.int16)
    ramp = ((np.arange(width, dtype=np.int16)[None, :] // 8)
            + (np.arange(height, dtype=np.int16)[:, None] // 6)) % 200
    box = height // 5
    for i in range(frames):
        ox, oy = (i * 3) % 64, (i * 2) % 64
        luma = ramp + (i % 50) + grain[oy : oy + height, ox : ox + width]
        px, py = (i * 17) % (width - box), (i * 11) % (height - box)
        luma[py : py + box, px : px + box] = 235
        chroma = np.full((height // 2, width), 128 + (i // 5) % 40 - 20, np.int16)
        yield np.clip(np.concatenate([luma, chroma]), 16, 240).astype(np.uint8)


# -- inputs: encoding and remuxing with PyAV --------------------------------------------------


def _encode_audio(path: Path, codec: str, fmt: str, music: np.ndarray, rate: int,
                  options: dict[str, str] | None = None) -> None:
    import av

    with av.open(str(path), "w", format=fmt) as out:
        out.flags |= av.container.Flags.bitexact.value
        stream: Any = out.add_stream(codec, rate=rate, options=options or {})
        stream.layout = "stereo"
        for offset in range(0, music.shape[1], 1024):
            piece = np.ascontiguousarray(music[:, offset : offset + 1024])
            frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = rate, offset
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _encode_video(path: Path, size: tuple[int, int], seconds: float) -> None:
    """H.264 (x264 ultrafast, crf 23: ~15 Mbit/s on this content, a phone's bitrate) and AAC,
    in an MP4 with the ``moov`` at the end (FFmpeg's default)."""
    import av

    fps, rate = 25, 44_100
    music = _music(seconds, rate, seed=2)
    with av.open(str(path), "w", format="mp4") as out:
        out.flags |= av.container.Flags.bitexact.value
        video: Any = out.add_stream("libx264", rate=fps,
                                    options={"preset": "ultrafast", "crf": "23"})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.codec_context.gop_size = 2 * fps
        audio: Any = out.add_stream("aac", rate=rate, options={"b": "128k"})
        audio.layout = "stereo"
        samples_per_frame = rate // fps
        for i, planes in enumerate(_video_planes(size, round(seconds * fps))):
            picture = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            picture.pts = i
            out.mux(video.encode(picture))
            # Interleave the audio as a recorder would, one video frame's worth at a time.
            at = i * samples_per_frame
            piece = np.ascontiguousarray(music[:, at : at + samples_per_frame])
            sound = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
            sound.sample_rate, sound.pts = rate, at
            out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def remux(src: Path, dst: Path, fmt: str, *, options: dict[str, str] | None = None,
          repeats: int = 1) -> None:
    """Copy the packets of ``src`` into a ``fmt`` container (no re-encoding), ``repeats``
    times in a row with increasing timestamps. H.264 gets Annex B start codes for AVI."""
    import av
    from av.bitstream import BitStreamFilterContext

    with av.open(str(src)) as probe:  # each stream's span, so repeat k starts at k * span
        start: dict[int, int] = {}
        end: dict[int, int] = {}
        for p in probe.demux():
            if p.dts is None:
                continue
            i = p.stream.index
            start[i] = min(start.get(i, p.dts), p.dts)
            end[i] = max(end.get(i, 0), (p.pts or p.dts) + (p.duration or 0))
    with av.open(str(dst), "w", format=fmt, options=options or {}) as out:
        out.flags |= av.container.Flags.bitexact.value
        streams: dict[int, Any] = {}
        for k in range(repeats):
            with av.open(str(src)) as inp:
                filters: dict[int, Any] = {}
                for s in inp.streams:
                    if s.index not in streams:
                        streams[s.index] = out.add_stream_from_template(s)
                    if fmt == "avi" and s.codec_context.name == "h264":
                        filters[s.index] = BitStreamFilterContext("h264_mp4toannexb", s)
                for p in inp.demux():
                    if p.dts is None:
                        continue
                    i = p.stream.index
                    shift = k * (end[i] - start[i])
                    p.pts, p.dts = (p.pts or p.dts) + shift, p.dts + shift
                    for q in filters[i].filter(p) if i in filters else [p]:
                        q.stream = streams[i]
                        out.mux(q)


# -- inputs: documents ------------------------------------------------------------------------

_WORDS = (
    "the label provenance platform content producer metadata file record audit review policy "
    "image audio video document system service user notice section clause article report "
    "requirement implicit explicit marked generated synthetic model output reader writer "
    "identifier propagation storage network archive version format carrier signal value"
).split()


def _sentences(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words = [_WORDS[j] for j in rng.integers(0, len(_WORDS), int(rng.integers(8, 18)))]
        out.append(" ".join(words).capitalize() + ".")
    return out


def _pdf(pages: int, jpeg: bytes, jpeg_size: tuple[int, int]) -> bytes:
    """A text PDF written by hand: one Flate content stream of ~50 lines per page, Helvetica,
    and a photo (DCTDecode) on the first page; a correct xref table."""
    import zlib

    rng = np.random.default_rng(3)
    w, h = jpeg_size
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
           b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n" % (w, h, len(jpeg))
           + jpeg + b"\nendstream",
    }
    kids = []
    for page in range(pages):
        ops = ["BT /F1 10 Tf 56 790 Td 14 TL"]
        line = ""
        for sentence in _sentences(rng, 60):
            for word in sentence.split():
                if len(line) + len(word) > 95:
                    ops.append(f"({line}) Tj T*")
                    line = ""
                line = f"{line} {word}".strip()
        ops.append(f"({line}) Tj ET")
        if page == 0:
            ops.append(f"q 240 0 0 {240 * h // w} 300 40 cm /Im1 Do Q")
        content = zlib.compress("\n".join(ops).encode("latin-1"))
        num = 5 + 2 * page
        kids.append(num)
        objs[num] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
            b"<< /Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >> >> /Contents %d 0 R >>" % (num + 1)
        )
        objs[num + 1] = (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content)
                         + content + b"\nendstream")
    objs[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), pages)
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = out.tell()
        out.write(b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(objs)))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objs) + 1, xref))
    return out.getvalue()


def _docx(pages: int, jpeg: bytes) -> bytes:
    """An OOXML document: ~25 paragraphs a page and a photo in ``word/media``."""
    rng = np.random.default_rng(4)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    body = "".join(f"<w:p><w:r><w:t>{' '.join(_sentences(rng, 3))}</w:t></w:r></w:p>"
                   for _ in range(25 * pages))
    members = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{pkg}/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Default Extension="jpeg" ContentType="image/jpeg"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="'
            f'{pkg}/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" '
            'Target="word/document.xml"/></Relationships>'
        ).encode(),
        "word/_rels/document.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="'
            f'{pkg}/relationships"><Relationship Id="rId1" Type="{rel}/image" '
            'Target="media/image1.jpeg"/></Relationships>'
        ).encode(),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>'
        ).encode(),
        "word/media/image1.jpeg": jpeg,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            stored = name.endswith(".jpeg")  # as Word does: JPEG does not deflate
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out.getvalue()


def _markdown(pages: int) -> bytes:
    rng = np.random.default_rng(5)
    parts = ["# Platform labelling handbook\n"]
    for page in range(pages):
        parts.append(f"\n## Section {page + 1}\n")
        for _ in range(6):
            parts.append("\n" + " ".join(_sentences(rng, 5)) + "\n")
        parts.append("\n- " + "\n- ".join(_sentences(rng, 4)) + "\n")
    return "".join(parts).encode("utf-8")


# -- inputs: the sets, cached -----------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    name: str  # what the table calls it
    path: Path


def make_main_set(directory: Path, sizes: Sizes) -> list[tuple[str, str]]:
    """(table name, file name) of every input, written into ``directory``."""
    made: list[tuple[str, str]] = []
    rgb = Image.fromarray(_photo(sizes.image))
    mp = sizes.image[0] * sizes.image[1] / 1e6
    for fmt, name, params in (
        ("JPEG", "photo.jpg", {"quality": 90}),
        ("PNG", "photo.png", {"compress_level": 6}),
        ("WebP", "photo.webp", {"quality": 85, "method": 4}),
        ("TIFF", "photo.tiff", {}),  # uncompressed, as cameras and scanners write it
    ):
        rgb.save(directory / name, **params)
        made.append((f"{fmt} {mp:.0f} MP", name))
    minutes = f"{sizes.audio_s / 60:g} min" if sizes.audio_s >= 60 else f"{sizes.audio_s:g} s"
    for fmt, name, codec, muxer, rate, options in (
        ("MP3 192k", "song.mp3", "libmp3lame", "mp3", 44_100, {"b": "192k"}),
        ("WAV", "song.wav", "pcm_s16le", "wav", 44_100, {}),
        ("FLAC", "song.flac", "flac", "flac", 44_100, {}),
        ("Opus", "song.opus", "libopus", "ogg", 48_000, {"b": "128k"}),
        ("M4A AAC", "song.m4a", "aac", "ipod", 44_100, {"b": "192k"}),
    ):
        _encode_audio(directory / name, codec, muxer, _music(sizes.audio_s, rate), rate, options)
        made.append((f"{fmt} {minutes}", name))
    clip = f"{sizes.video_s:g} s {sizes.video[1]}p"
    _encode_video(directory / "clip.mp4", sizes.video, sizes.video_s)
    made.append((f"MP4 {clip} (moov at end)", "clip.mp4"))
    for fmt, name, muxer, options in (
        ("MP4 {} (faststart)", "clip-faststart.mp4", "mp4", {"movflags": "faststart"}),
        ("MOV {}", "clip.mov", "mov", {}),
        ("MKV {}", "clip.mkv", "matroska", {}),
        ("AVI {}", "clip.avi", "avi", {}),
        ("FLV {}", "clip.flv", "flv", {}),
    ):
        remux(directory / "clip.mp4", directory / name, muxer, options=options)
        made.append((fmt.format(clip), name))
    small = Image.fromarray(_photo((1200, 900), seed=6))
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=85)
    (directory / "report.pdf").write_bytes(_pdf(sizes.pages, buf.getvalue(), small.size))
    (directory / "report.docx").write_bytes(_docx(sizes.pages, buf.getvalue()))
    (directory / "report.md").write_bytes(_markdown(sizes.pages))
    made += [(f"PDF {sizes.pages} pages", "report.pdf"),
             (f"DOCX {sizes.pages} pages", "report.docx"),
             (f"Markdown {sizes.pages} pages", "report.md")]
    return made


def make_big_set(directory: Path, clip: Path) -> list[tuple[str, str]]:
    """~1 GB files remuxed from ``clip`` (no encoding): MP4 both ways, and MKV."""
    repeats = max(1, round(BIG_BYTES / clip.stat().st_size))
    made = []
    for fmt, name, muxer, options in (
        ("MP4 (moov at end)", "big.mp4", "mp4", {}),
        ("MP4 (faststart)", "big-faststart.mp4", "mp4", {"movflags": "faststart"}),
        ("MKV", "big.mkv", "matroska", {}),
    ):
        remux(clip, directory / name, muxer, options=options, repeats=repeats)
        gb = (directory / name).stat().st_size / 1e9
        made.append((f"{fmt} {gb:.2f} GB, {repeats} min", name))
    return made


_GENERATORS = (_photo, _music, _video_planes, _encode_audio, _encode_video, remux, _sentences,
               _pdf, _docx, _markdown, make_main_set, make_big_set)


def _fingerprint(*extra: object) -> str:
    """Inputs made by other generator code, sizes or PyAV are regenerated, not benchmarked."""
    import av

    digest = hashlib.sha256(repr((extra, av.__version__)).encode())
    for fn in _GENERATORS:
        digest.update(inspect.getsource(fn).encode())
    return digest.hexdigest()[:16]


def cached(directory: Path, key: str, make: Callable[[Path], list[tuple[str, str]]]) -> list[Input]:
    """The inputs of ``directory``, generated once; a stamp marks a complete set."""
    stamp = directory / ".complete"
    if stamp.exists():
        recorded = json.loads(stamp.read_text("utf-8"))
        inputs = [Input(n, directory / f) for n, f in recorded.get("files", [])]
        if recorded.get("key") == key and all(i.path.exists() for i in inputs):
            return inputs
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    start = time.perf_counter()
    made = make(directory)
    print(f"  generated {directory.name} in {time.perf_counter() - start:.0f} s",
          file=sys.stderr, flush=True)
    stamp.write_text(json.dumps({"key": key, "files": made}), "utf-8")
    return [Input(n, directory / f) for n, f in made]


# -- decode counters --------------------------------------------------------------------------


@contextlib.contextmanager
def counting_decodes() -> Iterator[dict[str, int]]:
    """Count calls into synthguard's decoders (every function of ``synthguard.media._decode``)
    and Pillow's pixel decoding (every ``load`` of ``Image.Image`` and its plugin classes)."""
    from PIL import Image as PILImage

    from synthguard.media import _decode

    counts = {"synthguard": 0, "pillow": 0}
    patched: list[tuple[object, str, Any]] = []

    def wrap(owner: object, name: str, key: str) -> None:
        original = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)

        @functools.wraps(original)
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts[key] += 1
            return original(*args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    for name, fn in list(vars(_decode).items()):
        if inspect.isfunction(fn) and fn.__module__ == _decode.__name__:
            wrap(_decode, name, "synthguard")
    PILImage.init()  # register every plugin, so their subclasses exist to be wrapped
    todo, seen = [PILImage.Image], set()
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if "load" in vars(cls):
            wrap(cls, "load", "pillow")
    try:
        yield counts
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def check_counters(image: Path, video: Path) -> None:
    """Show each counter a real decode first: a 0 in the table must mean something."""
    import av

    from synthguard.media import open_media

    with counting_decodes() as counts, open_media(image) as media:
        media.image()
    if not (counts["synthguard"] and counts["pillow"]):
        raise SystemExit(f"the decode counters missed a real image decode: {counts}")

    def one_frame() -> None:
        with av.open(str(video)) as container:
            next(container.decode(video=0))

    if count_av_decode_calls(one_frame) == 0:
        raise SystemExit("the PyAV decode-call counter saw no call while decoding a frame")


# -- measurements -----------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    size: int
    copy_s: float = math.nan
    copy_fsync_s: float = math.nan
    read_s: float = math.nan
    decode_calls: int = -1  # synthguard decoders + Pillow loads + PyAV decode calls
    h264_slices: int | None = None  # decoded by FFmpeg's own probe inside av.open()
    write_s: float = math.nan
    write_rewritten: int = -1
    write_note: str = ""
    update_s: float = math.nan
    update_rewritten: int = -1
    update_note: str = ""
    carrier: str = ""
    error: str = ""


def best_of(run: Callable[[], object], *, setup: Callable[[], object] | None = None,
            warmup: bool = True) -> tuple[float, Any]:
    """The shortest of ``REPEATS`` timed runs of ``run()`` (``setup()`` untimed before each),
    after one untimed warm-up run; and what the last run returned.

    Dirty pages are flushed before each run: a 1 GB copy left by the previous run would
    otherwise be written back during the next one and slow its ``fsync``."""
    best, result = math.inf, None
    for i in range(REPEATS + warmup):
        if setup is not None:
            setup()
        if hasattr(os, "sync"):  # not on Windows
            os.sync()
        start = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            best = min(best, elapsed)
    return best, result


def _unlink(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _copy_fsync(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with open(dst, "rb+") as fh:
        os.fsync(fh.fileno())


def measure(item: Input, work: Path, *, warmup: bool = True) -> Row:
    from synthguard.media import open_media
    from synthguard.provenance.aigc import AigcLabel, Verdict, read_aigc, write_label

    first = AigcLabel.first_write("1", PRODUCER, "bench-0001")
    update = first.propagated(PLATFORM, "share-0002")
    src = item.path
    ext = src.suffix
    row = Row(item.name, src.stat().st_size)
    copy, labelled, updated = work / f"copy{ext}", work / f"labelled{ext}", work / f"update{ext}"
    print(f"  {item.name} ({row.size / 1e6:,.1f} MB)", file=sys.stderr, flush=True)

    def read() -> Any:
        with open_media(labelled) as media:
            return read_aigc(media)

    try:
        row.copy_s, _ = best_of(lambda: shutil.copyfile(src, copy),
                                setup=lambda: _unlink(copy), warmup=warmup)
        row.copy_fsync_s, _ = best_of(lambda: _copy_fsync(src, copy),
                                      setup=lambda: _unlink(copy), warmup=warmup)
        _unlink(copy)
        row.write_s, res = best_of(lambda: write_label(src, labelled, first),
                                   setup=lambda: _unlink(labelled), warmup=warmup)
        row.write_rewritten, row.write_note = res.rewritten_bytes, res.note
        row.carrier = res.carrier
        with counting_decodes() as counts:
            row.read_s, result = best_of(read, warmup=warmup)
        if result.verdict is not Verdict.COMPLIANT or result.label != first:
            raise RuntimeError(f"the written label read back as {result.verdict.value}")
        row.decode_calls = counts["synthguard"] + counts["pillow"] + count_av_decode_calls(read)
        if src.suffix in (".mp4", ".mov", ".mkv", ".avi", ".flv"):
            row.h264_slices = count_h264_slices_decoded(read)
        row.update_s, res = best_of(lambda: write_label(updated, updated, update),
                                    setup=lambda: shutil.copyfile(labelled, updated),
                                    warmup=warmup)
        row.update_rewritten, row.update_note = res.rewritten_bytes, res.note
        with open_media(updated) as media:
            if read_aigc(media).label != update:
                raise RuntimeError("the updated label did not read back")
    except Exception as exc:  # noqa: BLE001 - one failing format is a row, not a traceback
        row.error = f"{type(exc).__name__}: {exc}"
        print(f"    error: {row.error}", file=sys.stderr, flush=True)
    finally:
        _unlink(copy, labelled, updated)
    return row


# -- output -----------------------------------------------------------------------------------


def _size(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}" if n < 10 * scale else f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def _rewrote(n: int, size: int) -> str:
    if n < 0:
        return "n/a"
    share = 100 * n / size
    return f"{_size(n)} ({share:.0f}%)" if share >= 1 else f"{_size(n)} ({share:.2g}%)"


def _ms(s: float) -> str:
    return "n/a" if math.isnan(s) else f"{s * 1e3:,.1f}" if s < 1 else f"{s * 1e3:,.0f}"


def _ratio(s: float, base: float) -> str:
    return "n/a" if math.isnan(s) or not base else f"{s / base:.1f}"


def table(rows: list[Row]) -> list[str]:
    lines = [
        "| file | size | copy ms | copy+fsync ms | read ms | x copy | decode calls "
        "| FFmpeg probe slices | write ms | x copy+fsync | write rewrote | update ms "
        "| x copy+fsync | update rewrote |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        slices = "n/a" if r.h264_slices is None else str(r.h264_slices)
        decode = "n/a" if r.decode_calls < 0 else str(r.decode_calls)
        lines.append(
            f"| {r.name} | {_size(r.size)} | {_ms(r.copy_s)} | {_ms(r.copy_fsync_s)} "
            f"| {_ms(r.read_s)} | {_ratio(r.read_s, r.copy_s)} | {decode} | {slices} "
            f"| {_ms(r.write_s)} | {_ratio(r.write_s, r.copy_fsync_s)} "
            f"| {_rewrote(r.write_rewritten, r.size)} "
            f"| {_ms(r.update_s)} | {_ratio(r.update_s, r.copy_fsync_s)} "
            f"| {_rewrote(r.update_rewritten, r.size)} |"
        )
    return lines


def notes(rows: list[Row]) -> list[str]:
    out = []
    for r in rows:
        if r.error:
            out.append(f"- **{r.name}**: error: {r.error}")
        else:
            out.append(f"- **{r.name}** (`{r.carrier}`): write: {r.write_note or 'no note'}; "
                       f"update: {r.update_note or 'no note'}")
    return out


def render(rows: list[Row], big: list[Row], big_skipped: str, command: str) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        "## Label read and write time per format (GB 45438 metadata)",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.system()} {platform.release()} "
        f"({cpu}, {os.cpu_count()} CPU cores), Python {platform.python_version()}. "
        f"Best of {REPEATS} runs after an untimed warm-up (warm page cache). "
        f"Reproduce with `{command}`.",
        "",
        "- *copy*: `shutil.copyfile` to a new file in the same directory; *copy+fsync* adds the "
        "`fsync` that `write_label` does before its atomic rename (the fair floor of a write, "
        "and the base of the *x copy+fsync* ratios).",
        "- *read*: `open_media` (sniff, walk, probe, and SHA-256 of the whole file) + `read_aigc` "
        "on the labelled file.",
        "- *decode calls*: calls into `synthguard.media._decode`, Pillow `load` and PyAV `decode` "
        "while reading (must be 0). *FFmpeg probe slices*: H.264 slices FFmpeg decodes inside "
        "`av.open()` itself (its stream-info probe decodes the first key frame).",
        "- *write*: `write_label` of a first-write label into the unlabelled file, to a new file; "
        "*update*: `write_label` of the propagated label onto the labelled file, in place. "
        "Both always write a complete new file and rename it (atomic), so they cost at least a "
        "copy; *rewrote* is the writer's `rewritten_bytes`: what an in-place edit would have "
        "to rewrite (new bytes plus bytes that move).",
        "",
        *table(rows),
        "",
        "What each writer reported:",
        "",
        *notes(rows),
        "",
        "### A 1 GB video",
        "",
    ]
    if big:
        lines += [
            "The 1-minute 1080p clip's packets remuxed over and over (no encoding) into one "
            "file; same columns.",
            "",
            *table(big),
            "",
            *notes(big),
        ]
    else:
        lines.append(big_skipped)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 MP image, 20 s audio, 5 s 360p video, 5 pages; no 1 GB case")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    parser.add_argument("--big", action=argparse.BooleanOptionalAction, default=None,
                        help="the ~1 GB video files (default: on, off with --quick)")
    parser.add_argument("--keep", action="store_true", help="keep the ~1 GB files for next time")
    parser.add_argument("--cache", type=Path, default=REPO / ".bench" / "labels",
                        help="where inputs are generated (.bench/labels)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    big_wanted = (not args.quick) if args.big is None else args.big

    print(f"generating inputs into {args.cache} (cached)", file=sys.stderr, flush=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    tag = "quick" if args.quick else "full"
    inputs = cached(args.cache / tag, _fingerprint(sizes),
                    functools.partial(make_main_set, sizes=sizes))
    work = args.cache / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    by_file = {i.path.name: i.path for i in inputs}
    check_counters(by_file["photo.jpg"], by_file["clip.mp4"])

    print("measuring", file=sys.stderr, flush=True)
    rows = [measure(item, work) for item in inputs]

    big_rows: list[Row] = []
    big_dir = args.cache / "big"
    free = shutil.disk_usage(args.cache).free
    skipped = "Not measured in this run (`--no-big`)."
    if big_wanted and free < BIG_FREE_BYTES:
        skipped = (f"Skipped: {free / 1e9:.1f} GB free on the disk of {args.cache}, the 1 GB "
                   f"case needs {BIG_FREE_BYTES / 1e9:.0f} GB.")
        print(f"warning: {skipped}", file=sys.stderr)
    elif big_wanted:
        print("generating the ~1 GB files", file=sys.stderr, flush=True)
        big = cached(big_dir, _fingerprint(sizes, BIG_BYTES),
                     functools.partial(make_big_set, clip=by_file["clip.mp4"]))
        big_rows = [measure(item, work, warmup=False) for item in big]
        if not args.keep:
            shutil.rmtree(big_dir, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)

    command = COMMAND + (" --quick" if args.quick else "") + ("" if big_wanted else " --no-big")
    section = render(rows, big_rows, skipped, command)
    print(section)
    if not args.no_write:
        write_section("labels", section)
        print(f"wrote {DOCS.relative_to(REPO)}", file=sys.stderr)

    problems = [f"{r.name}: {r.error}" for r in rows + big_rows if r.error]
    problems += [f"{r.name}: reading made {r.decode_calls} decode calls (expected 0)"
                 for r in rows + big_rows if r.decode_calls > 0]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
