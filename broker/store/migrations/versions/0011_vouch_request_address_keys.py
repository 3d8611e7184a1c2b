"""vouch requests' address keys keep the building number

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:15:00.000000

A vouch request's address key (building and postcode) is what the vouching rules compare homes by:
people vouched in at one address, a voucher living with the applicant, two vouchers sharing a home.
Keys written before this revision dropped every digit of the building, so all the numbered houses of
a postcode shared one key. Each key is worked out again from the address the request holds, as
``broker.identity.vouching.address_key`` now does (the rule is copied here, as it was at this
revision). Downgrading leaves the keys as they are: the release before reads them as it did.
"""

from __future__ import annotations

import json
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


def key(address: dict[str, str | None]) -> str:
    building = unicodedata.normalize("NFKD", address.get("building") or "").encode("ascii", "ignore")
    compact = re.sub(r"\s+", "", (address.get("postcode") or "").upper())
    parts = POSTCODE.match(compact)
    postcode = (
        f"{parts.group(1)} {parts.group(2)}" if parts else (address.get("postcode") or "").strip().upper()
    )
    return f"{re.sub(r'[^A-Z0-9]+', '', building.decode().upper())}|{postcode}"


def upgrade() -> None:
    bind = op.get_bind()
    for request_id, address, old in bind.execute(
        sa.text("SELECT id, address, address_key FROM vouch_request")
    ):
        data = json.loads(address) if isinstance(address, str) else (address or {})
        new = key(data)
        if new != old:
            bind.execute(
                sa.text("UPDATE vouch_request SET address_key = :key WHERE id = :id"),
                {"key": new, "id": request_id},
            )


def downgrade() -> None:
    pass
