"""The value types that leave the media boundary: :class:`Media` and its probe facts."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from PIL import Image

    from synthguard.settings import Settings


class Kind(StrEnum):
    """The four kinds of content the regulations name for files (R-SCOPE-3)."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    TEXT = "text"


@dataclass(frozen=True)
class StreamInfo:
    """One stream (track) of a container, as probed without decoding."""

    index: int
    type: str  # "video" | "audio" | "subtitle" | "data" | "attachment"
    codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    bit_rate: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: value
            for f in fields(self)
            if (value := getattr(self, f.name)) is not None
        }


@dataclass(frozen=True)
class MediaInfo:
    """Probe facts: what the headers say, checked against the limits, nothing decoded.

    Fields that do not apply to a kind stay ``None`` and are left out of :meth:`to_dict`.
    """

    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds
    frames: int | None = None  # video frames (container count, or estimate)
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    codecs: tuple[str, ...] = ()
    streams: tuple[StreamInfo, ...] = ()
    pages: int | None = None  # PDF pages, GIF/WebP/TIFF image frames
    animated: bool | None = None
    mode: str | None = None  # image colour mode (Pillow's name)
    bit_rate: int | None = None
    encoding: str | None = None  # text encoding
    chars: int | None = None  # text length, where known without extraction
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Hand-written rather than dataclasses.asdict: asdict deep-copies every value, and this
        # runs once per scanned file on the hot path.
        out: dict[str, Any] = {}
        for key in _INFO_SCALARS:
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.codecs:
            out["codecs"] = list(self.codecs)
        if self.streams:
            out["streams"] = [s.to_dict() for s in self.streams]
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @property
    def has_audio(self) -> bool:
        return any(s.type == "audio" for s in self.streams)

    @property
    def has_video(self) -> bool:
        return any(s.type == "video" for s in self.streams)


_INFO_SCALARS = tuple(
    f.name for f in fields(MediaInfo) if f.name not in ("codecs", "streams", "extra")
)


