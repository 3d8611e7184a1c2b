"""Security headers on every response, and the request size limit."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from broker.observability import metrics_app


def test_security_headers_everywhere(broker, http):
    for path in ("/.well-known/openid-configuration", "/healthz", "/authorize", "/no-such-page", "/userinfo"):
        response = http.get(f"{broker.url}{path}")
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # plain http in tests: HSTS only over https


def test_oversized_bodies_are_refused(broker, http):
    big = "x" * (70 * 1024)
    response = http.post(f"{broker.url}/token", data={"grant_type": "authorization_code", "code": big})
    assert response.status_code == 413 and response.json()["error"] == "invalid_request"

    def chunks():
        for _ in range(80):
            yield b"a" * 1024

    chunked = httpx.post(
        f"{broker.url}/token", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert chunked.status_code in (400, 413)


def test_wrong_content_type_and_bad_input_get_clean_errors(broker, http):
    assert http.post(f"{broker.url}/token", json={"grant_type": "authorization_code"}).status_code == 400
    assert (
        http.post(
            f"{broker.url}/token",
            content=b"\xff\xfe\xfa",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ).status_code
        == 400
    )
    bad_jwt = http.get(f"{broker.url}/userinfo", headers={"Authorization": "Bearer eyJ.eyJ.sig"})
    assert bad_jwt.status_code == 401
    assert http.get(f"{broker.url}/logout", params={"id_token_hint": "a.b.c"}).status_code == 400


def test_metrics_and_request_ids(broker, make_rp, person, agent, http):
    rp = make_rp()
    token = rp.redeem(agent.authorize(rp.authorization_url(), email=person))
    rp.userinfo(token["access_token"])  # a release, for the ledger
    response = http.get(f"{broker.url}/healthz", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert (
        len(http.get(f"{broker.url}/healthz", headers={"X-Request-ID": "bad id\\n"}).headers["x-request-id"])
        == 16
    )
    assert http.get(f"{broker.url}/metrics").status_code == 404  # never on the public listener
    text = TestClient(metrics_app(broker.services)).get("/metrics").text
    assert 'broker_http_requests_total{method="GET",route="/authorize",status="303"}' in text
    assert 'route="/sign-in/{interaction_id}"' in text  # templates, never raw ids
    assert "/sign-in/" + agent.http.cookies.get("broker-browser", "x") not in text
    assert 'broker_audit_events{action="sign_in.success"}' in text
    assert "broker_outbox_backlog" in text and "broker_http_request_seconds_bucket" in text
    assert 'broker_attribute_releases{endpoint="userinfo"}' in text
