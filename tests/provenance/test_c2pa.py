"""C2PA: offline sign and verify with a generated PKI, the four states kept apart, the section 10
mapping, R-C2PA-6 ordering and re-signing, hostile manifests, and no network."""

from __future__ import annotations

import http.server
import io
import json
import socket
import struct
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("c2pa")
pytest.importorskip("cryptography")

import c2pa  # noqa: E402
from c2pa_pki import Pki, make_pki  # noqa: E402

from synthguard.errors import (  # noqa: E402
    ConfigError,
    MissingDependencyError,
    UnsupportedFormatError,
    UsageError,
)
from synthguard.media import Media, open_media  # noqa: E402
from synthguard.provenance.aigc import AigcLabel  # noqa: E402
from synthguard.provenance.c2pa import (  # noqa: E402
    SUPPORTED_FORMATS,
    C2paState,
    c2pa_invalidated_by_propagation,
    c2pa_provenance,
    offline_settings,
    read_c2pa,
    resign_c2pa,
    sign_c2pa,
)
from synthguard.requirements import (  # noqa: E402
    C2PA_AIGC_ASSERTION,
    C2PA_INVALIDATED_BY_PROPAGATION,
    IPTC_DIGITAL_SOURCE_TYPE_PREFIX,
)
from synthguard.samples import generate_samples  # noqa: E402

AI = IPTC_DIGITAL_SOURCE_TYPE_PREFIX + "trainedAlgorithmicMedia"
COMPOSITE_AI = IPTC_DIGITAL_SOURCE_TYPE_PREFIX + "compositeWithTrainedAlgorithmicMedia"
CAPTURE = IPTC_DIGITAL_SOURCE_TYPE_PREFIX + "digitalCapture"
PRODUCER = "0011" + "91110108MA01ABCD2X" + "1" + "AB12"
LABEL = AigcLabel.first_write("1", PRODUCER, "gen-0001")


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def rogue() -> Pki:
    """A chain whose root is in nobody's trust list."""
    return make_pki("rogue")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("c2pa-samples")
    return {p.name: p for p in generate_samples(out)}


def _sign(src: Path | bytes, dst: Path, pki: Pki, **kw: object) -> Path:
    sign_c2pa(src, dst, cert_chain_pem=pki.chain_pem, private_key_pem=pki.signer_key_pem,
              **kw)  # type: ignore[arg-type]
    return dst


def _read(data: bytes | Path, anchors: list[bytes] | None = None) -> object:
    with open_media(data) as media:
        return read_c2pa(media, trust_anchors=anchors)


@pytest.fixture(scope="module")
def signed_jpeg(samples: dict[str, Path], pki: Pki,
                tmp_path_factory: pytest.TempPathFactory) -> bytes:
    dst = tmp_path_factory.mktemp("signed") / "ai.jpg"
    _sign(samples["photo.jpg"], dst, pki, aigc_label=LABEL, title="ai.jpg")
    return dst.read_bytes()


