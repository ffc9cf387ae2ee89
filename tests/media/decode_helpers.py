"""Media built directly, bypassing open_media: for inputs the decoders must survive on
their own (broken files, settings the boundary itself would refuse)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from synthguard.media import Kind, Media, MediaInfo, StreamInfo
from synthguard.settings import Settings

_KINDS = {
    "jpg": (Kind.IMAGE, "jpeg"),
    "png": (Kind.IMAGE, "png"),
    "webp": (Kind.IMAGE, "webp"),
    "gif": (Kind.IMAGE, "gif"),
    "tiff": (Kind.IMAGE, "tiff"),
    "bmp": (Kind.IMAGE, "bmp"),
    "avif": (Kind.IMAGE, "avif"),
    "heic": (Kind.IMAGE, "heic"),
    "wav": (Kind.AUDIO, "wav"),
    "mp3": (Kind.AUDIO, "mp3"),
    "flac": (Kind.AUDIO, "flac"),
    "ogg": (Kind.AUDIO, "ogg"),
    "opus": (Kind.AUDIO, "opus"),
    "m4a": (Kind.AUDIO, "m4a"),
    "mp4": (Kind.VIDEO, "mp4"),
    "mov": (Kind.VIDEO, "mov"),
    "mkv": (Kind.VIDEO, "mkv"),
    "webm": (Kind.VIDEO, "webm"),
    "avi": (Kind.VIDEO, "avi"),
    "flv": (Kind.VIDEO, "flv"),
    "txt": (Kind.TEXT, "txt"),
    "md": (Kind.TEXT, "md"),
    "pdf": (Kind.TEXT, "pdf"),
    "docx": (Kind.TEXT, "docx"),
}


def build_media(path: Path, settings: Settings | None = None, *, in_memory: bool = False) -> Media:
    """A Media for ``path`` with probe facts filled in here, independent of open_media: the
    decoders are tested on their own, and on bytes as well as paths."""
    settings = settings or Settings()
    kind, fmt = _KINDS[path.suffix.lower().lstrip(".")]
    data = path.read_bytes()
    info = MediaInfo()
    if kind in (Kind.AUDIO, Kind.VIDEO):
        try:
            import av

            with av.open(str(path)) as container:
                streams = tuple(
                    StreamInfo(index=s.index, type=s.type, codec=s.codec_context.name)
                    for s in container.streams
                )
                duration = container.duration / 1_000_000 if container.duration else None
            info = MediaInfo(duration=duration, streams=streams)
        except Exception:  # noqa: BLE001 - no PyAV, or a deliberately broken file
            pass
    return Media(
        name=path.name,
        path=None if in_memory else path,
        data=data if in_memory else None,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        kind=kind,
        format=fmt,
        mime="application/octet-stream",
        info=info,
        settings=settings,
    )
