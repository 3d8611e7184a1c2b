"""The models and the migrations agree, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from broker.identity.vouching import address_key
from broker.store.migrate import alembic_config, upgrade
from broker.store.models import Account, Base, VouchRequest
from vouching.person import Address


def test_autogenerate_finds_no_difference(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_every_model_table_exists(engine):
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_0011_works_out_each_vouch_requests_address_key_again(engine):
    """Keys written before 0011 dropped the building's digits: every numbered house of a postcode
    shared one. The migration works each key out again from the address the request holds."""
    created = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(Account), [{"id": "acc-12", "email": "a@example.org", "created_at": created}])
        for request_id, building, postcode, old_key in (
            ("req-12", "12", "CF10 1AA", "|CF10 1AA"),
            ("req-14b", "14 b", "cf101aa", "B|cf101aa"),
            ("req-name", "Rose Cottage", "NP15 1AA", "ROSE COTTAGE|NP15 1AA"),
        ):
            conn.execute(
                insert(VouchRequest).values(
                    id=request_id,
                    applicant_id="acc-12",
                    given_names="Sam",
                    family_name="Taylor",
                    birth_date=date(1990, 5, 1),
                    address=Address(building, "Road", "Cardiff", postcode, date(2015, 1, 1)).as_dict(),
                    address_key=old_key,
                    created_at=created,
                )
            )
    command.downgrade(alembic_config(engine), "0010")
    upgrade(engine)
    with engine.connect() as conn:
        keys = dict(conn.execute(select(VouchRequest.id, VouchRequest.address_key)).all())
    assert keys == {"req-12": "12|CF10 1AA", "req-14b": "14B|CF10 1AA", "req-name": "ROSECOTTAGE|NP15 1AA"}
    with engine.connect() as conn:  # as the code works keys out now
        for request_id, address in conn.execute(select(VouchRequest.id, VouchRequest.address)):
            assert keys[request_id] == address_key(Address.from_dict(address))
