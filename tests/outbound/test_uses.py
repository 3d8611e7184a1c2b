"""Where the broker calls a URI a relying service registered: registration refuses internal addresses
in production (CLI rules and console alike), and back-channel logout, security events and the
jwks_uri fetch refuse them again when sending, after DNS; loopback still works in test mode."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy import select

from broker.accounts.interactions import browser_cookie
from broker.accounts.service import AccountService
from broker.accounts.sessions import SessionService, session_cookie
from broker.app import create_app
from broker.config import load_settings
from broker.deps import utc_now
from broker.oidc import client_keys
from broker.oidc.backchannel import BackchannelSender
from broker.oidc.client_keys import JWKS_FAILED_SECONDS, ClientKeyResolver, KeysUnavailable
from broker.oidc.clients import ClientInvalid, NewClient, register_client
from broker.outbound.client import OutboundRefused, ResponseRefused
from broker.store.db import transaction
from broker.store.models import BackchannelLogout, Client
from broker.webkit.csrf import token_for
from tests.oidc.http_listener import listening

NOW = datetime(2026, 11, 23, tzinfo=UTC)
ATTACKS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "https://10.0.0.1/logout",
    "https://[fd00::1]/",
    "http://localhost:6379/",
]


class FakeSigner:
    def sign(self, claims, *, alg="ES256", typ=None, kid_prefix=""):
        return f"signed-{typ}"


@pytest.mark.parametrize("field", ["backchannel_logout_uri", "security_event_uri", "jwks_uri"])
@pytest.mark.parametrize("uri", ATTACKS)
def test_registration_in_production_refuses_internal_addresses(session_factory, field, uri):
    with transaction(session_factory) as db:
        new = NewClient(name="S", redirect_uris=["https://rp.example/cb"], **{field: uri})
        with pytest.raises(ClientInvalid):
            register_client(db, new, NOW, allow_private_outbound=False, operator_approves=True)
        db.rollback()


def test_registration_says_why_an_address_is_refused(session_factory):
    new = NewClient(
        name="S",
        redirect_uris=["https://rp.example/cb"],
        backchannel_logout_uri="https://169.254.169.254/logout",
    )
    with transaction(session_factory) as db, pytest.raises(ClientInvalid) as refused:
        register_client(db, new, NOW, allow_private_outbound=False, operator_approves=True)
    assert "link-local" in refused.value.description


def test_registration_in_test_mode_allows_loopback_and_still_refuses_metadata(session_factory):
    loopback = "http://127.0.0.1:8001/backchannel-logout"
    with transaction(session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(
                name="S",
                redirect_uris=["https://rp.example/cb"],
                backchannel_logout_uri=loopback,
                security_event_uri="http://localhost:8001/events",
                jwks_uri="http://localhost:8001/jwks",
                auth_method="private_key_jwt",
            ),
            NOW,
            allow_private_outbound=True,
            operator_approves=True,
        )
        assert client.backchannel_logout_uri == loopback
        metadata = NewClient(
            name="M", redirect_uris=["https://rp.example/cb"], jwks_uri="http://169.254.169.254/"
        )
        with pytest.raises(ClientInvalid):
            register_client(db, metadata, NOW, allow_private_outbound=True, operator_approves=True)


def test_a_jwks_uri_is_checked_like_the_other_uris(session_factory):
    new = NewClient(
        name="S", redirect_uris=["https://rp.example/cb"], auth_method="private_key_jwt", jwks_uri="ftp://x/"
    )
    with transaction(session_factory) as db, pytest.raises(ClientInvalid):
        register_client(db, new, NOW, allow_private_outbound=True, operator_approves=True)


def _client_calling(session_factory, listener, host: str) -> str:
    """A service registered (where that was allowed) with receivers on ``host``, and one notice of each
    kind due for it."""
    with transaction(session_factory) as db:
        client, _ = register_client(
            db,
            NewClient(
                name="S",
                redirect_uris=["https://rp.example/cb"],
                backchannel_logout_uri=listener.url("/backchannel-logout", host=host),
                security_event_uri=listener.url("/security-events", host=host),
            ),
            NOW,
            allow_private_outbound=True,
            operator_approves=True,
        )
        for kind in ("logout", "assurance_level_change"):
            db.add(
                BackchannelLogout(
                    client_id=client.client_id,
                    session_id="sid",
                    sub="sub",
                    kind=kind,
                    event={"previous_level": "P2", "current_level": "P0"},
                    created_at=NOW,
                    next_attempt_at=NOW,
                )
            )
        return client.client_id


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_in_production_back_channel_notices_to_loopback_are_refused_at_send_time(session_factory, host):
    with listening() as listener:
        _client_calling(session_factory, listener, host)
        sender = BackchannelSender(
            session_factory, FakeSigner(), "https://broker.example", lambda: NOW, allow_private_outbound=False
        )
        assert sender.deliver_due() == 2
        assert listener.seen == []
    with session_factory() as db:
        rows = db.scalars(select(BackchannelLogout)).all()
        assert {(r.delivered_at, r.last_error) for r in rows} == {(None, "OutboundRefused")}
        assert all(r.attempts == 1 and r.gave_up_at is None for r in rows)  # retried, as any failure


def test_in_test_mode_back_channel_notices_reach_loopback(session_factory):
    with listening() as listener:
        _client_calling(session_factory, listener, "localhost")
        sender = BackchannelSender(
            session_factory, FakeSigner(), "https://broker.example", lambda: NOW, allow_private_outbound=True
        )
        assert sender.deliver_due() == 2
        assert sorted((s.path, s.body) for s in listener.seen) == [
            ("/backchannel-logout", b"logout_token=signed-logout%2Bjwt"),
            ("/security-events", b"signed-secevent+jwt"),
        ]
    with session_factory() as db:
        assert all(r.delivered_at for r in db.scalars(select(BackchannelLogout)))


def test_a_redirecting_receiver_is_a_failed_delivery_not_followed(session_factory):
    with listening() as listener:
        with transaction(session_factory) as db:
            client, _ = register_client(
                db,
                NewClient(
                    name="S",
                    redirect_uris=["https://rp.example/cb"],
                    backchannel_logout_uri=listener.url("/redirect"),
                ),
                NOW,
                allow_private_outbound=True,
                operator_approves=True,
            )
            db.add(
                BackchannelLogout(
                    client_id=client.client_id, session_id="s", sub="u", created_at=NOW, next_attempt_at=NOW
                )
            )
        sender = BackchannelSender(
            session_factory, FakeSigner(), "https://broker.example", lambda: NOW, allow_private_outbound=True
        )
        sender.deliver_due()
        assert [s.path for s in listener.seen] == ["/redirect"]
    with session_factory() as db:
        assert db.scalars(select(BackchannelLogout.last_error)).one() == "HTTP 302"


def _jwks_client(uri: str) -> Client:
    return Client(client_id="c", jwks=None, jwks_uri=uri)


def test_in_production_a_jwks_uri_on_loopback_is_not_fetched():
    with listening() as listener:
        resolver = ClientKeyResolver(allow_private_outbound=False)
        with pytest.raises(OutboundRefused):
            resolver.key_set(_jwks_client(listener.url("/jwks", host="localhost")))
        assert listener.seen == []


def test_in_test_mode_a_jwks_uri_on_loopback_is_fetched_within_a_size_limit():
    with listening() as listener:
        key = ECKey.generate_key("P-256").as_dict(private=False)
        listener.jwks = json.dumps({"keys": [key]}).encode()
        resolver = ClientKeyResolver(allow_private_outbound=True)
        assert resolver.key_set(_jwks_client(listener.url("/jwks/1", host="localhost"))).keys[0].thumbprint()
        listener.jwks = b'{"keys": [], "padding": "' + b"x" * 300_000 + b'"}'
        with pytest.raises(ResponseRefused):
            resolver.key_set(_jwks_client(listener.url("/jwks/2")))


def _console(tmp_path, allow_private: bool):
    """The admin console as a client manager signed in with a passkey, in a broker whose outbound rule
    is production's (or test's)."""
    settings = load_settings(
        env="test",
        issuer="http://broker.test",
        database_url=f"sqlite:///{tmp_path}/b.db",
        key_encryption_key_file=tmp_path / "kek",
        outbound_allow_private=allow_private,
    )
    app = create_app(settings)
    services = app.state.services
    with transaction(services.session_factory) as db:
        account = AccountService(db, services.passwords).create(
            "manager@example.org", "a long passphrase", verified=True, now=utc_now()
        )
        account.roles = ["client_manager"]
        _, secret = SessionService(db, settings).start(account.id, ["hwk"], "Cl.Cm", utc_now())
    http = TestClient(app, base_url="http://broker.test")
    http.cookies.set(session_cookie(settings), secret)
    http.cookies.set(browser_cookie(settings), "browser-secret")
    return http, services


def _csrf(http):
    """The token the console's forms carry for this browser and its session."""
    services = http.app.state.services
    session = http.cookies.get(session_cookie(services.settings))
    return token_for(services.key_service.anti_forgery_key(), "browser-secret", session)


