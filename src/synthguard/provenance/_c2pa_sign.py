"""Signing C2PA manifests offline (producer) and re-signing after a propagation write (platform).

Order matters (R-C2PA-6): a manifest's hard binding hashes the file bytes, so the GB 45438
metadata label must be written *before* signing. The orchestrator calls
:func:`synthguard.provenance.aigc.write_label` first, then :func:`sign_c2pa`. A platform that
adds propagation fields to an already signed file breaks the manifest; it then calls
:func:`resign_c2pa`, which signs a new manifest whose parent ingredient is the original.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard._version import __version__
from synthguard.errors import (
    LabelWriteError,
    MissingDependencyError,
    SynthguardError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.media import open_media
from synthguard.provenance._c2pa_read import (
    SUPPORTED_FORMATS,
    C2paResult,
    C2paState,
    c2pa_invalidated_by_propagation,
    load_c2pa,
    make_context,
    offline_settings,
    read_c2pa,
)
from synthguard.requirements import (
    C2PA_ACTION_CREATED,
    C2PA_ACTION_EDITED,
    C2PA_ACTION_OPENED,
    C2PA_AI_SOURCE_TYPES,
    C2PA_AIGC_ASSERTION,
    C2PA_INVALIDATED_BY_PROPAGATION,
    IPTC_DIGITAL_SOURCE_TYPE_PREFIX,
)

if TYPE_CHECKING:
    from synthguard.media import Media
    from synthguard.provenance.aigc import AigcLabel
    from synthguard.settings import Settings

Source = str | os.PathLike[str] | bytes

TRAINED_ALGORITHMIC_MEDIA = IPTC_DIGITAL_SOURCE_TYPE_PREFIX + "trainedAlgorithmicMedia"
DEFAULT_CLAIM_GENERATOR = f"synthguard/{__version__}"


@dataclass(frozen=True)
class SignResult:
    """What :func:`sign_c2pa` / :func:`resign_c2pa` wrote, as read back from the new file."""

    path: Path
    format: str
    action: str
    digital_source_type: str | None
    manifest: C2paResult  # the read-back of the written file (R-IMPL-3)
    aigc_assertion: bool
    parent_manifest: str | None = None  # resign: the original manifest kept as parent
    invalidated_by_propagation: dict[str, Any] | None = None  # resign: R-C2PA-6 record

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "action": self.action,
            "digital_source_type": self.digital_source_type,
            "aigc_assertion": self.aigc_assertion,
            "parent_manifest": self.parent_manifest,
            "invalidated_by_propagation": self.invalidated_by_propagation,
            "c2pa": self.manifest.to_dict(),
        }


# -- inputs -------------------------------------------------------------------------------------


def _signing_alg(c2pa: Any, cert_chain_pem: bytes, private_key_pem: bytes) -> Any:
    """Check the PEMs before the native library sees them (clear errors) and pick the
    algorithm from the key type."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    except ImportError:
        raise MissingDependencyError("C2PA signing", "c2pa") from None
    try:
        certs = x509.load_pem_x509_certificates(bytes(cert_chain_pem))
    except (ValueError, TypeError) as exc:
        raise UsageError(f"expected a PEM certificate chain (signer first), got: {exc}") from None
    try:
        key = serialization.load_pem_private_key(bytes(private_key_pem), password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"expected an unencrypted PEM private key, got: {exc}") from None
    signer_pub = certs[0].public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_pub = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if signer_pub != key_pub:
        raise UsageError(
            "expected the private key of the first certificate in the chain, got another key"
        )
    alg = c2pa.C2paSigningAlg
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": alg.ES256, "secp384r1": alg.ES384, "secp521r1": alg.ES512}
        if key.curve.name in by_curve:
            return by_curve[key.curve.name]
    elif isinstance(key, rsa.RSAPrivateKey):
        return alg.PS256
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        return alg.ED25519
    raise UsageError(
        f"expected an EC P-256/P-384/P-521, RSA or Ed25519 key, got {type(key).__name__}"
    )


