"""Benchmark, side by side with node oidc-provider (bench/peer), one server process each:
(a) the silent flow of a signed-in person — authorize with the session cookie → code → token
    (client_secret_basic) → userinfo, the ID token's signature checked;
(b) the same flow with private_key_jwt at the token endpoint (an ES256 client assertion per request);
(c) discovery + JWKS;
(e) (a) against a PostgreSQL database holding 1,000,000 accounts and 1,000,000 consents (broker only:
    the peer keeps everything in memory), seeded once by bench/seed_million.py and reused.
Flows per second, p50 and p99 at concurrency 4, 16 and 64, and errors.

The broker runs on PostgreSQL when BROKER_BENCH_POSTGRES_URL (or BROKER_TEST_POSTGRES_URL) is set,
else SQLite (and (e) is skipped). Writes bench/results/silent_flow.json; bench/report.py prints the
ratios and draws the plot.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BROKER = str(Path(sys.executable).with_name("broker"))
REDIRECT = "http://localhost/cb"
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CONCURRENCY = (4, 16, 64)
PASSWORD = "correct horse battery staple"  # benchmark fixture only


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def wait_ready(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def postgres_url() -> str | None:
    """The PostgreSQL server to benchmark on, if one is configured and answers."""
    url = os.environ.get("BROKER_BENCH_POSTGRES_URL") or os.environ.get("BROKER_TEST_POSTGRES_URL")
    if (
        url
        and subprocess.run(["psql", url, "-qAtc", "SELECT 1"], check=False, capture_output=True).returncode
        != 0
    ):
        print(f"{url} does not answer: the broker runs on SQLite and (e) is skipped", flush=True)
        os.environ.pop("BROKER_BENCH_POSTGRES_URL", None)
        os.environ.pop("BROKER_TEST_POSTGRES_URL", None)
        return None
    return url


class ClientKey:
    """The private_key_jwt client's key pair: the public half is registered, the private signs."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.kid = "bench-client-es256"
        self.jwks = {"keys": [{**public, "kid": self.kid, "alg": "ES256", "use": "sig"}]}

    def assertion(self, client_id: str, audience: str) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": audience, "jti": uuid.uuid4().hex}
        claims |= {"iat": now, "exp": now + 60}
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": self.kid})