def _register(http, **fields):
    form = {
        "name": "Boat registration",
        "redirect_uris": "https://boats.example/callback",
        "auth_method": "client_secret_basic",
        "id_token_alg": "ES256",
        "claims": "email",
        "csrf_token": _csrf(http),
        **fields,
    }
    return http.post("/admin/services/new", data=form, follow_redirects=False)


def test_the_console_in_production_refuses_a_metadata_address_with_an_error_summary(tmp_path):
    http, services = _console(tmp_path, allow_private=False)
    with http:
        page = _register(http, backchannel_logout_uri="https://169.254.169.254/latest/meta-data/")
        assert page.status_code == 400
        assert "govuk-error-summary" in page.text
        assert 'href="#backchannel_logout_uri"' in page.text
        assert "must be a public address the broker can call, not a link-local address" in page.text
        assert _register(http, security_event_uri="https://10.0.0.1/events").text.count("a private address")
        assert "a loopback address" in _register(http, jwks_uri="http://127.0.0.1:8080/jwks").text
    with services.session_factory() as db:
        assert db.scalars(select(Client)).all() == []


def test_the_console_in_production_refuses_changing_a_service_to_an_internal_address(tmp_path):
    http, services = _console(tmp_path, allow_private=False)
    with http:
        assert "is registered" in _register(http, backchannel_logout_uri="https://boats.example/logout").text
        with services.session_factory() as db:
            client_id = db.scalars(select(Client.client_id)).one()
        page = http.post(
            f"/admin/services/{client_id}",
            data={
                "name": "Boat registration",
                "redirect_uris": "https://boats.example/callback",
                "backchannel_logout_uri": "http://[::ffff:169.254.169.254]/",
                "auth_method": "client_secret_basic",
                "id_token_alg": "ES256",
                "csrf_token": _csrf(http),
            },
            follow_redirects=False,
        )
        assert 'href="#backchannel_logout_uri"' in page.text
    with services.session_factory() as db:
        assert db.get(Client, client_id).backchannel_logout_uri == "https://boats.example/logout"


