"""The code style DESIGN.md asks for, kept by the suite: ruff clean, mypy clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff():
    result = run("ruff", "check", "broker", "keys", "vouching", "tests")
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy():
    result = run("mypy", "broker", "keys", "vouching")
    assert result.returncode == 0, result.stdout[-3000:]
