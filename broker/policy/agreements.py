"""Data sharing agreements (MOUs) as a service: the console and the command line do their work here.

Drafting a version, submitting it, approving or rejecting it (two people: ``mou.act``), suspending,
resuming and ending it, each in one unit of work that stores everything or nothing and writes its audit
event; and what staff read: the agreements with the version governing each service, one version with
its changes and history, a draft's fields, a dry run of what a service would receive, and the release
ledger. The rules themselves are pure and live in ``broker.policy.mou`` and ``broker.policy.release``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from broker.errors import BrokerError, PageError
from broker.policy.mou import (
    CONFIRM_END,
    EVER_APPROVED,
    LEVELS,
    NOTE_NEEDED,
    TRANSITIONS,
    PolicyError,
    Terms,
    diff,
    draft_fields,
    effective_status,
    ends_sharing_at_once,
    governing_number,
    read_draft,
)
from broker.policy.release import Agreement, ConsentFacts, decide
from broker.policy.security_events import notify_agreement_ended
from broker.policy.service import add_version, apply, governing, history, terms_of, with_companion_terms
from broker.store.models import Account, Client, Mou, MouVersion, ReleaseRecord
from broker.store.unit import unit_of_work

ACTIONS = frozenset(action for _status, action in TRANSITIONS)
GLANCE_PAGE = 25  # services a page of the console's overview shows
LEDGER_PAGE = 200  # the release ledger shows the newest this many releases that match its filters


class NoSuchAgreement(PageError):
    status = 404
    code = "not_found"
    title = "There is no such MOU"


class AgreementRefused(BrokerError):
    """What staff asked for breaks a rule; ``errors`` names each field that is wrong and why. Nothing
    was stored."""

    status: ClassVar[int] = 400

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass(frozen=True)
class VersionView:
    """One version of an agreement as staff see it: beside the others, what changed, what was done."""

    mou: Mou
    client: Client | None
    versions: list[tuple[MouVersion, str]]  # every version with its status today
    shown: MouVersion
    status: str
    terms: Terms
    before: MouVersion | None  # what the changes are against: the version in force, or the one it followed
    before_in_force: bool  # whether ``before`` is the version in force (else the one ``shown`` replaced)
    changes: list[tuple[str, str, str]]
    ends_at_once: bool  # approving ``shown`` ends sharing at once (``mou.ends_sharing_at_once``)
    history: list[dict[str, Any]]
    missing_welsh: list[str]  # the fields people read that have no Welsh words in this version


@dataclass(frozen=True)
class DryRun:
    """What a service would receive under one version, for a person at ``level`` who agreed to all."""

    mou: Mou
    row: MouVersion
    level: str
    problems: list[str]  # terms that could not be submitted decide nothing
    released: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


# Versions nobody has approved yet: the ones an approver is asked to compare with the version in force.
UNAPPROVED = ("draft", "submitted")


def _compared_with(
    versions: list[MouVersion], shown: MouVersion, today: date
) -> tuple[MouVersion | None, bool]:
    """What staff see ``shown``'s changes against, and whether that is the version in force: the
    version governing the service today (``mou.governing_number``), which is what approving
    ``shown`` would change; for the governing version itself, the one ever approved before it."""
    number = governing_number(((v.number, v.status, v.start_date) for v in versions), today)
    current = next((v for v in versions if v.number == number), None)
    if current is not None and current.number != shown.number:
        return current, True
    earlier = [v for v in versions if v.status in EVER_APPROVED and v.number < shown.number]
    return (earlier[-1] if earlier else None), False


def _missing_welsh(row: MouVersion | None) -> list[str]:
    """The fields of ``row`` people read that have no Welsh, in words staff read."""
    if row is None:
        return []
    return [name.replace("_", " ") for name in terms_of(row).missing_welsh()]


@dataclass(frozen=True)
class ServiceGlance:
    """One service at a glance: what it gets, under which version, until when, who wrote and approved it."""

    client: Client
    mou: Mou | None
    row: MouVersion | None  # the version governing it now (or the newest, when none was approved)
    status: str
    claims: list[str]
    author: str  # an email address where the author is an account, else as recorded ("operator")
    approver: str


@dataclass(frozen=True)
class Glance:
    rows: list[ServiceGlance]
    total: int
    page: int
    pages: int


class Agreements:
    """The data sharing agreements, for staff, on the request's database session."""

    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    # Reading
    def find(self, reference: str) -> tuple[Mou, list[MouVersion]]:
        mou = self.db.scalar(select(Mou).filter_by(reference=reference))
        if mou is None:
            raise NoSuchAgreement("Check the reference and try again.")
        versions = self.db.scalars(select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number))
        return mou, list(versions)

    def overview(self) -> list[dict[str, Any]]:
        """Every agreement with the version that governs its service today (its state is what the
        service gets), and the newest version when that is another (a draft, or one starting later)."""
        today = self.clock().date()
        rows = []
        for mou in self.db.scalars(select(Mou).order_by(Mou.reference)):
            latest = self.db.scalars(
                select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number.desc())
            ).first()
            current = governing(self.db, mou.client_id, today=today)
            rows.append(
                {
                    "mou": mou,
                    "client": self.db.get(Client, mou.client_id),
                    "governing": current,
                    "status": effective_status(current.status, terms_of(current), today)
                    if current
                    else "none",
                    "latest": latest,
                    "latest_status": effective_status(latest.status, terms_of(latest), today)
                    if latest
                    else "",
                    # What people read in Welsh lacks words: the version they see (or the newest).
                    "missing_welsh": _missing_welsh(current or latest),
                }
            )
        return rows

    def at_a_glance(self, search: str = "", page: int = 1) -> Glance:
        """Services by name, ``GLANCE_PAGE`` a page, those whose name, client id or agreement reference
        holds ``search`` (any case)."""
        today = self.clock().date()
        query = select(Client, Mou).outerjoin(Mou, Mou.client_id == Client.client_id)
        words = search.strip().lower()
        if words:
            like = f"%{words}%"
            query = query.where(
                or_(
                    func.lower(Client.name).like(like),
                    func.lower(Client.client_id).like(like),
                    func.lower(Mou.reference).like(like),
                )
            )
        total = int(self.db.scalar(select(func.count()).select_from(query.subquery())) or 0)
        pages = max(1, -(-total // GLANCE_PAGE))
        page = min(max(page, 1), pages)
        found = self.db.execute(
            query.order_by(Client.name, Client.client_id).offset((page - 1) * GLANCE_PAGE).limit(GLANCE_PAGE)
        )
        rows = []
        for client, mou in found.tuples():
            row = governing(self.db, client.client_id, today=today)
            if row is None and mou is not None:
                row = self.db.scalars(
                    select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number.desc())
                ).first()
            terms = terms_of(row) if row else None
            rows.append(
                ServiceGlance(
                    client=client,
                    mou=mou,
                    row=row,
                    status=effective_status(row.status, terms, today) if row and terms else "none",
                    claims=[a.claim for a in terms.attributes] if terms else [],
                    author=self._who(row.author) if row else "",
                    approver=self._who(row.approved_by) if row else "",
                )
            )
        return Glance(rows, total, page, pages)

    def _who(self, actor: str | None) -> str:
        """A staff member by email address (names, not ids); what was recorded when not an account."""
        if not actor:
            return ""
        email = self.db.scalar(select(Account.email).where(Account.id == actor))
        return email or actor

    def version(self, reference: str, number: int | str | None = None) -> VersionView:
        """One version (``number``; the newest when there is no such version or none is asked for)."""
        mou, versions = self.find(reference)
        if not versions:
            raise NoSuchAgreement("This MOU has no versions yet.")
        today = self.clock().date()
        shown = next((v for v in versions if str(v.number) == str(number)), versions[-1])
        before, in_force = _compared_with(versions, shown, today)
        terms = terms_of(shown)
        return VersionView(
            mou=mou,
            client=self.db.get(Client, mou.client_id),
            versions=[(v, effective_status(v.status, terms_of(v), today)) for v in versions],
            shown=shown,
            status=effective_status(shown.status, terms, today),
            terms=terms,
            before=before,
            before_in_force=in_force,
            changes=diff(terms_of(before), terms) if before else [],
            ends_at_once=shown.status in UNAPPROVED and ends_sharing_at_once(terms, today),
            missing_welsh=_missing_welsh(shown),
            history=[
                {
                    "at": e.at,
                    "action": e.action.removeprefix("mou."),
                    "actor": e.actor,
                    "note": e.details.get("note"),
                }
                for e in history(self.db, mou, shown.number)
            ],
        )

    def draft_values(self, reference: str) -> tuple[Mou, MouVersion | None, dict[str, str]]:
        """A new draft's fields, filled in from the version in force (``governing``), and that version;
        never from a draft nobody approved (its author's unfinished changes are theirs). Empty when no
        version was ever approved."""
        mou, _ = self.find(reference)
        current = governing(self.db, mou.client_id, today=self.clock().date())
        return mou, current, draft_fields(terms_of(current)) if current else {}

    def dry_run(self, reference: str, number: int | str | None, level: str) -> DryRun:
        mou, versions = self.find(reference)
        row = next((v for v in versions if str(v.number) == str(number)), versions[-1] if versions else None)
        if row is None:
            raise NoSuchAgreement("This MOU has no versions yet.")
        level = level if level in LEVELS else "P0"
        terms = with_companion_terms(terms_of(row))
        problems = terms.problems()
        if problems:
            return DryRun(mou, row, level, problems)
        claims = frozenset(a.claim for a in terms.attributes)
        status = "approved" if row.status in ("draft", "submitted") else row.status  # as if approved
        result = decide(
            Agreement(row.id, status, terms), claims, ConsentFacts(row.id, claims), level, self.clock()
        )
        return DryRun(mou, row, level, [], sorted(result.released), sorted(result.refused.items()))

    def releases(
        self, *, client_id: str = "", account_id: str = "", since: datetime | None = None
    ) -> list[ReleaseRecord]:
        """The release ledger, newest first, by service, person (account id) and time."""
        query = select(ReleaseRecord).order_by(ReleaseRecord.released_at.desc()).limit(LEDGER_PAGE)
        if client_id:
            query = query.where(ReleaseRecord.client_id == client_id)
        if account_id:
            query = query.where(ReleaseRecord.account_id == account_id)
        if since is not None:
            if since.tzinfo is None:
                since = since.replace(tzinfo=self.clock().tzinfo)
            query = query.where(ReleaseRecord.released_at >= since)
        return list(self.db.scalars(query))

    # Changing
    def draft(self, reference: str, fields: Mapping[str, str | None], author: str) -> MouVersion:
        """A new draft version from the fields an author typed; :class:`AgreementRefused` naming each
        field that is wrong, and nothing stored, when they cannot make a draft."""
        mou, _ = self.find(reference)
        terms, errors = read_draft(fields)
        if terms is None:
            raise AgreementRefused(errors)
        with unit_of_work(self.db):
            return add_version(self.db, mou, terms, author, self.clock())

    def act(
        self, reference: str, number: int, action: str, actor: str, note: str = "", *, confirmed: bool = False
    ) -> MouVersion:
        """Do ``action`` to version ``number`` under the life-cycle rules (``mou.act``: two-person
        approval included). Refusals are :class:`AgreementRefused` on the ``note`` field; approving a
        version that ends sharing at once (``mou.ends_sharing_at_once``) is refused on the
        ``confirm_end`` field unless the approver ``confirmed`` they understand it. Ending an
        agreement asks the service to delete what it holds about each person who shared with it (a
        ``sharing-ended`` security event); a suspension does not, as it may be resumed."""
        if action not in ACTIONS:
            raise NoSuchAgreement("There is no such action.")
        mou, versions = self.find(reference)
        row = next((v for v in versions if v.number == number), None)
        if row is None:
            raise NoSuchAgreement("There is no such version.")
        note = note.strip()
        if action in NOTE_NEEDED and not note:
            raise AgreementRefused({"note": "Give a reason"})
        if action == "approve" and not confirmed and ends_sharing_at_once(terms_of(row), self.clock().date()):
            raise AgreementRefused({"confirm_end": CONFIRM_END})
        try:
            with unit_of_work(self.db):
                apply(self.db, row, action, actor, self.clock(), note)
                if action == "terminate":
                    notify_agreement_ended(self.db, mou, row, self.clock())
        except PolicyError as exc:
            raise AgreementRefused({"note": str(exc)}) from None
        return row
