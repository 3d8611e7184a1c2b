"""The identity check by documents, as the pages walk it: choose a document, have it checked with its
issuing authority, give an address, answer questions about one's own records, and the result.

Each operation is one unit of work (committed when it succeeds, rolled back when it fails), and says
which step comes next. A problem the person can correct is a :class:`FieldError` naming the form
field it belongs to. Two things are kept even when the step fails: a look-up counted against the
account (so an authority that does not answer still costs a try), and the refusal of a document
another account was proven with (kept in the audit log).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from broker.accounts.throttle import DOCUMENT_LOOKUPS_PER_ACCOUNT, Locked, Throttle
from broker.identity.errors import DocumentInUse, DocumentProblem, NoAttempt
from broker.identity.guard import require_proofing
from broker.identity.service import IdentityService, claimed_person
from broker.store.models import Account, IdentityRecord, Interaction
from broker.store.unit import unit_of_work
from vouching.authorities import DocumentAnswer, DocumentQuery
from vouching.documents import PassportDetails, PassportMrz
from vouching.person import Address, ClaimedPerson
from vouching.proofing import (
    DocumentCheck,
    Problem,
    licence_check,
    licence_problems_by_field,
    passport_check,
    passport_problems_by_field,
)

MAX_DOCUMENT_CHECKS = 3  # authority look-ups per attempt: enough for a typo or two, too few to trawl
DOCUMENT_KINDS = ("uk_passport", "uk_driving_licence")


class Next(StrEnum):
    """The step the journey goes to after an operation."""

    START = "start"  # no document yet: choose one
    ADDRESS = "address"
    QUESTIONS = "questions"
    COULD_NOT_CHECK = "could_not_check"  # the document did not count: try again, or another
    RESULT = "result"


def document_checks(record: IdentityRecord) -> int:
    return sum(1 for e in record.evidence if e["kind"] in DOCUMENT_KINDS)


def _first_problem(problems: list[Problem]) -> None:
    if problems:
        raise DocumentProblem(problems[0].field, problems[0].words)


class IdentityCheck(IdentityService):
    """The journey's operations over :class:`IdentityService`'s records; built by
    :func:`broker.identity.wiring.identity_check`."""

    # The journey's pages refuse at once where identities cannot be checked (broker.identity.guard).
    def history(self, account_id: str) -> list[IdentityRecord]:
        require_proofing(self.authorities)
        return super().history(account_id)

    def current(self, account_id: str) -> IdentityRecord | None:
        require_proofing(self.authorities)
        return super().current(account_id)

    def attempt_of(self, account_id: str) -> IdentityRecord:
        """The attempt under way; :class:`NoAttempt` when there is none (it was finished or never begun)."""
        require_proofing(self.authorities)
        record = self.attempt(account_id)
        if record is None:
            raise NoAttempt()
        return record

    def start_attempt(self, account: Account, interaction_id: str | None) -> IdentityRecord:
        """A new attempt (one under way is abandoned, kept as it is)."""
        require_proofing(self.authorities)
        with unit_of_work(self.db):
            return self.start(account, interaction_id)

    def check_passport(
        self,
        account: Account,
        person: ClaimedPerson,
        passport: PassportDetails | PassportMrz,
        *,
        truncated: bool = False,
    ) -> Next:
        """``passport``: its details as typed from the photo page, or as a document reader took them
        from the machine-readable zone; ``truncated``: that zone's name line was cut short (names
        longer than it holds). The authority is asked about the passport's own details."""
        record = self.attempt_of(account.id)
        today = self.clock().date()
        _first_problem(passport_problems_by_field(passport, person, today, truncated=truncated))
        self._document_free(account, "uk_passport", passport.document_number)
        query = DocumentQuery(
            "uk_passport",
            passport.document_number,
            passport.surname,
            passport.given_names,
            passport.birth_date,
            passport.expiry_date,
        )
        answer = self._look_up(account, query)
        check = passport_check(passport, person, answer, today, truncated=truncated)
        details = {
            "documentNumber": passport.document_number,
            "expiryDate": passport.expiry_date.isoformat(),
            "icaoIssuerCode": passport.issuing_state,
        }
        return self._checked(account, record, person, check, details)

    def check_licence(
        self, account: Account, person: ClaimedPerson, number: str, issued: date, expires: date
    ) -> Next:
        """``number`` as printed, without spaces, in capitals."""
        record = self.attempt_of(account.id)
        today = self.clock().date()
        _first_problem(licence_problems_by_field(number, person, issued, expires, today))
        self._document_free(account, "uk_driving_licence", number)
        query = DocumentQuery(
            "uk_driving_licence", number, person.family_name, person.given_names, person.birth_date, expires
        )
        answer = self._look_up(account, query)
        check = licence_check(number, person, issued, expires, answer, today)
        details = {
            "personalNumber": number,
            "issueDate": issued.isoformat(),
            "expiryDate": expires.isoformat(),
            "issuedBy": "DVLA",
        }
        return self._checked(account, record, person, check, details)

    def give_address(self, account: Account, address: Address) -> Next:
        record = self.attempt_of(account.id)
        if claimed_person(record) is None:
            return Next.START
        with unit_of_work(self.db):
            self.add_address(record, [address])
            if not self.questions(record):
                return self._finish(account, record)
            return Next.QUESTIONS

    def answer_questions(self, account: Account, answers: dict[str, str]) -> Next:
        record = self.attempt_of(account.id)
        with unit_of_work(self.db):
            self.answer(record, answers)
            return self._finish(account, record)

    def checks_left(self, record: IdentityRecord) -> int:
        return MAX_DOCUMENT_CHECKS - document_checks(record)

    def _document_free(self, account: Account, kind: str, number: str) -> None:
        """Raises :class:`DocumentInUse` when the document already proved another account; the refusal
        is kept in the audit log even so."""
        try:
            self.check_document_free(account, kind, number)
        except DocumentInUse:
            self.db.commit()
            raise

    def _look_up(self, account: Account, query: DocumentQuery) -> DocumentAnswer:
        """Ask the document's issuing authority, counted per account across attempts
        (``DOCUMENT_LOOKUPS_PER_ACCOUNT``); past the limit the person is told when to try again."""
        now = self.clock()
        with unit_of_work(self.db):  # counted even if the authority does not answer
            throttle = Throttle(self.db)
            until = throttle.check(DOCUMENT_LOOKUPS_PER_ACCOUNT, account.id, now)
            if until:
                raise Locked(until, now, "checking documents")
            throttle.fail(DOCUMENT_LOOKUPS_PER_ACCOUNT, account.id, now)  # counts look-ups, not failures
        return self.authorities.documents.check(query)

    def _checked(
        self,
        account: Account,
        record: IdentityRecord,
        person: ClaimedPerson,
        check: DocumentCheck,
        details: dict[str, Any],
    ) -> Next:
        """Keep what the document earned, then where the journey goes."""
        with unit_of_work(self.db):
            self.add_document(record, person, check, details)
            latest = record.evidence[-1]
            if latest["counts"] and latest["validity"] > 0:
                return Next.ADDRESS
            if latest["fraud_indicator"] or document_checks(record) >= MAX_DOCUMENT_CHECKS:
                return self._finish(account, record)
            return Next.COULD_NOT_CHECK

    def _finish(self, account: Account, record: IdentityRecord) -> Next:
        self.complete(record, account)
        if record.interaction_id:
            waiting = self.db.get(Interaction, record.interaction_id)
            if waiting is not None:
                waiting.identity_attempted_at = self.clock()
        return Next.RESULT
