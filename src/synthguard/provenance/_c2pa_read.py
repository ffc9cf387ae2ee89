"""Reading C2PA manifests offline with ``c2pa-python`` and mapping them to GB 45438 (section 10).

The native library (c2pa-rs through c2pa-python) does the cryptography: claim signature,
hard binding (data / BMFF / box hashes) and certificate chain. This module configures it to
stay offline, keeps the four states apart and turns the manifest store into a
:class:`C2paResult`:

* ``absent`` - no manifest store (or a format C2PA does not bind);
* ``valid`` - signature and hard binding validate and the signer chains to a configured
  trust anchor;
* ``untrusted`` - signature and hard binding validate but the signer chains to no configured
  anchor (anyone can make a certificate: this is *not* ``invalid``, and not confirmed either);
* ``invalid`` - anything that does not validate: a flipped byte in the asset or the manifest,
  a manifest the library cannot parse, or a remote-only manifest that we do not fetch.

Offline-ness (R-C2PA: no TSA, no remote manifests, no OCSP) is set per call through a
``c2pa.Context`` built from :func:`offline_settings`; see that function for the keys.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any

from synthguard.errors import ConfigError, MissingDependencyError
from synthguard.provenance._c2pa_guard import store_problem
from synthguard.requirements import (
    AIGC_FIELDS,
    C2PA_ACTION_CREATED,
    C2PA_AI_SOURCE_TYPES,
    C2PA_AIGC_ASSERTION,
    C2PA_INVALIDATED_BY_PROPAGATION,
    IPTC_DIGITAL_SOURCE_TYPE_PREFIX,
)
from synthguard.settings import MiB

if TYPE_CHECKING:
    from synthguard.media import Media
    from synthguard.settings import Settings

SUPPORTED_FORMATS: frozenset[str] = frozenset(
    {
        "jpeg", "png", "webp", "tiff", "gif", "heic", "avif",  # images
        "mp4", "mov", "avi",  # video
        "m4a", "wav", "mp3", "flac",  # audio
        "pdf",  # documents
    }
)
"""Formats (``Media.format``) that c2pa-python 0.38 both signs and verifies offline; each one is
checked by a sign/read round trip in the tests. Not bound by C2PA (reported ``absent``): BMP,
Matroska/WebM, Ogg/Opus, FLV, TXT, Markdown; DOCX is left out (the library refuses deflated
ZIP members when signing)."""

# Failure codes that mean "the bytes no longer match what was signed" (hard binding).
HARD_BINDING_CODES: frozenset[str] = frozenset(
    {
        "assertion.dataHash.mismatch",
        "assertion.bmffHash.mismatch",
        "assertion.boxesHash.mismatch",
        "assertion.collectionHash.mismatch",
    }
)
_TRUST_CODES = frozenset({"signingCredential.untrusted"})

# Bounds on what a (hostile) manifest store may put into a report.
_MAX_ITEMS = 256
_MAX_TEXT = 2048
_MAX_DEPTH = 16


class C2paState(StrEnum):
    ABSENT = "absent"
    VALID = "valid"
    UNTRUSTED = "untrusted"
    INVALID = "invalid"


@dataclass(frozen=True)
class C2paAction:
    """One entry of a ``c2pa.actions`` assertion."""

    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "digital_source_type": self.digital_source_type,
            "software_agent": self.software_agent,
        }


@dataclass(frozen=True)
class C2paIngredient:
    """One ingredient of the active manifest (``parentOf``, ``componentOf``, ``inputTo``)."""

    title: str | None
    relationship: str | None
    manifest: str | None  # label of the ingredient's own manifest, when it had one

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "relationship": self.relationship, "manifest": self.manifest}


@dataclass(frozen=True)
class C2paResult:
    """What the C2PA reader found in one file (see the module docstring for the states)."""

    state: C2paState
    format_supported: bool = True
    active_manifest: str | None = None
    claim_generator: str | None = None
    title: str | None = None
    signer_common_name: str | None = None
    signer_issuer: str | None = None
    signed_at: str | None = None
    actions: tuple[C2paAction, ...] = ()
    digital_source_types: tuple[str, ...] = ()
    ingredients: tuple[C2paIngredient, ...] = ()
    aigc_assertion: dict[str, str] | None = None
    remote_url: str | None = None
    validation_state: str | None = None  # the library's own word: Trusted / Valid / Invalid
    validation_errors: tuple[str, ...] = ()
    error: dict[str, str] | None = None
    gb45438_mapping: dict[str, Any] = field(default_factory=dict)

    @property
    def ai(self) -> bool:
        """R-C2PA-1: some manifest in the chain declares an AI digital source type."""
        return any(t in C2PA_AI_SOURCE_TYPES for t in self.digital_source_types)

    @property
    def hard_binding_failed(self) -> bool:
        """The asset bytes no longer match the signed hash (e.g. metadata written after
        signing, R-C2PA-6)."""
        return any(code in HARD_BINDING_CODES for code in self.validation_errors)

    def to_dict(self) -> dict[str, Any]:
        """The report's ``provenance.c2pa`` object; every key is always present."""
        return {
            "state": self.state.value,
            "format_supported": self.format_supported,
            "active_manifest": self.active_manifest,
            "claim_generator": self.claim_generator,
            "title": self.title,
            "signer": (
                None
                if self.signer_common_name is None and self.signer_issuer is None
                else {
                    "common_name": self.signer_common_name,
                    "issuer": self.signer_issuer,
                    "signed_at": self.signed_at,
                }
            ),
            "actions": [a.to_dict() for a in self.actions],
            "digital_source_types": list(self.digital_source_types),
            "ai": self.ai,
            "ingredients": [i.to_dict() for i in self.ingredients],
            "aigc_assertion": None if self.aigc_assertion is None else dict(self.aigc_assertion),
            "remote_url": self.remote_url,
            "validation_state": self.validation_state,
            "validation_errors": list(self.validation_errors),
            "error": None if self.error is None else dict(self.error),
            "gb45438_mapping": dict(self.gb45438_mapping),
        }


