"""Bounded decoding behind the :class:`~synthguard.media.Media` methods.

Pillow decodes images, PyAV (FFmpeg) decodes audio and video, pypdf and a zip + defusedxml
reader extract document text. Every function here works on a ``Media`` that already passed
:func:`~synthguard.media.open_media`, and still trusts nothing: the limits of
:mod:`synthguard.settings` bound what is decoded, and every library exception is turned into a
:class:`~synthguard.errors.DecodeError` (or a :class:`~synthguard.errors.MissingDependencyError`
naming the extra to install), so bad input never surfaces as a traceback.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import math
import threading
import warnings
import zipfile
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from synthguard.errors import (
    DecodeError,
    LimitExceededError,
    MissingDependencyError,
    SynthguardError,
    TooManyPixelsError,
    UsageError,
)
from synthguard.media._probe import register_heif
from synthguard.media._types import AudioClip, VideoFrame

if TYPE_CHECKING:
    from PIL import Image

    from synthguard.media._types import Media

__all__ = ["decode_audio", "decode_image", "extract_text", "sample_frames"]

# Consecutive samples further apart than this are reached by seeking instead of decoding
# everything in between: past ~2 s, decoding from the previous keyframe is cheaper on average.
SEEK_GAP_S = 2.0

# Image.MAX_IMAGE_PIXELS is process-global; the lock keeps two threads with different settings
# from seeing each other's value. Only Image.open() (which checks the header size) runs under it.
_PIXELS_LOCK = threading.Lock()

_HEIF_FORMATS = frozenset({"heic", "heif", "heics", "heifs", "hif"})


def _decode_failed(media: Media, what: str, exc: BaseException) -> DecodeError:
    detail = str(exc).strip() or type(exc).__name__
    return DecodeError(f"could not decode {what} of {media.name!r}: {detail}")


@contextlib.contextmanager
def _decoding(media: Media, what: str) -> Iterator[None]:
    """Every decoder or parser failure becomes a DecodeError; our own errors and MemoryError
    (turned into out_of_memory by the pipeline) pass through unchanged."""
    try:
        yield
    except (SynthguardError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary: no library exception escapes
        raise _decode_failed(media, what, exc) from exc


def _source(media: Media) -> Any:
    """What PyAV opens: the path (lets FFmpeg seek cheaply) or an in-memory stream."""
    if media.path is not None:
        return str(media.path)
    return io.BytesIO(media.read_bytes())


def _import_av(what: str) -> Any:
    try:
        import av
    except ImportError:
        raise MissingDependencyError(what, "video") from None
    return av


# -- images -----------------------------------------------------------------------------------




def _open_image(media: Media, fp: BinaryIO) -> Image.Image:
    """``Image.open`` with the pixel limit taken from the settings, not Pillow's default."""
    from PIL import Image

    limit = max(int(media.settings.max_pixels), 1)
    with _PIXELS_LOCK, warnings.catch_warnings():
        # Pillow warns between 1x and 2x the limit and raises beyond; both mean "too big".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = limit
        try:
            im = Image.open(fp)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise TooManyPixelsError(
                f"expected an image of at most {limit:,} pixels, got {exc}"
            ) from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    width, height = im.size
    if width * height > limit:  # formats whose plugin skips Pillow's own check
        im.close()
        raise TooManyPixelsError(
            f"expected an image of at most {limit:,} pixels, got {width}x{height} "
            f"({width * height:,})"
        )
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    from PIL import Image

    if im.mode == "RGB":
        return im
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        # Flatten onto white: converting straight to RGB turns transparent pixels black (and
        # Pillow warns for palette images whose transparency is given as bytes).
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # High bit depth greyscale: scale to 8 bits instead of clipping everything to white.
        arr = np.asarray(im, dtype=np.float64)
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / top if top > 255.0 else 1.0
        grey = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return im.convert("RGB")


def decode_image(media: Media, *, max_side: int | None) -> Image.Image:
    """Decode ``media`` to an RGB Pillow image.

    The first frame of an animation is used, the EXIF orientation is applied and, when
    ``max_side`` is given, the image is shrunk (never enlarged) so its longest side is at most
    ``max_side``; JPEGs are then decoded at a reduced DCT scale, which is several times faster.
    """
    from PIL import Image, ImageOps

    if max_side is not None and max_side < 1:
        raise UsageError(f"expected max_side >= 1, got {max_side}")
    if media.format.lower() in _HEIF_FORMATS:
        register_heif()
    with _decoding(media, "the image"):
        with media.open() as fp:
            im = _open_image(media, fp)
            with im:
                if getattr(im, "n_frames", 1) > 1:
                    im.seek(0)
                if max_side is not None and im.format == "JPEG":
                    # draft() keeps the result at least this large, thumbnail() finishes the job.
                    im.draft("RGB", (max_side, max_side))
                im.load()
                oriented = ImageOps.exif_transpose(im)
                rgb = _to_rgb(oriented)
                if rgb is im:
                    rgb = im.copy()  # detach from the file before it closes
        if max_side is not None and max(rgb.size) > max_side:
            rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return rgb


