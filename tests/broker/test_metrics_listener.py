"""Metrics are served on a listener of their own, never on the public one (issue: /metrics was public).

`broker serve --metrics-port M` answers /metrics on 127.0.0.1:M (the loopback unless --metrics-host says
otherwise); the public port answers 404 there. Run as a real process, as an operator runs it.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from tests.command import broker_process
from tests.e2e.conftest import free_port
from tests.test_cli import wait_ready


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return broker_process(["serve", *args], tmp_path)


def test_metrics_are_on_their_own_listener_and_not_on_the_public_one(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    proc = _serve(tmp_path, "--port", str(port), "--metrics-port", str(metrics_port))
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        ready = [line for line in scraped.text.splitlines() if line.startswith("broker_http_requests_total{")]
        assert any('route="/readyz"' in line and 'status="200"' in line for line in ready), ready
        # The metrics listener serves metrics and nothing else.
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/healthz").status_code == 404
        assert httpx.post(f"http://127.0.0.1:{metrics_port}/metrics").status_code == 405
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_metrics_listener_binds_the_loopback_by_default(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    proc = _serve(tmp_path, "--port", str(port), "--metrics-port", str(metrics_port))
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=False).stdout
        if listening:  # iproute2 is on the machine: the socket is bound to 127.0.0.1 only
            assert f"127.0.0.1:{metrics_port}" in listening
            assert f"0.0.0.0:{metrics_port}" not in listening and f"*:{metrics_port}" not in listening
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_metrics_on_the_public_port_are_refused_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(tmp_path, "--port", str(port), "--metrics-port", str(port))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        "broker: --metrics-port must differ from --port: metrics are never served on the public listener"
    ]


def test_a_busy_metrics_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        proc = _serve(tmp_path, "--port", str(free_port()), "--metrics-port", str(busy))
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert f"broker: cannot listen for metrics on 127.0.0.1:{busy}" in err
    assert "Traceback" not in err
