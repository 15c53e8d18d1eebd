"""Settings from the environment: a malformed duration stops the start with the setting named."""

from __future__ import annotations

import pytest

from contest import config


@pytest.mark.parametrize("name", ["LIVE_PUSH_INTERVAL", "LIVE_STATS_INTERVAL", "BOARD_CACHE_SECONDS"])
@pytest.mark.parametrize("raw", ["abc", "-1", "nan"])
def test_a_malformed_duration_names_its_setting(monkeypatch, tmp_path, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=name):
        config.load({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})


def test_durations_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BOARD_CACHE_SECONDS", "0")
    monkeypatch.setenv("LIVE_PUSH_INTERVAL", "1.5")
    settings = config.load({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
    assert settings["BOARD_CACHE_SECONDS"] == 0.0 and settings["LIVE_PUSH_INTERVAL"] == 1.5
