"""Reads and writes for the protocol. Queries only: the caller's unit of work commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broker.oidc.adapters import hash_secret
from broker.store.db import upsert_insert
from broker.store.models import (
    Account,
    AuthorizationCode,
    Client,
    Grant,
    IssuedAccessToken,
    RefreshToken,
    SessionClient,
)


class OidcRepository:
    def __init__(self, db: Session) -> None:
        self.db = db
        # Rows read ahead in a join, held for the request: the session's identity map holds rows
        # weakly, and a later ``get`` of one it still holds costs no round trip.
        self._read_ahead: list[object] = []

    # Clients and accounts
    def client(self, client_id: str) -> Client | None:
        return self.db.get(Client, client_id)

    def account(self, account_id: str) -> Account | None:
        return self.db.get(Account, account_id)

    # Grants and codes
    def add(self, *rows: object) -> None:
        self.db.add_all(rows)
        self.db.flush()

    def claim_code(self, code: str, client_id: str, now: datetime) -> tuple[AuthorizationCode | None, bool]:
        """Mark a code used, atomically, only for the client it was issued to. Returns (code row,
        first_use); another client's attempt finds nothing and leaves the code usable by its owner."""
        code_hash = hash_secret(code)
        # One round trip on the usual path: the UPDATE returns the row it marked.
        claimed = self.db.scalars(
            update(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == code_hash,
                AuthorizationCode.client_id == client_id,
                AuthorizationCode.used_at.is_(None),
            )
            .values(used_at=now)
            .returning(AuthorizationCode),
            execution_options={"populate_existing": True},
        ).first()
        if claimed is not None:
            return claimed, True
        row = self.db.get(AuthorizationCode, code_hash, populate_existing=True)
        if row is None or row.client_id != client_id:
            return None, False
        return row, False

    def grant(self, grant_id: str) -> Grant | None:
        return self.db.get(Grant, grant_id)

    def grant_with_account(self, grant_id: str) -> Grant | None:
        """The grant, its account read in the same round trip: the code grant reads the account
        next, and finds it in the session's identity map."""
        row = self.db.execute(
            select(Grant, Account)
            .outerjoin(Account, Account.id == Grant.account_id)
            .where(Grant.id == grant_id)
        ).first()
        if row is None:
            return None
        self._read_ahead.append(row[1])
        return row[0]

    def revoke_grant(self, grant_id: str, now: datetime, reason: str) -> None:
        self.db.execute(
            update(Grant)
            .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

    def revoke_session_grants(self, session_id: str, now: datetime, keep_offline: bool = True) -> None:
        grants = self.db.scalars(
            select(Grant).where(Grant.session_id == session_id, Grant.revoked_at.is_(None))
        ).all()
        for grant in grants:
            if keep_offline and "offline_access" in grant.scope.split():
                continue
            grant.revoked_at = now
            grant.revoked_reason = "logout"

    def revoke_account_grants(self, account_id: str, now: datetime, reason: str) -> None:
        """Every grant of an account, offline ones included (password reset, account deleted)."""
        self.db.execute(
            update(Grant)
            .where(Grant.account_id == account_id, Grant.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
        )

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
        row = self.db.execute(
            select(IssuedAccessToken, Grant, Account)
            .join(Grant, Grant.id == IssuedAccessToken.grant_id)
            .outerjoin(Account, Account.id == Grant.account_id)
            .where(
                IssuedAccessToken.jti == jti,
                IssuedAccessToken.revoked_at.is_(None),
                Grant.revoked_at.is_(None),
            )
        ).first()
        if row is None:
            return None
        self._read_ahead.append(row[2])
        return row[0], row[1]

    # Session participation
    def record_participation(self, session_id: str, client_id: str, sub: str, now: datetime) -> None:
        """The service took part in the session (kept from its first time: one statement, no read)."""
        row = {"session_id": session_id, "client_id": client_id, "sub": sub, "first_at": now}
        self.db.execute(upsert_insert(self.db)(SessionClient).values(row).on_conflict_do_nothing())

    def participation(self, session_id: str, client_id: str) -> SessionClient | None:
        return self.db.get(SessionClient, (session_id, client_id))

    def participants(self, session_id: str) -> list[SessionClient]:
        return list(self.db.scalars(select(SessionClient).where(SessionClient.session_id == session_id)))
