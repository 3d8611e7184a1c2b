"""Benchmark: password sign-ins per second for one broker process, and its peak memory under
100 concurrent attempts (argon2id at RFC 9106's low-memory parameters, 64 MiB each).

Starts `broker serve` on a fresh SQLite database, creates accounts, then drives the real pages over
HTTP: authorize → sign-in page → POST email and password (vtr Cl, so the password completes the
sign-in) → back at the relying service. Writes bench/results/password_signin.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BROKER = str(Path(sys.executable).with_name("broker"))
ACCOUNTS = 20
PASSWORD = "correct horse battery staple"  # benchmark fixture only
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def setup(workdir: Path, port: int) -> tuple[dict[str, str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env["BROKER_ISSUER"] = f"http://127.0.0.1:{port}"
    client = json.loads(
        subprocess.run(
            [BROKER, "clients", "create", "--name", "Bench", "--redirect-uri", "http://localhost/cb"],
            cwd=workdir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    script = (
        "from broker.config import load_settings\nfrom broker.store.db import make_engine, make_sessionmaker, transaction\n"
        "from broker.accounts.service import AccountService\nfrom broker.accounts.passwords import PasswordService\n"
        "from broker.deps import utc_now\nimport sys\n"
        "s = load_settings(); f = make_sessionmaker(make_engine(s.database_url)); p = PasswordService()\n"
        "with transaction(f) as db:\n"
        f"    for i in range({ACCOUNTS}): AccountService(db, p).create(f'bench{{i}}@example.org', sys.argv[1], verified=True, now=utc_now())\n"
    )
    subprocess.run([sys.executable, "-c", script, PASSWORD], cwd=workdir, env=env, check=True)
    return client, env


async def sign_in(base: str, client_id: str, n: int) -> float:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        start = time.perf_counter()
        r = await http.get(
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": "http://localhost/cb",
                "scope": "openid",
                "vtr": '["Cl"]',
                "code_challenge": CHALLENGE,
                "code_challenge_method": "S256",
            },
        )
        page = await http.get(r.headers["location"])
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)
        r = await http.post(
            r.headers["location"],
            data={"email": f"bench{n % ACCOUNTS}@example.org", "password": PASSWORD, "csrf_token": csrf},
        )
        r = await http.get(r.headers["location"])
        if not r.headers.get("location", "").startswith("http://localhost/cb?code="):
            raise RuntimeError(f"sign-in {n} did not finish: {r.status_code}")
        return time.perf_counter() - start


async def run(base: str, client_id: str, total: int, concurrency: int) -> dict[str, float]:
    semaphore = asyncio.Semaphore(concurrency)
    errors = 0

    async def one(n: int) -> float | None:
        nonlocal errors
        async with semaphore:
            try:
                return await sign_in(base, client_id, n)
            except Exception:  # noqa: BLE001 - counted, reported
                errors += 1
                return None

    start = time.perf_counter()
    latencies = [x for x in await asyncio.gather(*(one(n) for n in range(total))) if x is not None]
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "concurrency": concurrency,
        "sign_ins": total,
        "errors": errors,
        "sign_ins_per_second": round(len(latencies) / elapsed, 2),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
    }


def main() -> None:
    port = 18000 + os.getpid() % 1000
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        client, env = setup(workdir, port)
        server = subprocess.Popen(
            [BROKER, "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            asyncio.run(run(base, client["client_id"], 8, 4))  # warm up
            runs = [
                asyncio.run(run(base, client["client_id"], total, c)) for total, c in ((40, 4), (100, 100))
            ]
            peak = peak_rss_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    result = {
        "benchmark": "password sign-in (argon2id RFC 9106 low-memory: t=3, m=64 MiB, p=4; 4 hashes at once)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "runs": runs,
        "peak_rss_mib_after_100_concurrent": round(peak, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "password_signin.json").write_text(json.dumps(result, indent=2) + "\n")
    line = "; ".join(
        f"c={r['concurrency']}: {r['sign_ins_per_second']}/s, {r['errors']} refused" for r in runs
    )
    print(f"password sign-in: {line}; peak memory {result['peak_rss_mib_after_100_concurrent']} MiB")


if __name__ == "__main__":
    main()
