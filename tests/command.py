"""The `broker` command, run the way its installed entry point runs it (``broker.cli:main`` with the
arguments in ``sys.argv``), but in this process: a new Python process costs 1.5 s of imports a command.

Each run gets what a process of its own would have: its own working directory, an environment with
none of this process's ``BROKER_`` settings, its own standard input, output and error, and the logging
set-up it makes undone afterwards. An exception that escapes is printed to its standard error as the
interpreter would print it (exit status 1). It never serves: a ``serve`` or ``demo`` that would start
a server fails instead (tests of a running broker start a real process: ``BROKER``)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from unittest import mock

import structlog
from typer.testing import CliRunner

BROKER = shutil.which("broker") or str(Path(sys.executable).with_name("broker"))
# Loggers whose level the broker's logging set-up changes (broker/logs.py), besides the root.
_TUNED_LOGGERS = ("uvicorn.access", "authlib", "notifications_python_client")


def broker_process(args: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``broker ARGS`` as a real process (for ``serve``), in ``cwd``, with this process's environment less
    its ``BROKER_`` settings, plus ``env``; its output and error are pipes."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")} | dict(env or {})
    return subprocess.Popen(
        [BROKER, *args], cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_broker(
    args: list[str], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``broker ARGS`` with the environment variables ``env`` (and no other ``BROKER_`` ones), in ``cwd``."""
    from broker import cli

    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BROKER_")}
    environ.update(env or {})
    with (
        contextlib.chdir(cwd or Path.cwd()),
        _logging_put_back(),
        _never_serving(),
        mock.patch.object(sys, "argv", [BROKER, *args]),
        mock.patch.object(sys, "excepthook", sys.excepthook),
        mock.patch.object(cli.app, "registered_groups", list(cli.app.registered_groups)),  # main() adds keys
        CliRunner().isolation(env=environ) as (stdout, stderr, _),
    ):
        status = _exit_status(cli.main)
        sys.stdout.flush()
        sys.stderr.flush()
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess([BROKER, *args], status, out, err)


def _exit_status(main: object) -> int:
    try:
        main()  # type: ignore[operator]
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            return exit.code or 0
        print(exit.code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
        return 1
    except Exception:  # noqa: BLE001 - uncaught in a process of its own: printed, exit status 1
        import typer.main

        typer.main.except_hook(*sys.exc_info())  # type: ignore[arg-type]
        return 1
    return 0


@contextlib.contextmanager
def _never_serving() -> Iterator[None]:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a broker started to serve in a test's process: run it as a process (BROKER)")

    with mock.patch("uvicorn.run", refuse), mock.patch("broker.demo.run.run_demo", refuse):
        yield


@contextlib.contextmanager
def _logging_put_back() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in _TUNED_LOGGERS}
    config = structlog.get_config()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
        structlog.configure(**config)