def _source_type(value: str) -> str:
    """R-C2PA-4: a full URI; a bare IPTC code is expanded."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"expected a digitalSourceType URI, got {value!r}")
    if "://" in value:
        return value
    if value.isalnum():
        return IPTC_DIGITAL_SOURCE_TYPE_PREFIX + value
    raise UsageError(f"expected a digitalSourceType URI or IPTC code, got {value!r}")


def _claim_generator_info(claim_generator: str) -> dict[str, str]:
    name, _, version = claim_generator.partition("/")
    if not name:
        raise UsageError(f"expected a claim generator 'name/version', got {claim_generator!r}")
    return {"name": name, "version": version} if version else {"name": name}


def _open_signable(source: Source, settings: Settings | None, role: str) -> Media:
    if not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        raise UsageError(f"expected a path or bytes for the {role}, got {type(source).__name__}")
    media = open_media(source, settings=settings)
    if media.format not in SUPPORTED_FORMATS:
        media.close()
        raise UnsupportedFormatError(
            f"expected a format C2PA can sign ({', '.join(sorted(SUPPORTED_FORMATS))}) "
            f"for the {role}, got {media.format}"
        )
    return media


def _title(media: Media) -> str:
    """The base name only: a manifest must not carry the signer's directory layout."""
    return Path(media.name).name or media.format


# -- writing ------------------------------------------------------------------------------------


