"""Settings from the environment, with embedded defaults (SQLite and an embedded Redis)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Uploads beyond this are refused before parsing (413).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def instance_path() -> Path:
    path = Path(os.environ.get("CONTEST_INSTANCE", PROJECT_ROOT / "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _origins(value: str | None) -> list[str] | None:
    origins = [origin.strip().rstrip("/") for origin in (value or "").split(",") if origin.strip()]
    return origins or None


def _seconds(name: str, default: str) -> float:
    """A duration setting from the environment: a typo stops the start with the setting named."""
    raw = os.environ.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} should be a number of seconds, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name} should be a number of seconds from 0 up, not {raw!r}")
    return value


def load(test_config: dict | None = None) -> dict:
    """The app's settings: environment first, then embedded defaults, then test overrides."""
    instance = Path(test_config["INSTANCE_PATH"]) if test_config and "INSTANCE_PATH" in test_config else instance_path()
    instance.mkdir(parents=True, exist_ok=True)
    config = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'contest.sqlite3'}",
        # None means: start or attach the embedded redis-server on the instance socket.
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # REDIS_URL names one node of a Redis Cluster (each contest's and game's keys share a hash tag).
        "REDIS_CLUSTER": (os.environ.get("REDIS_CLUSTER") or "").lower() in ("1", "true", "yes"),
        "SECRET_KEY": None,
        "MAX_CONTENT_LENGTH": MAX_UPLOAD_BYTES,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # How often the live channel may push per contest (seconds between pushes).
        "LIVE_PUSH_INTERVAL": _seconds("LIVE_PUSH_INTERVAL", "0.3"),
        # ... and its stats frame (counters and unit standings, a big screen's slower parts).
        "LIVE_STATS_INTERVAL": _seconds("LIVE_STATS_INTERVAL", "1.0"),
        # How old the public leaderboard call's body may be (seconds, per process; 0: made every time).
        "BOARD_CACHE_SECONDS": _seconds("BOARD_CACHE_SECONDS", "0.3"),
        "START_LIVE_PUSHER": True,
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE") or "threading",
        # Pages of other sites that may open the live channel (comma-separated origins such as
        # https://h5.example.org). None: same origin only. "*" is refused at start-up.
        "SOCKETIO_ALLOWED_ORIGINS": _origins(os.environ.get("SOCKETIO_ALLOWED_ORIGINS")),
        # How many proxies in front set X-Forwarded-For (0: none; 1 behind deploy/nginx.conf).
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT") or 0),
    }
    if test_config:
        config.update(test_config)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance)
    return config
