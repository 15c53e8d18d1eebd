"""Socket.IO accepts same-origin pages (and origins named in SOCKETIO_ALLOWED_ORIGINS), never any site."""

from __future__ import annotations

import pytest

from contest import create_app

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def _handshake(client, origin: str | None):
    headers = {"Origin": origin} if origin else {}
    return client.get(HANDSHAKE, headers=headers, base_url="http://quiz.example.org")


def test_same_origin_is_accepted_and_a_foreign_origin_refused(app):
    client = app.test_client()
    same = _handshake(client, "http://quiz.example.org")
    assert same.status_code == 200 and b"sid" in same.data
    assert _handshake(client, None).status_code == 200  # native clients (a mini-program) send none
    foreign = _handshake(client, "http://evil.example.com")
    assert foreign.status_code == 400
    assert b"sid" not in foreign.data
    assert foreign.headers.get("Access-Control-Allow-Origin") is None
    # Same host, other scheme: another origin.
    assert _handshake(client, "https://quiz.example.org").status_code == 400


def _app_with(stores, tmp_path, origins):
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": stores["database_url"],
        "REDIS_URL": stores["redis_url"], "SECRET_KEY": "test-secret", "SOCKETIO_MESSAGE_QUEUE": False,
        "SOCKETIO_ALLOWED_ORIGINS": origins,
    })


def test_named_origins_are_accepted_and_others_still_refused(stores, tmp_path):
    client = _app_with(stores, tmp_path, ["https://h5.example.org"]).test_client()
    assert _handshake(client, "https://h5.example.org").status_code == 200
    assert _handshake(client, "http://evil.example.com").status_code == 400


@pytest.mark.parametrize("origins", ["*", ["*"], ["https://h5.example.org", "*"], []])
def test_any_origin_is_refused_at_start_up(stores, tmp_path, origins):
    with pytest.raises(ValueError, match="SOCKETIO_ALLOWED_ORIGINS"):
        _app_with(stores, tmp_path, origins)


def test_environment_setting_is_a_comma_separated_list(monkeypatch, tmp_path):
    from contest import config

    monkeypatch.setenv("SOCKETIO_ALLOWED_ORIGINS", "https://a.example.org/, https://b.example.org")
    assert config.load({"INSTANCE_PATH": str(tmp_path)})["SOCKETIO_ALLOWED_ORIGINS"] == [
        "https://a.example.org", "https://b.example.org"]
    monkeypatch.delenv("SOCKETIO_ALLOWED_ORIGINS")
    assert config.load({"INSTANCE_PATH": str(tmp_path)})["SOCKETIO_ALLOWED_ORIGINS"] is None
