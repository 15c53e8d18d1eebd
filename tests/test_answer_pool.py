"""Answers under gevent never wait on the group-commit writer while holding a pooled connection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "answers_under_gevent.py"


def test_forty_answers_at_once_all_commit_with_a_pool_of_fifteen():
    done = subprocess.run([sys.executable, str(SCRIPT), "40"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    statuses = done.stdout.split()
    assert statuses == ["200"] * 40, done.stdout
