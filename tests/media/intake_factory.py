"""Tiny valid media of every supported format, made on the fly for the intake tests.

Everything is synthesised with numpy, Pillow, pillow-heif, PyAV, pypdf and zipfile (no
fixtures on disk, no downloads). :func:`samples` is cached, so the whole set is built once per
test session (about a second).
"""

from __future__ import annotations

import functools
import io
import struct
import wave
import zipfile
import zlib
from fractions import Fraction

import av
import numpy as np
from PIL import Image

SIZE = (64, 48)
VIDEO_SIZE = (32, 32)
RATE = 16_000


def picture(width: int = SIZE[0], height: int = SIZE[1], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 4 % 256, y * 5 % 256, (x + y) * 3 % 256], axis=-1).astype(np.int16)
    rgb += rng.integers(-6, 7, size=rgb.shape, dtype=np.int16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def image_bytes(fmt: str, **save: object) -> bytes:
    img = Image.fromarray(picture())
    buf = io.BytesIO()
    if fmt == "GIF":
        frames = [Image.fromarray(picture(seed=i)).convert("P") for i in range(3)]
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    elif fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
        img.save(buf, format="HEIF", quality=60)
    else:
        img.save(buf, format=fmt, **save)  # type: ignore[arg-type]
    return buf.getvalue()


def tone(seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return (0.3 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def wav_bytes(seconds: float = 0.5, rate: int = RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((tone(seconds, rate) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def audio_bytes(container: str, codec: str, rate: int, seconds: float = 0.5) -> bytes:
    # FFmpeg's own Vorbis encoder is experimental and stereo-only.
    layout = "stereo" if codec == "vorbis" else "mono"
    channels = 2 if codec == "vorbis" else 1
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        samples = tone(seconds, rate)
        for i, start in enumerate(range(0, len(samples), 1024)):
            chunk = np.tile(samples[start : start + 1024], (channels, 1))
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.pts = i * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def video_bytes(
    container: str,
    vcodec: str,
    acodec: str | None = None,
    *,
    frames: int = 10,
    fps: int = 10,
    pix_fmt: str = "yuv420p",
) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        video = out.add_stream(vcodec, rate=fps)
        video.width, video.height = VIDEO_SIZE
        video.pix_fmt = pix_fmt
        audio = out.add_stream(acodec, rate=48000, layout="mono") if acodec else None
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(*VIDEO_SIZE, seed=i), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            samples = tone(frames / fps, 48000)
            for i, start in enumerate(range(0, len(samples), 960)):
                aframe = av.AudioFrame.from_ndarray(
                    samples[start : start + 960].reshape(1, -1), format="flt", layout="mono"
                )
                aframe.sample_rate = 48000
                aframe.pts = i * 960
                for packet in audio.encode(aframe):
                    out.mux(packet)
            for packet in audio.encode(None):
                out.mux(packet)
    return buf.getvalue()


def pdf_bytes(pages: int = 2) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=100)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    b"</Types>"
)
_DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats'
    b'.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body>'
    b"</w:document>"
)
_APP = (
    b'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org'
    b'/officeDocument/2006/extended-properties"><Pages>3</Pages><Words>42</Words></Properties>'
)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "word/document.xml": _DOCUMENT,
            "docProps/app.xml": _APP,
        }
    )


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def box(kind: bytes, payload: bytes = b"", *, size: int | None = None) -> bytes:
    return struct.pack(">I", 8 + len(payload) if size is None else size) + kind + payload


@functools.cache
def samples() -> dict[str, bytes]:
    """One small valid file per format, keyed by a file name with the usual extension."""
    return {
        "image.jpg": image_bytes("JPEG", quality=85),
        "image.png": image_bytes("PNG"),
        "image.webp": image_bytes("WEBP", quality=80),
        "image.gif": image_bytes("GIF"),
        "image.tiff": image_bytes("TIFF"),
        "image.bmp": image_bytes("BMP"),
        "image.avif": image_bytes("AVIF", quality=60),
        "image.heic": image_bytes("HEIF"),
        "audio.wav": wav_bytes(),
        "audio.mp3": audio_bytes("mp3", "libmp3lame", 44100),
        "audio.flac": audio_bytes("flac", "flac", 22050),
        "audio.ogg": audio_bytes("ogg", "vorbis", 44100),
        "audio.opus": audio_bytes("ogg", "libopus", 48000),
        "audio.m4a": audio_bytes("ipod", "aac", 44100),
        "audio-only.mp4": audio_bytes("mp4", "aac", 44100),
        "audio.aac": audio_bytes("adts", "aac", 44100),
        "video.mp4": video_bytes("mp4", "libx264", "aac"),
        "video.mov": video_bytes("mov", "mpeg4"),
        "video.mkv": video_bytes("matroska", "libx264", "libopus"),
        "video.webm": video_bytes("webm", "libvpx", "libopus"),
        "video.avi": video_bytes("avi", "mpeg4"),
        "video.flv": video_bytes("flv", "flv"),
        "audio-only.webm": audio_bytes("webm", "libopus", 48000),
        "text.txt": "Plain UTF-8 text.\nZweite Zeile: äöü. 第三行。\n".encode(),
        "notes.md": b"# Heading\n\nSome *markdown*.\n",
        "front.txt": b"---\ntitle: x\n---\n\nbody\n",
        "doc.pdf": pdf_bytes(2),
        "doc.docx": docx_bytes(),
    }
