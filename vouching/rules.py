"""The rules a vouch must pass (pure). Each rule is a named function returning the reason it refuses,
or None; :func:`check_vouch` runs them all. Thresholds live in :class:`VouchingPolicy`, whose defaults
and their sources are documented in ``docs/vouching.md``.

Sources: GPG 45 "How to create a vouch as evidence of someone's identity" (the voucher has known the
applicant for at least 2 years, is not a relative or partner, does not live with them, has their own
identity checked) and NIST SP 800-63A-4 applicant references; caps, cooling-off and graph checks are
this project's defaults against organised abuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from vouching.calendar import a_year_before
from vouching.levels import at_least
from vouching.person import age_on, normalise_name
from vouching.text import N_, Filled

RELATIVES = frozenset({"relative", "partner"})
PARENTS = frozenset({"parent", "guardian"})
RELATIONSHIPS = {
    "friend": N_("Friend"),
    "colleague": N_("Colleague or employer"),
    "neighbour": N_("Neighbour"),
    "professional": N_("In a professional role (for example their doctor, teacher or social worker)"),
    "parent": N_("Parent or guardian (only for an applicant under 18)"),
    "relative": N_("Relative"),
    "partner": N_("Partner"),
}


@dataclass(frozen=True)
class VouchingPolicy:
    min_known_years: int = 2
    min_vouchers: int = 2
    max_vouches_per_year: int = 3
    max_vouches_per_year_referee: int = 10
    one_applicant_per_address_per_year: bool = True
    cooling_off: timedelta = timedelta(days=7)
    voucher_min_level: str = "P2"
    voucher_proven_within: timedelta = timedelta(days=3 * 365)
    invitation_lifetime: timedelta = timedelta(days=14)
    # Graph checks: flag for review when two vouchers already vouched together for this many other
    # applicants, or this many vouched applicants already live at the applicant's address.
    shared_vouchers_limit: int = 2
    applicants_per_address_limit: int = 3
    cycle_search_depth: int = 4


# The defaults, as one value: settings (broker/config.py) start from these.
DEFAULT_VOUCHING = VouchingPolicy()


@dataclass(frozen=True)
class Applicant:
    account_id: str
    given_names: str
    family_name: str
    birth_date: date
    address_key: str  # normalised building + postcode
    document_keys: frozenset[str] = frozenset()  # fingerprints of documents that proved them, if any
    # Another account holds an identity, proven with a document, with the applicant's name and date of birth.
    proven_elsewhere: bool = False


@dataclass(frozen=True)
class PastVouch:
    applicant_id: str
    address_key: str
    at: datetime


@dataclass(frozen=True)
class Voucher:
    account_id: str
    given_names: str
    family_name: str
    birth_date: date
    level: str  # the voucher's own identity level
    route: str  # how it was proven: "documents" or "vouching"
    proven_at: datetime | None
    address_keys: frozenset[str]  # every address the broker holds for them
    is_referee: bool = False
    past_vouches: tuple[PastVouch, ...] = ()  # their vouches in the last 12 months (not withdrawn)
    document_keys: frozenset[str] = frozenset()  # fingerprints of the documents that proved them


@dataclass(frozen=True)
class Statement:
    """What the voucher declares."""

    relationship: str
    known_years: int
    lives_with_applicant: bool


@dataclass(frozen=True)
class Circle:
    """The applicant's other vouches, and what the graph checks found around them."""

    other_voucher_ids: frozenset[str] = frozenset()
    other_voucher_address_keys: frozenset[str] = frozenset()
    other_voucher_document_keys: frozenset[str] = frozenset()
    # The other vouchers as their documents name them: normalised names and date of birth.
    other_voucher_people: frozenset[str] = frozenset()
    # The voucher already stands behind a vouch for this applicant's request.
    voucher_vouched_already: bool = False
    # The voucher and another of this applicant's vouchers vouch for each other (either way).
    linked_to_other_voucher: bool = False
    # Vouchers the voucher and applicant already vouch for each other through (reciprocal, cycle).
    applicant_vouched_for_voucher: bool = False
    cycle_through: tuple[str, ...] = ()  # a path applicant -> ... -> voucher in "vouched for" edges
    applicants_shared_with_other_vouchers: int = 0
    vouched_applicants_at_address: int = 0


@dataclass(frozen=True)
class Refusal:
    rule: str
    reason: str
    review: bool = False  # True: held for a reviewer rather than refused outright


@dataclass(frozen=True)
class Case:
    applicant: Applicant
    voucher: Voucher
    statement: Statement
    circle: Circle
    now: datetime
    policy: VouchingPolicy = field(default_factory=VouchingPolicy)


def person_key(given_names: str, family_name: str, birth_date: date) -> str:
    """A person as their documents name them: one person on two accounts gives one key."""
    return f"{normalise_name(given_names)}|{normalise_name(family_name)}|{birth_date.isoformat()}"


def not_self(case: Case) -> str | None:
    a, v = case.applicant, case.voucher
    if a.account_id == v.account_id or person_key(a.given_names, a.family_name, a.birth_date) == person_key(
        v.given_names, v.family_name, v.birth_date
    ):
        return N_("the voucher has the same name and date of birth as the applicant")
    if a.document_keys & v.document_keys:
        return N_("the voucher's identity was proved with the same document as the applicant's")
    return None


