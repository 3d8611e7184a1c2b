"""The public register of agreements in force, as a page and as JSON, in English and Welsh: drafts,
versions awaiting approval and suspended agreements are never on it."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from broker.oidc.clients import NewClient, register_client
from broker.policy.agreements import Agreements
from broker.store.db import transaction
from broker.store.models import Mou


def reference_of(broker, client_id: str) -> str:
    with broker.db() as db:
        mou = db.scalar(select(Mou).filter_by(client_id=client_id))
        assert mou is not None
        return mou.reference


def new_version(broker, reference: str, approve: bool, **changes: str) -> int:
    """A new version of the agreement with ``changes``: left a draft, or submitted and approved by two
    people."""
    with transaction(broker.db) as db:
        agreements = Agreements(db, broker.services.clock)
        _mou, _current, fields = agreements.draft_values(reference)
        number = agreements.draft(reference, {**fields, **changes}, "author").number
        if approve:
            agreements.act(reference, number, "submit", "author")
            agreements.act(reference, number, "approve", "approver")
        return number


def test_the_register_lists_agreements_in_force_and_never_drafts_or_suspended_ones(broker, http):
    tag = uuid.uuid4().hex[:8]
    in_force = broker.create_client(name=f"Library {tag}", redirect_uris=["https://library.example/cb"])
    suspended = broker.create_client(name=f"Parking {tag}", redirect_uris=["https://parking.example/cb"])
    library, parking = (
        reference_of(broker, str(in_force["client_id"])),
        reference_of(broker, str(suspended["client_id"])),
    )
    number = new_version(
        broker,
        library,
        approve=True,
        purpose=f"Lending books to residents {tag}",
        purpose_cy=f"Benthyg llyfrau i drigolion {tag}",
    )
    new_version(broker, library, approve=False, purpose=f"A draft purpose never published {tag}")
    with transaction(broker.db) as db:
        Agreements(db, broker.services.clock).act(parking, 1, "suspend", "officer", "under review")
    with transaction(broker.db) as db:  # a service whose only agreement is a draft (production rule)
        draft_only, _secret = register_client(
            db,
            NewClient(name=f"Drafted {tag}", redirect_uris=["https://drafted.example/cb"], claims=["email"]),
            broker.services.clock(),
            allow_private_outbound=True,
        )
        draft_id = draft_only.client_id

    page = http.get(f"{broker.url}/agreements")
    assert page.status_code == 200 and "Register of data sharing agreements" in page.text
    assert f"Library {tag}" in page.text and f"Lending books to residents {tag}" in page.text
    assert f"{library}: Version {number}" in page.text and "Your email address" in page.text
    assert f"A draft purpose never published {tag}" not in page.text
    assert f"Parking {tag}" not in page.text and f"Drafted {tag}" not in page.text

    data = http.get(f"{broker.url}/agreements.json").json()
    listed = {a["client_id"]: a for a in data["agreements"]}
    assert suspended["client_id"] not in listed and draft_id not in listed
    entry = listed[in_force["client_id"]]
    assert (entry["service"], entry["reference"], entry["version"]) == (f"Library {tag}", library, number)
    assert sorted(entry["attributes"]) == ["email", "phone_number"]
    assert entry["en"]["purpose"] == {"text": f"Lending books to residents {tag}", "lang": "en"}
    assert entry["cy"]["purpose"] == {"text": f"Benthyg llyfrau i drigolion {tag}", "lang": "cy"}
    # No Welsh was given for the organisation: the Welsh entry carries the English, marked as English.
    assert entry["cy"]["organisation"] == {"text": entry["en"]["organisation"]["text"], "lang": "en"}
    assert sorted(entry["en"]["attributes"]) == ["your email address", "your phone number"]
    assert "your email address" not in entry["cy"]["attributes"]
    assert entry["start"] <= data["as_of"] <= entry["end"]
    assert "A draft purpose never published" not in str(data)

    summary = http.get(f"{broker.url}/services/{in_force['client_id']}/agreement")
    assert 'href="/agreements"' in summary.text  # each service's agreement leads to the register

    welsh = http.get(f"{broker.url}/agreements?lang=cy")
    assert "Cofrestr o gytundebau rhannu data" in welsh.text
    assert f"Benthyg llyfrau i drigolion {tag}" in welsh.text
    assert f'lang="en">Lending books to residents {tag}' not in welsh.text