# -- the native library, lazily -----------------------------------------------------------------


def load_c2pa(what: str) -> ModuleType:
    """Import ``c2pa`` on first use (it loads a 20 MB native library); a clear message when the
    extra is missing."""
    try:
        import c2pa
    except ImportError:
        raise MissingDependencyError(what, "c2pa") from None
    module: ModuleType = c2pa
    return module


def _anchor_text(trust_anchors: Sequence[bytes] | None) -> str | None:
    if not trust_anchors:
        return None
    texts = []
    for i, pem in enumerate(trust_anchors):
        if not isinstance(pem, (bytes, bytearray)) or b"-----BEGIN CERTIFICATE-----" not in pem:
            raise ConfigError(
                f"expected each C2PA trust anchor to be PEM certificate bytes, "
                f"got {type(pem).__name__} at position {i}"
            )
        try:
            texts.append(bytes(pem).decode("ascii").strip())
        except UnicodeDecodeError:
            raise ConfigError(
                f"expected ASCII PEM for C2PA trust anchor {i}, got non-ASCII bytes"
            ) from None
        # c2pa-rs accepts any base64 between PEM markers; parse for a clear error up front.
        try:
            from cryptography import x509
        except ImportError:
            raise MissingDependencyError("checking C2PA trust anchors", "c2pa") from None
        try:
            x509.load_pem_x509_certificates(bytes(pem))
        except ValueError as exc:
            raise ConfigError(
                f"expected a PEM certificate for C2PA trust anchor {i}, got: {exc}"
            ) from None
    return "\n".join(texts) + "\n"