def test_the_console_in_test_mode_registers_a_loopback_receiver(tmp_path):
    http, _ = _console(tmp_path, allow_private=True)
    with http:
        page = _register(http, backchannel_logout_uri="http://127.0.0.1:8001/backchannel-logout")
        assert "Boat registration is registered" in page.text


def test_a_jwks_uri_that_failed_is_not_asked_again_for_a_while(monkeypatch):
    """Each token request would otherwise wait out the time-out again, holding a protocol thread."""
    with listening() as listener:
        resolver = ClientKeyResolver(allow_private_outbound=True)
        client = _jwks_client(listener.url("/status/503"))
        with pytest.raises(httpx.HTTPStatusError):
            resolver.key_set(client)
        with pytest.raises(KeysUnavailable):
            resolver.key_set(client)
        assert len(listener.seen) == 1  # asked once

        later = time.monotonic() + JWKS_FAILED_SECONDS + 1
        monkeypatch.setattr(client_keys.time, "monotonic", lambda: later)
        with pytest.raises(httpx.HTTPStatusError):
            resolver.key_set(client)
        assert len(listener.seen) == 2  # asked again once the pause is over

        listener.jwks = json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=False)]}).encode()
        working = _jwks_client(listener.url("/jwks/ok"))  # another service's keys are still fetched
        assert len(resolver.key_set(working).keys) == 1
