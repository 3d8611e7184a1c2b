"""Reads and writes for the protocol. Queries only: the caller's unit of work commits.

The silent flow's statements (authorize, token, userinfo) run without the ORM (``broker.store.fast``):
rows they read come back as model instances outside the session, for reading only, and rows they
write are inserted with a statement. Everything else goes through the session as usual."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from broker.oidc.adapters import hash_secret
from broker.policy import grants
from broker.store.base import Base
from broker.store.catalog import Catalog
from broker.store.fast import Statement, columns, inserting, instance, instances
from broker.store.models import (
    Account,
    AuthorizationCode,
    Client,
    Grant,
    IssuedAccessToken,
    RefreshToken,
    SessionClient,
)

CLIENT_BY_ID = Statement(select(*Client.__table__.columns).where(Client.client_id == bindparam("client_id")))
ACCOUNT_BY_ID = Statement(select(*Account.__table__.columns).where(Account.id == bindparam("id")))
CLAIM_CODE = Statement(
    update(AuthorizationCode)
    .where(
        AuthorizationCode.code_hash == bindparam("code_hash"),
        AuthorizationCode.client_id == bindparam("client_id"),
        AuthorizationCode.used_at.is_(None),
    )
    .values(used_at=bindparam("now", type_=AuthorizationCode.used_at.type))
    .returning(*AuthorizationCode.__table__.columns)
)
GRANT_WITH_ACCOUNT = Statement(
    select(*Grant.__table__.columns, *Account.__table__.columns)
    .outerjoin(Account, Account.id == Grant.account_id)
    .where(Grant.id == bindparam("id"))
)
LIVE_ACCESS_TOKEN = Statement(
    select(*IssuedAccessToken.__table__.columns, *Grant.__table__.columns, *Account.__table__.columns)
    .join(Grant, Grant.id == IssuedAccessToken.grant_id)
    .outerjoin(Account, Account.id == Grant.account_id)
    .where(
        IssuedAccessToken.jti == bindparam("jti"),
        IssuedAccessToken.revoked_at.is_(None),
        Grant.revoked_at.is_(None),
    )
)
INSERTS: dict[type[Base], Statement] = {
    model: inserting(model) for model in (Grant, AuthorizationCode, IssuedAccessToken, RefreshToken)
}

# A service's part in a session, kept from its first time (INSERT … ON CONFLICT DO NOTHING).
JOINED = {
    name: Statement(
        dialect_insert(SessionClient)
        .values({c: bindparam(c) for c in columns(SessionClient)})
        .on_conflict_do_nothing()
    )
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


class OidcRepository:
    def __init__(self, db: Session, catalog: Catalog | None = None) -> None:
        self.db = db
        self.catalog = catalog
        # Rows read for the request (clients and accounts are read again by later steps).
        self._clients: dict[str, Client | None] = {}
        self._accounts: dict[str, Account] = {}

    # Clients and accounts
    def client(self, client_id: str) -> Client | None:
        """The registered client, for reading (not in the session)."""
        if client_id not in self._clients:
            load = partial(self._read_client, client_id)
            self._clients[client_id] = self.catalog.client(client_id, load) if self.catalog else load()
        return self._clients[client_id]

    def _read_client(self, client_id: str) -> Client | None:
        row = CLIENT_BY_ID.first(self.db, client_id=client_id)
        return instance(Client, row) if row else None

    def account(self, account_id: str) -> Account | None:
        """The account, for reading (not in the session)."""
        if account_id not in self._accounts:
            row = ACCOUNT_BY_ID.first(self.db, id=account_id)
            if row is None:
                return None
            self._accounts[account_id] = instance(Account, row)
        return self._accounts[account_id]

    def hold(self, account: Account) -> None:
        """An account read elsewhere in this request (with the browser session)."""
        self._accounts[account.id] = account

    # Grants and codes
    def add(self, *rows: Base) -> None:
        """Insert new grants, codes and tokens, defaults (ids) filled in on the instances."""
        for row in rows:
            table = row.__table__
            values: dict[str, Any] = {}
            for column in table.columns:
                value = getattr(row, column.key)
                if value is None and column.default is not None:
                    default = column.default
                    value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined,operator]
                    setattr(row, column.key, value)
                values[column.key] = value
            INSERTS[type(row)].run(self.db, **values)

    def claim_code(self, code: str, client_id: str, now: datetime) -> tuple[AuthorizationCode | None, bool]:
        """Mark a code used, atomically, only for the client it was issued to. Returns (code row,
        first_use); another client's attempt finds nothing and leaves the code usable by its owner."""
        code_hash = hash_secret(code)
        # One round trip on the usual path: the UPDATE returns the row it marked.
        claimed = CLAIM_CODE.first(self.db, code_hash=code_hash, client_id=client_id, now=now)
        if claimed is not None:
            return instance(AuthorizationCode, claimed), True
        row = self.db.get(AuthorizationCode, code_hash, populate_existing=True)
        if row is None or row.client_id != client_id:
            return None, False
        return row, False

    def grant(self, grant_id: str) -> Grant | None:
        return self.db.get(Grant, grant_id)

    def grant_with_account(self, grant_id: str) -> Grant | None:
        """The grant, its account read in the same round trip: the code grant reads the account
        next, and finds it in the session's identity map."""
        row = GRANT_WITH_ACCOUNT.first(self.db, id=grant_id)
        if row is None:
            return None
        grant, account = instances(row, Grant, Account)
        if account is not None:
            self.hold(account)
        return grant  # type: ignore[no-any-return]

    def revoke_grant(self, grant_id: str, now: datetime, reason: str) -> None:
        """Code reuse, refresh replay, token revocation: the one revoke (``broker.policy.grants``)."""
        grants.revoke_grant(self.db, grant_id, now, reason)

    # Tokens
    def claim_refresh_token(
        self, token: str, client_id: str, now: datetime
    ) -> tuple[RefreshToken | None, bool]:
        """Mark a refresh token used, atomically, only for the client it was issued to."""
        token_hash = hash_secret(token)
        row = self.db.get(RefreshToken, token_hash)
        if row is None:
            return None, False
        grant = self.db.get(Grant, row.grant_id)
        if grant is None or grant.client_id != client_id:
            return None, False
        claimed = self.db.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        return row, bool(claimed)

    def refresh_token(self, token: str) -> RefreshToken | None:
        return self.db.get(RefreshToken, hash_secret(token))

    def access_token(self, jti: str) -> IssuedAccessToken | None:
        return self.db.get(IssuedAccessToken, jti)

    def live_access_token(self, jti: str) -> tuple[IssuedAccessToken, Grant] | None:
        """The token row and its grant (and the grant's account, into the identity map), in one round
        trip, when neither is revoked."""
        row = LIVE_ACCESS_TOKEN.first(self.db, jti=jti)
        if row is None:
            return None
        token, grant, account = instances(row, IssuedAccessToken, Grant, Account)
        if account is not None:
            self.hold(account)
        return token, grant

    # Session participation
    def record_participation(self, session_id: str, client_id: str, sub: str, now: datetime) -> None:
        """The service took part in the session (kept from its first time: one statement, no read)."""
        dialect = self.db.get_bind().dialect.name
        JOINED[dialect].run(self.db, session_id=session_id, client_id=client_id, sub=sub, first_at=now)

    def participation(self, session_id: str, client_id: str) -> SessionClient | None:
        return self.db.get(SessionClient, (session_id, client_id))

    def participants(self, session_id: str) -> list[SessionClient]:
        return list(self.db.scalars(select(SessionClient).where(SessionClient.session_id == session_id)))
