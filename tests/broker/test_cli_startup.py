"""Start-up errors take one line: `broker serve`, `broker demo` and `broker clients create`, each run as
a real process (the installed script, as an operator runs it), stop on what they cannot use with one
line naming the problem on standard error, a non-zero exit status, and no traceback or warning."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.command import BROKER
from tests.e2e.conftest import free_port

CLIENT = ["clients", "create", "--redirect-uri", "https://rp.example/cb"]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")} | (env or {})
    environ.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [BROKER, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1 and lines[0].startswith("broker: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    assert "Uvicorn running" not in result.stdout + result.stderr


@pytest.fixture
def busy() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_serve_on_a_busy_port(tmp_path, busy):
    first = run(["serve", "--port", str(busy)], tmp_path)  # an empty directory: its migrations are logged
    assert first.returncode == 2 and "Traceback" not in first.stderr
    assert first.stderr.strip().splitlines()[-1].startswith(f"broker: cannot listen on 127.0.0.1:{busy}")
    assert_one_line(run(["serve", "--port", str(busy)], tmp_path), f"127.0.0.1:{busy}", "--port", "another program")


def test_serve_on_a_port_that_is_no_port(tmp_path):
    assert_one_line(run(["serve", "--port", "70000"], tmp_path), "--port", "1 to 65535")


def test_demo_on_a_busy_port_is_one_line_before_anything_is_printed(tmp_path, busy):
    broker = run(["demo", "--port", str(busy), "--rp-port", str(free_port())], tmp_path)
    assert_one_line(broker, f"127.0.0.1:{busy}", "--port")
    assert broker.stdout == ""  # no sign-in details for a demo that is not running
    demo_service = run(["demo", "--port", str(free_port()), "--rp-port", str(busy)], tmp_path)
    assert_one_line(demo_service, f"127.0.0.1:{busy}", "--rp-port")


def test_demo_on_one_port_for_both(tmp_path):
    port = str(free_port())
    assert_one_line(run(["demo", "--port", port, "--rp-port", port], tmp_path), "--rp-port must differ")


@pytest.mark.parametrize(
    "args",  # settings are read before any port is tried
    [["serve", "--port", "1"], ["demo", "--port", "1", "--rp-port", "2"], [*CLIENT, "--name", "x"]],
    ids=["serve", "demo", "clients create"],
)
def test_a_bad_setting(tmp_path, args):
    assert_one_line(run(args, tmp_path, {"BROKER_ACCESS_TOKEN_TTL": "soon"}), "BROKER_ACCESS_TOKEN_TTL")


def test_private_key_jwt_without_its_keys_or_with_a_missing_jwks_file(tmp_path):
    private_key_jwt = [*CLIENT, "--name", "x", "--auth-method", "private_key_jwt"]
    assert_one_line(run(private_key_jwt, tmp_path), "public keys", "jwks")
    missing = tmp_path / "missing.jwks.json"
    assert_one_line(run([*private_key_jwt, "--jwks-file", str(missing)], tmp_path), "cannot read a JWKS", str(missing))


def test_a_name_too_long(tmp_path):
    assert_one_line(run([*CLIENT, "--name", "n" * 201], tmp_path), "--name is longer than 200 characters")
