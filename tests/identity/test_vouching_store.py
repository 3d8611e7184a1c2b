"""Vouching kept in the database, on every database: graph checks hold vouches for review, a reviewer
decides, a referee's vouch reaches P2, a voucher who loses their own level loses their vouches, and
revoking a voucher re-scores exactly the identities that rested on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from broker.identity import registry
from broker.identity.service import claimed_person, current, level
from broker.identity.vouching import ConflictOfInterest, NotInvited, VouchingService, address_key
from broker.store.db import transaction
from broker.store.models import Account, AuditEvent, Referee, Vouch, VouchRequest
from tests.identity.services import identity_service, vouching_service
from vouching.authorities import DocumentAnswer
from vouching.documents import format_td3, parse_td3
from vouching.person import Address, ClaimedPerson
from vouching.proofing import passport_check
from vouching.rules import PROVEN_ELSEWHERE, Statement, VouchingPolicy

START = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DOCUMENT_KEY = b"test document key"
FRIEND = Statement("friend", 5, False)
QUESTIONS = [
    {"id": "q", "text": "?", "options": ["a", "b"], "answer": "b"},
    {"id": "r", "text": "?", "options": ["c", "d"], "answer": "c"},
]


class World:
    """Accounts, their identities and vouches, on a clock the test moves."""

    def __init__(self, factory) -> None:
        self.factory = factory
        self.now = START
        self.count = 0

    def clock(self) -> datetime:
        return self.now

    def service(self, db) -> VouchingService:
        return vouching_service(db, self.clock, VouchingPolicy(), "http://b")

    def person(
        self,
        proven: bool = True,
        postcode: str | None = None,
        records: dict | None = None,
        *,
        who: ClaimedPerson | None = None,
        passport: str | None = None,
    ) -> str:
        """An account, proven at P2 by a passport (its own unless ``passport`` names one) unless not
        ``proven``; ``who`` is the person its documents name (someone new by default)."""
        self.count += 1
        n = self.count
        account_id = f"acc{n}"
        person = who or ClaimedPerson(
            f"Given{n}", f"Family{chr(65 + n % 26)}{n}", date(1970, 1, 1) + timedelta(days=n)
        )
        with transaction(self.factory) as db:
            db.add(Account(id=account_id, email=f"p{n}@example.org", created_at=self.now))
            registry.put_person(db, person, records or {"fraud": "clear", "questions": QUESTIONS}, self.now)
        if proven:
            reached = self.prove(
                account_id, person, passport or f"{n:09d}", postcode or f"CF{n % 90 + 10} {n % 9}AA"
            )
            assert passport is not None or reached == "P2"
        return account_id

    def prove(self, account_id: str, person: ClaimedPerson, number: str, postcode: str = "CF10 2BB") -> str:
        """The account proves ``person`` with the passport ``number``; returns the level reached."""
        with transaction(self.factory) as db:
            service = identity_service(db, self.clock, DOCUMENT_KEY)
            record = service.start(db.get(Account, account_id), None)
            mrz = parse_td3(
                *format_td3(
                    surname=person.family_name,
                    given_names=person.given_names,
                    document_number=number,
                    birth_date=person.birth_date,
                    expiry_date=date(2034, 1, 1),
                ),
                today=self.now.date(),
            )
            check = passport_check(
                mrz, person, DocumentAnswer("confirmed", "t"), self.now.date(), truncated=False
            )
            service.add_document(
                record, person, check, {"documentNumber": number, "expiryDate": "2034-01-01"}
            )
            home = Address(account_id.removeprefix("acc"), "Street", "Town", postcode, date(2010, 1, 1))
            service.add_address(record, [home])
            service.questions(record)
            service.answer(record, {"q": "b", "r": "c"})
            return service.complete(record, db.get(Account, account_id)).level

    def ask(
        self,
        applicant: str,
        vouchers: tuple[str, ...] = (),
        postcode: str = "CF10 1AA",
        building: str = "9",
        *,
        who: ClaimedPerson | None = None,
    ) -> list[str]:
        """The applicant asks these vouchers (by their accounts' email addresses), and others up to
        three, to vouch that they are ``who`` (by default the person their account was made for);
        returns the invitation tokens in that order."""
        with transaction(self.factory) as db:
            account = db.get(Account, applicant)
            service = self.service(db)
            n = int(applicant.removeprefix("acc"))
            person = who or ClaimedPerson(
                f"Given{n}", f"Family{chr(65 + n % 26)}{n}", date(1970, 1, 1) + timedelta(days=n)
            )
            request = service.start(
                account, person, Address(building, "Road", "Cardiff", postcode, date(2015, 1, 1)), None
            )
            emails = [db.get(Account, v).email for v in vouchers]
            emails += [f"x{applicant}{c}@example.org" for c in "abc"][: max(0, 3 - len(emails))]
            return [i.token for i in service.invite(request, account, emails)]

    def level(self, account_id: str) -> str:
        with self.factory() as db:
            return level(db, account_id, self.now.date())

    def vouch(self, token: str, voucher: str, statement: Statement = FRIEND) -> list[str]:
        with transaction(self.factory) as db:
            service = self.service(db)
            invitation = service.invitation(token)
            return [r.rule for r in service.answer(invitation, db.get(Account, voucher), statement)]

    def vouched_in(self) -> tuple[str, str, str]:
        """An applicant raised to P1 by two proven vouchers, cooling-off over: (applicant, v1, v2)."""
        a, v1, v2 = self.person(proven=False), self.person(), self.person()
        tokens = self.ask(a, (v1, v2))
        self.vouch(tokens[0], v1)
        self.vouch(tokens[1], v2)
        self.now += timedelta(days=8)
        assert self.settle(a) == "P1"
        return a, v1, v2

    def settle(self, applicant: str) -> str:
        with transaction(self.factory) as db:
            self.service(db).settle(applicant)
            return level(db, applicant, self.now.date())


@pytest.fixture
def world(session_factory) -> World:
    return World(session_factory)


def test_two_vouches_take_effect_after_cooling_off(world):
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (v1, v2))
    assert world.vouch(tokens[0], v1) == [] and world.vouch(tokens[1], v2) == []
    assert world.settle(a) == "P0"  # cooling off
    world.now += timedelta(days=7)
    assert world.settle(a) == "P1"


def test_a_referee_and_a_friend_with_history_reach_p2(world):
    a = world.person(proven=False, records={"fraud": "clear", "active_since": "2015-01-01"})
    ref, friend = world.person(), world.person()
    with transaction(world.factory) as db:
        db.add(
            Referee(
                account_id=ref,
                occupation="GP",
                registration_body="GMC",
                registration_number="123",
                evidence_note="checked on the register",
                recorded_by="admin",
                recorded_at=world.now,
            )
        )
    tokens = world.ask(a, (ref, friend))
    world.vouch(tokens[0], ref, Statement("professional", 4, False))
    world.vouch(tokens[1], friend)
    world.now += timedelta(days=8)
    assert world.settle(a) == "P2"


def test_a_vouch_closing_a_cycle_is_held_for_review_and_a_reviewer_decides(world):
    # B has a document identity and vouched for C; C proved by passport later and vouches for A;
    # A proved by passport and vouched for B: then B vouching for... is a cycle A -> B -> C -> A.
    a, b, c = world.person(), world.person(), world.person()
    tb = world.ask(b, (a,), postcode="CF20 1AA")
    assert world.vouch(tb[0], a) == []
    tc = world.ask(c, (b,), postcode="CF21 1AA")
    assert world.vouch(tc[0], b) == []
    ta = world.ask(a, (c,), postcode="CF22 1AA")
    assert world.vouch(ta[0], c) == ["no_cycle"]
    reviewer = world.person()
    with transaction(world.factory) as db:
        service = world.service(db)
        [held] = service.flagged()
        assert held.review_reason == "this vouch would close a cycle of vouches" and held.effective_at is None
        for involved in (held.applicant_id, held.voucher_id):  # nobody decides their own vouch
            with pytest.raises(ConflictOfInterest):
                service.review(held, db.get(Account, involved), accept=True, note="fine by me")
        service.review(held, db.get(Account, reviewer), accept=False, note="a ring")
    with world.factory() as db:
        assert world.service(db).flagged() == []


def test_vouchers_who_vouched_together_before_are_held_for_review(world):
    v1, v2 = world.person(), world.person()
    rules = []
    for i in range(3):
        applicant = world.person(proven=False)
        tokens = world.ask(applicant, (v1, v2), postcode=f"CF{30 + i} 1AA")
        rules.append((world.vouch(tokens[0], v1), world.vouch(tokens[1], v2)))
    assert rules[0] == ([], []) and rules[1] == ([], [])
    assert rules[2][1] == ["not_a_dense_cluster"]  # the same pair, a third time


def test_vouchers_who_vouch_for_each_other_are_not_independent(world):
    v1, v2 = world.person(), world.person()
    assert world.vouch(world.ask(v2, (v1,), postcode="CF45 1AA")[0], v1) == []  # v1 vouches for v2
    tokens = world.ask(world.person(proven=False), (v1, v2), postcode="CF46 1AA")
    assert world.vouch(tokens[0], v1) == []
    assert world.vouch(tokens[1], v2) == ["vouchers_independent"]


def test_a_voucher_over_the_cap_is_refused(world):
    voucher = world.person()
    for i in range(3):
        assert (
            world.vouch(
                world.ask(world.person(proven=False), (voucher,), postcode=f"CF{40 + i} 1AA")[0], voucher
            )
            == []
        )
    fourth = world.ask(world.person(proven=False), (voucher,), postcode="CF49 1AA")
    assert world.vouch(fourth[0], voucher) == ["within_caps"]


def test_a_vouched_identity_cannot_vouch(world):
    a, _v1, _v2 = world.vouched_in()
    other = world.person(proven=False)
    assert "voucher_not_vouched_for" in world.vouch(world.ask(other, (a,), postcode="CF50 1AA")[0], a)


def test_revoking_a_voucher_rescores_exactly_the_identities_that_rested_on_them(world):
    v1, v2, v3 = world.person(), world.person(), world.person()
    on_v1 = []
    for i, (first, second) in enumerate(((v1, v2), (v1, v3))):
        applicant = world.person(proven=False)
        tokens = world.ask(applicant, (first, second), postcode=f"CF{60 + i} 1AA")
        world.vouch(tokens[0], first)
        world.vouch(tokens[1], second)
        on_v1.append(applicant)
    elsewhere = world.person(proven=False)
    tokens = world.ask(elsewhere, (v2, v3), postcode="CF69 1AA")
    world.vouch(tokens[0], v2)
    world.vouch(tokens[1], v3)
    world.now += timedelta(days=8)
    assert [world.settle(a) for a in (*on_v1, elsewhere)] == ["P1", "P1", "P1"]

    with transaction(world.factory) as db:
        reached = world.service(db).revoke_identity(db.get(Account, v1), "found false", "admin")
    assert sorted(reached) == sorted(on_v1)
    with world.factory() as db:
        assert [level(db, a, world.now.date()) for a in (*on_v1, elsewhere)] == ["P0", "P0", "P1"]
        assert level(db, v1, world.now.date()) == "P0"
        withdrawn = db.scalars(select(Vouch).where(Vouch.voucher_id == v1)).all()
        assert all(v.withdrawn_reason == "the voucher's identity was revoked" for v in withdrawn)


def test_a_vouch_is_withdrawn_when_the_vouchers_own_identity_lapses(world):
    a, _v1, v2 = world.vouched_in()
    with transaction(world.factory) as db:
        from broker.store.models import IdentityRecord

        for record in db.scalars(select(IdentityRecord).filter_by(account_id=v2)):
            record.recheck_by = world.now.date() - timedelta(days=1)
    assert world.settle(a) == "P0"
    with world.factory() as db:
        vouch = db.scalar(select(Vouch).where(Vouch.voucher_id == v2))
        assert vouch.withdrawn_reason == "the voucher's own identity dropped"


def test_asking_again_does_not_shelter_an_identity_from_its_vouches(world):
    """An identity from an earlier request still falls when one of its vouchers is revoked, after
    the applicant has started asking for vouches again."""
    a, v1, _v2 = world.vouched_in()
    world.ask(a, postcode="CF11 1AA")  # a new request, newest from now on
    with transaction(world.factory) as db:
        world.service(db).revoke_identity(db.get(Account, v1), "found false", "admin")
    with world.factory() as db:
        assert level(db, a, world.now.date()) == "P0"


def test_a_voucher_deleting_their_account_withdraws_their_vouch(world):
    """A vouch left without its voucher (the account deleted, so the column is empty) counts for
    nothing, and settling never fails on it."""
    a, _v1, v2 = world.vouched_in()
    with transaction(world.factory) as db:
        db.execute(
            update(Vouch).where(Vouch.voucher_id == v2).values(voucher_id=None)
        )  # as ON DELETE SET NULL
    assert world.settle(a) == "P0"
    with world.factory() as db:
        orphans = db.scalars(
            select(Vouch).where(
                Vouch.applicant_id == a, Vouch.voucher_id.is_(None), Vouch.accepted_at.is_not(None)
            )
        ).all()
        [orphan] = orphans
        assert orphan.withdrawn_reason == "the voucher deleted their account"


def test_an_invitation_is_answered_only_from_the_account_it_was_sent_to(world):
    """Whoever holds the link, signed in as another account, can neither vouch nor decline; the
    invited address matches whatever its case."""
    a, invited, other = world.person(proven=False), world.person(), world.person()
    with transaction(world.factory) as db:
        db.get(Account, invited).email = "P-Invited@Example.org"
    tokens = world.ask(a, (invited,))
    with transaction(world.factory) as db:
        service = world.service(db)
        invitation = service.invitation(tokens[0])
        with pytest.raises(NotInvited):
            service.answer(invitation, db.get(Account, other), FRIEND)
        with pytest.raises(NotInvited):
            service.decline(invitation, db.get(Account, other))
        assert invitation.accepted_at is None and invitation.voucher_id is None
    assert world.vouch(tokens[0], invited) == []
    with world.factory() as db:
        refused = db.scalars(select(AuditEvent).where(AuditEvent.action == "vouch.not_invited")).all()
        assert [e.actor for e in refused] == [other, other]


def test_one_passport_cannot_make_two_vouchers(world):
    """A passport that proved one account proves nothing on a second, so the second account cannot
    vouch as if it were another person (before, both vouched and the applicant reached P1)."""
    a, v1 = world.person(proven=False), world.person()
    v2 = world.person(passport=f"{int(v1.removeprefix('acc')):09d}")
    assert world.level(v2) == "P0"
    tokens = world.ask(a, (v1, v2))
    assert world.vouch(tokens[0], v1) == []
    assert "voucher_identity_is_strong" in world.vouch(tokens[1], v2)
    world.now += timedelta(days=8)
    assert world.settle(a) == "P0"


def test_one_person_with_two_documents_is_one_voucher(world):
    """One person proven on two accounts with two documents (say a passport and a driving licence)
    vouches once: their second account is not an independent voucher."""
    a, v1 = world.person(proven=False), world.person()
    with world.factory() as db:
        same = claimed_person(current(db, v1, world.now.date()))
    v2 = world.person(who=same, passport="ZZ1234567")
    assert world.level(v2) == "P2"
    tokens = world.ask(a, (v1, v2))
    assert world.vouch(tokens[0], v1) == []
    assert world.vouch(tokens[1], v2) == ["vouchers_independent"]
    world.now += timedelta(days=8)
    assert world.settle(a) == "P0"


def test_one_voucher_vouches_once_for_an_applicant(world):
    """A voucher invited at two addresses (changing their account's address between answers) gives
    one vouch, not two."""
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (v1, v2))
    with transaction(world.factory) as db:
        request = world.service(db).invitation(tokens[0]).request_id
        [second] = world.service(db).invite(
            db.get(VouchRequest, request), db.get(Account, a), ["v1-again@example.org"]
        )
    assert world.vouch(tokens[0], v1) == []
    with transaction(world.factory) as db:
        db.get(Account, v1).email = "v1-again@example.org"
    assert world.vouch(second.token, v1) == ["one_vouch_each"]


def review_all(world: World, accept: bool = True) -> list[str]:
    """A reviewer decides every held vouch; returns the reasons they were held for."""
    reviewer = world.person()
    with transaction(world.factory) as db:
        service = world.service(db)
        held = service.flagged()
        for vouch in held:
            service.review(vouch, db.get(Account, reviewer), accept=accept, note="checked by phone")
        return [v.review_reason for v in held]


def test_vouches_for_someone_a_document_proved_on_another_account_go_to_a_reviewer(world):
    """Two proper vouches would make an applicant Jane Smith born 12 March 1985, while a Jane Smith
    born that day holds an identity proven by her passport on another account. Neither silently
    accepted nor refused: both vouches wait for a reviewer, and count once one accepts them."""
    jane = ClaimedPerson("Jane", "Smith", date(1985, 3, 12))
    proven = world.person(who=jane)
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    claimed = ClaimedPerson("JANE", "smith", jane.birth_date)  # as documents compare names
    tokens = world.ask(a, (v1, v2), who=claimed)
    assert world.vouch(tokens[0], v1) == ["not_proven_elsewhere"]
    assert world.vouch(tokens[1], v2) == ["not_proven_elsewhere"]
    world.now += timedelta(days=30)
    assert world.settle(a) == "P0"  # held, however long it waits
    with world.factory() as db:
        flagged = db.scalars(select(AuditEvent).where(AuditEvent.action == "vouch.flagged")).all()
        assert [e.details["proven_accounts"] for e in flagged] == [[proven], [proven]]
        assert "Smith" not in repr([e.details for e in flagged]) and "1985" not in repr(
            [e.details for e in flagged]
        )
    assert review_all(world) == [PROVEN_ELSEWHERE] * 2
    world.now += timedelta(days=7)  # cooling-off after the reviewer's acceptance
    assert world.settle(a) == "P1"


def test_a_document_proof_during_cooling_off_sends_the_vouches_to_a_reviewer(world):
    """The match appears only after the vouches were given (someone proves that name and date of birth
    with a passport during cooling-off): the vouches go to a reviewer before they can count."""
    sam = ClaimedPerson("Sam", "Taylor", date(1990, 5, 1))
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (v1, v2), who=sam)
    assert world.vouch(tokens[0], v1) == [] and world.vouch(tokens[1], v2) == []
    proven = world.person(who=sam)
    world.now += timedelta(days=8)
    assert world.settle(a) == "P0"
    with world.factory() as db:
        held = db.scalars(select(Vouch).where(Vouch.applicant_id == a, Vouch.voucher_id.is_not(None))).all()
        assert [v.effective_at for v in held] == [None, None]
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "vouch.flagged")).first()
        assert (event.actor, event.details["proven_accounts"]) == ("system", [proven])
    assert world.settle(a) == "P0"  # settled again: held once, not twice
    assert len(review_all(world, accept=False)) == 2
    world.now += timedelta(days=8)
    assert world.settle(a) == "P0"  # refused by the reviewer: never counted


def test_a_namesake_whose_identity_no_longer_holds_holds_nothing(world):
    """Only a current identity proven with a document counts as the person: one revoked or past its
    re-check date leaves the name free."""
    sam = ClaimedPerson("Sam", "Taylor", date(1990, 5, 1))
    proven = world.person(who=sam)
    with transaction(world.factory) as db:
        world.service(db).revoke_identity(db.get(Account, proven), "found false", "admin")
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (v1, v2), who=sam)
    assert world.vouch(tokens[0], v1) == [] and world.vouch(tokens[1], v2) == []
    world.now += timedelta(days=8)
    assert world.settle(a) == "P1"


def test_a_neighbour_in_the_same_postcode_lives_apart_and_a_housemate_does_not(world):
    """Homes are compared by building and postcode: the house next door is another home."""
    neighbour = world.person(postcode="CF10 1AA")  # lives at number <their n>, CF10 1AA
    housemate = world.person(postcode="CF10 1AA")
    a = world.person(proven=False)
    tokens = world.ask(a, (neighbour,), postcode="cf10 1aa", building="9 ")
    assert world.vouch(tokens[0], neighbour) == []
    b = world.person(proven=False)
    number = housemate.removeprefix("acc")
    tokens = world.ask(b, (housemate,), postcode="CF101AA", building=f"{number}")
    assert world.vouch(tokens[0], housemate) == ["lives_apart"]


def test_a_building_is_one_whatever_its_spelling_and_two_numbers_are_two():
    home = Address("10a", "High Street", "Cardiff", "cf10 1aa", date(2015, 1, 1))
    same = Address("10 A", "High St", "Cardiff", "CF10 1AA", date(2019, 1, 1))
    next_door = Address("12", "High Street", "Cardiff", "CF10 1AA", date(2015, 1, 1))
    assert address_key(home) == address_key(same) == "10A|CF10 1AA"
    assert address_key(next_door) == "12|CF10 1AA" != address_key(home)
    assert address_key(Address("Rosé Cottage", "Lane", "Usk", "NP15 1AA", date(2015, 1, 1))) == (
        "ROSECOTTAGE|NP15 1AA"
    )


def test_a_vouch_answered_on_29_february_counts_and_its_cap_looks_back_to_28_february(world):
    """ "The last 12 months" before 29 February 2028 at noon start on 28 February 2027 at noon
    (vouching/calendar.py): a vouch given an hour after that still counts toward the cap, and the vouch
    answered on the leap day itself is kept and takes effect."""
    world.now = datetime(2027, 2, 28, 13, 0, tzinfo=UTC)
    busy = world.person()
    earlier = [world.person(proven=False) for _ in range(3)]
    assert world.vouch(world.ask(earlier[0], (busy,), postcode="CF31 1AA")[0], busy) == []
    world.now = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    for n, applicant in enumerate(earlier[1:]):
        assert world.vouch(world.ask(applicant, (busy,), postcode=f"CF3{n + 2} 1AA")[0], busy) == []
    world.now = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    a, v1, v2 = world.person(proven=False), world.person(), world.person()
    tokens = world.ask(a, (busy, v1, v2), postcode="CF40 1AA")
    assert world.vouch(tokens[0], busy) == ["within_caps"]
    assert world.vouch(tokens[1], v1) == [] and world.vouch(tokens[2], v2) == []
    world.now += timedelta(days=7)
    assert world.settle(a) == "P1"