class Target:
    name: str
    issuer: str
    proc: subprocess.Popen[bytes]
    # kind ("secret" or "pkjwt") → (client_id, client_secret or "")
    clients: dict[str, tuple[str, str]]
    cookies: httpx.Cookies
    key: ClientKey
    authorize_path: str

    def authorize_params(self, client_id: str, challenge: str) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid email",
            "state": secrets.token_hex(8),
            "nonce": secrets.token_hex(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    return subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


class Broker(Target):
    name = "broker"
    authorize_path = "/authorize"

    def __init__(
        self,
        workdir: Path,
        port: int,
        key: ClientKey,
        *,
        database_url: str | None = None,
        clients: dict[str, tuple[str, str]] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """A fresh database (PostgreSQL when configured) with one client of each kind, unless
        ``database_url`` and ``clients`` name a seeded one (see seed_million.py)."""
        self.issuer = f"http://127.0.0.1:{port}"
        self.key, self.workdir = key, workdir
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        env["BROKER_ISSUER"] = self.issuer
        env["BROKER_LOG_FORMAT"] = "json"  # as a deployment logs (the readable format costs more)
        pg = postgres_url()
        self.database = "sqlite"
        self.created: str | None = None  # the database this run made, dropped at stop
        if database_url:
            env["BROKER_DATABASE_URL"] = database_url
            self.database = "postgresql"
        elif pg:
            name = f"broker_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["psql", pg, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
            self.created = name
            env["BROKER_DATABASE_URL"] = pg.rsplit("/", 1)[0] + "/" + name
            self.database = "postgresql"
        if self.database == "postgresql":
            run([BROKER, "migrate"], env, workdir)
        self.env = env
        self.clients = clients or {"secret": self.register("secret"), "pkjwt": self.register("pkjwt")}
        self.email = f"bench-{uuid.uuid4().hex[:12]}@example.org"
        run(
            [BROKER, "accounts", "create", "--email", self.email, "--password", PASSWORD, "--verified"],
            env,
            workdir,
        )
        self.proc = subprocess.Popen(
            [*(command or [BROKER]), "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"{self.issuer}/readyz")

    def stop(self) -> None:
        super().stop()
        pg = postgres_url()
        if self.created and pg:
            drop = f'DROP DATABASE IF EXISTS "{self.created}" WITH (FORCE)'
            subprocess.run(["psql", pg, "-qc", drop], check=False, capture_output=True)

    def register(self, kind: str) -> tuple[str, str]:
        args = [BROKER, "clients", "create", "--name", f"Bench {kind}", "--redirect-uri", REDIRECT]
        args += ["--claims", "email"]
        if kind == "pkjwt":
            jwks = self.workdir / "client-jwks.json"
            jwks.write_text(json.dumps(self.key.jwks))
            args += ["--auth-method", "private_key_jwt", "--jwks-file", str(jwks)]
        client = json.loads(run(args, self.env, self.workdir))
        return client["client_id"], client.get("client_secret", "")

    def latest_code(self) -> str:
        script = (
            "from broker.config import load_settings\nfrom broker.store.db import make_engine\n"
            "from sqlalchemy import text\ne = make_engine(load_settings().database_url)\n"
            'with e.connect() as c: print(c.execute(text("SELECT personalisation FROM outbox_message '
            'ORDER BY created_at DESC LIMIT 1")).scalar())'
        )
        out = run([sys.executable, "-c", script], self.env, self.workdir)
        found = re.search(r"(\d{6})", out)
        assert found, out
        return found.group(1)

    def sign_in(self) -> None:
        """Sign in (password, then the emailed code) and agree to share with each client."""
        with httpx.Client(base_url=self.issuer, follow_redirects=False, timeout=60) as http:
            first, *others = self.clients.values()
            _, challenge = pkce()
            page = http.get("/authorize", params=self.authorize_params(first[0], challenge)).headers[
                "location"
            ]
            csrf = self.csrf(http.get(page).text)
            form = {"email": self.email, "password": PASSWORD, "csrf_token": csrf}
            code_page = http.post(page, data=form).headers["location"]
            form = {"code": self.latest_code(), "csrf_token": csrf}
            resume = http.post(code_page, data=form).headers["location"]
            self.agree(http, http.get(resume).headers["location"])
            for client_id, _ in others:
                _, challenge = pkce()
                consent = http.get("/authorize", params=self.authorize_params(client_id, challenge))
                self.agree(http, consent.headers["location"])
            self.cookies = http.cookies

    @staticmethod
    def csrf(page: str) -> str:
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert found, "no csrf token on the page"
        return found.group(1)

    def agree(self, http: httpx.Client, consent: str) -> None:
        csrf = self.csrf(http.get(consent).text)
        form = {"decision": "agree", "csrf_token": csrf}
        resume = http.post(consent, data=form).headers["location"]
        assert http.get(resume).headers["location"].startswith(REDIRECT)


class Peer(Target):
    name = "node-oidc-provider"
    authorize_path = "/auth"

    def __init__(self, port: int, key: ClientKey) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = key
        self.clients = {"secret": ("bench", "bench-secret-fixture"), "pkjwt": ("bench-pkjwt", "")}
        peer = ROOT / "bench" / "peer"
        if not (peer / "node_modules").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=peer, check=True)
        self.proc = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=peer,
            env={**os.environ, "PORT": str(port), "PEER_PKJWT_JWKS": json.dumps(key.jwks)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"{self.issuer}/.well-known/openid-configuration")

    def sign_in(self) -> None:
        """The peer's development pages: any login, then consent, for each client."""
        with httpx.Client(base_url=self.issuer, follow_redirects=False, timeout=60) as http:
            for n, (client_id, _) in enumerate(self.clients.values()):
                _, challenge = pkce()
                location = http.get("/auth", params=self.authorize_params(client_id, challenge)).headers[
                    "location"
                ]
                forms = [{"prompt": "consent"}]
                if n == 0:
                    forms.insert(0, {"prompt": "login", "login": "bench-user", "password": "x"})
                for form in forms:
                    http.get(location)
                    location = http.post(location, data=form).headers["location"]
                    location = http.get(location).headers["location"]
                assert location.startswith(REDIRECT), location
            self.cookies = http.cookies


Scenario = Callable[[Target, httpx.AsyncClient, dict[str, Any], dict[str, Any]], Awaitable[None]]


async def code_flow(
    target: Target, http: httpx.AsyncClient, meta: dict[str, Any], keys: dict[str, Any], kind: str
) -> None:
    client_id, secret = target.clients[kind]
    verifier, challenge = pkce()
    r = await http.get(meta["authorization_endpoint"], params=target.authorize_params(client_id, challenge))
    code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    auth: tuple[str, str] | None = (client_id, secret)
    if kind == "pkjwt":
        auth = None
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = target.key.assertion(client_id, meta["token_endpoint"])
    r = await http.post(meta["token_endpoint"], auth=auth, data=form)
    token = r.json()
    header = jwt.get_unverified_header(token["id_token"])
    jwt.decode(token["id_token"], keys[header["kid"]], algorithms=["ES256"], audience=client_id)
    r = await http.get(
        meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert r.status_code == 200 and "sub" in r.json()


async def silent_flow(
    target: Target, http: httpx.AsyncClient, meta: dict[str, Any], keys: dict[str, Any]
) -> None:
    await code_flow(target, http, meta, keys, "secret")


async def private_key_jwt(
    target: Target, http: httpx.AsyncClient, meta: dict[str, Any], keys: dict[str, Any]
) -> None:
    await code_flow(target, http, meta, keys, "pkjwt")


async def discovery(
    target: Target, http: httpx.AsyncClient, meta: dict[str, Any], keys: dict[str, Any]
) -> None:
    assert (await http.get(f"{target.issuer}/.well-known/openid-configuration")).status_code == 200
    assert (await http.get(meta["jwks_uri"])).status_code == 200


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process on this machine (the server under the broker runs here)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().startswith(("postgres", "postmaster")):
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            continue  # the process ended while we looked
    return total


async def load(
    target: Target, scenario: Scenario, concurrency: int, seconds: float | None = None
) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        meta = (await http.get(f"{target.issuer}/.well-known/openid-configuration")).json()
        published = (await http.get(meta["jwks_uri"])).json()["keys"]
    keys = {k["kid"]: jwt.PyJWK(k).key for k in published if k.get("alg") == "ES256"}
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + (seconds or SECONDS)

    async def worker() -> None:
        nonlocal errors
        async with httpx.AsyncClient(cookies=target.cookies, follow_redirects=False, timeout=60) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    await scenario(target, http, meta, keys)
                    latencies.append(time.perf_counter() - start)
                except Exception:  # noqa: BLE001 - counted and reported
                    errors += 1

    on_postgres = getattr(target, "database", None) == "postgresql"  # the peer and SQLite use none
    cpu, database, driver = cpu_seconds(target.proc.pid), postgres_cpu_seconds(), time.process_time()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(target.proc.pid) - cpu
    database = postgres_cpu_seconds() - database
    driver = time.process_time() - driver
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "concurrency": concurrency,
        "per_second": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        # CPU time of the server process per completed flow: steadier than rates on a busy machine.
        "server_cpu_ms": round(1000 * cpu / len(latencies), 2) if latencies else None,
        # Where the rest of the machine's two cores went, per flow: PostgreSQL (the peer uses none;
        # background work of the database counts too) and this load driver itself.
        "database_cpu_ms": round(1000 * database / len(latencies), 2) if latencies and on_postgres else None,
        "driver_cpu_ms": round(1000 * driver / len(latencies), 2) if latencies else None,
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warm(target: Target) -> None:
    target.sign_in()
    asyncio.run(load(target, silent_flow, 4, seconds=2))


def million_broker(workdir: Path, key: ClientKey) -> tuple[Broker, dict[str, int]] | None:
    """(e): a broker on the seeded database of a million people."""
    pg = postgres_url()
    if not pg or os.environ.get("BENCH_MILLION") == "0":
        return None
    sys.path.insert(0, str(Path(__file__).parent))
    import seed_million

    seeded = seed_million.ensure(pg)
    broker = Broker(workdir, free_port(), key, database_url=seeded.url, clients={"secret": seeded.client})
    return broker, seeded.counts


def interleaved(runs: list[tuple[str, Target, Scenario]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each concurrency level runs every (label, server, scenario) in turn before the next level, so
    a change in the machine's load during the benchmark falls on both servers alike."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for concurrency in CONCURRENCY:
        for label, target, scenario in runs:
            result = asyncio.run(load(target, scenario, concurrency))
            out.setdefault(label, {}).setdefault(scenario.__name__, []).append(result)
            print(
                f"  c={concurrency:<3} {label:<19} {scenario.__name__:<16} {result['per_second']:>7}/s"
                f"  p99 {result['p99_ms']:>7.0f} ms  errors {result['errors']}",
                flush=True,
            )
    return out


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    pg = postgres_url()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "node": subprocess.run(
            ["node", "--version"], check=False, capture_output=True, text=True
        ).stdout.strip(),
        "postgresql": subprocess.run(
            ["psql", pg, "-Atc", "SHOW server_version"], check=False, capture_output=True, text=True
        ).stdout.strip()
        if pg
        else None,
        "load_average_at_start": os.getloadavg(),
    }


def main() -> None:
    if not shutil.which("node"):
        sys.exit("node is needed for the peer")
    key = ClientKey()
    about = machine()
    targets: list[Target] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            print("starting the broker and node-oidc-provider (one process each), signing in", flush=True)
            (Path(tmp) / "broker").mkdir()
            broker = Broker(Path(tmp) / "broker", free_port(), key)
            targets.append(broker)
            peer = Peer(free_port(), key)
            targets.append(peer)
            (Path(tmp) / "million").mkdir()
            found = million_broker(Path(tmp) / "million", key)
            if found:
                targets.append(found[0])
            for target in targets:
                warm(target)
            runs: list[tuple[str, Target, Scenario]] = []
            for scenario in (silent_flow, private_key_jwt, discovery):
                runs += [("broker", broker, scenario), ("node-oidc-provider", peer, scenario)]
            if found:
                runs.append(("broker_million", found[0], silent_flow))
            results: dict[str, Any] = interleaved(runs)
            if found:
                results["broker_million"]["counts"] = found[1]
        finally:
            for target in targets:
                target.stop()
    report = {
        "machine": about,
        "server_processes": {"broker": 1, "node-oidc-provider": 1},
        "broker_database": broker.database,
        "seconds_per_run": SECONDS,
        "order": "each concurrency level runs every scenario on each server in turn",
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "silent_flow.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