# -- video ------------------------------------------------------------------------------------


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int] | None:
    if max_side is None or max(width, height) <= max_side:
        return None
    scale = max_side / float(max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _frame_duration(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(rate)
            if 0.0 < value < 1000.0:
                return 1.0 / value
    return 0.0


def _default_end(media: Media, start: float, end: float | None) -> float:
    limit = start + float(media.settings.max_duration_s)
    if end is not None:
        return min(float(end), limit)
    if media.info.duration is not None:
        return min(float(media.info.duration), limit)
    return limit


def sample_frames(
    media: Media,
    *,
    fps: float | None,
    max_frames: int | None,
    start: float,
    end: float | None,
    max_side: int | None,
) -> Iterator[VideoFrame]:
    """Sample RGB frames of the first video stream at ``fps`` from ``start`` up to (not
    including) ``end`` seconds; ``end`` defaults to the probed duration.

    Targets are ``start + k / fps``; each yields the frame nearest to it (the first frame whose
    presentation time is at least ``target - frame_duration / 2``), never the same frame twice,
    at most ``max_frames`` frames. Targets more than :data:`SEEK_GAP_S` (or more than the observed
    keyframe spacing) apart are reached by seeking back to the keyframe before them and
    decoding forward; closer targets are picked from sequential decoding. Both paths select the
    same frames. Errors surface as :class:`DecodeError` when the iterator is consumed.
    """
    settings = media.settings
    rate = float(settings.sample_fps if fps is None else fps)
    limit = int(settings.max_sampled_frames if max_frames is None else max_frames)
    if not rate > 0.0 or not math.isfinite(rate):
        raise UsageError(f"expected fps > 0, got {fps}")
    if start < 0.0:
        raise UsageError(f"expected start >= 0, got {start}")
    if max_side is not None and max_side < 1:
        raise UsageError(f"expected max_side >= 1, got {max_side}")
    av = _import_av("video decoding")
    stop = _default_end(media, float(start), end)
    return _sample_frames(media, av, rate, limit, float(start), stop, max_side)


def _sample_frames(
    media: Media,
    av: Any,
    rate: float,
    limit: int,
    start: float,
    stop: float,
    max_side: int | None,
) -> Iterator[VideoFrame]:
    if limit <= 0 or start >= stop:
        return
    with _decoding(media, "video frames"):
        with av.open(_source(media), mode="r") as container:
            if not container.streams.video:
                raise DecodeError(f"expected a video stream in {media.name!r}, found none")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            yield from _sample_stream(container, stream, rate, limit, start, stop, max_side)


def _sample_stream(
    container: Any,
    stream: Any,
    rate: float,
    limit: int,
    start: float,
    stop: float,
    max_side: int | None,
) -> Iterator[VideoFrame]:
    time_base: Fraction = stream.time_base or Fraction(1, 1_000_000)
    origin_pts = int(stream.start_time or 0)
    half = _frame_duration(stream) / 2.0
    step = 1.0 / rate
    # Targets are start + k * step for k < n, computed on demand (n may be large).
    n = min(math.floor((stop - start) * rate - 1e-9) + 1, limit)

    state = _Cursor(container, stream, origin_pts, time_base, half)
    emitted = 0
    k = 0
    try:
        while k < n and emitted < limit:
            found = state.advance_to(start + k * step)
            if found is None:
                return  # the stream ended before the target
            frame, t = found
            if t > stop + half:
                return
            size = _scaled_size(frame.width, frame.height, max_side)
            if size is not None:
                frame = frame.reformat(width=size[0], height=size[1], format="rgb24")
            rgb = frame.to_ndarray(format="rgb24")
            yield VideoFrame(index=emitted, time=max(t, 0.0), rgb=rgb)
            emitted += 1
            # Skip every later target this frame already stands for (sampling faster than the
            # stream's own frame rate must not repeat frames).
            k = max(k + 1, math.floor((t + half - start) / step) - 1)
            while k < n and _pick_from(start + k * step, half) <= t:
                k += 1
    finally:
        state.close()


def _pick_from(target: float, half: float) -> float:
    """Earliest presentation time that may stand for ``target``: the frame nearest to it is the
    first one at or after ``target - half a frame`` (the epsilon settles float ties the same
    way on both paths)."""
    return target - half - 1e-6


class _Cursor:
    """A decoding position in one video stream that moves forward, by decoding or by seeking."""

    def __init__(
        self, container: Any, stream: Any, origin_pts: int, time_base: Fraction, half: float
    ) -> None:
        self.container = container
        self.stream = stream
        self.origin_pts = origin_pts
        self.origin = float(origin_pts * time_base)
        self.time_base = time_base
        self.half = half
        self.decoder: Iterator[Any] | None = None
        self.last_time: float | None = None  # time of the last frame pulled
        self.keyframes: list[float] = []  # keyframe times seen, to learn the GOP length
        self.seek_allowed = True
        self.moved = False  # whether the demuxer left the start of the file

    def close(self) -> None:
        if self.decoder is not None:
            self.decoder.close()  # type: ignore[attr-defined]
            self.decoder = None

    def _time(self, frame: Any) -> float:
        if frame.pts is None:
            return self.last_time + 2.0 * self.half if self.last_time is not None else 0.0
        return float(frame.pts * self.time_base) - self.origin

    def _wants_seek(self, target: float) -> bool:
        if not self.seek_allowed:
            return False
        behind = target - (self.last_time if self.last_time is not None else 0.0)
        if behind > SEEK_GAP_S:
            return True
        if self.decoder is not None and len(self.keyframes) >= 2:
            gop = self.keyframes[-1] - self.keyframes[-2]
            return 0.0 < gop < behind
        return False

    def _restart(self, seek_to: float | None) -> None:
        self.close()
        if seek_to is None:
            offset = self.origin_pts
        else:
            offset = self.origin_pts + math.floor(max(seek_to, 0.0) / self.time_base)
        if seek_to is not None or self.moved:
            self.container.seek(offset, stream=self.stream, backward=True, any_frame=False)
        self.moved = True
        self.decoder = iter(self.container.decode(self.stream))
        self.last_time = None

    def advance_to(self, target: float) -> tuple[Any, float] | None:
        """The first frame at or after ``_pick_from(target)``, or None when the stream ends."""
        pick = _pick_from(target, self.half)
        seeked = False
        if self.decoder is None or self._wants_seek(target):
            seeked = self._wants_seek(target)
            self._restart(pick if seeked else None)
        assert self.decoder is not None
        while True:
            frame = next(self.decoder, None)
            if frame is None:
                return None
            t = self._time(frame)
            if seeked:
                seeked = False
                if t - 2.0 * self.half > pick + 1e-3:
                    # The seek landed past the target (an inexact index): the frame before
                    # this one would have been the pick. Decode from the start instead, and
                    # stop seeking in this file; slow, but always the same frames.
                    self.seek_allowed = False
                    self._restart(None)
                    continue
            self.last_time = t
            if frame.key_frame and (not self.keyframes or t > self.keyframes[-1]):
                self.keyframes.append(t)
            if t >= pick:
                return frame, t


# -- audio ------------------------------------------------------------------------------------


def decode_audio(
    media: Media,
    *,
    sample_rate: int | None,
    mono: bool,
    start: float,
    end: float | None,
) -> AudioClip:
    """Decode the first audio stream between ``start`` and ``end`` seconds, resampled to
    ``sample_rate`` Hz as ``float32`` in [-1, 1]: shape ``(n,)`` when ``mono``, otherwise
    ``(channels, n)``. At most ``settings.max_duration_s`` seconds are decoded."""
    settings = media.settings
    rate = int(settings.audio_sample_rate if sample_rate is None else sample_rate)
    if rate <= 0:
        raise UsageError(f"expected sample_rate > 0, got {sample_rate}")
    if start < 0.0:
        raise UsageError(f"expected start >= 0, got {start}")
    if end is not None and end <= start:
        raise UsageError(f"expected end > start, got start={start} and end={end}")
    av = _import_av("audio decoding")
    stop = _default_end(media, float(start), end)
    max_samples = max(1, math.ceil((stop - start) * rate))
    with _decoding(media, "the audio"):
        samples = _decode_audio(media, av, rate, mono, float(start), max_samples)
    return AudioClip(samples=samples, sample_rate=rate, start=float(start))


def _decode_audio(
    media: Media, av: Any, rate: int, mono: bool, start: float, max_samples: int
) -> np.ndarray:
    with av.open(_source(media), mode="r") as container:
        if not container.streams.audio:
            raise DecodeError(f"expected an audio stream in {media.name!r}, found none")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        time_base: Fraction = stream.time_base or Fraction(1, 1_000_000)
        origin_pts = int(stream.start_time or 0)
        origin = float(origin_pts * time_base)
        if start > 0.0:
            container.seek(
                origin_pts + int(start / time_base), stream=stream, backward=True, any_frame=False
            )
        # Planar float output: one row per channel, no interleaving to undo.
        resampler = av.AudioResampler(format="fltp", layout="mono" if mono else None, rate=rate)
        chunks: list[np.ndarray] = []
        have = 0
        skip: int | None = None if start > 0.0 else 0

        def take(frames: list[Any]) -> None:
            nonlocal have
            for out in frames:
                arr = out.to_ndarray()
                chunks.append(arr.reshape(arr.shape[0], -1) if arr.ndim == 2 else arr[None, :])
                have += chunks[-1].shape[1]

        for frame in container.decode(stream):
            if skip is None:
                # After a seek decoding starts at the keyframe before ``start``: drop the lead-in.
                first = float(frame.pts * time_base) - origin if frame.pts is not None else start
                skip = max(0, round((start - first) * rate))
            take(resampler.resample(frame))
            if have >= max_samples + (skip or 0):
                break
        else:
            take(resampler.resample(None))  # flush what the resampler still holds
    if not chunks:
        raise DecodeError(f"expected audio samples in {media.name!r}, decoded none")
    samples = np.concatenate(chunks, axis=1)[:, (skip or 0) : (skip or 0) + max_samples]
    if samples.shape[1] == 0:
        raise DecodeError(f"expected audio after {start:g} s in {media.name!r}, found none")
    samples = np.clip(samples.astype(np.float32, copy=False), -1.0, 1.0)
    return np.ascontiguousarray(samples[0] if mono else samples)


# -- text -------------------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extract_text(media: Media) -> str:
    """The text of a TXT, Markdown, PDF or DOCX document, at most ``settings.max_text_chars``
    characters (longer text is cut, not refused)."""
    with media.open() as fp:
        head = fp.read(8)
    fmt = media.format.lower()
    with _decoding(media, "the text"):
        if fmt == "pdf" or head.startswith(b"%PDF"):
            return _pdf_text(media)
        if fmt == "docx" or head.startswith(b"PK\x03\x04"):
            return _docx_text(media)
        return _plain_text(media)


def _plain_text(media: Media) -> str:
    limit = int(media.settings.max_text_chars)
    with media.open() as fp:
        # At most 4 bytes per character in any supported encoding (+4 for a BOM).
        raw = fp.read(limit * 4 + 4)
    encoding = None
    for bom, name in _BOMS:
        if raw.startswith(bom):
            encoding = name
            break
    if encoding is None:
        try:
            encoding = codecs.lookup(media.info.encoding or "utf-8").name
        except LookupError:
            encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(raw, final=True)[:limit]


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf reports every oddity of a PDF as a warning or a log line; for extraction they are
    noise (and pytest turns warnings into errors)."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _pdf_text(media: Media) -> str:
    try:
        import pypdf
    except ImportError:
        raise MissingDependencyError("PDF text", "text") from None
    settings = media.settings
    limit = int(settings.max_text_chars)
    parts: list[str] = []
    have = 0
    with _quiet_pypdf(), media.open() as fp:
        reader = pypdf.PdfReader(fp, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DecodeError(f"expected a PDF readable without a password, {media.name!r} is not")
        for index, page in enumerate(reader.pages):
            if index >= settings.max_pages:
                break
            text = page.extract_text() or ""
            parts.append(text)
            have += len(text) + 1
            if have >= limit:
                break
    return "\n".join(parts)[:limit]


def _docx_text(media: Media) -> str:
    from defusedxml import ElementTree

    settings = media.settings
    limit = int(settings.max_text_chars)
    with media.open() as fp, zipfile.ZipFile(fp) as archive:
        members = archive.infolist()
        if len(members) > settings.max_archive_members:
            raise LimitExceededError(
                f"expected at most {settings.max_archive_members:,} members in a DOCX, "
                f"got {len(members):,}"
            )
        try:
            info = archive.getinfo("word/document.xml")
        except KeyError:
            raise DecodeError(
                f"expected word/document.xml in the DOCX {media.name!r}, found none"
            ) from None
        cap = int(settings.max_archive_bytes)
        with archive.open(info) as member:
            # Read one byte past the cap: the size in the zip header may lie (zip bombs).
            xml = member.read(cap + 1)
        if len(xml) > cap:
            raise LimitExceededError(
                f"expected word/document.xml of at most {cap:,} bytes uncompressed, got more"
            )
    root = ElementTree.fromstring(xml, forbid_dtd=True)
    paragraphs: list[str] = []
    have = 0
    for para in root.iter(f"{_W}p"):
        pieces: list[str] = []
        for node in para.iter():
            if node.tag == f"{_W}t" and node.text:
                pieces.append(node.text)
            elif node.tag == f"{_W}tab":
                pieces.append("\t")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                pieces.append("\n")
        text = "".join(pieces)
        paragraphs.append(text)
        have += len(text) + 1
        if have >= limit:
            break
    return "\n".join(paragraphs)[:limit]
