"""Graph checks: the facts the vouch rules (``vouching.rules``) decide on, gathered a neighbourhood at a
time: the voucher (identity, addresses, vouches in the last 12 months) and the circle around the vouch
(the applicant's other vouchers, the vouches between them, cycles, and the people at one address)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.identity.service import claimed_person, current, proven_documents
from broker.identity.vouching.base import VouchingBase, address_key
from broker.store.models import Account, IdentityRecord, Referee, Vouch, VouchRequest
from vouching.calendar import a_year_before
from vouching.levels import NO_IDENTITY
from vouching.person import Address
from vouching.rules import Circle, PastVouch, Voucher, person_key


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


class GraphChecks(VouchingBase):
    """The facts about a voucher and the graph around a vouch, for :func:`vouching.rules.check_vouch`."""

    def voucher_facts(self, account: Account) -> Voucher:
        now = self.clock()
        held = current(self.db, account.id, now.date())
        person = claimed_person(held) if held else None
        addresses = self.address_keys([account.id])[account.id]
        year_ago = a_year_before(now)
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
            level=held.level if held else NO_IDENTITY,
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