def _segments(jpeg: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, offset of the marker, segment length) up to SOS."""
    i = 2
    while i + 4 <= len(jpeg):
        marker = jpeg[i + 1]
        length = struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        yield marker, i, length
        if marker == 0xDA:
            return
        i += 2 + length


def _app11(jpeg: bytes) -> tuple[int, int]:
    for marker, offset, length in _segments(jpeg):
        if marker == 0xEB:
            return offset, offset + 2 + length
    raise AssertionError("no APP11 segment")


# -- sign -> read, per format -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "clip.mp4", "voice.wav"])
def test_sign_then_read_is_valid_with_the_root_trusted(
    name: str, samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    dst = _sign(samples[name], tmp_path / name, pki, aigc_label=LABEL)
    result = _read(dst, [pki.root_pem])
    assert result.state is C2paState.VALID, result.to_dict()
    assert result.validation_state == "Trusted"
    assert result.validation_errors == ()
    assert result.signer_common_name == pki.signer_cn
    assert result.claim_generator.startswith("synthguard/")
    assert result.actions[0].action == "c2pa.created"
    assert result.actions[0].digital_source_type == AI
    assert result.ai is True
    assert result.aigc_assertion == LABEL.as_dict()
    assert result.gb45438_mapping["label"] == "1"
    assert result.gb45438_mapping["rule"] == "R-PLAT-7"
    # The signed file is still a good file at the boundary.
    with open_media(dst) as media:
        assert media.format == open_media(samples[name]).format


def test_every_supported_format_round_trips_and_others_read_absent(
    samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    seen: set[str] = set()
    for name, path in sorted(samples.items()):
        with open_media(path) as media:
            fmt = media.format
        if fmt in SUPPORTED_FORMATS:
            dst = _sign(path, tmp_path / name, pki)
            result = _read(dst, [pki.root_pem])
            assert result.state is C2paState.VALID, (name, result.to_dict())
            seen.add(fmt)
        else:
            result = _read(path)
            assert result.state is C2paState.ABSENT
            assert result.format_supported is False
            with pytest.raises(UnsupportedFormatError):
                _sign(path, tmp_path / name, pki)
            assert not (tmp_path / name).exists()
    # heic needs the heif extra for the sample; everything else must have been checked.
    assert SUPPORTED_FORMATS - seen <= {"heic"}


# -- the four states ----------------------------------------------------------------------------

def test_no_trust_anchors_reads_untrusted_not_invalid(signed_jpeg: bytes) -> None:
    result = _read(signed_jpeg)
    assert result.state is C2paState.UNTRUSTED
    assert result.validation_errors == ("signingCredential.untrusted",)
    assert result.ai is True
    assert result.gb45438_mapping == {
        "label": None, "trace": True, "rule": "R-PLAT-7",
        "basis": "AI digitalSourceType trainedAlgorithmicMedia in an unverified manifest "
                 "(untrusted signer)",
    }


def test_a_signer_from_another_root_is_untrusted(
    samples: dict[str, Path], pki: Pki, rogue: Pki, tmp_path: Path
) -> None:
    dst = _sign(samples["photo.jpg"], tmp_path / "rogue.jpg", rogue)
    result = _read(dst, [pki.root_pem])
    assert result.state is C2paState.UNTRUSTED
    assert result.signer_common_name == rogue.signer_cn
    assert _read(dst, [pki.root_pem, rogue.root_pem]).state is C2paState.VALID


def test_file_without_manifest_is_absent(samples: dict[str, Path]) -> None:
    result = _read(samples["photo.jpg"])
    assert result.state is C2paState.ABSENT
    assert result.format_supported is True
    assert result.ai is False
    assert result.gb45438_mapping["label"] is None
    assert result.gb45438_mapping["trace"] is False


def test_flipped_byte_in_the_image_data_is_invalid(signed_jpeg: bytes, pki: Pki) -> None:
    sos = next(off for marker, off, _ in _segments(signed_jpeg) if marker == 0xDA)
    bad = bytearray(signed_jpeg)
    bad[sos + 40] ^= 0x01  # inside the entropy-coded scan
    result = _read(bytes(bad), [pki.root_pem])
    assert result.state is C2paState.INVALID
    assert result.hard_binding_failed
    assert "assertion.dataHash.mismatch" in result.validation_errors
    # An AI claim in a manifest that does not validate is only a trace (R-PLAT-7).
    assert result.gb45438_mapping["label"] is None
    assert result.gb45438_mapping["trace"] is True


def test_flipped_byte_inside_the_manifest_is_invalid(signed_jpeg: bytes, pki: Pki) -> None:
    start, end = _app11(signed_jpeg)
    at = signed_jpeg.index(b"trainedAlgorithmicMedia", start, end)
    bad = bytearray(signed_jpeg)
    bad[at + 3] ^= 0x20  # one letter of the assertion's digitalSourceType
    result = _read(bytes(bad), [pki.root_pem])
    assert result.state is C2paState.INVALID
    assert result.validation_errors  # the library's codes say why


def test_hostile_manifest_bytes_never_raise(signed_jpeg: bytes, pki: Pki) -> None:
    """Every 5th byte of the JUMBF flipped in turn, and the segment truncated: always a result.

    Some flips land in bytes no signature covers by design (JPEG-XT packet header, the COSE
    padding) and still validate; the rest must be invalid, with an error when unparseable."""
    start, end = _app11(signed_jpeg)
    states: set[str] = set()
    for offset in range(start + 4, end, 5):
        bad = bytearray(signed_jpeg)
        bad[offset] ^= 0xFF
        result = _read(bytes(bad), [pki.root_pem])
        states.add(result.state.value)
        if result.error is not None:
            assert result.state is C2paState.INVALID
            assert result.error["code"] == "c2pa.unreadable"
            assert result.gb45438_mapping["trace"] is True
        json.dumps(result.to_dict())
    assert "invalid" in states
    # A manifest cut short: the segment length is kept, the JUMBF payload is zeroed.
    cut = bytearray(signed_jpeg)
    cut[start + 40:end] = bytes(end - start - 40)
    result = _read(bytes(cut), [pki.root_pem])
    assert result.state in (C2paState.INVALID, C2paState.ABSENT)


# -- digital source types and the mapping -------------------------------------------------------

def test_digital_capture_is_not_ai(samples: dict[str, Path], pki: Pki, tmp_path: Path) -> None:
    dst = _sign(samples["photo.jpg"], tmp_path / "cam.jpg", pki, digital_source_type=CAPTURE)
    result = _read(dst, [pki.root_pem])
    assert result.state is C2paState.VALID
    assert result.digital_source_types == (CAPTURE,)
    assert result.ai is False
    assert result.gb45438_mapping["label"] is None
    assert result.gb45438_mapping["trace"] is False


def test_ai_edit_of_real_media_opens_the_parent(
    samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    dst = _sign(samples["photo.png"], tmp_path / "edit.png", pki, action="c2pa.opened",
                digital_source_type="compositeWithTrainedAlgorithmicMedia")
    result = _read(dst, [pki.root_pem])
    assert result.state is C2paState.VALID
    assert [a.action for a in result.actions] == ["c2pa.opened", "c2pa.edited"]
    assert result.actions[1].digital_source_type == COMPOSITE_AI
    assert [i.relationship for i in result.ingredients] == ["parentOf"]
    assert result.gb45438_mapping["label"] == "1"
    assert "AI edit of real media" in result.gb45438_mapping["basis"]


def test_ai_source_type_in_an_ingredient_counts(
    samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    generated = _sign(samples["photo.jpg"], tmp_path / "gen.jpg", pki)
    dst = _sign(samples["photo.png"], tmp_path / "collage.png", pki,
                digital_source_type=CAPTURE, ingredients=[generated],
                trust_anchors=[pki.root_pem])
    result = _read(dst, [pki.root_pem])
    assert result.state is C2paState.VALID
    assert result.digital_source_types == (CAPTURE, AI)
    assert result.ai is True
    assert result.gb45438_mapping["basis"] == "an ingredient declares trainedAlgorithmicMedia"


def test_c2pa_pythons_own_reader_reads_what_we_signed(signed_jpeg: bytes) -> None:
    with c2pa.Reader("image/jpeg", io.BytesIO(signed_jpeg)) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    labels = [a["label"] for a in manifest["assertions"]]
    assert C2PA_AIGC_ASSERTION in labels
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    assert actions["data"]["actions"][0] == {"action": "c2pa.created", "digitalSourceType": AI}
    assert store["validation_state"] in ("Valid", "Trusted")


def test_to_dict_shape(signed_jpeg: bytes, pki: Pki) -> None:
    out = _read(signed_jpeg, [pki.root_pem]).to_dict()
    assert set(out) == {
        "state", "format_supported", "active_manifest", "claim_generator", "title", "signer",
        "actions", "digital_source_types", "ai", "ingredients", "aigc_assertion",
        "remote_url", "validation_state", "validation_errors", "error", "gb45438_mapping",
    }
    assert out["state"] == "valid"
    assert out["active_manifest"].startswith("urn:c2pa:")
    assert out["title"] == "ai.jpg"
    assert out["signer"]["common_name"] == pki.signer_cn
    assert out["actions"] == [
        {"action": "c2pa.created", "digital_source_type": AI, "software_agent": None}
    ]
    json.dumps(out)
    with open_media(signed_jpeg) as media:
        assert c2pa_provenance(media)["c2pa"]["state"] == "untrusted"


# -- R-C2PA-6: metadata first, then sign; re-sign after propagation ---------------------------

def _xmp_app1(value: str) -> bytes:
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" '
        f"TC260:AIGC='{value}'/></rdf:RDF></x:xmpmeta>"
    ).encode()
    body = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _with_app1(jpeg: bytes, segment: bytes) -> bytes:
    """Insert ``segment`` after SOI and any APP0 (where a metadata writer puts XMP)."""
    insert = 2
    for marker, offset, length in _segments(jpeg):
        if marker == 0xE0:
            insert = offset + 2 + length
            break
    return jpeg[:insert] + segment + jpeg[insert:]


def test_metadata_then_sign_is_valid_and_metadata_after_sign_breaks_it(
    samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    labelled = _with_app1(samples["photo.jpg"].read_bytes(), _xmp_app1(LABEL.to_json()))
    signed = _sign(labelled, tmp_path / "signed.jpg", pki, aigc_label=LABEL).read_bytes()
    assert b"TC260:AIGC" in signed  # the metadata label survived signing
    before = _read(signed, [pki.root_pem])
    assert before.state is C2paState.VALID

    # A platform now writes its propagation fields into the XMP: the hard binding breaks.
    propagated = LABEL.propagated(PRODUCER[:-5] + "2PL01", "post-42")
    after_bytes = _with_app1(signed, _xmp_app1(propagated.to_json()))
    after = _read(after_bytes, [pki.root_pem])
    assert after.state is C2paState.INVALID
    assert after.hard_binding_failed
    record = c2pa_invalidated_by_propagation(before, after)
    assert record is not None
    assert record["code"] == C2PA_INVALIDATED_BY_PROPAGATION
    assert record["original_manifest"] == before.active_manifest
    assert c2pa_invalidated_by_propagation(before, before) is None

    # Re-sign with the original as parent: a valid chain again.
    modified = tmp_path / "propagated.jpg"
    modified.write_bytes(after_bytes)
    resigned = resign_c2pa(
        modified, tmp_path / "resigned.jpg", cert_chain_pem=pki.chain_pem,
        private_key_pem=pki.signer_key_pem, parent=tmp_path / "signed.jpg",
        aigc_label=propagated, trust_anchors=[pki.root_pem],
    )
    assert resigned.manifest.state is C2paState.VALID
    assert resigned.parent_manifest == before.active_manifest
    assert resigned.invalidated_by_propagation is not None
    final = _read(tmp_path / "resigned.jpg", [pki.root_pem])
    assert final.state is C2paState.VALID
    assert [a.action for a in final.actions][0] == "c2pa.opened"
    assert [(i.relationship, i.manifest) for i in final.ingredients] == [
        ("parentOf", before.active_manifest)
    ]
    assert final.digital_source_types == (AI,)  # the original's AI claim is in the chain
    assert final.gb45438_mapping["label"] == "1"
    assert final.aigc_assertion == propagated.as_dict()
    json.dumps(resigned.to_dict())


def test_resign_without_the_original_keeps_the_broken_parent(
    signed_jpeg: bytes, pki: Pki, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(_with_app1(signed_jpeg, _xmp_app1("{}")))
    out = resign_c2pa(broken, broken, cert_chain_pem=pki.chain_pem,
                      private_key_pem=pki.signer_key_pem, trust_anchors=[pki.root_pem])
    assert out.manifest.state is C2paState.VALID
    assert out.invalidated_by_propagation is not None
    assert out.invalidated_by_propagation["original_state"] is None
    assert _read(broken, [pki.root_pem]).ingredients[0].relationship == "parentOf"
    assert list(tmp_path.iterdir()) == [broken]  # in place, no temporary left


# -- refusals -----------------------------------------------------------------------------------

def test_bad_inputs_are_refused_clearly(
    samples: dict[str, Path], pki: Pki, rogue: Pki, tmp_path: Path
) -> None:
    src, dst = samples["photo.jpg"], tmp_path / "out.jpg"
    with pytest.raises(UsageError, match="PEM certificate chain"):
        sign_c2pa(src, dst, cert_chain_pem=b"nope", private_key_pem=pki.signer_key_pem)
    with pytest.raises(UsageError, match="private key"):
        sign_c2pa(src, dst, cert_chain_pem=pki.chain_pem, private_key_pem=b"nope")
    with pytest.raises(UsageError, match="first certificate"):
        sign_c2pa(src, dst, cert_chain_pem=pki.chain_pem, private_key_pem=rogue.signer_key_pem)
    with pytest.raises(UsageError, match="R-C2PA-2"):
        _sign(src, dst, pki, action="c2pa.placed")
    with pytest.raises(UsageError, match="mapping table"):
        _sign(src, dst, pki, aigc_label=AigcLabel.first_write("3", PRODUCER, "x1"))
    with pytest.raises(UsageError, match="Label must be one of"):
        _sign(src, dst, pki, aigc_label=AigcLabel.first_write("9", PRODUCER, "x1"))
    assert not dst.exists()
    with pytest.raises(ConfigError):
        _read(src, [b"not a certificate"])
    with pytest.raises(ConfigError):
        _read(src, [b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
    assert list(tmp_path.iterdir()) == []


def test_missing_extra_names_the_install(
    samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "c2pa", None)
    with open_media(samples["photo.jpg"]) as media, pytest.raises(
        MissingDependencyError, match=r"synthguard\[c2pa\]"
    ):
        read_c2pa(media)


# -- offline ------------------------------------------------------------------------------------

class _CountingServer:
    """A local HTTP server that counts requests (answers 404)."""

    def __enter__(self) -> _CountingServer:
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/manifest.c2pa"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _remote_only_jpeg(src: bytes, url: str, pki: Pki) -> bytes:
    """A JPEG whose manifest lives at ``url`` (XMP dcterms:provenance), nothing embedded."""
    manifest = {"claim_generator_info": [{"name": "test"}], "assertions": [
        {"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": AI}]}}]}
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, pki.chain_pem, pki.signer_key_pem,
                               None)
    out = io.BytesIO()
    with (c2pa.Context.from_dict(offline_settings()) as ctx, c2pa.Builder(manifest, ctx) as b,
          c2pa.Signer.from_info(info) as signer):
        b.set_no_embed()
        b.set_remote_url(url)
        b.sign(signer, "image/jpeg", io.BytesIO(src), out)
    return out.getvalue()


def test_remote_manifests_are_never_fetched(samples: dict[str, Path], pki: Pki) -> None:
    with _CountingServer() as server:
        data = _remote_only_jpeg(samples["photo.jpg"].read_bytes(), server.url, pki)
        result = _read(data, [pki.root_pem])
        assert server.hits == []
        assert result.state is C2paState.INVALID
        assert result.remote_url == server.url
        assert result.error["code"] == "c2pa.remoteManifestNotFetched"
        assert result.gb45438_mapping["trace"] is True  # R-PLAT-7: remote-only is a trace
        # Control: the library's defaults do fetch, so the zero above means something.
        with pytest.raises(c2pa.C2paError), c2pa.Reader("image/jpeg", io.BytesIO(data)):
            pass
        assert server.hits == ["/manifest.c2pa"]


def test_reading_and_signing_open_no_socket(
    samples: dict[str, Path], signed_jpeg: bytes, pki: Pki, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = _read(signed_jpeg, [pki.root_pem]).to_dict()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert _read(signed_jpeg, [pki.root_pem]).to_dict() == expected
    _sign(samples["photo.png"], tmp_path / "x.png", pki)


def test_offline_settings_keys_are_known_to_the_library() -> None:
    """c2pa-rs ignores unknown keys silently; a wrongly typed value for each key we rely on
    must be rejected, which proves the key still exists in this library version."""
    config = offline_settings()
    paths = [
        ("core", "allowed_network_hosts"), ("core", "decode_identity_assertions"),
        ("core", "max_decompressed_manifest_size_in_mb"), ("verify", "remote_manifest_fetch"),
        ("verify", "ocsp_fetch"), ("verify", "verify_trust"),
    ]
    for section, key in paths:
        assert key in config[section]
        with pytest.raises(c2pa.C2paError):
            c2pa.Settings.from_dict({section: {key: "wrong type"}})
    assert config["core"]["allowed_network_hosts"] == []
    assert config["verify"]["remote_manifest_fetch"] is False
    assert config["verify"]["ocsp_fetch"] is False
    for key in ("thumbnail", "auto_timestamp_assertion"):
        with pytest.raises(c2pa.C2paError):
            c2pa.Settings.from_dict({"builder": {key: {"enabled": "wrong type"}}})


def test_read_accepts_only_media(samples: dict[str, Path]) -> None:
    with open_media(samples["photo.jpg"]) as media:
        assert isinstance(media, Media)
        assert read_c2pa(media).state is C2paState.ABSENT


def test_ingredient_titles_carry_no_directories(
    samples: dict[str, Path], pki: Pki, tmp_path: Path
) -> None:
    dst = _sign(samples["photo.png"], tmp_path / "c.png", pki, ingredients=[samples["photo.jpg"]])
    result = _read(dst, [pki.root_pem])
    assert [(i.title, i.relationship) for i in result.ingredients] == [
        ("photo.jpg", "componentOf")
    ]
    assert str(tmp_path) not in json.dumps(result.to_dict())
