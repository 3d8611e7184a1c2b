"""`broker demo` as a real process (tests/command.py ``broker_process``), ready to be used."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.command import broker_process


@dataclass
class RunningDemo:
    broker_url: str
    rp_url: str  # the demo service, at localhost
    twin_url: str  # the second demo service: the same port at 127.0.0.1
    details: dict[str, str]
    output: str = ""  # what it printed, and what it wrote to standard error: known once it stopped
    errors: str = ""


@contextmanager
def running_demo(cwd: Path, port: int, rp_port: int, *extra: str) -> Iterator[RunningDemo]:
    proc = broker_process(["demo", "--port", str(port), "--rp-port", str(rp_port), *extra], cwd)
    demo = None
    try:
        wait_ready(proc, [f"http://localhost:{port}/readyz", f"http://localhost:{rp_port}/"])
        demo = RunningDemo(
            f"http://localhost:{port}",
            f"http://localhost:{rp_port}",
            f"http://127.0.0.1:{rp_port}",
            json.loads((cwd / "var" / "demo.json").read_text()),
        )
        yield demo
    finally:
        out, err = stop(proc)
        if demo is not None:
            demo.output, demo.errors = out, err


def wait_ready(proc: subprocess.Popen[str], urls: list[str]) -> None:
    deadline = time.monotonic() + 150  # a busy machine: its start-up has taken over a minute
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"broker demo stopped: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if all(httpx.get(url).status_code == 200 for url in urls):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("broker demo did not become ready")


def stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop it (as Ctrl+C does) and return what it wrote to its output and error."""
    if proc.poll() is None:
        proc.terminate()
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out or "", err or ""
