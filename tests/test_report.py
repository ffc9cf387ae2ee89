from __future__ import annotations

import json

import pytest

from synthguard.errors import TooManyPixelsError
from synthguard.report import Decision, Detection, Outcome, Reason, Report, Segment, display_path


def test_outcome_maps_to_gb45438_label_values() -> None:
    # R-PLAT-3: confirmed "1", possible "2", suspected "3"
    assert [o.label for o in Outcome] == ["1", "2", "3", None]
    assert sorted(Outcome, key=lambda o: o.rank) == [
        Outcome.NONE, Outcome.SUSPECTED, Outcome.POSSIBLE, Outcome.CONFIRMED,
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"score": None, "abstained": False},
        {"score": 0.5, "abstained": True, "reason": "x"},
        {"score": None, "abstained": True},
        {"score": 1.5},
        {"score": -0.1},
    ],
)
def test_detection_invariants(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Detection(detector="d", version="1", **kwargs)  # type: ignore[arg-type]


def test_detection_and_decision_serialise() -> None:
    det = Detection(
        detector="faceswap",
        version="1.0",
        score=0.9,
        segments=(Segment(start=0.0, end=1.0, score=0.9, box=(1, 2, 3, 4)),),
    )
    assert det.to_dict()["segments"] == [
        {"start": 0.0, "end": 1.0, "score": 0.9, "box": [1.0, 2.0, 3.0, 4.0]}
    ]
    dec = Decision(Outcome.SUSPECTED, reasons=(Reason("r", "why", "R-PLAT-8"),))
    assert dec.to_dict()["label"] == "3"


def test_failed_report_with_non_utf8_name_is_ascii_json() -> None:
    raw = b"bad-\xff\xfe.png"
    shown, b64 = display_path(raw)
    assert shown == "bad-\\xff\\xfe.png" and b64 is not None
    report = Report.failed(raw, TooManyPixelsError("expected fewer pixels, got many"))
    line = report.to_json()
    assert line.isascii()
    data = json.loads(line)
    assert data["error"] == {
        "code": "too_many_pixels",
        "message": "expected fewer pixels, got many",
    }
    assert data["path_b64"] == b64 and data["decision"] is None
