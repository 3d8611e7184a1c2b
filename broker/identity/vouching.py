"""Social vouching, stored: requests and invitations, vouches checked by the rules in
``vouching.rules``, cooling-off, reviews, the identity vouches add up to, and the cascade when a
voucher is revoked. Pure decisions live in ``vouching/``; this module gathers their facts and keeps
what they decide."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.accounts.service import normalise_email
from broker.audit.log import record as audit
from broker.identity.namesakes import RULE, CountedVouch, cooled_off, held_entry, to_hold, unweighed
from broker.identity.service import (
    claimed_person,
    current,
    document_proven_namesakes,
    level,
    name_parts,
    namesake_records,
    proven_documents,
    records,
)
from broker.notify.outbox import Outbox
from broker.policy.security_events import notify_identity_dropped
from broker.store.models import Account, IdentityRecord, Referee, Vouch, VouchRequest
from vouching.authorities import Authorities, AuthorityUnavailable
from vouching.person import Address, ClaimedPerson, normalise_building, normalise_postcode
from vouching.proofing import recheck_by
from vouching.rules import (
    PROVEN_ELSEWHERE,
    Applicant,
    Case,
    Circle,
    PastVouch,
    Refusal,
    Statement,
    Voucher,
    VouchingPolicy,
    check_vouch,
    person_key,
)
from vouching.scoring import LEVELS, assess
from vouching.text import N_, Filled
from vouching.vouches import EffectiveVouch, VouchState, vouch_scores

log = structlog.get_logger(__name__)

ACKNOWLEDGEMENT = N_(
    "I confirm that what I have said is true. I understand that vouching for someone lets them use "
    "online services as that person, that giving false information to prove someone's identity is an "
    "offence (Fraud Act 2006, section 2), and that if my vouch is found to be false it will be withdrawn, "
    "the identity it supported will lose its level, and my own account may be suspended."
)


class VouchingError(ValueError):
    """A request the person can correct; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ConflictOfInterest(VouchingError):
    """A reviewer asked to decide a vouch they gave or received."""


class NotInvited(VouchingError):
    """Someone other than the person invited (by email) tried to answer an invitation."""


def is_invited(vouch: Vouch, account: Account) -> bool:
    """An invitation is answered only from the account of the email address it was sent to: a link
    passed on (or intercepted) is no vouch from the person the applicant named."""
    return normalise_email(account.email) == normalise_email(vouch.invited_email)


def requested_person(request: VouchRequest) -> ClaimedPerson:
    return ClaimedPerson(request.given_names, request.family_name, request.birth_date)


def address_key(address: Address) -> str:
    """One home: its building and postcode, each as one compares them (so two houses in a street are
    two addresses, and "10a" and "10 A" one)."""
    postcode = normalise_postcode(address.postcode) or address.postcode.strip().upper()
    return f"{normalise_building(address.building)}|{postcode}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def state(vouch: Vouch) -> VouchState:
    return VouchState(
        vouch.accepted_at, vouch.effective_at, vouch.withdrawn_at or vouch.declined_at, bool(vouch.refused_at)
    )


@dataclass
class Invitation:
    vouch: Vouch
    token: str