def one_vouch_each(case: Case) -> str | None:
    if case.circle.voucher_vouched_already:
        return N_("the voucher has already vouched for this applicant")
    return None


def voucher_identity_is_strong(case: Case) -> str | None:
    v, p = case.voucher, case.policy
    if not at_least(v.level, p.voucher_min_level):
        return Filled(N_("the voucher's own identity is below %(level)s"), level=p.voucher_min_level)
    if v.proven_at is None or case.now - v.proven_at > p.voucher_proven_within:
        return N_("the voucher's identity was not checked recently enough")
    return None


def voucher_not_vouched_for(case: Case) -> str | None:
    if case.voucher.route == "vouching":
        return N_("a person whose identity came from vouching cannot vouch for anyone")
    return None


def known_long_enough(case: Case) -> str | None:
    if case.statement.known_years < case.policy.min_known_years:
        return Filled(
            N_("the voucher must have known the applicant for at least %(years)s years"),
            years=case.policy.min_known_years,
        )
    return None


def not_a_relative(case: Case) -> str | None:
    relationship = case.statement.relationship
    if relationship not in RELATIONSHIPS:
        return N_("the relationship is not one we know")
    minor = age_on(case.applicant.birth_date, case.now.date()) < 18
    if relationship in PARENTS and not minor:
        return N_("a parent or guardian may vouch only for an applicant under 18")
    if relationship in RELATIVES:
        return N_("a relative or partner cannot vouch")
    return None


def lives_apart(case: Case) -> str | None:
    minor_with_parent = case.statement.relationship in PARENTS
    if minor_with_parent:
        return None  # a child lives with the parent who vouches for them
    if case.statement.lives_with_applicant or case.applicant.address_key in case.voucher.address_keys:
        return N_("the voucher lives at the applicant's address")
    return None


def vouchers_independent(case: Case) -> str | None:
    c = case.circle
    if case.voucher.address_keys & c.other_voucher_address_keys:
        return N_("two vouchers for one applicant live at the same address")
    if c.linked_to_other_voucher:
        return N_("two vouchers for one applicant have vouched for each other")
    # One person proven on two accounts (by one document, or by two documents naming them) is one voucher.
    if case.voucher.document_keys & c.other_voucher_document_keys:
        return N_("two vouchers for one applicant proved their identity with the same document")
    v = case.voucher
    if person_key(v.given_names, v.family_name, v.birth_date) in c.other_voucher_people:
        return N_("two vouchers for one applicant have the same name and date of birth")
    return None


def within_caps(case: Case) -> str | None:
    v, p = case.voucher, case.policy
    year_ago = a_year_before(case.now)
    recent = [
        pv for pv in v.past_vouches if pv.at > year_ago and pv.applicant_id != case.applicant.account_id
    ]
    cap = p.max_vouches_per_year_referee if v.is_referee else p.max_vouches_per_year
    if len(recent) >= cap:
        return Filled(
            N_("the voucher has already vouched for %(count)s people in the last 12 months"), count=cap
        )
    same_address = any(pv.address_key == case.applicant.address_key for pv in recent)
    if p.one_applicant_per_address_per_year and not v.is_referee and same_address:
        return N_("the voucher has already vouched for someone at this address in the last 12 months")
    return None


def not_reciprocal(case: Case) -> str | None:
    if case.circle.applicant_vouched_for_voucher:
        return N_("the applicant has vouched for the voucher: vouches cannot be exchanged")
    return None


# Rules that hold a vouch for review rather than refusing it.
def no_cycle(case: Case) -> str | None:
    if case.circle.cycle_through:
        return N_("this vouch would close a cycle of vouches")
    return None


PROVEN_ELSEWHERE = N_(
    "someone with this name and date of birth has already proved their identity with a document on "
    "another account"
)


def not_proven_elsewhere(case: Case) -> str | None:
    """Vouches must not quietly give someone the identity of a person a document proved: either the
    applicant claims to be them, or two people share a name and birthday (it happens). A person
    decides which, as identity services do with such a match, rather than a rule refusing both."""
    if case.applicant.proven_elsewhere:
        return PROVEN_ELSEWHERE
    return None


def not_a_dense_cluster(case: Case) -> str | None:
    c, p = case.circle, case.policy
    if c.applicants_shared_with_other_vouchers >= p.shared_vouchers_limit:
        return N_("these vouchers have already vouched together for several applicants")
    if c.vouched_applicants_at_address >= p.applicants_per_address_limit:
        return N_("several people at this address already have identities from vouching")
    return None


REFUSING: tuple[Callable[[Case], str | None], ...] = (
    not_self,
    one_vouch_each,
    voucher_identity_is_strong,
    voucher_not_vouched_for,
    known_long_enough,
    not_a_relative,
    lives_apart,
    vouchers_independent,
    within_caps,
    not_reciprocal,
)
FLAGGING: tuple[Callable[[Case], str | None], ...] = (no_cycle, not_a_dense_cluster, not_proven_elsewhere)


def check_vouch(case: Case) -> list[Refusal]:
    """Every rule's objection: refusals first, then reasons to hold the vouch for review."""
    out = [Refusal(rule.__name__, reason) for rule in REFUSING if (reason := rule(case))]
    out += [Refusal(rule.__name__, reason, review=True) for rule in FLAGGING if (reason := rule(case))]
    return out
