"""The hostile corpus: files that try to break the media boundary, built on the fly.

:func:`build_hostile_corpus` writes every file into a folder and returns, per relative name,
what a scan of that folder must report (:class:`Expect`). Nothing here is committed as a binary:
good files are encoded with Pillow / PyAV / the stdlib, and hostile ones are derived from them
(cut in half, renamed) or crafted byte by byte (PNG chunks, MP4 boxes, RIFF headers), so each
case says exactly which lie it tells.

The whole corpus takes well under a second to build and about 3 MB on disk; the "huge"
cases are huge only in what their headers *claim* (60000x60000 pixels, 10 hours, 4 GB,
100,000 frames). The metadata case is the one exception to "tiny": it carries a 2 MiB text
chunk, so the scan must run with :data:`SCAN_SETTINGS` (``max_metadata_bytes`` = 1 MiB) rather
than writing a 20 MB file to exceed the 16 MiB default.
"""

from __future__ import annotations

import io
import os
import random
import struct
import wave
import zlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

__all__ = ["SCAN_SETTINGS", "Expect", "build_hostile_corpus"]

# Settings the scan of this corpus must run with (``--set NAME=VALUE``): lowering the metadata
# limit lets a 2 MiB text chunk stand in for a 20 MB one.
SCAN_SETTINGS: dict[str, str] = {"max_metadata_bytes": "1048576"}

_SEED = 20240611


@dataclass(frozen=True)
class Expect:
    """What the scan must report for one file of the corpus.

    ``code`` is ``"ok"`` for files that must scan (``error`` is null) or the expected
    ``error.code``. The other fields are checked only when set.
    """

    code: str
    note: str
    kind: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    warning: str | None = None  # a warning code that must be present
    path_b64: bool = False  # the name is not UTF-8, so the report must carry path_b64
    optional: bool = False  # the folder walk may legitimately not report it at all

    @property
    def ok(self) -> bool:
        return self.code == "ok"


# -- encoders for the good files -------------------------------------------------------------


def _gradient(width: int, height: int, seed: int) -> np.ndarray:
    """A smooth RGB picture with a little noise: compresses like a photo, not like a flat fill."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [
            x * 255 // max(width - 1, 1),
            y * 255 // max(height - 1, 1),
            (x + y) * 127 // (width + height),
        ],
        axis=-1,
    ).astype(np.int16)
    rgb += rng.integers(-8, 9, size=rgb.shape, dtype=np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _image_bytes(fmt: str, size: tuple[int, int], seed: int, **save: object) -> bytes:
    img = Image.fromarray(_gradient(size[0], size[1], seed))
    if fmt == "PNG-RGBA":
        img = img.convert("RGBA")
        fmt = "PNG"
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def _gif_bytes(size: tuple[int, int], seed: int) -> bytes:
    frames = [Image.fromarray(_gradient(size[0], size[1], seed + i)).convert("P") for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def _tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _wav_bytes(seconds: float, rate: int) -> bytes:
    pcm = (_tone(seconds, rate) * 32767).astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def _encoded_audio(container: str, codec: str, seconds: float, rate: int) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        samples = _tone(seconds, rate)
        # One frame per 1024 samples; PyAV re-buffers to the encoder's own frame size.
        for i, start in enumerate(range(0, len(samples), 1024)):
            chunk = samples[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = rate
            frame.pts = i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _encoded_video(
    container: str,
    vcodec: str,
    acodec: str | None,
    size: tuple[int, int],
    frames: int,
    fps: int = 10,
) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = out.add_stream(acodec, rate=48000, layout="mono") if acodec else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_gradient(size[0], size[1], i), format="rgb24")
            frame.pts = i
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            samples = _tone(frames / fps, 48000)
            for i, start in enumerate(range(0, len(samples), 960)):
                chunk = samples[start : start + 960].reshape(1, -1)
                aframe = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                aframe.sample_rate = 48000
                aframe.pts = i * 960
                for packet in audio.encode(aframe):
                    out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return buf.getvalue()


def _pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with real text and a correct xref table."""
    content = f"BT /F1 18 Tf 20 100 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# -- crafted structures ----------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A structurally valid PNG (correct CRCs) whose IHDR claims ``width`` x ``height`` grey
    pixels, with a tiny IDAT: only a decoder that trusts the header would allocate gigabytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _png_with_text(png: bytes, text_bytes: int) -> bytes:
    """``png`` with a ``text_bytes``-long tEXt chunk inserted right after IHDR (8 + 25 bytes)."""
    head, tail = png[:33], png[33:]
    assert head[12:16] == b"IHDR"
    return head + _png_chunk(b"tEXt", b"Comment\x00" + b"A" * text_bytes) + tail


