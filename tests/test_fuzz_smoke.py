"""The fuzz bench still runs (``bench/fuzz_labels.py --quick``), and the inputs it found that
broke the contract stay fixed (each built programmatically from a valid file)."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from synthguard.media import open_media
from synthguard.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "fuzz_labels.py"


def test_fuzz_quick_runs(tmp_path: Path) -> None:
    docs = REPO / "docs" / "benchmarks.md"
    before = docs.read_bytes() if docs.exists() else None
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHGUARD_")}
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--targets", "payload,png,mp4", "--no-write",
         "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env, cwd=REPO, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    table = [line for line in proc.stdout.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    rows = [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in table[1:]]
    assert [r["target"] for r in rows] == ["payload", "png", "mp4"], proc.stdout
    for row in rows:
        assert int(row["executions"].replace(",", "")) > 0, row
        assert row["crashes"] == "0", row
    assert (docs.read_bytes() if docs.exists() else None) == before


# -- regressions ------------------------------------------------------------------------------


def _pki_module() -> ModuleType:
    if "c2pa_pki" in sys.modules:
        return sys.modules["c2pa_pki"]
    path = REPO / "tests" / "provenance" / "c2pa_pki.py"
    spec = importlib.util.spec_from_file_location("c2pa_pki", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["c2pa_pki"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def signed_jpeg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A labelled JPEG signed with a C2PA manifest carrying the AIGC assertion."""
    pytest.importorskip("c2pa")
    pytest.importorskip("cryptography")
    from synthguard.provenance.aigc import AigcLabel, write_label
    from synthguard.provenance.c2pa import sign_c2pa
    from synthguard.samples import generate_samples

    tmp = tmp_path_factory.mktemp("c2pa")
    photo = next(p for p in generate_samples(tmp / "s") if p.name == "photo.jpg")
    label = AigcLabel.first_write("1", "0011" + "91110108MA01ABCD2X" + "1" + "AB12", "fuzz-0001")
    write_label(photo, tmp / "labelled.jpg", label)
    pki = _pki_module().make_pki()
    sign_c2pa(tmp / "labelled.jpg", tmp / "signed.jpg", cert_chain_pem=pki.chain_pem,
              private_key_pem=pki.signer_key_pem, aigc_label=label)
    return (tmp / "signed.jpg").read_bytes()


def test_c2pa_cbor_length_bomb_is_refused_before_the_library(
    signed_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the ``c2pa`` target: one byte of the AIGC assertion's CBOR changed (the text
    length of "ProduceID", 9, to 6) desyncs the map so that a later text string declares
    0x7A2D3030 = 2,049,781,808 bytes inside a 181-byte box. c2pa-rs allocated and filled that
    much: a 5 KB upload cost 2 GB of memory (libFuzzer: out-of-memory). The store is now
    refused by a bounded walk and never reaches the library."""
    import c2pa

    from synthguard.provenance.c2pa import C2paState, read_c2pa

    assert signed_jpeg.count(b"iProduceIDifuzz-0001") == 1
    hostile = signed_jpeg.replace(b"iProduceIDifuzz-0001", b"fProduceIDifuzz-0001")
    media = open_media(hostile, settings=Settings.load(env={}))

    def no_library(*args: object, **kwargs: object) -> None:
        raise AssertionError("the hostile store reached c2pa.Reader")

    monkeypatch.setattr(c2pa, "Reader", no_library)
    result = read_c2pa(media)
    assert result.state is C2paState.INVALID
    assert result.error is not None and result.error["code"] == "c2pa.unreadable"
    assert "declares 2,049,781,808 bytes" in result.error["message"]


def test_c2pa_guard_passes_valid_stores(signed_jpeg: bytes) -> None:
    """No false refusal: the valid store, and the same store split over many APP11
    segments (out of order, as ISO 19566-5 allows), pass the walk."""
    from synthguard.provenance._c2pa_guard import _store, store_problem
    from synthguard.provenance.c2pa import C2paState, read_c2pa

    settings = Settings.load(env={})
    media = open_media(signed_jpeg, settings=settings)
    assert store_problem(media) is None
    assert read_c2pa(media).state is C2paState.UNTRUSTED
    store = _store(media)
    assert store

    at = signed_jpeg.find(b"\xff\xeb")
    (length,) = struct.unpack(">H", signed_jpeg[at + 2:at + 4])
    instance = signed_jpeg[at + 6:at + 8]
    chunks = [store[:700]] + [store[k:k + 500] for k in range(700, len(store), 500)]
    segments = b""
    for n, chunk in reversed(list(enumerate(chunks))):
        body = b"JP" + instance + struct.pack(">I", n + 1) + (store[:8] if n else b"") + chunk
        segments += b"\xff\xeb" + struct.pack(">H", len(body) + 2) + body
    split = signed_jpeg[:at] + segments + signed_jpeg[at + 2 + length:]
    media = open_media(split, settings=settings)
    assert _store(media) == store
    assert store_problem(media) is None


@pytest.mark.parametrize(
    ("cbor", "problem"),
    [
        (b"\xa1\x61a\x7a\xff\xff\xff\xff", "CBOR string at 19 declares 4,294,967,295 bytes"),
        (b"\x9b" + b"\xff" * 8, "CBOR array at 16 declares"),
        (b"\xbf\x61a\x5f\x41x\xff\xff", None),  # indefinite map and byte string: fine
        (b"\xc2\x5a\x00\x01\x00\x00", "CBOR string at 17 declares 65,536 bytes"),  # tagged
        (b"\x81\xff", "closes no indefinite-length item"),
        (b"\x1c", "reserved length code 28"),
    ],
)
def test_c2pa_guard_cbor_lengths(cbor: bytes, problem: str | None) -> None:
    from synthguard.provenance import _c2pa_guard as guard

    # Positions in messages are offsets in the store: 16 bytes of box headers come first.
    box = struct.pack(">I4s", 8 + len(cbor), b"cbor") + cbor
    store = struct.pack(">I4s", 8 + len(box), b"jumb") + box
    try:
        guard._boxes(store, 0, len(store), 0)
    except guard._Hostile as exc:
        assert problem is not None and problem in str(exc), exc
    else:
        assert problem is None


def test_c2pa_guard_jumbf_box_past_its_parent() -> None:
    from synthguard.provenance import _c2pa_guard as guard

    store = struct.pack(">I4s", 24, b"jumb") + struct.pack(">I4s", 0x7FFFFFFF, b"cbor") + b"\0" * 8
    with pytest.raises(guard._Hostile, match="declares 2,147,483,647 bytes, but 16 remain"):
        guard._boxes(store, 0, len(store), 0)