class VouchGraph:
    """Standing vouches (voucher -> the applicants they vouch for), loaded a neighbourhood at a time:
    one query for a whole set of people, never the whole network."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._given: dict[str, set[str]] = {}

    def given(self, account_ids: Iterable[str]) -> dict[str, set[str]]:
        wanted = list(dict.fromkeys(account_ids))
        missing = [a for a in wanted if a not in self._given]
        if missing:
            for account_id in missing:
                self._given[account_id] = set()
            rows = self.db.execute(
                select(Vouch.voucher_id, Vouch.applicant_id).where(
                    Vouch.voucher_id.in_(missing),
                    Vouch.accepted_at.is_not(None),
                    Vouch.withdrawn_at.is_(None),
                    Vouch.refused_at.is_(None),
                )
            )
            for voucher_id, applicant_id in rows:
                self._given[voucher_id or ""].add(applicant_id)
        return {a: self._given[a] for a in wanted}


class VouchingService:
    def __init__(
        self,
        db: Session,
        clock: Callable[[], datetime],
        authorities: Authorities,
        policy: VouchingPolicy,
        issuer: str,
    ) -> None:
        self.db = db
        self.clock = clock
        self.authorities = authorities
        self.policy = policy
        self.issuer = issuer

    # The applicant
    def open_request(self, applicant_id: str) -> VouchRequest | None:
        query = (
            select(VouchRequest)
            .filter_by(applicant_id=applicant_id, cancelled_at=None)
            .order_by(VouchRequest.created_at.desc())
        )
        return self.db.scalars(query).first()

    def start(
        self, account: Account, person: ClaimedPerson, address: Address, interaction_id: str | None
    ) -> VouchRequest:
        now = self.clock()
        under_way = self.open_request(account.id)
        if under_way is not None and under_way.identity_record_id is None:
            self.cancel(under_way, account.id)
        request = VouchRequest(
            applicant_id=account.id,
            given_names=person.given_names,
            family_name=person.family_name,
            birth_date=person.birth_date,
            address=address.as_dict(),
            address_key=address_key(address),
            interaction_id=interaction_id,
            created_at=now,
        )
        self.db.add(request)
        self.db.flush()
        audit(
            self.db, "vouching.requested", now=now, actor=account.id, subject=account.id, request=request.id
        )
        return request

    def invite(self, request: VouchRequest, applicant: Account, emails: list[str]) -> list[Invitation]:
        now = self.clock()
        wanted = list(dict.fromkeys(normalise_email(e) for e in emails if e))
        if normalise_email(applicant.email) in wanted:
            raise VouchingError("email1", N_("Enter the email addresses of other people, not your own"))
        already = {v.invited_email for v in self.vouches(request)}
        fresh = [e for e in wanted if e not in already]
        if len(already) + len(fresh) < self.policy.min_vouchers:
            raise VouchingError(
                "email1",
                Filled(
                    N_("Enter the email addresses of at least %(number)s different people"),
                    number=self.policy.min_vouchers,
                ),
            )
        out = []
        for email in fresh:
            token = secrets.token_urlsafe(32)
            vouch = Vouch(
                request_id=request.id,
                applicant_id=request.applicant_id,
                invited_email=email,
                token_hash=token_hash(token),
                invited_at=now,
                expires_at=now + self.policy.invitation_lifetime,
                refusals=[],
                is_referee=False,
            )
            self.db.add(vouch)
            Outbox(self.db).send_email(
                email,
                "vouch_invitation",
                {
                    "name": f"{request.given_names} {request.family_name}",
                    "link": f"{self.issuer}/vouch/{token}",
                    "days": self.policy.invitation_lifetime.days,
                },
                now,
            )
            out.append(Invitation(vouch, token))
        self.db.flush()
        audit(
            self.db,
            "vouching.invited",
            now=now,
            actor=request.applicant_id,
            subject=request.applicant_id,
            invitations=len(out),
        )
        return out

    def vouches(self, request: VouchRequest) -> list[Vouch]:
        return list(
            self.db.scalars(select(Vouch).filter_by(request_id=request.id).order_by(Vouch.invited_at))
        )

    def cancel(self, request: VouchRequest, actor: str) -> None:
        now = self.clock()
        request.cancelled_at = now
        for vouch in self.vouches(request):
            if vouch.declined_at is None:
                self._withdrawn(vouch, actor, "the applicant cancelled")
        audit(
            self.db,
            "vouching.cancelled",
            now=now,
            actor=actor,
            subject=request.applicant_id,
            request=request.id,
        )
        self.settle(request.applicant_id)

    # The voucher
    def invitation(self, token: str) -> Vouch | None:
        return self.db.scalar(select(Vouch).filter_by(token_hash=token_hash(token)))

    def voucher_facts(self, account: Account) -> Voucher:
        now = self.clock()
        held = current(self.db, account.id, now.date())
        person = claimed_person(held) if held else None
        addresses = self.address_keys([account.id])[account.id]
        year_ago = now.replace(year=now.year - 1)
        past = self.db.execute(
            select(Vouch.applicant_id, VouchRequest.address_key, Vouch.accepted_at)
            .join(VouchRequest, VouchRequest.id == Vouch.request_id)
            .where(
                Vouch.voucher_id == account.id,
                Vouch.accepted_at.is_not(None),
                Vouch.accepted_at > year_ago,
                Vouch.withdrawn_at.is_(None),
                Vouch.refused_at.is_(None),
            )
        ).all()
        return Voucher(
            account_id=account.id,
            given_names=person.given_names if person else "",
            family_name=person.family_name if person else "",
            birth_date=person.birth_date if person else datetime.min.date(),
            level=held.level if held else "P0",
            route=held.route if held else "documents",
            proven_at=held.completed_at if held else None,
            address_keys=frozenset(addresses),
            is_referee=self.db.get(Referee, account.id) is not None,
            past_vouches=tuple(PastVouch(a, k, at) for a, k, at in past if at is not None),
            document_keys=frozenset(proven_documents(self.db, [account.id])[account.id]),
        )

    def address_keys(self, account_ids: Iterable[str]) -> dict[str, set[str]]:
        """Every address the broker holds for these people (from their completed checks), in one query."""
        wanted = list(dict.fromkeys(account_ids))
        out: dict[str, set[str]] = {a: set() for a in wanted}
        if wanted:
            rows = self.db.execute(
                select(IdentityRecord.account_id, IdentityRecord.addresses).where(
                    IdentityRecord.account_id.in_(wanted), IdentityRecord.completed_at.is_not(None)
                )
            )
            for account_id, addresses in rows:
                out[account_id] |= {address_key(Address.from_dict(a)) for a in addresses}
        return out

    def circle(self, request: VouchRequest, voucher_id: str) -> Circle:
        """What the graph around this vouch looks like; every query is bounded by the neighbourhood
        (this applicant's vouchers, the vouches they gave, and one address), never by all people."""
        others = [
            v
            for v in self.vouches(request)
            if v.voucher_id
            and v.voucher_id != voucher_id
            and v.accepted_at
            and not v.withdrawn_at
            and not v.refused_at
        ]
        other_ids = frozenset(v.voucher_id for v in others if v.voucher_id)
        other_addresses = set().union(*self.address_keys(other_ids).values())
        other_documents = set().union(*proven_documents(self.db, sorted(other_ids)).values())
        already = any(
            v.voucher_id == voucher_id and v.accepted_at and not v.withdrawn_at and not v.refused_at
            for v in self.vouches(request)
        )
        graph = VouchGraph(self.db)
        given = graph.given([request.applicant_id, voucher_id, *other_ids])
        reciprocal = voucher_id in given[request.applicant_id]  # the applicant already vouched for them
        mine = given[voucher_id] - {request.applicant_id}
        shared = len({a for o in other_ids for a in given[o] if a in mine})
        linked = bool(given[voucher_id] & other_ids) or any(voucher_id in given[o] for o in other_ids)
        at_address = self.db.scalar(
            select(func.count(func.distinct(VouchRequest.applicant_id))).where(
                VouchRequest.address_key == request.address_key,
                VouchRequest.identity_record_id.is_not(None),
                VouchRequest.applicant_id != request.applicant_id,
                VouchRequest.cancelled_at.is_(None),
            )
        )
        return Circle(
            other_voucher_ids=other_ids,
            other_voucher_address_keys=frozenset(other_addresses),
            other_voucher_document_keys=frozenset(other_documents),
            other_voucher_people=self._people(other_ids),
            voucher_vouched_already=already,
            linked_to_other_voucher=linked,
            applicant_vouched_for_voucher=reciprocal,
            cycle_through=self._path(request.applicant_id, voucher_id, graph),
            applicants_shared_with_other_vouchers=shared,
            vouched_applicants_at_address=at_address or 0,
        )

    def _people(self, account_ids: Iterable[str]) -> frozenset[str]:
        """These people as their current identities name them (names and date of birth)."""
        today = self.clock().date()
        held = (current(self.db, a, today) for a in account_ids)
        people = (claimed_person(r) for r in held if r is not None)
        return frozenset(person_key(p.given_names, p.family_name, p.birth_date) for p in people if p)

    def _path(self, start: str, goal: str, graph: VouchGraph) -> tuple[str, ...]:
        """A chain of vouches start -> ... -> goal (so goal vouching for start closes a cycle), searched
        breadth first to ``cycle_search_depth`` steps, one query per step."""
        frontier: list[tuple[str, ...]] = [(start,)]
        seen = {start}
        for _ in range(self.policy.cycle_search_depth):
            edges = graph.given(p[-1] for p in frontier)
            nxt = []
            for path in frontier:
                for step in sorted(edges[path[-1]]):
                    if step == goal:
                        return (*path, goal)
                    if step not in seen:
                        seen.add(step)
                        nxt.append((*path, step))
            frontier = nxt
            if not frontier:
                break
        return ()

    def answer(self, vouch: Vouch, voucher: Account, statement: Statement) -> list[Refusal]:
        """The voucher's declaration, checked by every rule; kept whatever the outcome. Only the
        person invited may answer (:func:`is_invited`)."""
        self.check_invited(vouch, voucher)
        now = self.clock()
        request = self.db.get(VouchRequest, vouch.request_id)
        assert request is not None
        address = Address.from_dict(request.address)
        namesakes = document_proven_namesakes(
            self.db, requested_person(request), request.applicant_id, now.date()
        )
        applicant = Applicant(
            request.applicant_id,
            request.given_names,
            request.family_name,
            request.birth_date,
            address_key(address),
            frozenset(proven_documents(self.db, [request.applicant_id])[request.applicant_id]),
            proven_elsewhere=bool(namesakes),
        )
        facts = self.voucher_facts(voucher)
        refusals = check_vouch(
            Case(applicant, facts, statement, self.circle(request, voucher.id), now, self.policy)
        )
        vouch.voucher_id = voucher.id
        vouch.relationship, vouch.known_years = statement.relationship, statement.known_years
        vouch.lives_with_applicant = statement.lives_with_applicant
        vouch.acknowledgement = ACKNOWLEDGEMENT
        vouch.is_referee = facts.is_referee
        vouch.refusals = [
            held_entry(namesakes, counted=False)
            if r.rule == RULE
            else {"rule": r.rule, "reason": r.reason, "review": r.review}
            for r in refusals
        ]

        def recorded(action: str, **details: Any) -> None:
            audit(
                self.db,
                action,
                now=now,
                actor=voucher.id,
                subject=request.applicant_id,
                vouch=vouch.id,
                **details,
            )

        rules = [r.rule for r in refusals]
        if any(not r.review for r in refusals):
            vouch.refused_at = now
            recorded("vouch.refused", rules=rules)
            return refusals
        vouch.accepted_at = now
        if refusals:
            vouch.review_reason = refusals[0].reason
            recorded("vouch.flagged", rules=rules, **({"proven_accounts": namesakes} if namesakes else {}))
        else:
            vouch.effective_at = now + self.policy.cooling_off
            recorded("vouch.accepted")
            self._tell_cooling_off(request, vouch, voucher)
        return refusals

    def _tell_cooling_off(self, request: VouchRequest, vouch: Vouch, voucher: Account) -> None:
        assert vouch.effective_at is not None
        when = f"{vouch.effective_at:%-d %B %Y}"
        outbox, now = Outbox(self.db), self.clock()
        applicant = self.db.get(Account, request.applicant_id)
        if applicant is not None:
            outbox.send_email(
                applicant.email,
                "vouch_received",
                {"date": when, "link": f"{self.issuer}/identity/vouching"},
                now,
            )
        outbox.send_email(
            voucher.email,
            "vouch_given",
            {
                "name": f"{request.given_names} {request.family_name}",
                "date": when,
                "link": f"{self.issuer}/account/vouches",
            },
            now,
        )

    def check_invited(self, vouch: Vouch, account: Account) -> None:
        """Raises :class:`NotInvited` (and keeps an audit event) unless ``account`` is the one invited."""
        if is_invited(vouch, account):
            return
        audit(
            self.db,
            "vouch.not_invited",
            now=self.clock(),
            actor=account.id,
            subject=vouch.applicant_id,
            vouch=vouch.id,
        )
        raise NotInvited("email", "This invitation was sent to a different email address.")

    def decline(self, vouch: Vouch, voucher: Account) -> None:
        self.check_invited(vouch, voucher)
        now = self.clock()
        vouch.voucher_id, vouch.declined_at = voucher.id, now
        audit(
            self.db, "vouch.declined", now=now, actor=voucher.id, subject=vouch.applicant_id, vouch=vouch.id
        )

    def withdraw(self, vouch: Vouch, actor: str, reason: str) -> None:
        """Withdrawn by the applicant or the voucher; the applicant's identity follows at once."""
        if self._withdrawn(vouch, actor, reason):
            self.settle(vouch.applicant_id)

    def _withdrawn(self, vouch: Vouch, actor: str, reason: str) -> bool:
        if vouch.withdrawn_at is not None:
            return False
        now = self.clock()
        vouch.withdrawn_at, vouch.withdrawn_reason = now, reason
        audit(
            self.db,
            "vouch.withdrawn",
            now=now,
            actor=actor,
            subject=vouch.applicant_id,
            vouch=vouch.id,
            reason=reason,
        )
        return True

    def review(self, vouch: Vouch, reviewer: Account, accept: bool, note: str) -> None:
        """A reviewer's decision on a held vouch. Nobody decides a vouch they gave or received."""
        if reviewer.id in (vouch.applicant_id, vouch.voucher_id):
            raise ConflictOfInterest(
                "note", "You gave or received this vouch: another reviewer must decide it."
            )
        now = self.clock()
        vouch.reviewed_by, vouch.review_note = reviewer.id, note
        again = accept and cooled_off(vouch.refusals)
        if accept:
            vouch.effective_at = now if again else now + self.policy.cooling_off
        else:
            vouch.refused_at = now
        audit(
            self.db,
            "vouch.reviewed",
            now=now,
            actor=reviewer.id,
            subject=vouch.applicant_id,
            vouch=vouch.id,
            accepted=accept,
        )
        if again:  # it had counted before it was held: the identity stands on it again now
            self.settle(vouch.applicant_id)

    def flagged(self) -> list[Vouch]:
        query = select(Vouch).where(
            Vouch.accepted_at.is_not(None),
            Vouch.effective_at.is_(None),
            Vouch.refused_at.is_(None),
            Vouch.withdrawn_at.is_(None),
        )
        return list(self.db.scalars(query.order_by(Vouch.accepted_at)))

    # The identity vouches add up to
    def settle(self, applicant_id: str) -> IdentityRecord | None:
        """Bring the applicant's vouched identities up to date with the vouches that count now: a new
        record when one changes (never an edit), the old one revoked, services told when it drops.
        Every request that gave an identity is settled, not only the newest: asking for vouches again
        must not shelter an earlier identity from its vouches' withdrawal. Vouches whose voucher no
        longer holds P2, or whose voucher deleted their account, are withdrawn first. Returns the
        newest request's identity."""
        requests = list(
            self.db.scalars(
                select(VouchRequest)
                .filter_by(applicant_id=applicant_id)
                .order_by(VouchRequest.created_at.desc())
            )
        )
        if not requests:
            return None
        newest, *older = requests
        for request in older:
            if request.identity_record_id is not None:
                self._settle_request(applicant_id, request)
        return self._settle_request(applicant_id, newest)

    def _settle_request(self, applicant_id: str, request: VouchRequest) -> IdentityRecord | None:
        now = self.clock()
        effective: list[tuple[Vouch, EffectiveVouch]] = []
        applicant_documents = proven_documents(self.db, [applicant_id])[applicant_id]
        previous = (
            self.db.get(IdentityRecord, request.identity_record_id) if request.identity_record_id else None
        )
        counted = {e.get("vouch_id") for e in previous.evidence} if previous else set()
        for vouch in self.vouches(request):
            if state(vouch).status(now) != "effective" or request.cancelled_at is not None:
                continue
            if vouch.voucher_id is None:
                self._withdrawn(vouch, "system", "the voucher deleted their account")
                continue
            if LEVELS.index(level(self.db, vouch.voucher_id, now.date())) < LEVELS.index(
                self.policy.voucher_min_level
            ):
                self._withdrawn(vouch, "system", "the voucher's own identity dropped")
                continue
            if vouch.id not in counted and self._held_for_namesake(vouch, request):
                continue
            keys = frozenset(self.address_keys([vouch.voucher_id])[vouch.voucher_id])
            documents = frozenset(proven_documents(self.db, [vouch.voucher_id])[vouch.voucher_id])
            if documents & applicant_documents or any(
                e.voucher_id == vouch.voucher_id or e.voucher_document_keys & documents for _, e in effective
            ):
                continue  # the applicant, or a voucher already counted, again: one person counts once
            effective.append((vouch, EffectiveVouch(vouch.voucher_id, vouch.is_referee, keys, documents)))
        used = sorted(v.id for v, _ in effective)
        if previous is not None and sorted(e.get("vouch_id", "") for e in previous.evidence) == used:
            return previous
        if previous is None and len(effective) < self.policy.min_vouchers:
            return None
        record = self._record(request, [v for v, _ in effective], [e for _, e in effective])
        request.identity_record_id = record.id
        if previous is not None:
            previous.revoked_at, previous.revoked_reason = now, "vouches changed"
        now_level = level(self.db, applicant_id, now.date())  # once the old record is revoked
        applicant = self.db.get(Account, applicant_id)
        if applicant is not None:
            applicant.identity_level = now_level
        if previous is not None and LEVELS.index(record.level) < LEVELS.index(previous.level):
            self._dropped(applicant_id, previous.level, now_level)
        return record

    def _held_for_namesake(self, vouch: Vouch, request: VouchRequest) -> bool:
        """A vouch about to count for someone whose name and date of birth a document has proved on
        another account since the vouch was given goes back to a reviewer (unless one accepted it
        knowing of that account): cooling-off must not let a vouched identity slip past the rule."""
        namesakes = document_proven_namesakes(
            self.db, requested_person(request), request.applicant_id, self.clock().date()
        )
        if not unweighed(vouch.refusals, vouch.reviewed_by is not None, namesakes):
            return False
        self._hold(vouch, namesakes, counted=False)
        return True

    def _hold(self, vouch: Vouch, namesakes: list[str], *, counted: bool) -> None:
        """Back to a reviewer for ``not_proven_elsewhere``, naming the document-proven accounts."""
        vouch.effective_at, vouch.review_reason = None, PROVEN_ELSEWHERE
        vouch.refusals = [*vouch.refusals, held_entry(namesakes, counted=counted)]
        audit(
            self.db,
            "vouch.flagged",
            now=self.clock(),
            actor="system",
            subject=vouch.applicant_id,
            vouch=vouch.id,
            rules=[RULE],
            proven_accounts=namesakes,
            counted=counted,  # true when it had counted towards an identity a document proof re-opened
        )

    def reopen_namesakes(self, proven: IdentityRecord) -> list[str]:
        """A document has just proved ``proven``: every other account whose identity, raised by
        vouches, names the same person (name and date of birth) has the vouches it counted held for
        review, and that identity settled again without them (a new record, the old one revoked,
        relying services told when it drops). Returns the accounts re-opened."""
        person = claimed_person(proven)
        if person is None:
            return []
        now = self.clock()
        today = now.date()
        reopened = []
        for record in namesake_records(self.db, person, proven.account_id, today, "vouching"):
            request = self.db.scalar(select(VouchRequest).filter_by(identity_record_id=record.id))
            if request is None:
                continue
            namesakes = document_proven_namesakes(
                self.db, requested_person(request), record.account_id, today
            )
            counted = {e.get("vouch_id") for e in record.evidence}
            vouches = {  # still standing: the others are withdrawn when the identity is settled
                v.id: v
                for v in self.vouches(request)
                if v.id in counted and v.voucher_id is not None and state(v).status(now) == "effective"
            }
            held = to_hold(
                (CountedVouch(v.id, tuple(v.refusals), v.reviewed_by is not None) for v in vouches.values()),
                namesakes,
            )
            if not held:
                continue
            for vouch_id in held:
                self._hold(vouches[vouch_id], namesakes, counted=True)
            try:
                with self.db.begin_nested():
                    self._settle_request(record.account_id, request)
            except AuthorityUnavailable:
                # Scoring the re-opened identity asks the authorities; one that does not answer must
                # not fail this person's own proof. The holds stand, and the identity is settled again
                # when it is next read (services and pages settle an identity before reading it).
                log.warning("re-opened identity to be settled later", reason="authority unavailable")
            reopened.append(record.account_id)
        return reopened

    def _record(
        self, request: VouchRequest, vouches: list[Vouch], effective: list[EffectiveVouch]
    ) -> IdentityRecord:
        now = self.clock()
        person = requested_person(request)
        fraud = self.authorities.fraud.check(person).score
        activity = self.authorities.activity.check(person, now.date()).score
        scores = vouch_scores(effective, activity, fraud)
        result = assess(scores)
        version = (
            self.db.scalar(
                select(func.max(IdentityRecord.version)).filter_by(account_id=request.applicant_id)
            )
            or 0
        ) + 1
        record = IdentityRecord(
            account_id=request.applicant_id,
            version=version,
            route="vouching",
            interaction_id=request.interaction_id,
            started_at=request.created_at,
            completed_at=now,
            names=[{"nameParts": name_parts(person), "validFrom": None, "validUntil": None}],
            birth_date=request.birth_date,
            addresses=[request.address],
            evidence=[
                {
                    "kind": "vouch",
                    "vouch_id": v.id,
                    "strength": e.strength,
                    "validity": e.validity,
                    "counts": True,
                    "checks": ["rules_passed", "cooling_off_ended"],
                    "problems": [],
                    "fraud_indicator": False,
                    "document": self._voucher_details(v),
                    "checked_at": now.isoformat(),
                }
                for v, e in zip(
                    sorted(vouches, key=lambda v: (not v.is_referee, v.voucher_id or "")),
                    scores.evidence,
                    strict=True,
                )
            ],
            activity=activity,
            fraud=fraud,
            verification=scores.verification,
            questions=[],
            level=result.level,
            profile=result.profile,
            recheck_by=recheck_by(now.date(), []),
        )
        self.db.add(record)
        self.db.flush()
        audit(
            self.db,
            "identity.check_completed",
            now=now,
            actor="system",
            subject=request.applicant_id,
            version=version,
            level=result.level,
            profile=result.profile,
            route="vouching",
        )
        return record

    def _voucher_details(self, vouch: Vouch) -> dict[str, Any]:
        """Who vouched, as released in ``verified_claims`` evidence (name; occupation for a referee)."""
        held = current(self.db, vouch.voucher_id or "", self.clock().date())
        person = claimed_person(held) if held else None
        referee = self.db.get(Referee, vouch.voucher_id) if vouch.is_referee and vouch.voucher_id else None
        return {
            "voucher_name": f"{person.given_names} {person.family_name}" if person else "",
            "occupation": referee.occupation if referee else None,
            "referee": vouch.is_referee,
            "time": vouch.accepted_at.isoformat() if vouch.accepted_at else None,
        }

    def _dropped(self, applicant_id: str, was: str, now_level: str) -> None:
        now = self.clock()
        applicant = self.db.get(Account, applicant_id)
        if applicant is not None:
            Outbox(self.db).send_email(
                applicant.email, "identity_dropped", {"link": f"{self.issuer}/account/identity"}, now
            )
        notify_identity_dropped(self.db, applicant_id, was, now_level, now)
        audit(
            self.db,
            "identity.level_dropped",
            now=now,
            actor="system",
            subject=applicant_id,
            previous=was,
            current=now_level,
        )

    def revoke_identity(self, account: Account, reason: str, actor: str) -> list[str]:
        """An identity found to be false: its records revoked, every vouch it gave withdrawn, and every
        identity that rested on those vouches re-scored. Returns the applicants re-scored."""
        now = self.clock()
        was = level(self.db, account.id, now.date())
        for held in records(self.db, account.id):
            if held.completed_at and held.revoked_at is None:
                held.revoked_at, held.revoked_reason = now, reason
        account.identity_level = "P0"
        audit(self.db, "identity.revoked", now=now, actor=actor, subject=account.id, reason=reason)
        if was != "P0":
            notify_identity_dropped(self.db, account.id, was, "P0", now)
        given = self.db.scalars(
            select(Vouch).where(
                Vouch.voucher_id == account.id,
                Vouch.withdrawn_at.is_(None),
                Vouch.accepted_at.is_not(None),
            )
        ).all()
        reached = []
        for vouch in given:
            self._withdrawn(vouch, actor, "the voucher's identity was revoked")
            reached.append(vouch.applicant_id)
        for applicant_id in dict.fromkeys(reached):
            self.settle(applicant_id)
        return list(dict.fromkeys(reached))