def _box(kind: bytes, payload: bytes = b"", *, size: int | None = None) -> bytes:
    """An ISO-BMFF box; ``size`` overrides the honest size to make it lie."""
    return struct.pack(">I", 8 + len(payload) if size is None else size) + kind + payload


_FTYP = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")


def _top_level_boxes(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, size, type) of each top-level box of an honest MP4 (one we encoded)."""
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        boxes.append((pos, size, kind))
        pos += size
    return boxes


def _mp4_moov_past_end(mp4: bytes) -> bytes:
    """A real MP4 whose ``moov`` size field points 1 MB past the end of the file."""
    for offset, size, kind in _top_level_boxes(mp4):
        if kind == b"moov":
            lie = struct.pack(">I", size + 1_000_000)
            return mp4[:offset] + lie + mp4[offset + 4 :]
    raise AssertionError("the encoded MP4 has no moov box")


def _mp4_nested(depth: int) -> bytes:
    """``moov`` > ``udta`` > ``udta`` > ... ``depth`` levels: tiny file, deep recursion."""
    inner = _box(b"free")
    for _ in range(depth):
        inner = _box(b"udta", inner)
    return _FTYP + _box(b"moov", inner)


def _mp4_child_overflows_parent() -> bytes:
    """A ``moov`` of 64 bytes whose ``trak`` child claims 4 KB: the file is long enough, so
    this is not truncation but a structure that contradicts itself."""
    trak = _box(b"trak", b"\x00" * 48, size=4096)
    moov = _box(b"moov", trak)
    assert len(moov) == 64
    return _FTYP + moov + _box(b"free", b"\x00" * 8192)


def _wav_claiming(data_bytes: int) -> bytes:
    """A RIFF/WAVE header whose ``data`` chunk (and RIFF size) claim ``data_bytes``, followed
    by one second of real 8 kHz PCM. Not 0xFFFFFFFF, which streaming writers use for
    "unknown length"; this is a definite claim the file cannot honour."""
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    pcm = (_tone(1.0, 8000) * 32767).astype("<i2").tobytes()
    return (
        b"RIFF"
        + struct.pack("<I", 4 + (8 + len(fmt)) + 8 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
        + pcm
    )


def _video_spanning(seconds: int) -> bytes:
    """Two 16x16 frames with a time base of 1 s and timestamps 0 and ``seconds``: the
    container says the video lasts ``seconds`` + 1, in a 5 KB file."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1)
        for pts in (0, seconds):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            frame.pts = pts
            frame.time_base = Fraction(1, 1)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _video_with_frames(frames: int, fps: int) -> bytes:
    """``frames`` 16x16 frames at ``fps`` (100,000 at 1000 fps = 100 s, under the duration
    limit). Encoding 100k frames would take seconds, so one key frame and one static P-frame
    are encoded and the P-frame's packet is muxed again with each new timestamp: MPEG-4
    Part 2 P-frames carry no frame number, so the stream stays decodable (~1.2 MB, ~0.2 s)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = frames  # one key frame, then only P-frames
        packets = []
        for pts in range(2):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            frame.pts = pts
            packets.extend(stream.encode(frame))
        packets.extend(stream.encode(None))
        assert len(packets) == 2 and packets[0].is_keyframe and not packets[1].is_keyframe
        time_base = packets[0].time_base
        key, delta = bytes(packets[0]), bytes(packets[1])
        for i in range(frames):
            packet = av.Packet(key if i == 0 else delta)
            packet.stream = stream
            packet.pts = packet.dts = i
            packet.time_base = time_base
            packet.is_keyframe = i == 0
            out.mux(packet)
    return buf.getvalue()


# -- the corpus ------------------------------------------------------------------------------


def build_hostile_corpus(root: Path) -> dict[str, Expect]:
    """Write the corpus into ``root`` (created if needed) and return the expectations, keyed
    by path relative to ``root`` (``os.fsdecode`` of the raw name for non-UTF-8 names).

    Permission bits do not stop root, so the "unreadable" case is a FIFO (not a regular file)
    in every run and, only where it really cannot be read, also a ``chmod 000`` file.
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(_SEED)
    expect: dict[str, Expect] = {}

    def put(name: str | bytes, data: bytes, exp: Expect) -> None:
        path = os.path.join(os.fsencode(root), os.fsencode(name))
        with open(path, "wb") as fh:
            fh.write(data)
        expect[os.fsdecode(name)] = exp

    # Good files, one or more per format; sizes and rates are checked against the probe.
    jpeg = _image_bytes("JPEG", (64, 48), 1, quality=85)
    png = _image_bytes("PNG", (40, 30), 2)
    mp3 = _encoded_audio("mp3", "libmp3lame", 1.0, 44100)
    mp4 = _encoded_video("mp4", "libx264", "aac", (64, 48), 20)
    put("good.jpg", jpeg, Expect("ok", "baseline JPEG", "image", "jpeg", 64, 48))
    put(
        "good-progressive.jpeg",
        _image_bytes("JPEG", (33, 17), 3, quality=70, progressive=True),
        Expect("ok", "progressive JPEG, odd size", "image", "jpeg", 33, 17),
    )
    put("good.png", png, Expect("ok", "RGB PNG", "image", "png", 40, 30))
    put(
        "good-rgba.png",
        _image_bytes("PNG-RGBA", (24, 24), 4),
        Expect("ok", "RGBA PNG", "image", "png", 24, 24),
    )
    put(
        "good.webp",
        _image_bytes("WEBP", (50, 20), 5, quality=80),
        Expect("ok", "lossy WebP", "image", "webp", 50, 20),
    )
    put("good.gif", _gif_bytes((30, 20), 6), Expect("ok", "animated GIF", "image", "gif", 30, 20))
    put(
        "good.wav",
        _wav_bytes(1.0, 16000),
        Expect("ok", "16-bit PCM WAV", "audio", "wav", sample_rate=16000),
    )
    put("good.mp3", mp3, Expect("ok", "MP3", "audio", "mp3", sample_rate=44100))
    put(
        "good.flac",
        _encoded_audio("flac", "flac", 1.0, 22050),
        Expect("ok", "FLAC", "audio", "flac", sample_rate=22050),
    )
    put("good.mp4", mp4, Expect("ok", "H.264 + AAC MP4", "video", "mp4", 64, 48))
    put(
        "good.webm",
        _encoded_video("webm", "libvpx", "libopus", (48, 32), 10),
        Expect("ok", "VP8 + Opus WebM", "video", "webm", 48, 32),
    )
    put(
        "good.txt",
        "Plain UTF-8 text.\nZweite Zeile, mit Umlauten: äöü. 第三行。\n".encode(),
        Expect("ok", "UTF-8 text", "text", "txt"),
    )
    put(
        "good.md",
        b"# Heading\n\nSome *markdown* with a [link](https://example.invalid).\n\n- item\n",
        Expect("ok", "Markdown", "text", "md"),
    )
    put(
        "good.pdf", _pdf_bytes("Hello from synthguard"), Expect("ok", "one-page PDF", "text", "pdf")
    )

    # Empty and truncated: a valid file cut in half.
    put("empty.jpg", b"", Expect("empty_file", "zero bytes"))
    put("truncated.jpg", jpeg[: len(jpeg) // 2], Expect("truncated", "JPEG cut in half"))
    # Cut inside the entropy-coded scan: every header is intact, only the EOI marker is gone.
    put("truncated-scan.jpg", jpeg[:-100], Expect("truncated", "JPEG cut inside its scan data"))
    put("truncated.png", png[: len(png) // 2], Expect("truncated", "PNG cut in half"))
    put("truncated.mp4", mp4[: len(mp4) // 2], Expect("truncated", "MP4 cut in half"))

    # Random bytes behind a media extension: the content decides, and it is nothing known.
    for name in ("random.jpg", "random.mp4", "random.wav"):
        put(name, rng.randbytes(4096), Expect("unsupported_format", "4 KB of random bytes"))

    # The extension lies but the content is good: scanned as what it really is, with a warning.
    put(
        "png-named.jpg",
        png,
        Expect("ok", "PNG named .jpg", "image", "png", 40, 30, warning="extension_mismatch"),
    )
    put(
        "mp3-named.wav",
        mp3,
        Expect(
            "ok", "MP3 named .wav", "audio", "mp3", sample_rate=44100, warning="extension_mismatch"
        ),
    )

    # Headers that claim more than the limits allow; the files themselves are tiny.
    put(
        "huge-pixels.png",
        _png_claiming(60000, 60000),
        Expect("too_many_pixels", "IHDR claims 60000x60000"),
    )
    put("ten-hours.mp4", _video_spanning(36000), Expect("too_long", "2 frames, 36001 s apart"))
    put(
        "many-frames.mp4",
        _video_with_frames(100_000, 1000),
        Expect("too_many_frames", "100,000 frames at 1000 fps (100 s)"),
    )
    put(
        "claims-4gb.wav",
        _wav_claiming(4_000_000_000),
        Expect("truncated", "data chunk claims 4 GB, holds 16 KB"),
    )

    # Container structures that lie about themselves.
    put(
        "box-past-end.mp4",
        _mp4_moov_past_end(mp4),
        Expect("truncated", "moov size points 1 MB past the end"),
    )
    put(
        "box-size-4.mp4",
        _FTYP + _box(b"free", size=4) + mp4[len(_FTYP) :],
        Expect("corrupt", "a box with size 4 (< 8)"),
    )
    put(
        "box-largesize-0.mp4",
        _FTYP + struct.pack(">I4sQ", 1, b"mdat", 0) + b"\x00" * 64,
        Expect("corrupt", "size 1 then 64-bit size 0"),
    )
    put(
        "box-child-overflow.mp4",
        _mp4_child_overflows_parent(),
        Expect("corrupt", "trak child larger than its moov"),
    )
    put(
        "deep-nesting.mp4",
        _mp4_nested(1000),
        Expect("nesting_too_deep", "udta boxes nested 1000 deep"),
    )
    put(
        "huge-text-chunk.png",
        _png_with_text(png, 2 * 1024 * 1024),
        Expect("metadata_too_large", "2 MiB tEXt chunk (limit set to 1 MiB)"),
    )

    # A name that is not UTF-8 holding a good PNG: scanned, raw name kept in path_b64.
    put(
        b"bad-\xff\xfe.png",
        png,
        Expect("ok", "non-UTF-8 file name", "image", "png", 40, 30, path_b64=True),
    )

    # Symlinks: a self-loop (stat fails with ELOOP) and a folder link to its own ancestor,
    # which a walk that follows links naively would descend forever.
    os.symlink("loop.jpg", root / "loop.jpg")
    expect["loop.jpg"] = Expect("symlink_loop", "symlink to itself")
    (root / "nested").mkdir()
    put("nested/inner.png", png, Expect("ok", "good file in a subfolder", "image", "png", 40, 30))
    os.symlink("..", root / "nested" / "up")
    expect["nested/up"] = Expect(
        "symlink_loop", "folder link to its ancestor (may be skipped)", optional=True
    )

    # Unreadable: a FIFO (opening it for reading would block forever without a writer) and,
    # where permissions mean something, a file nobody may read. Root (more exactly, a process
    # with CAP_DAC_OVERRIDE, as in CI) reads it anyway, so that case is kept only when this
    # process (and the scan, started with the same privileges) really cannot open it.
    os.mkfifo(root / "pipe.mp3")
    expect["pipe.mp3"] = Expect("unreadable", "a FIFO named .mp3")
    locked = root / "locked.jpg"
    put("locked.jpg", jpeg, Expect("unreadable", "chmod 000"))
    locked.chmod(0)
    try:
        locked.open("rb").close()
    except PermissionError:
        pass
    else:
        locked.unlink()
        del expect["locked.jpg"]

    return expect