@dataclass(frozen=True)
class VideoFrame:
    """One decoded video frame: RGB ``uint8`` array of shape (H, W, 3)."""

    index: int  # position in the sampled sequence
    time: float  # presentation time, seconds from the start
    rgb: np.ndarray


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: ``float32`` samples in [-1, 1], shape (n,) mono or (channels, n)."""

    samples: np.ndarray
    sample_rate: int
    start: float = 0.0  # seconds from the start of the source

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / float(self.sample_rate)


@dataclass(frozen=True)
class MetaBlock:
    """Where one metadata block lies in the file, recorded by the structural walk (no bytes are
    copied): label readers read just these ranges instead of walking the container again.

    ``carrier`` names the kind of block; ``offset``/``length`` give its payload (after any
    signature or header the name implies) in the file; ``info`` holds small facts the walk
    already knew (a chunk id, a marker). Names, by family:

    * JPEG: ``jpeg.xmp`` (APP1 XMP, after the namespace signature), ``jpeg.xmp.extended``,
      ``jpeg.exif`` (APP1, from the TIFF header), ``jpeg.app`` (other APPn, ``marker``),
      ``jpeg.com``; ``aigc`` = ``"1"`` when an APPn/COM segment holds the bytes ``AIGC``;
    * PNG ``png.text`` / ``png.ztxt`` / ``png.itxt`` / ``png.exif``; WebP ``webp.xmp`` /
      ``webp.exif``; GIF ``gif.app`` (``app``: the 11-byte identifier; the range runs from the
      first data sub-block to the terminator) and ``gif.comment``; TIFF ``tiff.xmp``,
      ``tiff.imagedescription`` and ``tiff.exif.usercomment`` (the tag's value);
    * ISO BMFF: ``bmff.meta`` (a ``meta`` box in ``moov``/``udta``/``trak``, from its first
      child box; ``path``), ``heif.meta`` (the top-level image ``meta``), ``bmff.udta.aigc``,
      ``bmff.uuid.xmp`` (after the UUID), ``bmff.xmp`` (QuickTime ``XMP_``);
    * Matroska ``mkv.simpletag``; RIFF ``wav.chunk`` (``id``) and ``avi.info`` (``id``);
    * ``id3`` (a whole ID3v2 tag, header included), ``flac.vorbis``, ``ogg.comment`` (one block
      per page the comment packet spans, in order; ``serial``, ``codec``), ``flv.script``;
    * ``pdf.info`` (``info``: the /Info entries whose key holds AIGC, as key/value pairs) and
      ``pdf.xmp`` (the catalogue has an XMP /Metadata stream; no byte range), ``docx.custom``
      (``member``; the range is the whole file), ``md.frontmatter`` (the lines between the
      leading ``---`` fences).
    """

    carrier: str
    offset: int
    length: int
    info: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str = "") -> str:
        """The ``info`` value named ``key``."""
        for name, value in self.info:
            if name == key:
                return value
        return default


@dataclass(frozen=True)
class Notice:
    """A non-fatal observation made at the boundary (e.g. the extension disagrees)."""

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class Media:
    """Content that passed :func:`synthguard.media.open_media`: sniffed, hashed, probed and
    within limits. Everything after the boundary receives a ``Media``.

    Decoding is lazy and bounded: :meth:`image`, :meth:`frames`, :meth:`audio` and
    :meth:`text` decode on demand (PyAV / Pillow) within the same limits.
    """

    def __init__(
        self,
        *,
        name: str,
        path: Path | None,
        data: bytes | None,
        sha256: str,
        size: int,
        kind: Kind,
        format: str,
        mime: str,
        info: MediaInfo,
        settings: Settings,
        warnings: tuple[Notice, ...] = (),
        metadata: tuple[MetaBlock, ...] = (),
    ) -> None:
        if (path is None) == (data is None):
            raise ValueError("Media needs exactly one of path or data")
        self.name = name
        self.path = path
        self._data = data
        self.sha256 = sha256
        self.size = size
        self.kind = kind
        self.format = format
        self.mime = mime
        self.info = info
        self.settings = settings
        self.warnings = warnings
        self.metadata = metadata
        """Where the metadata blocks are, in file order (:class:`MetaBlock`)."""
        self._cleanup: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"<Media {self.kind}/{self.format} {self.name!r} {self.size} B {self.sha256[:12]}>"

    def close(self) -> None:
        """Release what the boundary holds (spooled copies of streams); idempotent."""
        cleanup = getattr(self, "_cleanup", None)
        if cleanup is not None:
            self._cleanup = None
            cleanup()

    def __enter__(self) -> Media:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- raw bytes ----------------------------------------------------------------------------
    def open(self) -> BinaryIO:
        """A fresh binary handle on the content (the caller closes it)."""
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self.path is not None
        return open(self.path, "rb")

    def read_range(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end of the content): one metadata
        block, read without touching the rest of the file."""
        offset, length = max(0, offset), max(0, length)
        if self._data is not None:
            return self._data[offset : offset + length]
        assert self.path is not None
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)

    def read_bytes(self) -> bytes:
        if self._data is not None:
            return self._data
        assert self.path is not None
        return self.path.read_bytes()

    # -- decoding (implemented in synthguard.media._decode) ------------------------------------
    def image(self, *, max_side: int | None = None) -> Image.Image:
        """The image (first frame of an animation) as an RGB Pillow image, optionally
        downscaled so its longest side is at most ``max_side``."""
        from synthguard.media import _decode

        return _decode.decode_image(self, max_side=max_side)

    def frames(
        self,
        *,
        fps: float | None = None,
        max_frames: int | None = None,
        start: float = 0.0,
        end: float | None = None,
        max_side: int | None = None,
    ) -> Iterator[VideoFrame]:
        """Sample video frames at ``fps`` (default ``settings.sample_fps``) between ``start``
        and ``end`` seconds, seeking when samples are far apart; at most ``max_frames``
        (default ``settings.max_sampled_frames``)."""
        from synthguard.media import _decode

        return _decode.sample_frames(
            self, fps=fps, max_frames=max_frames, start=start, end=end, max_side=max_side
        )

    def audio(
        self,
        *,
        sample_rate: int | None = None,
        mono: bool = True,
        start: float = 0.0,
        end: float | None = None,
    ) -> AudioClip:
        """The first audio stream decoded and resampled to ``sample_rate`` (default
        ``settings.audio_sample_rate``); works for audio files and the audio track of videos."""
        from synthguard.media import _decode

        return _decode.decode_audio(self, sample_rate=sample_rate, mono=mono, start=start, end=end)

    def text(self) -> str:
        """The document's text (TXT, Markdown, PDF, DOCX), bounded by ``max_text_chars``."""
        from synthguard.media import _decode

        return _decode.extract_text(self)
