from __future__ import annotations

import pytest

from synthguard.errors import ConfigError
from synthguard.settings import Settings, settings_table


def test_defaults_match_table() -> None:
    s = Settings()
    for row in settings_table():
        assert getattr(s, row["name"]) == row["default"]
        assert row["help"] and row["env"] == "SYNTHGUARD_" + row["name"].upper()


def test_env_then_overrides_precedence() -> None:
    env = {"SYNTHGUARD_MAX_PIXELS": "1000", "SYNTHGUARD_TIMEOUT_S": "5", "OTHER": "x"}
    s = Settings.load({"timeout_s": "7.5"}, env=env)
    assert s.max_pixels == 1000
    assert s.timeout_s == 7.5
    assert isinstance(s.timeout_s, float)


def test_string_values_are_parsed() -> None:
    s = Settings().replace(max_file_bytes="1_000_000", max_duration_s="10")
    assert s.max_file_bytes == 1_000_000 and s.max_duration_s == 10.0


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"no_such": 1}, "unknown setting 'no_such'"),
        ({"max_pixels": "lots"}, "expects an integer, got 'lots'"),
        ({"max_pixels": -1}, "expects a value >= 0"),
        ({"timeout_s": True}, "expects a number"),
    ],
)
def test_bad_values_are_config_errors(changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Settings().replace(**changes)


def test_unknown_env_names_are_ignored() -> None:
    assert Settings.load(env={"SYNTHGUARD_NOT_A_SETTING": "1"}) == Settings()
