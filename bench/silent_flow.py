"""Benchmark, side by side with node oidc-provider (bench/peer): (a) the silent flow of a signed-in
person — authorize with the session cookie → code → token → userinfo, the ID token's signature
checked — and (c) discovery + JWKS, at concurrency 4, 16 and 64, one server process each.

The broker runs on PostgreSQL when BROKER_BENCH_POSTGRES_URL (or BROKER_TEST_POSTGRES_URL) is set,
else SQLite. Writes bench/results/silent_flow.json and prints the broker/peer ratios.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BROKER = str(Path(sys.executable).with_name("broker"))
REDIRECT = "http://localhost/cb"
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = (4, 16, 64)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def wait_ready(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


class Target:
    name: str
    issuer: str
    client_id: str
    client_secret: str
    cookies: httpx.Cookies
    extra: dict[str, str] = {}

    def authorize_params(self, challenge: str) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid email",
            "state": secrets.token_hex(8),
            "nonce": secrets.token_hex(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **self.extra,
        }


class Broker(Target):
    name = "broker"

    def __init__(self, workdir: Path, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        env["BROKER_ISSUER"] = self.issuer
        pg = os.environ.get("BROKER_BENCH_POSTGRES_URL") or os.environ.get("BROKER_TEST_POSTGRES_URL")
        self.database = "sqlite"
        if pg:
            name = f"broker_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", pg, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
            env["BROKER_DATABASE_URL"] = pg.rsplit("/", 1)[0] + "/" + name
            self.database = "postgresql"
            subprocess.run([BROKER, "migrate"], cwd=workdir, env=env, check=True, capture_output=True)
        self.env, self.workdir = env, workdir
        client = json.loads(
            subprocess.run(
                [
                    BROKER,
                    "clients",
                    "create",
                    "--name",
                    "Bench",
                    "--redirect-uri",
                    REDIRECT,
                    "--claims",
                    "email",
                ],
                cwd=workdir,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        self.client_id, self.client_secret = client["client_id"], client["client_secret"]
        subprocess.run(
            [
                BROKER,
                "accounts",
                "create",
                "--email",
                "bench@example.org",
                "--password",
                "correct horse battery staple",
                "--verified",
            ],
            cwd=workdir,
            env=env,
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [BROKER, "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"{self.issuer}/readyz")

    def latest_code(self) -> str:
        script = (
            "from broker.config import load_settings\nfrom broker.store.db import make_engine\n"
            "from sqlalchemy import text\ne = make_engine(load_settings().database_url)\n"
            'with e.connect() as c: print(c.execute(text("SELECT personalisation FROM outbox_message '
            'ORDER BY created_at DESC LIMIT 1")).scalar())'
        )
        out = subprocess.run(
            [sys.executable, "-c", script],
            cwd=self.workdir,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return re.search(r"(\d{6})", out).group(1)

    def sign_in(self) -> None:
        verifier, challenge = pkce()
        with httpx.Client(base_url=self.issuer, follow_redirects=False, timeout=30) as http:
            page = http.get("/authorize", params=self.authorize_params(challenge)).headers["location"]
            csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', http.get(page).text).group(1)
            code_page = http.post(
                page,
                data={
                    "email": "bench@example.org",
                    "password": "correct horse battery staple",
                    "csrf_token": csrf,
                },
            ).headers["location"]
            resume = http.post(code_page, data={"code": self.latest_code(), "csrf_token": csrf}).headers[
                "location"
            ]
            consent = http.get(resume).headers["location"]
            resume = http.post(consent, data={"decision": "agree", "csrf_token": csrf}).headers["location"]
            assert http.get(resume).headers["location"].startswith(REDIRECT)
            self.cookies = http.cookies

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Peer(Target):
    name = "node-oidc-provider"

    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.client_id, self.client_secret = "bench", "bench-secret-fixture"
        peer = ROOT / "bench" / "peer"
        if not (peer / "node_modules").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peer, check=True)
        self.proc = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=peer,
            env={**os.environ, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"{self.issuer}/.well-known/openid-configuration")

    def sign_in(self) -> None:
        verifier, challenge = pkce()
        with httpx.Client(base_url=self.issuer, follow_redirects=False, timeout=30) as http:
            location = http.get("/auth", params=self.authorize_params(challenge)).headers["location"]
            for form in ({"prompt": "login", "login": "bench-user", "password": "x"}, {"prompt": "consent"}):
                http.get(location)
                location = http.post(location, data=form).headers["location"]
                location = http.get(location).headers["location"]
            assert location.startswith(REDIRECT), location
            self.cookies = http.cookies

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def silent_flow(target: Target, http: httpx.AsyncClient, meta: dict, keys: dict) -> None:
    verifier, challenge = pkce()
    r = await http.get(meta["authorization_endpoint"], params=target.authorize_params(challenge))
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    r = await http.post(
        meta["token_endpoint"],
        auth=(target.client_id, target.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    token = r.json()
    header = jwt.get_unverified_header(token["id_token"])
    jwt.decode(token["id_token"], keys[header["kid"]], algorithms=["ES256"], audience=target.client_id)
    r = await http.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert r.status_code == 200 and "sub" in r.json()


async def discovery(target: Target, http: httpx.AsyncClient, meta: dict, keys: dict) -> None:
    assert (await http.get(f"{target.issuer}/.well-known/openid-configuration")).status_code == 200
    assert (await http.get(meta["jwks_uri"])).status_code == 200


async def load(target: Target, scenario, concurrency: int) -> dict:
    meta = httpx.get(f"{target.issuer}/.well-known/openid-configuration").json()
    keys = {
        k["kid"]: jwt.PyJWK(k).key
        for k in httpx.get(meta["jwks_uri"]).json()["keys"]
        if k.get("alg") == "ES256"
    }
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + SECONDS

    async def worker() -> None:
        nonlocal errors
        async with httpx.AsyncClient(cookies=target.cookies, follow_redirects=False, timeout=30) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    await scenario(target, http, meta, keys)
                    latencies.append(time.perf_counter() - start)
                except Exception:  # noqa: BLE001 - counted and reported
                    errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "concurrency": concurrency,
        "per_second": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    if not shutil.which("node"):
        sys.exit("node is needed for the peer")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[Target] = []
        try:
            broker = Broker(Path(tmp), free_port())
            targets.append(broker)
            targets.append(Peer(free_port()))
            for target in targets:
                target.sign_in()
                asyncio.run(load(target, silent_flow, 4))  # warm up
                results[target.name] = {
                    scenario.__name__: [asyncio.run(load(target, scenario, c)) for c in CONCURRENCY]
                    for scenario in (silent_flow, discovery)
                }
        finally:
            for target in targets:
                target.stop()
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
        },
        "broker_database": broker.database,
        "seconds_per_run": SECONDS,
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "silent_flow.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'scenario':<12} {'conc':>4} {'broker/s':>9} {'peer/s':>8} {'ratio':>6} {'broker p99':>11} {'peer p99':>9}"
    )
    for scenario in ("silent_flow", "discovery"):
        for ours, theirs in zip(results["broker"][scenario], results["node-oidc-provider"][scenario]):
            ratio = ours["per_second"] / theirs["per_second"] if theirs["per_second"] else float("nan")
            print(
                f"{scenario:<12} {ours['concurrency']:>4} {ours['per_second']:>9} {theirs['per_second']:>8} "
                f"{ratio:>6.2f} {ours['p99_ms']:>9}ms {theirs['p99_ms']:>7}ms"
            )


if __name__ == "__main__":
    main()