def offline_settings(
    trust_anchors: Sequence[bytes] | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """The c2pa-rs settings every synthguard Reader and Builder runs with.

    * ``verify.remote_manifest_fetch = false``: a manifest referenced by URL (XMP
      ``dcterms:provenance``) is never fetched; such a file reads as ``invalid`` with its
      ``remote_url`` (R-PLAT-7: remote-only manifests are only a trace);
    * ``verify.ocsp_fetch = false``: no OCSP requests; only staples inside the manifest count;
    * ``core.allowed_network_hosts = []``: c2pa-rs's own HTTP resolver allows no host at all,
      a second lock behind the two switches above;
    * ``core.decode_identity_assertions = false``: CAWG identity assertions (which may name
      ``did:web`` documents) are not decoded; we do not report identities;
    * ``builder.auto_timestamp_assertion.enabled = false``; no TSA URL is ever given to a
      signer, so signing makes no request either;
    * ``verify.verify_trust = true`` with ``trust.trust_anchors`` = the given PEMs (none:
      every signer is ``untrusted``; we ship no trust list and fetch none);
    * ``core.max_decompressed_manifest_size_in_mb`` from ``max_metadata_bytes`` (a
      compressed manifest cannot expand beyond the metadata limit, R-IMPL-1).
    """
    max_meta = settings.max_metadata_bytes if settings is not None else 16 * MiB
    out: dict[str, Any] = {
        "version": 1,
        "core": {
            "allowed_network_hosts": [],
            "decode_identity_assertions": False,
            "max_decompressed_manifest_size_in_mb": max(1, math.ceil(max_meta / MiB)),
        },
        "verify": {
            "verify_after_reading": True,
            "verify_after_sign": True,
            "verify_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        "builder": {
            "thumbnail": {"enabled": False},
            "auto_timestamp_assertion": {"enabled": False},
        },
    }
    anchors = _anchor_text(trust_anchors)
    if anchors is not None:
        out["trust"] = {"trust_anchors": anchors}
    return out


def make_context(c2pa: ModuleType, config: dict[str, Any]) -> Any:
    """A ``c2pa.Context`` for ``config``; a bad trust anchor is the caller's configuration."""
    try:
        return c2pa.Context.from_dict(config)
    except c2pa.C2paError as exc:
        raise ConfigError(f"expected usable C2PA trust anchors (PEM), got: {exc}") from None


# -- reading ------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text[:_MAX_TEXT]


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value[:_MAX_ITEMS] if isinstance(value, list) else []


def _agent(value: object) -> str | None:
    if isinstance(value, Mapping):
        name, version = value.get("name"), value.get("version")
        if isinstance(name, str):
            return _text(f"{name}/{version}" if isinstance(version, str) else name)
    return _text(value)


def _claim_generator(manifest: Mapping[str, Any]) -> str | None:
    infos = _list(manifest.get("claim_generator_info"))
    if infos:
        info = _dict(infos[0])
        name, version = info.get("name"), info.get("version")
        if isinstance(name, str):
            return _text(f"{name}/{version}" if isinstance(version, str) else name)
    return _text(manifest.get("claim_generator"))


def _actions(manifest: Mapping[str, Any]) -> Iterator[C2paAction]:
    for assertion in _list(manifest.get("assertions")):
        assertion = _dict(assertion)
        label = assertion.get("label")
        if not (isinstance(label, str) and label.startswith("c2pa.actions")):
            continue
        for act in _list(_dict(assertion.get("data")).get("actions")):
            act = _dict(act)
            name = act.get("action")
            if isinstance(name, str):
                dst = act.get("digitalSourceType")
                yield C2paAction(
                    action=name[:_MAX_TEXT],
                    digital_source_type=dst[:_MAX_TEXT] if isinstance(dst, str) else None,
                    software_agent=_agent(act.get("softwareAgent")),
                )


def _aigc_assertion(manifest: Mapping[str, Any]) -> dict[str, str] | None:
    for assertion in _list(manifest.get("assertions")):
        assertion = _dict(assertion)
        if assertion.get("label") == C2PA_AIGC_ASSERTION:
            data = _dict(assertion.get("data"))
            return {k: str(data[k])[:_MAX_TEXT] for k in AIGC_FIELDS if k in data}
    return None


def _chain_source_types(
    manifests: Mapping[str, Any], label: str | None, seen: set[str], depth: int = 0
) -> Iterator[str]:
    """Digital source types of ``label``'s manifest and, recursively, of its ingredients'
    manifests (R-PLAT-7: "the active manifest (or an ingredient)"); bounded and loop-safe."""
    if label is None or label in seen or depth > _MAX_DEPTH or len(seen) > _MAX_ITEMS:
        return
    seen.add(label)
    manifest = _dict(manifests.get(label))
    for act in _actions(manifest):
        if act.digital_source_type:
            yield act.digital_source_type
    for ing in _list(manifest.get("ingredients")):
        child = _dict(ing).get("active_manifest")
        yield from _chain_source_types(
            manifests, child if isinstance(child, str) else None, seen, depth + 1
        )


def _state_of(validation_state: object, failures: Sequence[str]) -> C2paState:
    if validation_state == "Trusted":
        return C2paState.VALID
    if validation_state == "Valid":
        # Integrity holds; the library says "Valid" exactly when trust was not established.
        return C2paState.UNTRUSTED
    if validation_state == "Invalid":
        return C2paState.INVALID
    # An older library without validation_state: decide from the codes.
    if any(code not in _TRUST_CODES for code in failures):
        return C2paState.INVALID
    return C2paState.UNTRUSTED if failures else C2paState.VALID


def gb45438_mapping(
    state: C2paState,
    actions: Sequence[C2paAction],
    digital_source_types: Sequence[str],
    *,
    parsed: bool = True,
    remote: bool = False,
) -> dict[str, Any]:
    """The section 10 mapping of one C2PA result: ``label`` is what GB 45438 ``Label`` the
    manifest supports (only ``"1"``, only when ``valid``, R-PLAT-7), ``trace`` whether it is
    "other generation traces" (suspected, R-PLAT-7), ``basis`` a sentence for the report."""
    ai_types = [t for t in digital_source_types if t in C2PA_AI_SOURCE_TYPES]
    if state is C2paState.ABSENT:
        return {"label": None, "trace": False, "rule": None, "basis": "no C2PA manifest"}
    if remote:
        return {
            "label": None, "trace": True, "rule": "R-PLAT-7",
            "basis": "remote-only C2PA manifest, not fetched (offline)",
        }
    if not parsed:
        return {
            "label": None, "trace": True, "rule": "R-PLAT-7",
            "basis": "C2PA manifest present but unreadable (invalid)",
        }
    if not ai_types:
        return {
            "label": None, "trace": False, "rule": "R-PLAT-7",
            "basis": "no AI digitalSourceType (R-C2PA-1)",
        }
    short = ai_types[0].removeprefix(IPTC_DIGITAL_SOURCE_TYPE_PREFIX)
    if state is not C2paState.VALID:
        why = "untrusted signer" if state is C2paState.UNTRUSTED else "invalid manifest"
        return {
            "label": None, "trace": True, "rule": "R-PLAT-7",
            "basis": f"AI digitalSourceType {short} in an unverified manifest ({why})",
        }
    active_ai = [a for a in actions if a.digital_source_type in C2PA_AI_SOURCE_TYPES]
    if any(a.action == C2PA_ACTION_CREATED for a in active_ai):
        basis = f"{C2PA_ACTION_CREATED} with {short}: fully generated"
    elif active_ai:
        basis = f"{active_ai[0].action} with {short}: AI edit of real media"
    else:
        basis = f"an ingredient declares {short}"
    return {"label": "1", "trace": False, "rule": "R-PLAT-7", "basis": basis}


def _from_store(store: Mapping[str, Any]) -> C2paResult:
    manifests = _dict(store.get("manifests"))
    label = store.get("active_manifest")
    label = label if isinstance(label, str) else None
    manifest = _dict(manifests.get(label)) if label else {}
    statuses = _list(store.get("validation_status"))
    failures = tuple(
        dict.fromkeys(
            str(code)[:_MAX_TEXT]
            for s in statuses
            if (code := _dict(s).get("code")) is not None
        )
    )
    validation_state = store.get("validation_state")
    state = _state_of(validation_state, failures)
    actions = tuple(_actions(manifest))
    dsts = tuple(dict.fromkeys(_chain_source_types(manifests, label, set())))
    sig = _dict(manifest.get("signature_info"))
    ingredients = tuple(
        C2paIngredient(
            title=_text(ing.get("title")),
            relationship=_text(ing.get("relationship")),
            manifest=_text(ing.get("active_manifest")),
        )
        for ing in map(_dict, _list(manifest.get("ingredients")))
    )
    return C2paResult(
        state=state,
        active_manifest=label,
        claim_generator=_claim_generator(manifest),
        title=_text(manifest.get("title")),
        signer_common_name=_text(sig.get("common_name")),
        signer_issuer=_text(sig.get("issuer")),
        signed_at=_text(sig.get("time")),
        actions=actions,
        digital_source_types=dsts,
        ingredients=ingredients,
        aigc_assertion=_aigc_assertion(manifest),
        validation_state=_text(validation_state),
        validation_errors=failures,
        gb45438_mapping=gb45438_mapping(state, actions, dsts),
    )


_REMOTE_URL_RE = re.compile(r"(https?://\S+)")


def _failed(code: str, message: str, *, remote_url: str | None = None) -> C2paResult:
    remote = remote_url is not None
    return C2paResult(
        state=C2paState.INVALID,
        remote_url=remote_url,
        validation_errors=(code,),
        error={"code": code, "message": message[:_MAX_TEXT]},
        gb45438_mapping=gb45438_mapping(C2paState.INVALID, (), (), parsed=False, remote=remote),
    )


def read_c2pa(
    media: Media,
    *,
    trust_anchors: Sequence[bytes] | None = None,
    settings: Settings | None = None,
) -> C2paResult:
    """Read and verify the C2PA manifest store of ``media``, offline.

    ``trust_anchors`` are PEM root certificates (each item may hold several); without any,
    a manifest that validates is ``untrusted``. ``settings`` (default ``media.settings``)
    bounds the decompressed manifest size. The format handed to the library is the MIME type
    sniffed by :func:`~synthguard.media.open_media`, never the file name.

    A corrupt or hostile manifest gives ``state="invalid"`` with ``error``, never an
    exception; :class:`~synthguard.errors.MissingDependencyError` when the ``c2pa`` extra is
    missing and :class:`~synthguard.errors.ConfigError` for unusable trust anchors are the
    only errors raised.
    """
    if media.format not in SUPPORTED_FORMATS:
        return C2paResult(
            state=C2paState.ABSENT,
            format_supported=False,
            gb45438_mapping=gb45438_mapping(C2paState.ABSENT, (), ()),
        )
    c2pa = load_c2pa("reading C2PA manifests")
    problem = store_problem(media)
    if problem is not None:
        # c2pa-rs sizes buffers from declared lengths: such a store never reaches it.
        return _failed("c2pa.unreadable", f"the manifest store is malformed: {problem}")
    config = offline_settings(trust_anchors, settings or media.settings)
    context = make_context(c2pa, config)
    try:
        with context, media.open() as stream:
            reader = c2pa.Reader(media.mime, stream, context=context)
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return C2paResult(
            state=C2paState.ABSENT, gb45438_mapping=gb45438_mapping(C2paState.ABSENT, (), ())
        )
    except c2pa.C2paError as exc:
        message = str(exc)
        if isinstance(exc, c2pa.C2paError.RemoteManifest) or message.startswith("Remote"):
            match = _REMOTE_URL_RE.search(message)
            return _failed(
                "c2pa.remoteManifestNotFetched",
                "the manifest is remote-only and remote fetching is off (offline)",
                remote_url=match.group(1) if match else "",
            )
        return _failed("c2pa.unreadable", f"the C2PA library refused the manifest: {message}")
    except Exception as exc:  # noqa: BLE001 - hostile input must never become a traceback
        return _failed(
            "c2pa.unreadable", f"the C2PA library failed: {type(exc).__name__}: {exc}"
        )
    if not isinstance(store, Mapping):
        return _failed("c2pa.unreadable", "the C2PA library returned no manifest store")
    return _from_store(store)


def c2pa_invalidated_by_propagation(
    before: C2paResult, after: C2paResult
) -> dict[str, Any] | None:
    """R-C2PA-6: the record to keep when writing propagation fields broke a manifest.

    ``before`` is the read of the uploaded file, ``after`` the read of the file after the
    platform's metadata write. Returns ``None`` when nothing was broken, else
    ``{"code": "c2pa_invalidated_by_propagation", "original_manifest", "original_state",
    "validation_errors"}`` for the decision record (or re-sign with
    :func:`~synthguard.provenance.c2pa.resign_c2pa`).
    """
    if before.state not in (C2paState.VALID, C2paState.UNTRUSTED):
        return None
    if after.state is not C2paState.INVALID or not after.hard_binding_failed:
        return None
    return {
        "code": C2PA_INVALIDATED_BY_PROPAGATION,
        "original_manifest": before.active_manifest,
        "original_state": before.state.value,
        "validation_errors": list(after.validation_errors),
    }
