"""synthguard's own demo media: small, deterministic files in every format it reads.

:func:`generate_samples` writes one file per supported format (``photo.jpg``, ``voice.mp3``,
``clip.mp4``, ``notes.md`` ...) for demos, docs and tests; :func:`make_jpegs`,
:func:`make_audio_files` and :func:`make_videos` write many small files quickly for tests and
benchmarks. Everything is synthesised with numpy, Pillow and PyAV (no downloads, no fixtures
checked in) and is the same for the same seed.

Nothing here is imported by the scanning path; PyAV is needed for audio and video files.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from synthguard.errors import MissingDependencyError

__all__ = ["generate_samples", "make_audio_files", "make_jpegs", "make_videos"]

_VIDEO_FPS = 25
_VIDEO_SIZE = (320, 240)
_VIDEO_SECONDS = 3.2
_AUDIO_SECONDS = 2.0

# -- synthesis --------------------------------------------------------------------------------


def _rng(seed: int, *salt: int) -> np.random.Generator:
    return np.random.default_rng([seed, *salt])


def _scene(size: tuple[int, int], seed: int, t: float = 0.0) -> np.ndarray:
    """A photo-like RGB scene: sky gradient, a sun, rolling hills and a little sensor noise.

    ``t`` (seconds) moves the sun and the light, so frames of a video differ."""
    width, height = size
    rng = _rng(seed, 1)
    top = rng.uniform(40, 120, 3)
    bottom = rng.uniform(150, 250, 3)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    shift = 0.15 * math.sin(t * 0.9)
    img = top + (bottom - top) * np.clip(y + shift * x, 0.0, 1.0)
    img = np.broadcast_to(img, (height, width, 3)).copy()
    # The sun: a soft disc on a slow arc.
    cx = (0.2 + 0.6 * ((rng.uniform() + t * 0.12) % 1.0)) * width
    cy = (0.25 + 0.1 * math.cos(t)) * height
    r = 0.09 * min(width, height) + 4
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    disc = np.clip(1.0 - (np.hypot(xx - cx, yy - cy) - r) / 3.0, 0.0, 1.0)[..., None]
    img = img * (1 - disc) + np.array([255.0, 230.0, 120.0]) * disc
    # Hills: two sine ridges in greens.
    for k, level in enumerate((0.62, 0.75)):
        phase = rng.uniform(0, 2 * math.pi)
        ridge = level * height + 0.06 * height * np.sin(np.linspace(0, 3 + k, width) + phase)
        mask = (yy > ridge[None, :])[..., None]
        green = (
            np.array([40.0 + 30 * k, 110.0 + 40 * k, 50.0]) * (0.8 + 0.4 * (yy / height))[..., None]
        )
        img = np.where(mask, green, img)
    img += rng.normal(0.0, 3.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, TypeError):  # Pillow without FreeType: the bitmap font has no sizes
        return ImageFont.load_default()


def _video_frames(
    size: tuple[int, int], seconds: float, seed: int, fps: int = _VIDEO_FPS
) -> Iterator[np.ndarray]:
    """A moving scene: a shifting gradient, a bouncing square and a frame counter, so every
    frame (and every keyframe) differs."""
    width, height = size
    rng = _rng(seed, 2)
    base = rng.uniform(30, 220, (2, 3)).astype(np.float32)
    # The gradient as indices into a 256-colour ramp: a shift per frame is then an integer add
    # and a lookup, several times cheaper than blending floats for every pixel.
    steps = 255
    ramp = (base[0] + (base[1] - base[0]) * np.linspace(0.0, 1.0, steps + 1)[:, None]).astype(
        np.uint8
    )
    x = np.linspace(0.0, 0.5, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 0.5, height, dtype=np.float32)[:, None]
    index = np.rint((x + y) * steps).astype(np.int16)
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    box = max(8, min(width, height) // 5)
    vx, vy = rng.uniform(60, 120, 2)
    font = _font(max(10, height // 10))
    for i in range(round(seconds * fps)):
        t = i / fps
        shift = round(0.25 * steps * math.sin(2 * math.pi * t / 3.0))
        frame = ramp[np.clip(index + shift, 0, steps)]
        # Bounce inside the frame: triangle waves on both axes.
        px = int(abs(((vx * t) % (2 * (width - box))) - (width - box)))
        py = int(abs(((vy * t) % (2 * (height - box))) - (height - box)))
        frame[py : py + box, px : px + box] = colour
        im = Image.fromarray(frame)
        ImageDraw.Draw(im).text(
            (6, 4), f"frame {i:04d}  t={t:5.2f}s", fill=(255, 255, 255), font=font
        )
        yield np.asarray(im)


def _voice(seconds: float, rate: int, seed: int) -> np.ndarray:
    """A voice-like signal: a harmonic tone with a pitch contour, syllable-like amplitude
    envelope and a little breath noise; mono float32 in [-1, 1]."""
    rng = _rng(seed, 3)
    n = max(1, round(seconds * rate))
    t = np.arange(n, dtype=np.float64) / rate
    f0_base = rng.uniform(100.0, 220.0)
    f0 = f0_base * (
        1.0 + 0.12 * np.sin(2 * math.pi * 0.7 * t + rng.uniform(0, 6)) - 0.05 * t / seconds
    )
    phase = 2 * math.pi * np.cumsum(f0) / rate
    # Harmonics shaped by two broad "formants" so it sounds vowel-like rather than buzzy.
    f1, f2 = rng.uniform(500, 800), rng.uniform(1100, 1800)
    signal = np.zeros(n)
    for k in range(1, 16):
        fk = k * f0_base
        if fk > rate / 2 - 200:
            break
        gain = np.exp(-(((fk - f1) / 250.0) ** 2)) + 0.6 * np.exp(-(((fk - f2) / 300.0) ** 2))
        signal += (0.25 / k + gain) * np.sin(k * phase)
    syllables = 0.5 * (1 - np.cos(2 * math.pi * rng.uniform(3.0, 5.0) * t))
    fade = np.minimum(1.0, np.minimum(t, seconds - t) / 0.05)
    signal = signal * syllables * np.clip(fade, 0.0, 1.0)
    signal += rng.normal(0.0, 0.01, n)
    peak = float(np.max(np.abs(signal))) or 1.0
    return (0.7 * signal / peak).astype(np.float32)


# -- encoding with PyAV -----------------------------------------------------------------------


def _yuv420p(rgb: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) to the stacked I420 planes PyAV takes, shape (H * 3 / 2, W).

    Done in numpy once per frame and shared by every container: swscale per frame and per
    container was most of the time spent writing the sample set."""
    height, width, _ = rgb.shape
    height, width = height & ~1, width & ~1  # 4:2:0 needs even sides
    f = rgb[:height, :width].astype(np.float32)
    # BT.601 limited range, what the encoders assume for untagged yuv420p.
    y = 16.0 + f @ np.array([0.257, 0.504, 0.098], dtype=np.float32)
    # Chroma is linear in RGB: average 2x2 blocks first, then convert a quarter of the pixels.
    q = 0.25 * (f[0::2, 0::2] + f[1::2, 0::2] + f[0::2, 1::2] + f[1::2, 1::2])
    u = 128.0 + q @ np.array([-0.148, -0.291, 0.439], dtype=np.float32)
    v = 128.0 + q @ np.array([0.439, -0.368, -0.071], dtype=np.float32)
    chroma = np.concatenate([u.reshape(-1), v.reshape(-1)]).reshape(height // 2, width)
    out = np.concatenate([y, chroma])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass
class _VideoTrack:
    codec: str
    frames: Iterable[np.ndarray]  # I420 planes from _yuv420p
    size: tuple[int, int]
    fps: int = _VIDEO_FPS
    pix_fmt: str = "yuv420p"
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class _AudioTrack:
    codec: str
    samples: np.ndarray  # mono float32
    rate: int
    options: dict[str, str] = field(default_factory=dict)

    @property
    def layout(self) -> str:
        # FFmpeg's own Vorbis encoder only writes stereo; the second channel is a quieter copy.
        return "stereo" if self.codec == "vorbis" else "mono"

    def planes(self) -> np.ndarray:
        mono = self.samples[None, :]
        return np.concatenate([mono, 0.8 * mono]) if self.layout == "stereo" else mono


def _write_av(
    path: Path,
    *,
    video: _VideoTrack | None = None,
    audio: _AudioTrack | None = None,
    format: str | None = None,
) -> Path:
    """Encode one file with PyAV: an optional video track and an optional audio track."""
    try:
        import av as _av
    except ImportError:
        raise MissingDependencyError("writing audio and video samples", "video") from None
    av: Any = _av  # PyAV's stubs type streams as a union; this helper knows which it made
    with av.open(str(path), mode="w", format=format) as container:
        # Bitexact: no random segment UIDs or encoder timestamps, so a seed gives one file.
        container.flags |= av.container.Flags.bitexact.value
        vstream: Any = None
        astream: Any = None
        if video is not None:
            vstream = container.add_stream(video.codec, rate=video.fps, options=video.options)
            vstream.width, vstream.height = video.size
            vstream.pix_fmt = video.pix_fmt
            vstream.codec_context.gop_size = video.fps  # a keyframe a second: seeking has work
        if audio is not None:
            astream = container.add_stream(audio.codec, rate=audio.rate, options=audio.options)
            astream.layout = audio.layout
        if video is not None:
            for i, yuv in enumerate(video.frames):
                picture = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                picture.pts = i
                container.mux(vstream.encode(picture))
            container.mux(vstream.encode(None))
        if audio is not None:
            chunk = 1024
            planes = np.ascontiguousarray(audio.planes(), dtype=np.float32)
            for offset in range(0, planes.shape[1], chunk):
                piece = np.ascontiguousarray(planes[:, offset : offset + chunk])
                sound = av.AudioFrame.from_ndarray(piece, format="fltp", layout=audio.layout)
                sound.sample_rate = audio.rate
                sound.pts = offset
                container.mux(astream.encode(sound))
            container.mux(astream.encode(None))
    return path


# Vorbis in FFmpeg is its own (experimental) encoder; libopus needs 48 kHz or a divisor of it.
_VORBIS = {"strict": "experimental"}
# x264's lookahead (mb-tree) made the bytes vary between runs in one process (after libvpx had
# run, or with frame threads); without it, and on one thread, a seed gives one file.
_X264 = {
    "preset": "veryfast",
    "crf": "30",
    "threads": "1",
    "x264-params": "mbtree=0:rc-lookahead=0",
}
_VP9 = {"deadline": "realtime", "cpu-used": "8", "crf": "40", "b": "0"}


def _audio_file(path: Path, samples: np.ndarray, rate: int) -> Path:
    ext = path.suffix.lower()
    codec, fmt, options = {
        ".wav": ("pcm_s16le", "wav", {}),
        ".mp3": ("libmp3lame", "mp3", {}),
        ".flac": ("flac", "flac", {}),
        ".ogg": ("vorbis", "ogg", _VORBIS),
        ".opus": ("libopus", "opus", {}),
        ".m4a": ("aac", "ipod", {}),
    }[ext]
    return _write_av(path, audio=_AudioTrack(codec, samples, rate, dict(options)), format=fmt)


# Containers of the sample set: (file name, muxer, video codec, options, audio codec, rate).
_VIDEO_SET: tuple[tuple[str, str, str, dict[str, str], str | None, int], ...] = (
    ("clip.mp4", "mp4", "libx264", _X264, "aac", 44_100),
    ("clip.mov", "mov", "libx264", _X264, "aac", 44_100),
    ("clip.mkv", "matroska", "libx264", _X264, "vorbis", 44_100),
    ("clip.webm", "webm", "libvpx-vp9", _VP9, "libopus", 48_000),
    ("clip.avi", "avi", "mpeg4", {"qscale": "8"}, "libmp3lame", 44_100),
    ("clip.flv", "flv", "flv", {"qscale": "8"}, "libmp3lame", 22_050),
)


# -- documents --------------------------------------------------------------------------------


def _text_lines(seed: int) -> list[str]:
    rng = _rng(seed, 4)
    number = int(rng.integers(1000, 9999))
    return [
        "synthguard sample notes",
        f"This document was written by the synthguard sample generator (seed {seed}).",
        "It contains plain words about labels, provenance and detection.",
        f"Reference number {number}.",
    ]


def _pdf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF with Helvetica text, written by hand with a correct xref table."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "16 TL"]
    for line in lines:
        ops.append(f"({_pdf_escape(line)}) Tj T*")
    ops.append("ET")
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n" % (len(objects) + 1))
    out.write(b"0000000000 65535 f \n")  # every entry is exactly 20 bytes
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _docx_bytes(lines: list[str]) -> bytes:
    """A minimal valid OOXML word document: content types, package relationship, body."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = "".join(f"<w:p><w:r><w:t>{_xml_escape(line)}</w:t></w:r></w:p>" for line in lines)
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/>'
            "</Relationships>"
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<w:document xmlns:w="{w}"><w:body>{paragraphs}</w:body></w:document>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            # A fixed timestamp keeps the archive identical from run to run.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return out.getvalue()


# -- the sample set ---------------------------------------------------------------------------


def _images(out_dir: Path, suffix: str, seed: int) -> list[Path]:
    rgb = _scene((320, 240), seed)
    photo = Image.fromarray(rgb)
    paths: list[Path] = []

    def save(name: str, im: Image.Image, **params: Any) -> None:
        stem, ext = name.rsplit(".", 1)
        path = out_dir / f"{stem}{suffix}.{ext}"
        im.save(path, **params)
        paths.append(path)

    save("photo.jpg", photo, quality=85)
    save("photo.png", photo, optimize=False, compress_level=6)
    save("photo.webp", photo, quality=80, method=4)
    save("photo.tiff", photo, compression="tiff_adobe_deflate")
    save("photo.bmp", photo)
    save("photo.avif", photo, quality=60, speed=10)
    frames = [
        Image.fromarray(_scene((160, 120), seed, t=0.5 * i)).quantize(64, dither=Image.Dither.NONE)
        for i in range(6)
    ]
    save("animation.gif", frames[0], save_all=True, append_images=frames[1:], duration=120, loop=0)
    try:
        import pillow_heif
    except ImportError:  # HEIC is an optional extra: the set simply has no .heic then
        pass
    else:
        path = out_dir / f"photo{suffix}.heic"
        pillow_heif.from_pillow(photo).save(path, quality=60)
        paths.append(path)
    return paths


def _audio(out_dir: Path, suffix: str, seed: int) -> list[Path]:
    paths = []
    for ext, rate in (
        ("wav", 22_050),
        ("mp3", 22_050),
        ("flac", 22_050),
        ("ogg", 22_050),
        ("opus", 48_000),
        ("m4a", 24_000),
    ):
        samples = _voice(_AUDIO_SECONDS, rate, seed)
        paths.append(_audio_file(out_dir / f"voice{suffix}.{ext}", samples, rate))
    return paths


def _videos(out_dir: Path, suffix: str, seed: int) -> list[Path]:
    # Synthesised and converted once, shared by all six containers.
    frames = [_yuv420p(rgb) for rgb in _video_frames(_VIDEO_SIZE, _VIDEO_SECONDS, seed)]
    paths = []
    for name, fmt, vcodec, voptions, acodec, rate in _VIDEO_SET:
        stem, ext = name.rsplit(".", 1)
        audio = None
        if acodec is not None:
            options = _VORBIS if acodec == "vorbis" else {}
            audio = _AudioTrack(acodec, _voice(_VIDEO_SECONDS, rate, seed), rate, dict(options))
        video = _VideoTrack(vcodec, frames, _VIDEO_SIZE, options=dict(voptions))
        paths.append(
            _write_av(out_dir / f"{stem}{suffix}.{ext}", video=video, audio=audio, format=fmt)
        )
    return paths


def _texts(out_dir: Path, suffix: str, seed: int) -> list[Path]:
    lines = _text_lines(seed)
    body = "\n".join(lines) + "\n"
    files = {
        f"notes{suffix}.txt": body.encode("utf-8"),
        f"notes{suffix}.md": (
            f"---\ntitle: synthguard sample notes\nseed: {seed}\ntags: [demo, sample]\n---\n\n"
            f"# {lines[0]}\n\n" + "\n\n".join(lines[1:]) + "\n\n- one\n- two\n"
        ).encode("utf-8"),
        f"notes{suffix}.pdf": _pdf_bytes(lines),
        f"notes{suffix}.docx": _docx_bytes(lines),
    }
    paths = []
    for name, data in files.items():
        path = out_dir / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def generate_samples(out_dir: Path, *, count: int = 1, seed: int = 0) -> list[Path]:
    """Write the demo set into ``out_dir`` (created if needed) and return the paths written.

    One set holds an image per image format (JPEG, PNG, WebP, animated GIF, TIFF, BMP, AVIF and
    HEIC when ``pillow-heif`` is installed), a 2 s voice-like sound in WAV, MP3, FLAC, Ogg
    Vorbis, Opus and M4A (AAC), a 3.2 s 320x240 25 fps clip in MP4, MOV, MKV, WebM, AVI and
    FLV (each with an audio track), and a text in TXT, Markdown (with front matter), PDF and
    DOCX. ``count`` sets are written; set ``i`` uses seed ``seed + i`` and, after the first,
    names such as ``photo-2.jpg``. The same seed gives the same content.
    """
    if count < 1:
        raise ValueError(f"expected count >= 1, got {count}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for i in range(count):
        suffix = "" if i == 0 else f"-{i + 1}"
        for part in (_images, _audio, _videos, _texts):
            paths.extend(part(out_dir, suffix, seed + i))
    return paths


# -- many small files, for tests and benchmarks -----------------------------------------------


def _fast_picture(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    width, height = size
    corners = rng.uniform(0, 255, (2, 2, 3)).astype(np.float32)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    top = corners[0, 0] + (corners[0, 1] - corners[0, 0]) * x
    bottom = corners[1, 0] + (corners[1, 1] - corners[1, 0]) * x
    img = (top + (bottom - top) * y).astype(np.uint8)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = (
            int(rng.integers(width // 10, width // 3)),
            int(rng.integers(height // 10, height // 3)),
        )
        img[y0 : y0 + h, x0 : x0 + w] = rng.integers(0, 256, 3, dtype=np.uint8)
    return img


def make_jpegs(
    out_dir: Path, n: int, *, size: tuple[int, int] = (640, 480), seed: int = 0
) -> list[Path]:
    """Write ``n`` distinct small JPEGs (gradient and rectangles) named ``image-0000.jpg`` ..."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = out_dir / f"image-{i:04d}.jpg"
        Image.fromarray(_fast_picture(size, _rng(seed, 10, i))).save(path, quality=85)
        paths.append(path)
    return paths


def make_audio_files(out_dir: Path, n: int, *, seconds: float = 5.0, seed: int = 0) -> list[Path]:
    """Write ``n`` voice-like mono clips of ``seconds`` seconds at 22.05 kHz, cycling through
    WAV, MP3 and FLAC, named ``audio-0000.wav``, ``audio-0001.mp3`` ..."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    rate = 22_050
    for i in range(n):
        ext = ("wav", "mp3", "flac")[i % 3]
        samples = _voice(seconds, rate, seed * 100_003 + i)
        paths.append(_audio_file(out_dir / f"audio-{i:04d}.{ext}", samples, rate))
    return paths


def make_videos(
    out_dir: Path,
    n: int,
    *,
    seconds: float = 3.0,
    size: tuple[int, int] = (320, 240),
    seed: int = 0,
) -> list[Path]:
    """Write ``n`` H.264 + AAC MP4 clips of ``seconds`` seconds at 25 fps (a keyframe a
    second), named ``video-0000.mp4`` ..."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        s = seed * 100_003 + i
        frames = (_yuv420p(rgb) for rgb in _video_frames(size, seconds, s))
        video = _VideoTrack("libx264", frames, (size[0] & ~1, size[1] & ~1), options=dict(_X264))
        audio = _AudioTrack("aac", _voice(seconds, 44_100, s), 44_100)
        paths.append(
            _write_av(out_dir / f"video-{i:04d}.mp4", video=video, audio=audio, format="mp4")
        )
    return paths
