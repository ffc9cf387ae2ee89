"""Write the AIGC label as an audio tag: MP3 ID3v2 ``TXXX`` (R-FMT-13) and Vorbis comments in
FLAC, Ogg Vorbis and Opus (R-FMT-14).

mutagen edits the tags of a byte copy at the temporary path; it never re-encodes audio. It
reuses the tag's padding when the new tag fits (only the tag is rewritten) and otherwise
rewrites the file after the tag (Ogg: the pages after the comment header, renumbered).

ID3: version 2.4 with a UTF-8 ``TXXX`` frame, or 2.3 (UTF-16) when the file already has a 2.3
tag, so other readers see the version they were given. Every ``TXXX`` whose description is
``AIGC`` in any case or encoding is removed first, so exactly one remains (R-META-6). An ID3v2.2
tag (which readers report as an unsupported variant) is upgraded to 2.4 by mutagen; the note
says so. Vorbis comments: every ``AIGC`` field (keys are case-insensitive) is replaced by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthguard.errors import CorruptMediaError, MissingDependencyError, UnsupportedFormatError
from synthguard.media import Media
from synthguard.provenance.aigc._payload import AigcLabel
from synthguard.provenance.aigc._write_io import changed_span, copy_media
from synthguard.provenance.aigc._writers import WriteInfo
from synthguard.requirements import AIGC_KEY, Carrier

__all__ = ["write"]

_VORBIS_CARRIERS = {
    "flac": Carrier.FLAC_VORBIS_AIGC,
    "ogg": Carrier.OGG_VORBIS_AIGC,
    "opus": Carrier.OPUS_VORBIS_AIGC,
}


def _mutagen() -> Any:
    try:
        import mutagen
    except ImportError as exc:  # pragma: no cover - mutagen ships with the video extra
        raise MissingDependencyError("writing audio tags", "video") from exc
    return mutagen


def write(media: Media, tmp: Path, label: AigcLabel) -> WriteInfo:
    """Write ``label`` into the MP3, FLAC, Ogg Vorbis or Opus ``media`` at ``tmp``."""
    mutagen = _mutagen()
    payload = label.to_json()
    copy_media(media, tmp)
    try:
        if media.format == "mp3":
            carrier, note = Carrier.MP3_ID3_TXXX_AIGC, _write_id3(tmp, payload)
        elif media.format in _VORBIS_CARRIERS:
            carrier, note = _VORBIS_CARRIERS[media.format], _write_vorbis(tmp, payload,
                                                                           media.format)
        else:
            raise UnsupportedFormatError(
                f"expected MP3, FLAC, Ogg Vorbis or Opus, got {media.format}"
            )
    except mutagen.MutagenError as exc:
        raise CorruptMediaError(
            f"expected {media.format} tags that can be rewritten, got an error: {exc}"
        ) from exc
    if media.path is not None:
        rewritten = changed_span(media.path, tmp)
    else:
        rewritten = tmp.stat().st_size
    size = tmp.stat().st_size
    return WriteInfo(
        carrier.value, rewritten,
        f"{note}; rewrote {rewritten:,} bytes, {size - rewritten:,} bytes unchanged",
    )


def _write_id3(tmp: Path, payload: str) -> str:
    from mutagen.id3 import ID3, TXXX, Encoding, ID3NoHeaderError

    try:
        tags = ID3(tmp)
        version = tags.version
    except ID3NoHeaderError:
        tags, version = ID3(), (2, 4, 0)
    v23 = version[:2] == (2, 3)
    removed = 0
    for key in list(tags.keys()):
        frame = tags[key]
        desc = str(getattr(frame, "desc", ""))
        if isinstance(frame, TXXX) and desc.strip("\x00 ").upper() == AIGC_KEY:
            del tags[key]
            removed += 1
    encoding = Encoding.UTF16 if v23 else Encoding.UTF8
    tags.add(TXXX(encoding=encoding, desc=AIGC_KEY, text=[payload]))
    if v23:
        tags.save(tmp, v2_version=3)
        note = "ID3v2.3 TXXX:AIGC (UTF-16)"
    else:
        tags.save(tmp, v2_version=4)
        note = "ID3v2.4 TXXX:AIGC (UTF-8)"
        if version[:2] == (2, 2):
            note += ", upgraded from an ID3v2.2 tag"
    if removed:
        note += f", replaced {removed} existing frame(s)"
    return note


def _write_vorbis(tmp: Path, payload: str, fmt: str) -> str:
    if fmt == "flac":
        from mutagen.flac import FLAC

        audio: Any = FLAC(tmp)
    else:
        from mutagen.oggflac import OggFLAC
        from mutagen.oggopus import OggOpus
        from mutagen.oggspeex import OggSpeex
        from mutagen.oggvorbis import OggVorbis

        audio = _mutagen().File(tmp, options=[OggOpus, OggVorbis, OggFLAC, OggSpeex])
        if audio is None:
            raise UnsupportedFormatError(
                "expected an Ogg Opus, Vorbis, FLAC or Speex stream, got another Ogg codec"
            )
    if audio.tags is None:
        audio.add_tags()
    existing = [k for k in audio.tags.keys() if k.upper() == AIGC_KEY]
    for key in existing:
        del audio.tags[key]
    audio.tags[AIGC_KEY] = [payload]
    audio.save()
    note = "Vorbis comment AIGC"
    if existing:
        note += ", replaced the existing field"
    return note