def _write_signed(
    c2pa: Any,
    manifest: dict[str, Any],
    media: Media,
    dst: Path,
    *,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
    config: dict[str, Any],
    intent: Any = None,
    ingredients: Sequence[tuple[dict[str, Any], Media]] = (),
) -> Path:
    """Sign ``media`` into a temporary file beside ``dst`` and return its path (the caller reads
    it back and renames it)."""
    alg = _signing_alg(c2pa, cert_chain_pem, private_key_pem)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".c2pa.tmp", dir=dst.parent)
    tmp = Path(tmp_name)
    try:
        info = c2pa.C2paSignerInfo(alg, bytes(cert_chain_pem), bytes(private_key_pem), None)
        with (
            os.fdopen(fd, "w+b") as out,
            make_context(c2pa, config) as context,
            c2pa.Builder(manifest, context) as builder,
            c2pa.Signer.from_info(info) as signer,
            media.open() as source,
        ):
            if intent is not None:
                builder.set_intent(intent)
            for ingredient_json, ingredient in ingredients:
                with ingredient.open() as stream:
                    builder.add_ingredient(ingredient_json, ingredient.mime, stream)
            builder.sign(signer, media.mime, source, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        return tmp
    except SynthguardError:
        tmp.unlink(missing_ok=True)
        raise
    except c2pa.C2paError as exc:
        tmp.unlink(missing_ok=True)
        raise LabelWriteError(f"C2PA signing failed: {exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _finish(
    tmp: Path,
    dst: Path,
    *,
    trust_anchors: Sequence[bytes] | None,
    settings: Settings | None,
    expect_source_type: str | None,
) -> C2paResult:
    """Read the signed temporary file back (R-IMPL-3) and only then rename it over ``dst``."""
    try:
        with open_media(tmp, settings=settings) as media:
            result = read_c2pa(media, trust_anchors=trust_anchors, settings=settings)
        if result.state not in (C2paState.VALID, C2paState.UNTRUSTED):
            raise LabelWriteError(
                f"expected the signed file to read back valid, got {result.state.value} "
                f"({', '.join(result.validation_errors) or 'no codes'})"
            )
        if expect_source_type and expect_source_type not in result.digital_source_types:
            raise LabelWriteError(
                f"expected digitalSourceType {expect_source_type} in the read-back, got "
                f"{list(result.digital_source_types)}"
            )
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        dir_fd = os.open(dst.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return result


def sign_c2pa(
    src: Source,
    dst: str | os.PathLike[str],
    *,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA,
    action: str = C2PA_ACTION_CREATED,
    claim_generator: str = DEFAULT_CLAIM_GENERATOR,
    title: str | None = None,
    ingredients: Sequence[Source] | None = None,
    aigc_label: AigcLabel | None = None,
    trust_anchors: Sequence[bytes] | None = None,
    settings: Settings | None = None,
) -> SignResult:
    """Sign ``src`` with a C2PA manifest and write it atomically to ``dst`` (may equal ``src``).

    R-C2PA-6 ordering: write the GB 45438 metadata label FIRST (``aigc.write_label``), then
    call this; any metadata written after signing breaks the hard binding (the file reads
    ``invalid``). R-C2PA-5: the manifest does not replace that label.

    * ``action="c2pa.created"`` (R-C2PA-2, a generated asset): the first action is
      ``c2pa.created`` carrying ``digital_source_type`` (default IPTC
      ``trainedAlgorithmicMedia``; a bare IPTC code is expanded to the URI, R-C2PA-4);
    * ``action="c2pa.opened"`` (an AI edit of real media, mapping table): ``src`` becomes the
      parent ingredient, the actions are ``c2pa.opened`` then ``c2pa.edited`` carrying
      ``digital_source_type`` (e.g. ``compositeWithTrainedAlgorithmicMedia``).

    ``ingredients`` are added as ``componentOf`` ingredients. ``aigc_label`` is embedded as the
    informative custom assertion ``cn.gb45438.aigc`` (its seven fields); a label ``"2"``/``"3"``
    with an AI source type is refused (mapping table: no C2PA AI claim for platform
    judgements). Signing is offline: ``cert_chain_pem`` (signer first, then intermediates)
    and ``private_key_pem`` (EC, RSA or Ed25519, unencrypted) sign locally, no timestamp
    authority. The result is read back (with ``trust_anchors``, if given) before the rename.
    """
    if action not in (C2PA_ACTION_CREATED, C2PA_ACTION_OPENED):
        raise UsageError(
            f"expected action {C2PA_ACTION_CREATED} or {C2PA_ACTION_OPENED} (R-C2PA-2), "
            f"got {action!r}"
        )
    dst_type = _source_type(digital_source_type)
    if aigc_label is not None:
        aigc_label.check_writable()
        if aigc_label.Label != "1" and dst_type in C2PA_AI_SOURCE_TYPES:
            raise UsageError(
                f"expected no C2PA AI claim for a GB 45438 Label {aigc_label.Label!r} "
                "(section 10 mapping table: a platform judgement has no C2PA equivalent), "
                f"got digitalSourceType {dst_type}"
            )
    c2pa = load_c2pa("C2PA signing")
    manifest: dict[str, Any] = {
        "claim_generator_info": [_claim_generator_info(claim_generator)],
        "assertions": [],
    }
    if title is not None:
        manifest["title"] = str(title)
    first = C2PA_ACTION_CREATED if action == C2PA_ACTION_CREATED else C2PA_ACTION_EDITED
    manifest["assertions"].append(
        {"label": "c2pa.actions", "data": {"actions": [
            {"action": first, "digitalSourceType": dst_type}
        ]}}
    )
    if aigc_label is not None:
        manifest["assertions"].append(
            {"label": C2PA_AIGC_ASSERTION, "data": aigc_label.as_dict()}
        )
    dst_path = Path(dst)
    opened: list[Media] = []
    try:
        media = _open_signable(src, settings, "source")
        opened.append(media)
        parts: list[tuple[dict[str, Any], Media]] = []
        for i, ing in enumerate(ingredients or ()):
            part = _open_signable(ing, settings, f"ingredient {i}")
            opened.append(part)
            parts.append(({"title": _title(part), "relationship": "componentOf"}, part))
        # c2pa.opened needs a parent ingredient: the EDIT intent makes the source the parent and
        # writes c2pa.opened (with its ingredient reference) before our c2pa.edited.
        intent = c2pa.C2paBuilderIntent.EDIT if action == C2PA_ACTION_OPENED else None
        tmp = _write_signed(
            c2pa, manifest, media, dst_path,
            cert_chain_pem=cert_chain_pem, private_key_pem=private_key_pem,
            config=offline_settings(trust_anchors, settings), intent=intent, ingredients=parts,
        )
        fmt = media.format
    finally:
        for m in opened:
            m.close()
    result = _finish(
        tmp, dst_path, trust_anchors=trust_anchors, settings=settings,
        expect_source_type=dst_type,
    )
    return SignResult(
        path=dst_path, format=fmt, action=action, digital_source_type=dst_type,
        manifest=result, aigc_assertion=aigc_label is not None,
    )


def resign_c2pa(
    src: Source,
    dst: str | os.PathLike[str],
    *,
    cert_chain_pem: bytes,
    private_key_pem: bytes,
    parent: Source | None = None,
    claim_generator: str = DEFAULT_CLAIM_GENERATOR,
    aigc_label: AigcLabel | None = None,
    trust_anchors: Sequence[bytes] | None = None,
    settings: Settings | None = None,
) -> SignResult:
    """R-C2PA-6, platform side: sign ``src`` (a file whose propagation fields the platform has
    just written, so its original manifest no longer binds) with a new manifest whose first
    action is ``c2pa.opened`` and whose parent ingredient carries the original manifest.

    ``parent`` is the original signed file as uploaded, when the platform still has it: its
    manifest then validates as the ingredient. Without it, ``src`` itself is the parent and the
    ingredient records the broken hard binding (the honest history). The result's
    ``invalidated_by_propagation`` holds the ``c2pa_invalidated_by_propagation`` record when
    the original manifest was valid before and broken in ``src``. No AI claim is added (the
    platform did not generate anything); ``aigc_label`` (e.g. the propagated label) is carried
    as the informative ``cn.gb45438.aigc`` assertion.
    """
    c2pa = load_c2pa("C2PA re-signing")
    if aigc_label is not None:
        aigc_label.check_writable()
    manifest: dict[str, Any] = {
        "claim_generator_info": [_claim_generator_info(claim_generator)],
        "assertions": [],
    }
    if aigc_label is not None:
        manifest["assertions"].append(
            {"label": C2PA_AIGC_ASSERTION, "data": aigc_label.as_dict()}
        )
    dst_path = Path(dst)
    opened: list[Media] = []
    try:
        media = _open_signable(src, settings, "source")
        opened.append(media)
        after = read_c2pa(media, trust_anchors=trust_anchors, settings=settings)
        parts: list[tuple[dict[str, Any], Media]] = []
        before = after
        if parent is not None:
            original = _open_signable(parent, settings, "parent")
            opened.append(original)
            before = read_c2pa(original, trust_anchors=trust_anchors, settings=settings)
            parts.append(({"title": _title(original), "relationship": "parentOf"}, original))
        invalidated = c2pa_invalidated_by_propagation(before, after)
        if invalidated is None and parent is None and after.hard_binding_failed:
            # Without the original we cannot see it was valid before; the broken binding is
            # still the propagation write's doing when the caller re-signs after it.
            invalidated = {
                "code": C2PA_INVALIDATED_BY_PROPAGATION,
                "original_manifest": after.active_manifest,
                "original_state": None,
                "validation_errors": list(after.validation_errors),
            }
        tmp = _write_signed(
            c2pa, manifest, media, dst_path,
            cert_chain_pem=cert_chain_pem, private_key_pem=private_key_pem,
            config=offline_settings(trust_anchors, settings),
            intent=c2pa.C2paBuilderIntent.EDIT, ingredients=parts,
        )
        fmt = media.format
    finally:
        for m in opened:
            m.close()
    result = _finish(
        tmp, dst_path, trust_anchors=trust_anchors, settings=settings, expect_source_type=None
    )
    return SignResult(
        path=dst_path, format=fmt, action=C2PA_ACTION_OPENED, digital_source_type=None,
        manifest=result, aigc_assertion=aigc_label is not None,
        parent_manifest=before.active_manifest, invalidated_by_propagation=invalidated,
    )
