"""`synthguard label`: mark, write the AIGC label, sign, verify, publish atomically."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import synthguard
from synthguard.cli import cli
from synthguard.errors import LabelWriteError, UsageError
from synthguard.labelling import label_file
from synthguard.samples import generate_samples

PRODUCER = "001191440300708461136T1WFUO"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    generate_samples(out)
    return out


@pytest.mark.parametrize("name", ["photo.jpg", "photo.png", "voice.wav", "voice.mp3",
                                  "clip.mp4", "notes.md", "notes.pdf"])
def test_label_then_scan_confirms(samples: Path, tmp_path: Path, name: str) -> None:
    dst = tmp_path / name
    result = label_file(samples / name, dst, producer=PRODUCER, content_id="id-1")
    assert result.checks["aigc"] == "compliant"
    report = synthguard.scan(dst)
    assert report.provenance["aigc"]["verdict"] == "compliant"
    assert report.provenance["aigc"]["label"]["ContentProducer"] == PRODUCER
    assert report.decision is not None and report.decision.outcome.value == "confirmed"
    # the source is untouched
    assert synthguard.scan(samples / name).provenance["aigc"]["verdict"] == "not_found"


@pytest.mark.parametrize("name", ["photo.jpg", "voice.wav", "clip.mp4"])
def test_visible_mark_is_verified_on_the_output(samples: Path, tmp_path: Path, name: str) -> None:
    result = label_file(samples / name, tmp_path / name, producer=PRODUCER, content_id="id-2",
                        visible=True)
    assert result.mark is not None
    assert result.checks["mark"]["passed"] is True  # R-IMPL-5


def test_failure_leaves_no_output(samples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                  ) -> None:
    import synthguard.labelling as labelling

    def broken(*args: object, **kwargs: object) -> None:
        raise LabelWriteError("read-back failed")

    monkeypatch.setattr(labelling, "write_label", broken)
    dst = tmp_path / "out.jpg"
    with pytest.raises(LabelWriteError):
        label_file(samples / "photo.jpg", dst, producer=PRODUCER, content_id="id-3")
    assert not dst.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary folder left behind


def test_bad_producer_is_refused_before_any_work(samples: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="R-META-4"):
        label_file(samples / "photo.jpg", tmp_path / "x.jpg", producer="Acme Corp",
                   content_id="id")


def test_cli_label_json_and_exit_codes(samples: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    dst = tmp_path / "out.png"
    ok = runner.invoke(cli, ["label", str(samples / "photo.png"), str(dst), "--producer",
                             PRODUCER, "--content-id", "png-1", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["carrier"] == "png.xmp"
    bad = runner.invoke(cli, ["label", str(samples / "photo.png"), str(tmp_path / "y.png"),
                              "--producer", "has space", "--content-id", "x"])
    assert bad.exit_code == 2 and "R-META-4" in bad.output
    missing = runner.invoke(cli, ["label", str(samples / "photo.png"), str(tmp_path / "z.png")])
    assert missing.exit_code == 2


def _pki() -> object:
    import importlib.util

    path = Path(__file__).parent / "provenance" / "c2pa_pki.py"
    spec = importlib.util.spec_from_file_location("c2pa_pki_for_labelling", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.make_pki("labelling test")


def test_aigc_then_c2pa_signed_in_that_order(samples: Path, tmp_path: Path) -> None:
    pytest.importorskip("c2pa", reason="the c2pa extra is not installed")
    pki = _pki()
    cert, key, root = tmp_path / "chain.pem", tmp_path / "key.pem", tmp_path / "root.pem"
    cert.write_bytes(pki.chain_pem)  # type: ignore[attr-defined]
    key.write_bytes(pki.signer_key_pem)  # type: ignore[attr-defined]
    root.write_bytes(pki.root_pem)  # type: ignore[attr-defined]
    dst = tmp_path / "signed.jpg"
    result = label_file(samples / "photo.jpg", dst, producer=PRODUCER, content_id="id-4",
                        c2pa_cert=cert, c2pa_key=key)
    assert result.checks["c2pa"] == "untrusted"  # our root is not configured here
    settings = synthguard.Settings.load({"c2pa_trust_anchors": str(root)})
    report = synthguard.scan(dst, settings=settings)
    # R-C2PA-6: the AIGC label written before signing keeps the manifest valid
    assert report.provenance["c2pa"]["state"] == "valid"
    assert report.provenance["aigc"]["verdict"] == "compliant"
    assert report.decision is not None
    assert {r.rule for r in report.decision.reasons} == {"aigc-label-1", "c2pa-valid-ai"}
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent.parent / "docs" / "report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report.to_dict())
