"""Your services over HTTP: withdrawing or asking a receipt for a service never shared with is a 404
and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from broker.store.models import AuditEvent, Consent


def test_a_service_never_shared_with_cannot_be_withdrawn_from(broker, make_rp, person, agent):
    shared, other = make_rp(claims=["email"]), make_rp(claims=["email"])
    agent.authorize(shared.authorization_url(scope="openid email"), email=person)
    for client_id in (other.client_id, "no-such-service"):
        response = agent.post(f"{broker.url}/account/services/{client_id}/withdraw", {})
        assert response.status_code == 404
        assert "You have not shared anything with that service." in response.text
        receipt = agent.http.get(f"{broker.url}/account/services/{client_id}/consent-receipt.json")
        assert receipt.status_code == 404
    with broker.db() as db:
        consent = db.scalars(select(Consent).filter_by(client_id=shared.client_id)).one()
        assert consent.withdrawn_at is None
        withdrawn = db.scalars(select(AuditEvent).where(AuditEvent.action == "consent.withdrawn")).all()
        assert [e for e in withdrawn if e.subject == consent.account_id] == []
    page = agent.http.get(f"{broker.url}/account/services")
    assert page.status_code == 200 and "Withdraw your agreement" in page.text
