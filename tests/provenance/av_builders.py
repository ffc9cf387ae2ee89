"""Tiny audio/video files made with PyAV for the label-writer tests, and an essence decoder.

Every builder writes a ~1 s file (64x48 video at 10 fps, 8 kHz-48 kHz audio) so the whole
suite stays fast; :func:`decode_all` decodes every video frame and audio sample so a test can
prove that writing a label left the essence untouched.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

av = __import__("pytest").importorskip("av")

W, H, FPS = 64, 48, 10

# format -> (container format name, video codec or None, audio codec or None, muxer options)
SPECS: dict[str, tuple[str, str | None, str | None, dict[str, str]]] = {
    "mp4": ("mp4", "libx264", "aac", {}),
    "mp4-faststart": ("mp4", "libx264", "aac", {"movflags": "faststart"}),
    "mov": ("mov", "mpeg4", "pcm_s16le", {}),
    "m4a": ("ipod", None, "aac", {}),
    "mkv": ("matroska", "mpeg4", "flac", {}),
    "webm": ("webm", "libvpx", "libopus", {}),
    "avi": ("avi", "mpeg4", "mp3", {}),
    "flv": ("flv", "flv", "mp3", {}),
    "wav": ("wav", None, "pcm_s16le", {}),
    "mp3": ("mp3", None, "libmp3lame", {}),
    "flac": ("flac", None, "flac", {}),
    "ogg": ("ogg", None, "vorbis", {}),
    "opus": ("ogg", None, "libopus", {}),
}

SUFFIX = {
    "mp4-faststart": ".mp4", "m4a": ".m4a", "opus": ".opus", "mkv": ".mkv", "webm": ".webm",
}


def build(kind: str, path: Path, *, seconds: float = 1.0, metadata: dict[str, str] | None = None,
          options: dict[str, str] | None = None) -> Path:
    """Encode a tiny synthetic file of ``kind`` (a key of :data:`SPECS`) at ``path``."""
    fmt, vcodec, acodec, opts = SPECS[kind]
    opts = {**opts, **(options or {})}
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format=fmt, options=opts) as out:
        for k, v in (metadata or {}).items():
            out.metadata[k] = v
        vs = as_ = None
        if vcodec:
            vs = out.add_stream(vcodec, rate=FPS)
            vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
            if vcodec == "libx264":
                vs.options = {"preset": "ultrafast"}
        if acodec:
            rate = 48000 if acodec == "libopus" else 44100 if acodec != "pcm_s16le" else 8000
            if acodec == "vorbis":
                as_ = out.add_stream(acodec, rate=rate, options={"strict": "experimental"})
                as_.layout = "stereo"
            else:
                as_ = out.add_stream(acodec, rate=rate)
                as_.layout = "mono"
        if vs is not None:
            for i in range(int(seconds * FPS)):
                img = np.zeros((H, W, 3), np.uint8)
                img[:, :, 0] = (i * 25) % 256
                img[8:24, (i * 4) % W :, 1] = 200
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts = i
                for pkt in vs.encode(frame):
                    out.mux(pkt)
            for pkt in vs.encode():
                out.mux(pkt)
        if as_ is not None:
            rate = as_.codec_context.sample_rate
            fmt_name = as_.codec_context.format.name
            channels = as_.codec_context.layout.nb_channels
            n = int(seconds * rate)
            t = np.arange(n) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(n))
            step = as_.codec_context.frame_size or 1024
            for i, s in enumerate(range(0, n, step)):
                chunk = tone[s : s + step].astype(np.float32)
                arr = _samples(chunk, fmt_name, channels)
                frame = av.AudioFrame.from_ndarray(arr, format=fmt_name, layout=as_.layout.name)
                frame.sample_rate = rate
                frame.pts = s
                frame.time_base = Fraction(1, rate)
                del i
                for pkt in as_.encode(frame):
                    out.mux(pkt)
            for pkt in as_.encode():
                out.mux(pkt)
    return path


def _samples(chunk: np.ndarray, fmt: str, channels: int) -> np.ndarray:
    if fmt.startswith("s16"):
        data = (chunk * 32767).astype(np.int16)
    elif fmt.startswith("s32"):
        data = (chunk * 2**31 * 0.99).astype(np.int32)
    else:
        data = chunk.astype(np.float32)
    if fmt.endswith("p"):
        return np.tile(data, (channels, 1))
    return np.repeat(data, channels).reshape(1, -1)


def decode_all(path: Path) -> list[tuple[str, Any]]:
    """Every decoded video frame (RGB array) and audio frame (sample array), in stream order."""
    out: list[tuple[str, Any]] = []
    with av.open(str(path)) as probe:
        kinds = [s.type for s in probe.streams]
    for index, kind in enumerate(kinds):
        if kind not in ("video", "audio"):
            continue
        with av.open(str(path)) as c:  # a fresh demuxer per stream: FLV cannot seek back
            for frame in c.decode(c.streams[index]):
                if kind == "video":
                    out.append(("v", frame.to_ndarray(format="rgb24")))
                else:
                    out.append(("a", frame.to_ndarray()))
    return out


def same_essence(a: Path, b: Path) -> bool:
    x, y = decode_all(a), decode_all(b)
    return len(x) == len(y) and len(x) > 0 and all(
        k1 == k2 and np.array_equal(v1, v2) for (k1, v1), (k2, v2) in zip(x, y, strict=True)
    )


# -- structure helpers for hand-made variants -----------------------------------------------------


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the ISO BMFF boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos + 8 <= end:
        size, typ = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:
            size = end - pos
        out.append((typ, pos, size))
        pos += size
    return out


def promote_stco_to_co64(data: bytes) -> bytes:
    """Rewrite every ``stco`` as ``co64`` in a faststart file (moov first) and shift the chunk
    offsets by the growth, so the file stays playable: a cheap co64 test vector."""
    top = boxes(data)
    moov = next(b for b in top if b[0] == b"moov")
    assert all(b[1] > moov[1] for b in top if b[0] == b"mdat"), "needs moov before mdat"
    stcos: list[tuple[int, int]] = []

    def walk(start: int, end: int) -> None:
        for typ, off, size in boxes(data, start, end):
            if typ in (b"trak", b"mdia", b"minf", b"stbl"):
                walk(off + 8, off + size)
            elif typ == b"stco":
                stcos.append((off, size))

    walk(moov[1] + 8, moov[1] + moov[2])
    growth = sum(4 * struct.unpack_from(">I", data, off + 12)[0] for off, _ in stcos)

    def rebuild(start: int, end: int) -> bytes:
        body = b""
        for typ, off, size in boxes(data, start, end):
            if typ in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                inner = rebuild(off + 8, off + size)
                body += struct.pack(">I4s", 8 + len(inner), typ) + inner
            elif typ == b"stco":
                (n,) = struct.unpack_from(">I", data, off + 12)
                offs = struct.unpack_from(f">{n}I", data, off + 16)
                moved = struct.pack(f">{n}Q", *(o + growth for o in offs))
                inner = data[off + 8 : off + 16] + moved
                body += struct.pack(">I4s", 8 + len(inner), b"co64") + inner
            else:
                body += data[off : off + size]
        return body

    new_moov = rebuild(moov[1], moov[1] + moov[2])
    assert len(new_moov) == moov[2] + growth
    return data[: moov[1]] + new_moov + data[moov[1] + moov[2] :]
