"""Rendering the visible label on video (R-EXP-6, R-EXP-7).

The mark is rendered once (:func:`~synthguard.marks.render_overlay`) and blended into every
frame of the opening ``seconds`` directly in the YUV planes: it is achromatic (white text on a
black plate), so the blend needs no colour matrix and frames keep their colours exactly, marked
or not. Video is re-encoded (H.264, or VP9 for WebM) at the source's size, frame rate and time
base; every audio stream is remuxed packet for packet, never re-encoded.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.errors import DecodeError, SynthguardError, UnsupportedFormatError, UsageError
from synthguard.marks._io import atomic_output, import_av, open_kind
from synthguard.marks._render_image import DEFAULT_TEXT, MarkPlacement, render_overlay
from synthguard.media import Kind
from synthguard.requirements import (
    IMAGE_MARK_POSITIONS,
    VIDEO_MARK_DEFAULT_SECONDS,
    VIDEO_MARK_MIN_SECONDS,
    VIDEO_SHORT_NOTE,
)

if TYPE_CHECKING:
    from synthguard.settings import Settings

__all__ = ["VideoMarkResult", "mark_video_file"]

log = logging.getLogger(__name__)

# Sniffed format -> (muxer, video encoder, encoder options).
_X264 = {"crf": "18", "preset": "fast"}
_VP9 = {"crf": "24", "b": "0", "deadline": "realtime", "cpu-used": "6", "row-mt": "1"}
_OUTPUTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "mp4": ("mp4", "libx264", _X264),
    "mov": ("mov", "libx264", _X264),
    "mkv": ("matroska", "libx264", _X264),
    "webm": ("webm", "libvpx-vp9", _VP9),
}


@dataclass(frozen=True)
class VideoMarkResult:
    """What :func:`mark_video_file` wrote."""

    placement: MarkPlacement
    seconds: float  # the mark is on every frame presented before this time
    frames: int  # frames written
    marked_frames: int
    audio_packets: int  # audio packets copied unchanged
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "placement": self.placement.to_dict(),
            "seconds": self.seconds,
            "frames": self.frames,
            "marked_frames": self.marked_frames,
            "audio_packets": self.audio_packets,
            "notes": list(self.notes),
        }


class _Blender:
    """The mark patch as per-plane alpha and values, blended into yuv420p planes."""

    def __init__(self, patch: np.ndarray, placement: MarkPlacement, full_range: bool) -> None:
        x, y, w, h = placement.box
        alpha = patch[..., 3].astype(np.float32) / 255.0
        grey = patch[..., 0].astype(np.float32)  # achromatic: R = G = B
        lo, hi = (0.0, 255.0) if full_range else (16.0, 235.0)
        luma = lo + grey * (hi - lo) / 255.0
        self.y = (y, y + h, x, x + w)
        self.a_y = alpha
        self.v_y = alpha * luma  # premultiplied
        # Chroma: 2x2 averages of alpha over the (even-aligned) chroma footprint.
        cx0, cy0 = x // 2, y // 2
        cx1, cy1 = (x + w + 1) // 2, (y + h + 1) // 2
        full = np.zeros((2 * (cy1 - cy0), 2 * (cx1 - cx0)), dtype=np.float32)
        full[y - 2 * cy0 : y - 2 * cy0 + h, x - 2 * cx0 : x - 2 * cx0 + w] = alpha
        self.c = (cy0, cy1, cx0, cx1)
        self.a_c = full.reshape(cy1 - cy0, 2, cx1 - cx0, 2).mean(axis=(1, 3))

    def apply(self, planes: list[np.ndarray]) -> None:
        y0, y1, x0, x1 = self.y
        region = planes[0][y0:y1, x0:x1].astype(np.float32)
        planes[0][y0:y1, x0:x1] = np.rint(region * (1.0 - self.a_y) + self.v_y).astype(np.uint8)
        c0, c1, d0, d1 = self.c
        for plane in planes[1:]:
            region = plane[c0:c1, d0:d1].astype(np.float32)
            plane[c0:c1, d0:d1] = np.rint(
                region * (1.0 - self.a_c) + 128.0 * self.a_c
            ).astype(np.uint8)


def _planes(frame: Any) -> list[np.ndarray]:
    """Copies of the three yuv420p planes (without line padding)."""
    out = []
    for i, plane in enumerate(frame.planes):
        width = frame.width if i == 0 else (frame.width + 1) // 2
        height = frame.height if i == 0 else (frame.height + 1) // 2
        arr = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
        out.append(arr[:height, :width].copy())
    return out


def _frame_from(av: Any, planes: list[np.ndarray], like: Any) -> Any:
    frame = av.VideoFrame(like.width, like.height, "yuv420p")
    for plane, arr in zip(frame.planes, planes, strict=True):
        view = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
        view[: arr.shape[0], : arr.shape[1]] = arr
    frame.pts = like.pts
    frame.time_base = like.time_base
    frame.color_range = like.color_range
    frame.colorspace = like.colorspace
    return frame


def mark_video_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    text: str = DEFAULT_TEXT,
    seconds: float | None = None,
    position: str = IMAGE_MARK_POSITIONS[0],
    height_ratio: float | None = None,
    font: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> VideoMarkResult:
    """Mark the opening ``seconds`` of the video at ``src`` (default
    ``VIDEO_MARK_DEFAULT_SECONDS``; R-EXP-6 asks for at least 2 s) and write ``dst`` in the same
    container, atomically. A clip shorter than 2 s is marked throughout and the result carries
    the note ``short_video_lt_2s`` (R-EXP-7). MP4, MOV, MKV and WebM are supported.
    """
    wanted = VIDEO_MARK_DEFAULT_SECONDS if seconds is None else float(seconds)
    if not wanted > 0 or not math.isfinite(wanted):
        raise UsageError(f"expected seconds > 0, got {seconds}")
    if seconds is not None and wanted < VIDEO_MARK_MIN_SECONDS:
        log.warning(
            "marking only %.2f s of video: R-EXP-6 asks for at least %.1f s",
            wanted, VIDEO_MARK_MIN_SECONDS,
        )
    av = import_av("marking video")
    with open_kind(src, Kind.VIDEO, settings) as media:
        fmt = media.format.lower()
        if fmt not in _OUTPUTS:
            raise UnsupportedFormatError(
                f"expected video in {', '.join(sorted(_OUTPUTS))} to mark, got {fmt}"
            )
        if media.path is None:
            raise UsageError("expected a video file on disk to mark")
        duration = media.info.duration
        notes: tuple[str, ...] = ()
        if duration is not None and duration < VIDEO_MARK_MIN_SECONDS:
            notes = (VIDEO_SHORT_NOTE,)
            log.info("%s: %s, marking the whole clip", media.name, VIDEO_SHORT_NOTE)
            wanted = max(wanted, duration + 1.0)
        muxer, codec, options = _OUTPUTS[fmt]
        try:
            with atomic_output(dst) as tmp:
                result = _transcode(
                    av, str(media.path), str(tmp), muxer, codec, options,
                    text=text, seconds=wanted, position=position,
                    height_ratio=height_ratio, font=font,
                )
        except SynthguardError:
            raise
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - every FFmpeg failure becomes a DecodeError
            raise DecodeError(f"could not mark the video {media.name!r}: {exc}") from exc
    placement, frames, marked, packets = result
    return VideoMarkResult(
        placement=placement,
        seconds=wanted if not notes else float(duration or 0.0),
        frames=frames,
        marked_frames=marked,
        audio_packets=packets,
        notes=notes,
    )


def _transcode(
    av: Any,
    src: str,
    dst: str,
    muxer: str,
    codec: str,
    options: dict[str, str],
    *,
    text: str,
    seconds: float,
    position: str,
    height_ratio: float | None,
    font: str | os.PathLike[str] | None,
) -> tuple[MarkPlacement, int, int, int]:
    with av.open(src, mode="r") as inp, av.open(dst, mode="w", format=muxer) as out:
        if not inp.streams.video:
            raise DecodeError("expected a video stream, found none")
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        width, height = vin.codec_context.width, vin.codec_context.height
        if codec == "libx264" and (width % 2 or height % 2):
            raise UnsupportedFormatError(
                f"expected even frame sides for H.264, got {width}x{height}"
            )
        patch, placement = render_overlay(
            (width, height), text=text, position=position, height_ratio=height_ratio, font=font
        )
        rate = vin.average_rate or vin.guessed_rate or vin.base_rate
        vout: Any = out.add_stream(codec, rate=rate, options=dict(options))
        vout.width, vout.height = width, height
        vout.pix_fmt = "yuv420p"
        vout.time_base = vin.time_base
        vout.thread_type = "AUTO"
        audio_in = list(inp.streams.audio)
        audio_out = {s.index: out.add_stream_from_template(s) for s in audio_in}
        tb = vin.time_base
        origin = vin.start_time or 0
        blender: _Blender | None = None
        frames = marked = packets = 0
        for packet in inp.demux(vin, *audio_in):
            if packet.stream.type == "audio":
                if packet.dts is None:
                    continue  # the demuxer's end-of-stream marker
                packet.stream = audio_out[packet.stream.index]
                out.mux(packet)
                packets += 1
                continue
            for frame in packet.decode():
                if frame.format.name != "yuv420p":
                    frame = frame.reformat(format="yuv420p")
                pts = frame.pts if frame.pts is not None else origin
                if float((pts - origin) * tb) < seconds:
                    if blender is None:
                        full = frame.color_range == 2  # AVCOL_RANGE_JPEG
                        blender = _Blender(patch, placement, full)
                    planes = _planes(frame)
                    blender.apply(planes)
                    frame = _frame_from(av, planes, frame)
                    marked += 1
                frame.pict_type = av.video.frame.PictureType.NONE
                out.mux(vout.encode(frame))
                frames += 1
        out.mux(vout.encode(None))
    return placement, frames, marked, packets
