"""Profile the broker process under the silent flow: py-spy samples `broker serve` while the load
driver runs, then prints where the samples fall (own time per function, and time under our modules).

    .venv/bin/python bench/profile_flow.py [--seconds 15] [--concurrency 16]

Writes bench/results/profile_silent_flow.txt (collapsed stacks are left in a temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import silent_flow as sf

PY_SPY = str(Path(sys.executable).with_name("py-spy"))


# Where a sample's own time goes, by the package of the innermost frame (first match wins).
GROUPS = (
    ("database driver (psycopg, waiting on PostgreSQL)", ("psycopg/", "psycopg_binary")),
    ("SQLAlchemy (ORM, compiling, pool)", ("sqlalchemy/",)),
    ("Authlib (protocol rules)", ("authlib/",)),
    ("JWT signing and checking (PyJWT, cryptography)", ("jwt/", "cryptography/")),
    ("thread hand-offs (anyio, threading, queue)", ("anyio/", "threading.py", "queue.py", "concurrent/")),
    (
        "web framework (uvicorn, starlette, fastapi, pydantic)",
        ("uvicorn/", "starlette/", "fastapi/", "pydantic"),
    ),
    ("event loop (asyncio)", ("asyncio/", "selectors.py")),
    ("logging and metrics", ("structlog/", "logging/", "observability")),
    ("broker and keys code", ("/broker/", "/keys/", "/vouching/")),
)


def group_of(frame: str) -> str:
    return next(
        (name for name, marks in GROUPS if any(m in frame for m in marks)), "other (stdlib, json, ...)"
    )


def summarise(collapsed: Path, top: int = 40) -> str:
    own: collections.Counter[str] = collections.Counter()
    groups: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        groups[group_of(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n
    out = [f"{total} samples", "", "own time by package:"]
    out += [f"{100 * n / total:5.1f}%  {g}" for g, n in groups.most_common()]
    out += ["", "own time:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "inclusive (broker, keys, authlib, sqlalchemy, starlette):"]
    ours = [
        (f, n)
        for f, n in inclusive.most_common()
        if any(m in f for m in ("broker/", "keys/", "authlib/", "sqlalchemy/", "starlette/", "jwt/"))
    ]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in ours[:top]]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--idle", action="store_true", help="include idle threads")
    parser.add_argument(
        "--gil", action="store_true", help="only the thread holding the GIL (CPU time in Python)"
    )
    parser.add_argument("--stacks", help="keep the collapsed stacks in this file")
    args = parser.parse_args()
    sf.SECONDS = args.seconds
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.stacks) if args.stacks else Path(tmp) / "flow.collapsed"
        broker = sf.Broker(Path(tmp), sf.free_port(), sf.ClientKey())
        try:
            broker.sign_in()
            asyncio.run(sf.load(broker, sf.silent_flow, 4, seconds=2))
            spy = subprocess.Popen(
                [
                    PY_SPY,
                    "record",
                    "--format",
                    "raw",
                    "-o",
                    str(out),
                    "--pid",
                    str(broker.proc.pid),
                    "--rate",
                    "200",
                    "--nonblocking",
                    *(["--idle"] if args.idle else []),
                    *(["--gil"] if args.gil else []),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = asyncio.run(sf.load(broker, sf.silent_flow, args.concurrency))
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        finally:
            broker.stop()
        text = f"silent flow, concurrency {args.concurrency}: {result}\n\n" + summarise(out)
    print(text)
    sf.RESULTS.mkdir(parents=True, exist_ok=True)
    (sf.RESULTS / "profile_silent_flow.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
