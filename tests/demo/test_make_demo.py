"""`make demo PORT=… RP_PORT=…` runs the demo on those ports (what make would run, without running it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_takes_the_ports():
    planned = subprocess.run(
        ["make", "--dry-run", "--always-make", "--silent", "demo", "PORT=8123", "RP_PORT=8124"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert planned[-1] == ".venv/bin/broker demo --port 8123 --rp-port 8124"
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "RP_PORT")}
    default = subprocess.run(
        ["make", "--dry-run", "--silent", "demo"], cwd=ROOT, env=environ, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert default[-1] == ".venv/bin/broker demo --port 8000 --rp-port 8001"
