"""Label a file as a generation service must before it leaves the service.

One call runs the steps in the only order that works:

1. the explicit mark (optional; R-EXP-2..6) — it re-encodes the essence, so it comes first;
2. the implicit GB 45438 metadata label, first write (R-META-5), read back (R-IMPL-3);
3. the C2PA manifest (optional) — signed last, because any later metadata write breaks its
   hard binding (R-C2PA-6);
4. verification on the final output: the label read back from the finished file, the mark
   re-measured (R-IMPL-5), the manifest read back.

Intermediate files live in a private temporary folder beside ``dst``; ``dst`` appears only
when every step and check has passed (atomic rename), so a failure never leaves a half-labelled
file behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthguard.errors import LabelWriteError, UsageError
from synthguard.marks import (
    mark_file,
    verify_audio_mark,
    verify_image_mark,
    verify_video_mark,
)
from synthguard.media import Kind, open_media
from synthguard.provenance.aigc import AigcLabel, Verdict, read_aigc, write_label
from synthguard.requirements import EXPLICIT_LABEL_DEFAULTS
from synthguard.settings import Settings

__all__ = ["LabelResult", "label_file"]


@dataclass
class LabelResult:
    """What :func:`label_file` did and what the final checks measured."""

    path: str
    kind: str
    format: str
    label: dict[str, str]
    carrier: str
    mark: dict[str, Any] | None = None
    c2pa: dict[str, Any] | None = None
    checks: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "label": self.label,
            "carrier": self.carrier,
            "mark": self.mark,
            "c2pa": self.c2pa,
            "checks": self.checks,
        }


def label_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    producer: str,
    content_id: str,
    label: str = "1",
    visible: bool = False,
    mark_text: str = EXPLICIT_LABEL_DEFAULTS[0],
    c2pa_cert: str | os.PathLike[str] | None = None,
    c2pa_key: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
) -> LabelResult:
    """Mark (optionally), write the AIGC label, sign (optionally), verify, then publish ``dst``.

    ``producer`` is the provider code (R-META-9) and ``content_id`` the provider's unique id for
    this content (R-META-8); the label is a first write, so the propagation fields mirror them
    (R-META-5). ``c2pa_cert`` (PEM chain, signer first) and ``c2pa_key`` (PEM private key) go
    together.
    """
    settings = settings or Settings.load()
    aigc = AigcLabel.first_write(label, producer, content_id)
    aigc.check_writable()  # refuse a bad label before any work (R-META-4)
    if (c2pa_cert is None) != (c2pa_key is None):
        raise UsageError("C2PA signing needs both a certificate chain and a private key")
    cert_pem = Path(c2pa_cert).read_bytes() if c2pa_cert is not None else None
    key_pem = Path(c2pa_key).read_bytes() if c2pa_key is not None else None
    with open_media(src, settings=settings) as media:
        kind, fmt = media.kind, media.format
    dst_path = Path(dst)
    work = Path(tempfile.mkdtemp(prefix=".synthguard-label-", dir=dst_path.parent or "."))
    try:
        current = Path(src)
        step = 0

        def next_path() -> Path:
            nonlocal step
            step += 1
            return work / f"step{step}{dst_path.suffix or Path(src).suffix}"

        mark: dict[str, Any] | None = None
        if visible:
            out = next_path()
            mark = mark_file(current, out, text=mark_text, settings=settings)
            current = out
        out = next_path()
        written = write_label(current, out, aigc, settings=settings)
        current = out
        c2pa: dict[str, Any] | None = None
        if cert_pem is not None and key_pem is not None:
            from synthguard.provenance.c2pa import sign_c2pa

            out = next_path()
            signed = sign_c2pa(
                current, out, cert_chain_pem=cert_pem, private_key_pem=key_pem,
                aigc_label=aigc, settings=settings,
            )
            c2pa = signed.to_dict()
            current = out
        checks = _verify(current, kind, aigc, visible, mark_text, c2pa is not None, settings)
        os.replace(current, dst_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return LabelResult(
        path=str(dst_path), kind=kind.value, format=fmt, label=aigc.as_dict(),
        carrier=written.carrier, mark=mark, c2pa=c2pa, checks=checks,
    )


def _verify(
    path: Path, kind: Kind, aigc: AigcLabel, visible: bool, text: str, signed: bool,
    settings: Settings,
) -> dict[str, Any]:
    """Re-read the finished file: exactly our label (R-IMPL-3), the mark (R-IMPL-5), C2PA."""
    checks: dict[str, Any] = {}
    with open_media(path, settings=settings) as media:
        result = read_aigc(media)
        if result.verdict is not Verdict.COMPLIANT or result.label != aigc:
            raise LabelWriteError(
                f"expected the finished file to carry exactly the label written, got verdict "
                f"{result.verdict.value} with {len(result.sites)} site(s)"
            )
        checks["aigc"] = result.verdict.value
        if visible and kind is Kind.IMAGE:
            check = verify_image_mark(media.image(), expected_text=text)
            checks["mark"] = check.to_dict()
        if signed:
            from synthguard.provenance.c2pa import read_c2pa

            state = read_c2pa(media).state.value
            checks["c2pa"] = state
            if state == "invalid":
                raise LabelWriteError("expected a C2PA manifest that validates, got 'invalid'")
    if visible and kind is Kind.VIDEO:
        checks["mark"] = verify_video_mark(path, expected_text=text, settings=settings).to_dict()
    elif visible and kind is Kind.AUDIO:
        checks["mark"] = verify_audio_mark(path, settings=settings).to_dict()
    mark_check = checks.get("mark")
    if mark_check is not None and not mark_check.get("passed"):
        raise LabelWriteError(
            "expected the explicit mark to pass its checks on the final output (R-IMPL-5), "
            f"got {mark_check}"
        )
    return checks
