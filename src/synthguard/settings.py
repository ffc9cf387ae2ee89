"""The one table of settings.

Every tunable of synthguard is a field of :class:`Settings`, with its default and its help text
beside it. The CLI (``--set NAME=VALUE``), the environment (``SYNTHGUARD_NAME``), the service and
the generated reference ``docs/settings.md`` all read this one table; nothing else defines a
default.

Precedence, lowest first: the defaults below, ``SYNTHGUARD_*`` environment variables, explicit
overrides.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthguard.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings", "settings_table"]

ENV_PREFIX = "SYNTHGUARD_"

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def _s(default: Any, help: str, group: str) -> Any:
    return field(default=default, metadata={"help": help, "group": group})


@dataclass(frozen=True)
class Settings:
    """All settings, immutable. Build with :meth:`load` or :meth:`replace`."""

    # -- limits enforced by open_media() before any decoding ---------------------------------
    max_file_bytes: int = _s(2 * GiB, "Largest input accepted, in bytes.", "limits")
    max_pixels: int = _s(
        100_000_000, "Largest image or video frame accepted, in pixels (width x height).", "limits"
    )
    max_duration_s: float = _s(3600.0, "Longest audio or video accepted, in seconds.", "limits")
    max_frames: int = _s(
        90_000,
        "Most video frames accepted (1 hour at 25 fps), counted from the container.",
        "limits",
    )
    max_streams: int = _s(16, "Most streams (tracks) accepted in one container.", "limits")
    max_metadata_bytes: int = _s(
        16 * MiB,
        "Most bytes of metadata (EXIF, XMP, text chunks, tags, boxes outside the media data) "
        "accepted in one file.",
        "limits",
    )
    max_nesting: int = _s(
        32, "Deepest nesting of boxes, elements or chunks accepted in a container.", "limits"
    )
    max_pages: int = _s(5_000, "Most pages accepted in a PDF.", "limits")
    max_text_chars: int = _s(
        20_000_000, "Most characters of text extracted from one document.", "limits"
    )
    max_archive_members: int = _s(
        10_000, "Most members accepted in a ZIP-based document (DOCX).", "limits"
    )
    max_archive_bytes: int = _s(
        512 * MiB, "Most uncompressed bytes accepted in a ZIP-based document (DOCX).", "limits"
    )
    # -- execution ---------------------------------------------------------------------------
    workers: int = _s(
        0, "Worker processes for scanning; 0 = one per CPU core, 1 = in this process.", "execution"
    )
    timeout_s: float = _s(
        120.0, "Wall-clock limit for one file; past it the file is reported as 'timeout'.",
        "execution",
    )
    worker_memory_mb: int = _s(
        4096,
        "Address-space limit of each worker process, in MiB; past it the file is reported as "
        "'out_of_memory'. 0 disables the limit.",
        "execution",
    )
    # -- decoding for analysis ---------------------------------------------------------------
    sample_fps: float = _s(1.0, "Video frames sampled per second for analysis.", "analysis")
    max_sampled_frames: int = _s(
        300, "Most video frames sampled from one file for analysis.", "analysis"
    )
    audio_sample_rate: int = _s(
        16_000, "Sample rate (Hz) audio is resampled to for analysis.", "analysis"
    )
    # -- reports -----------------------------------------------------------------------------
    thumbnail_px: int = _s(
        160, "Longest side of thumbnails and keyframes in the HTML report, in pixels.", "report"
    )
    keyframes: int = _s(6, "Keyframes shown per video in the HTML report.", "report")
    # -- provenance --------------------------------------------------------------------------
    c2pa_trust_anchors: str = _s(
        "",
        "PEM file of the C2PA root certificates to trust; empty trusts none, so a manifest that "
        "validates reads 'untrusted' rather than 'valid'.",
        "provenance",
    )

    # -- policy ------------------------------------------------------------------------------
    policy_file: str = _s(
        "", "YAML policy file (see docs/policy.md); empty uses the shipped default policy.",
        "policy",
    )
    declarations_file: str = _s(
        "",
        "YAML/JSON file of uploader declarations (path or sha256 -> declared_ai, content_id); "
        "empty: none.",
        "policy",
    )
    declared_ai: str = _s(
        "", "Uploader declaration for every input: 'yes' (AI), 'no', or empty (none).", "policy"
    )
    platform_code: str = _s(
        "",
        "The platform's provider code (R-META-9) written as ContentPropagator by --apply.",
        "policy",
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, str):
                if not isinstance(value, str):
                    raise ConfigError(f"setting {f.name} expects text, got {value!r}")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"setting {f.name} expects a number, got {value!r}")
            if value < 0:
                raise ConfigError(f"setting {f.name} expects a value >= 0, got {value!r}")

    @classmethod
    def load(
        cls, overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Defaults, then ``SYNTHGUARD_*`` variables from ``env`` (default ``os.environ``), then
        ``overrides`` (values may be strings, as from the command line)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(cls)}
        for key, raw in env.items():
            if key.startswith(ENV_PREFIX):
                name = key[len(ENV_PREFIX) :].lower()
                if name in names:
                    values[name] = raw
        values.update(overrides or {})
        return cls().replace(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; string values are parsed to the field's type."""
        by_name = {f.name: f for f in dataclasses.fields(self)}
        parsed: dict[str, Any] = {}
        for name, value in changes.items():
            f = by_name.get(name)
            if f is None:
                raise ConfigError(
                    f"unknown setting {name!r}; known settings: {', '.join(sorted(by_name))}"
                )
            parsed[name] = _coerce(name, type(f.default), value)
        return dataclasses.replace(self, **parsed)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(name: str, typ: type, value: Any) -> Any:
    if typ is str:
        return value
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return typ(float(text)) if typ is int and "e" in text.lower() else typ(text)
        except ValueError:
            raise ConfigError(
                f"setting {name} expects {'an integer' if typ is int else 'a number'}, "
                f"got {value!r}"
            ) from None
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typ is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def settings_table() -> list[dict[str, Any]]:
    """Rows ``{name, type, default, group, env, help}`` for docs and ``synthguard settings``."""
    rows = []
    for f in dataclasses.fields(Settings):
        rows.append(
            {
                "name": f.name,
                "type": type(f.default).__name__,
                "default": f.default,
                "group": f.metadata["group"],
                "env": ENV_PREFIX + f.name.upper(),
                "help": f.metadata["help"],
            }
        )
    return rows
