"""Two `broker serve` processes behind nginx, sharing PostgreSQL and Redis: journeys cross instances,
replay checks and throttles hold across them, key rotation reaches both, and an instance killed with
SIGKILL loses nothing that was acknowledged."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from broker.accounts.passwords import PasswordService
from broker.accounts.service import AccountService
from broker.cli import audited_sessions
from broker.config import load_settings
from broker.deps import utc_now
from broker.oidc.clients import NewClient, register_client
from broker.store.db import make_engine, transaction
from broker.store.models import BackchannelLogout, Grant
from tests.command import run_broker
from tests.conftest import POSTGRES_URL, REDIS_URL, fresh_postgres_database
from tests.e2e.agent import PASSWORD, UserAgent
from tests.e2e.conftest import free_port, start_server
from tests.e2e.receiver import Receiver
from tests.e2e.rp import RelyingParty, make_rp_key

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BROKER = str(Path(sys.executable).with_name("broker"))

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL or not REDIS_URL, reason="cluster tests skipped: needs PostgreSQL and Redis"
    ),
    pytest.mark.skipif(not os.path.exists(NGINX), reason="cluster tests skipped: no nginx"),
]


@dataclass
class Cluster:
    url: str  # the proxy
    instances: dict[int, subprocess.Popen[str]]
    env: dict[str, str]
    workdir: Path
    database_url: str
    metrics_ports: dict[int, int] = field(default_factory=dict)  # each instance's metrics listener

    @property
    def broker_env(self) -> dict[str, str]:
        return {k: v for k, v in self.env.items() if k.startswith("BROKER_")}

    def instance_url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def start(self, *ports: int) -> None:
        """Start an instance on each port, all at once, and wait until each is ready."""
        for port in ports:
            self.metrics_ports.setdefault(port, free_port())
            self.instances[port] = subprocess.Popen(
                [BROKER, "serve", "--port", str(port), "--metrics-port", str(self.metrics_ports[port])],
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        for port in ports:
            self._wait_ready(port)

    def _wait_ready(self, port: int) -> None:
        proc = self.instances[port]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                if httpx.get(f"{self.instance_url(port)}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("instance did not start")

    def restart_dead(self) -> None:
        self.start(*(port for port, proc in self.instances.items() if proc.poll() is not None))
        time.sleep(2.5)  # past nginx's fail_timeout, so the proxy uses them again

    def kill(self, port: int) -> None:
        self.instances[port].send_signal(signal.SIGKILL)
        self.instances[port].wait(timeout=10)

    def served(self, port: int, route: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_ports[port]}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("broker_http_requests_total{") and f'route="{route}"' in line
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("cluster")
    ports = [free_port(), free_port()]
    proxy_port = free_port()
    with fresh_postgres_database() as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        env.update(
            {
                "BROKER_DATABASE_URL": database_url,
                "BROKER_REDIS_URL": REDIS_URL or "",
                "BROKER_ISSUER": f"http://127.0.0.1:{proxy_port}",
                "BROKER_TRUSTED_PROXIES": "127.0.0.1",
                "BROKER_KEY_ENCRYPTION_KEY_FILE": str(workdir / "kek"),
            }
        )
        conf = workdir / "nginx.conf"
        conf.write_text(
            textwrap.dedent(f"""
            worker_processes 1;
            pid {workdir}/nginx.pid;
            error_log {workdir}/nginx-error.log;
            events {{ worker_connections 256; }}
            http {{
                access_log off;
                client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy;
                fastcgi_temp_path {workdir}/fcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
                upstream broker {{ server 127.0.0.1:{ports[0]} max_fails=1 fail_timeout=2s;
                                  server 127.0.0.1:{ports[1]} max_fails=1 fail_timeout=2s; }}
                server {{
                    listen 127.0.0.1:{proxy_port};
                    location / {{
                        proxy_pass http://broker;
                        proxy_set_header Host $http_host;
                        proxy_set_header X-Forwarded-For $remote_addr;
                        proxy_next_upstream error timeout http_502;
                    }}
                }}
            }}""")
        )
        proxy = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"], stderr=subprocess.DEVNULL
        )
        cluster = Cluster(f"http://127.0.0.1:{proxy_port}", {}, env, workdir, database_url)
        try:
            cluster.start(*ports)
            yield cluster
        finally:
            for proc in cluster.instances.values():
                proc.kill()
                proc.wait(timeout=10)
            proxy.terminate()
            proxy.wait(timeout=10)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}")
    server, thread = start_server(rec.app, port)
    yield rec
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def setup(cluster: Cluster):
    engine = make_engine(cluster.database_url)
    env = cluster.broker_env
    settings = load_settings(
        env="test",
        database_url=cluster.database_url,
        issuer=env["BROKER_ISSUER"],
        key_encryption_key_file=Path(env["BROKER_KEY_ENCRYPTION_KEY_FILE"]),
    )
    factory = audited_sessions(settings, engine)  # registering a service writes to the keyed audit chain
    email = f"c-{uuid.uuid4().hex[:8]}@example.org"
    key, jwks = make_rp_key()
    redirect = "http://localhost:9000/cb"
    with transaction(factory) as db:
        AccountService(db, PasswordService()).create(email, PASSWORD, verified=True, now=utc_now())
        client, _ = register_client(
            db,
            NewClient(
                name="Svc",
                redirect_uris=[redirect],
                auth_method="private_key_jwt",
                jwks=jwks,
                claims=["email"],
            ),
            utc_now(),
            operator_approves=True,
        )
        client_id = client.client_id
    yield factory, email, RelyingParty(cluster.url, client_id, redirect, private_key=key)
    engine.dispose()


def _agent(cluster: Cluster, factory) -> UserAgent:
    from tests.e2e.conftest import LiveBroker

    live = LiveBroker.__new__(LiveBroker)
    live.url = cluster.url
    live.services = type("S", (), {"session_factory": factory})()
    return UserAgent(live)


def test_journeys_cross_instances_and_replays_are_caught_everywhere(cluster, setup):
    factory, email, rp = setup
    before = [cluster.served(p, "/sign-in/{interaction_id}") for p in cluster.instances]
    agent = _agent(cluster, factory)
    callback = agent.authorize(rp.authorization_url(), email=email)
    after = [cluster.served(p, "/sign-in/{interaction_id}") for p in cluster.instances]
    assert all(a > b for a, b in zip(after, before)), "both instances took part in the one sign-in"
    token = rp.redeem(callback)
    assert rp.userinfo(token["access_token"]).json()["email"] == email
    # The same code at each instance directly: refused by both (one database).
    pending = next(iter(rp.pending.values()))
    for port in cluster.instances:
        direct = httpx.post(
            f"{cluster.instance_url(port)}/token",
            data={
                "grant_type": "authorization_code",
                "code": callback.params["code"],
                "redirect_uri": rp.redirect_uri,
                "code_verifier": pending["verifier"],
            },
        )
        assert direct.status_code in (400, 401)


def test_client_assertion_jti_is_single_use_across_instances(cluster, setup):
    import time as _time

    from joserfc import jwt

    _factory, _email, rp = setup
    now = int(_time.time())
    assertion = jwt.encode(
        {"alg": "ES256", "kid": rp.private_key.kid},
        {
            "iss": rp.client_id,
            "sub": rp.client_id,
            "aud": rp.metadata["token_endpoint"],
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        },
        rp.private_key,
    )
    results = []
    for port in cluster.instances:
        response = httpx.post(
            f"{cluster.instance_url(port)}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "nope",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )
        results.append(response.json()["error"])
    assert results == ["invalid_grant", "invalid_client"]  # authenticated once, then a replay


def test_password_throttle_holds_across_instances(cluster, setup):
    factory, email, rp = setup
    agent = _agent(cluster, factory)
    page = agent.go(rp.authorization_url())
    statuses = [agent.post(page, {"email": email, "password": "wrong"}).status_code for _ in range(6)]
    assert statuses == [400] * 6
    for port in cluster.instances:  # blocked at each instance, whichever took the failures
        here = page.replace(cluster.url, cluster.instance_url(port))
        assert agent.post(here, {"email": email, "password": PASSWORD}).status_code == 429


def test_key_rotation_reaches_every_instance(cluster, setup):
    factory, email, rp = setup
    agent = _agent(cluster, factory)
    old = rp.redeem(agent.authorize(rp.authorization_url(), email=email))
    # The cluster's keys are minutes old: --force, as the test is about reaching every instance.
    rotated = run_broker(["keys", "rotate", "--force"], cluster.workdir, cluster.broker_env)
    assert rotated.returncode == 0, rotated.stderr
    time.sleep(16)  # each instance refreshes its key cache within 15 s
    new = rp.redeem(agent.authorize(rp.authorization_url(prompt="login"), email=email))
    assert new["id_claims"]["_header"]["kid"] != old["id_claims"]["_header"]["kid"]
    for port in cluster.instances:
        for token in (old, new):
            response = httpx.get(
                f"{cluster.instance_url(port)}/userinfo",
                headers={"Authorization": f"Bearer {token['access_token']}"},
            )
            assert response.status_code == 200


def test_sigkill_loses_nothing_acknowledged_and_pending_notices_are_delivered(cluster, setup, receiver):
    factory, email, rp = setup
    agent = _agent(cluster, factory)
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=email))
    victim = next(iter(cluster.instances))
    cluster.kill(victim)
    # Everything acknowledged is still there and works through the survivor.
    assert rp.userinfo(token["access_token"]).status_code == 200
    with factory() as db:
        assert db.scalars(select(Grant).where(Grant.revoked_at.is_(None))).first() is not None
    # A full sign-in works with one instance down (nginx passes over it).
    assert "code" in agent.authorize(rp.authorization_url(prompt="login"), email=email).params
    # A logout notice left pending (as if its instance died before sending) is delivered after restart.
    with transaction(factory) as db:
        from broker.store.models import Client

        client = db.get(Client, rp.client_id)
        client.backchannel_logout_uri = receiver.endpoint
        db.add(
            BackchannelLogout(
                client_id=rp.client_id,
                session_id="sid-pending",
                sub="sub-pending",
                created_at=utc_now(),
                next_attempt_at=utc_now(),
            )
        )
    for port in list(cluster.instances):
        if port != victim:
            cluster.kill(port)
    before = len(receiver.tokens)
    cluster.start(victim)
    assert len(receiver.wait_for(before + 1, timeout=30)) > before
    cluster.restart_dead()


def test_sigkill_in_the_middle_of_sign_ins_loses_nothing_acknowledged(cluster, setup):
    """Sign-ins and consents run through the proxy while an instance is killed. Any journey that got a
    code back can redeem it; none leaves a half-written grant behind."""
    from concurrent.futures import ThreadPoolExecutor

    from broker.store.models import AuthorizationCode

    factory, _, rp = setup
    # One person per journey: concurrent journeys of one person would read each other's emailed codes.
    emails = [f"k{i}-{uuid.uuid4().hex[:8]}@example.org" for i in range(10)]
    with transaction(factory) as db:
        for address in emails:
            AccountService(db, PasswordService()).create(address, PASSWORD, verified=True, now=utc_now())

    def journey(i: int) -> str:
        agent = _agent(cluster, factory)
        try:
            callback = agent.authorize(rp.authorization_url(prompt="login"), email=emails[i])
        except Exception:  # noqa: BLE001 - a journey cut off by the kill is allowed to fail
            return "cut off"
        finally:
            agent.close()
        # The code reached the service: it was acknowledged, so it must work. A 502 from the proxy
        # means the token request itself was cut off by the kill: the service retries it, and if the
        # dying instance had already used the code, that exchange was cut off, not lost.
        for attempt in range(3):
            try:
                return "redeemed" if rp.redeem(callback)["access_token"] else "lost"
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 502:
                    raise
                time.sleep(0.5)
            except Exception:
                if attempt == 0:
                    raise
                return "cut off"
        return "cut off"

    victim = next(iter(cluster.instances))
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(journey, i) for i in range(8)]
        time.sleep(1.0)
        cluster.kill(victim)
        outcomes = [f.result() for f in futures]
    # Journeys started once the proxy has seen the instance die finish on the survivor (on a loaded
    # machine every journey under way at the kill may be cut off, which is allowed).
    outcomes += [journey(8 + i) for i in range(2)]
    assert "lost" not in outcomes
    assert "redeemed" in outcomes, "journeys finish on the surviving instance"
    with factory() as db:
        codes = db.scalars(select(AuthorizationCode)).all()
        grants = {g.id for g in db.scalars(select(Grant)).all()}
        assert all(code.grant_id in grants for code in codes)
    cluster.restart_dead()


def test_sigkill_in_the_middle_of_vouches_loses_nothing_acknowledged(cluster, setup):
    """Vouchers answer their invitations through the proxy while an instance is killed. Every vouch a
    voucher was thanked for is stored whole; nothing is stored half-written."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date
    from types import SimpleNamespace

    from broker.deps import vouching_service
    from broker.identity.registry import simulated_authorities
    from broker.store.models import Account, Vouch
    from tests.e2e.agent import latest_code
    from tests.e2e.vouchers import VOUCH_FORM, proven_person
    from vouching.person import Address, ClaimedPerson
    from vouching.rules import VouchingPolicy

    factory, _, _ = setup

    def create_account(email: str, password: str = PASSWORD) -> str:
        with transaction(factory) as db:
            return (
                AccountService(db, PasswordService()).create(email, password, verified=True, now=utc_now()).id
            )

    live = SimpleNamespace(
        create_account=create_account,
        db=factory,
        # Any document key will do: each voucher's passport is their own.
        services=SimpleNamespace(
            clock=utc_now,
            session_factory=factory,
            key_service=SimpleNamespace(document_key=lambda: b"cluster test document key"),
            # What the identity check's vouching service is made of (broker.deps.vouching_service).
            authorities=simulated_authorities,
            settings=SimpleNamespace(env="test", vouching_policy=VouchingPolicy, issuer=cluster.url),
        ),
    )
    invitations = []
    for i in range(7):
        voucher = proven_person(live, f"Voucher{i}", "Kill", date(1970, 1, 1 + i), f"CF{80 + i} 1AA")
        applicant_email = f"applicant-{uuid.uuid4().hex[:8]}@example.org"
        applicant_id = create_account(applicant_email)
        with transaction(factory) as db:
            service = vouching_service(db, live.services)
            account = db.get(Account, applicant_id)
            request = service.start(
                account,
                ClaimedPerson("Applicant", f"Kill{i}", date(1990, 1, 1 + i)),
                Address(str(i), "Road", "Cardiff", f"CF9{i} 2BB", date(2015, 1, 1)),
                None,
            )
            [first, _] = service.invite(request, account, [voucher, f"other-{i}@example.org"])
        invitations.append((voucher, f"{cluster.url}/vouch/{first.token}", first.vouch.id))

    def answer(item: tuple[str, str, str]) -> tuple[str, str]:
        voucher, link, vouch_id = item
        agent = _agent(cluster, factory)
        try:
            here = agent.go(link)
            here = agent.submit(here, {"email": voucher, "password": PASSWORD})
            here = agent.submit(here, {"code": latest_code(agent.broker, voucher)})
            agent.submit(link, VOUCH_FORM)
            return vouch_id, "acknowledged" if "Thank you for vouching" in agent.last_page else "cut off"
        except Exception:  # noqa: BLE001 - an answer cut off by the kill is allowed to fail
            return vouch_id, "cut off"
        finally:
            agent.close()

    victim = next(iter(cluster.instances))
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(answer, item) for item in invitations[:-1]]
        time.sleep(1.0)
        cluster.kill(victim)
        outcomes = dict(f.result() for f in futures)
    last_id, last = answer(invitations[-1])  # after the kill: the survivor answers
    outcomes[last_id] = last
    assert "acknowledged" in outcomes.values(), "answers finish on the surviving instance"
    with factory() as db:
        for vouch_id, outcome in outcomes.items():
            vouch = db.get(Vouch, vouch_id)
            whole = vouch.accepted_at is not None and vouch.relationship and vouch.acknowledgement
            if outcome == "acknowledged":
                assert whole and vouch.effective_at is not None
            assert vouch.accepted_at is None or whole  # never half-written
    cluster.restart_dead()
