from __future__ import annotations

import synthguard.errors as errors
from synthguard.errors import SynthguardError, error_for_code


def _classes() -> list[type[SynthguardError]]:
    return [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, SynthguardError)
    ]


def test_every_error_derives_from_the_root_and_has_a_unique_code() -> None:
    classes = _classes()
    codes = [c.code for c in classes]
    assert len(codes) == len(set(codes)), codes
    for cls in classes:
        assert issubclass(cls, SynthguardError)
        assert 400 <= cls.status < 600


def test_tree_in_docstring_lists_every_class() -> None:
    doc = errors.__doc__ or ""
    for cls in _classes():
        assert cls.__name__ in doc, cls
        assert f"code={cls.code}" in doc, cls


def test_error_for_code_round_trips() -> None:
    for cls in _classes():
        if cls is errors.MissingDependencyError:
            continue
        rebuilt = error_for_code(cls.code, "m")
        assert type(rebuilt) is cls and rebuilt.to_dict() == {"code": cls.code, "message": "m"}


def test_missing_dependency_names_the_install() -> None:
    err = errors.MissingDependencyError("audio and video", "video")
    assert "pip install 'synthguard[video]'" in err.message
