"""A background thread that delivers whatever is due, woken early when there is new work."""

from __future__ import annotations

import threading

import structlog

log = structlog.get_logger(__name__)


class PollingWorker:
    name = "worker"
    interval = 1.0

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:
                log.exception("delivery failed", worker=self.name)
            self._wake.wait(timeout=self.interval)
            self._wake.clear()
