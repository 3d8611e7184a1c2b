"""Memoranda of understanding (data sharing agreements) as policy data, and their life cycle (pure).

Fields follow a data sharing agreement as the UK Digital Economy Act 2017 Part 5 code of practice and
the ICO data sharing code describe one: the parties, the purpose in plain language, the lawful basis,
each attribute with the identity level it needs, whether it is required, how long it is kept, onward
sharing, dates (start, end, review), security commitments and contacts, and a reference number.

A version is immutable once approved: a change is a new version. Approval needs a second person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime

from broker.policy.claims import AGREEABLE_CLAIMS, COMPANIONS
from vouching.levels import LEVELS

STATUSES = ("draft", "submitted", "approved", "active", "suspended", "expired", "terminated")
# Versions that were approved once: each can govern a service (suspended and terminated ones too).
EVER_APPROVED = ("approved", "active", "suspended", "terminated")

# Longer than this is a slip of the keyboard, not a retention period (the console and imports alike).
MAX_RETENTION_DAYS = 3653  # ten years

# How the parties stand to each other under UK GDPR (the ICO data sharing code asks the agreement to
# say): each a separate controller, joint controllers (Article 26), or the service processing for the
# operator (Article 28). Empty on versions written before these were asked.
CONTROLLER_RELATIONSHIPS = {
    "separate_controllers": "Separate controllers",
    "joint_controllers": "Joint controllers (UK GDPR Article 26)",
    "processor": "The service is a processor (UK GDPR Article 28)",
}
# Claims that are special-category data (UK GDPR Article 9) or criminal-offence data (Article 10):
# sharing any of them needs an Article 9 or 10 condition written in the agreement. None of the claims
# the broker can share today is: a name, a birth date, an address, a passport or driving licence
# number, an email address or a phone number are personal data, not special-category data.
SPECIAL_CATEGORY_CLAIMS: frozenset[str] = frozenset()
# The data protection officer's fields of a version (text, each bounded by its column), in the order
# the console asks them. ``controller_relationship`` is one of CONTROLLER_RELATIONSHIPS or empty.
DPO_FIELDS = (
    "dpia_reference",
    "controller_relationship",
    "special_category_condition",
    "deletion_on_end",
    "owner_name",
    "owner_email",
    "dpo_contact",
    "breach_contact",
    "international_transfers",
)


def special_category_problem(
    claims: Iterable[str], condition: str, special: frozenset[str] = SPECIAL_CATEGORY_CLAIMS
) -> str | None:
    """Why terms sharing ``claims`` cannot be submitted without an Article 9 or 10 condition (pure):
    None when no claim is special-category data, or a condition is written."""
    named = sorted(set(claims) & special)
    if named and not condition.strip():
        return f"Give the Article 9 or 10 condition for sharing {', '.join(named)}"
    return None


# What each action does to a version's status (anything else is refused).
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "draft",
    ("approved", "suspend"): "suspended",
    ("active", "suspend"): "suspended",
    ("suspended", "resume"): "approved",
    ("approved", "terminate"): "terminated",
    ("active", "terminate"): "terminated",
    ("suspended", "terminate"): "terminated",
}
# Actions that change what a service gets against the author's wish: staff say why, and it is kept.
NOTE_NEEDED = ("reject", "suspend", "terminate")


class PolicyError(ValueError):
    """An action the policy rules do not allow, with the reason in words an administrator reads."""


@dataclass(frozen=True)
class AttributeTerm:
    claim: str
    min_level: str = "P0"
    required: bool = True
    retention_days: int = 365

    def as_dict(self) -> dict[str, object]:
        return {
            "claim": self.claim,
            "min_level": self.min_level,
            "required": self.required,
            "retention_days": self.retention_days,
        }


# The fields of an agreement that people read on the citizen pages, each with a Welsh version
# (``<name>_cy``).
PUBLIC_FIELDS = ("organisation", "purpose", "lawful_basis")


@dataclass(frozen=True)
class Said:
    """An agreement's words as a page shows them: the text, its language, and whether it is in the
    page's language (when not, the page shows it apart, marked with its ``lang``)."""

    text: str
    lang: str
    translated: bool


@dataclass(frozen=True)
class Terms:
    """What a version of an MOU says (everything an author writes)."""

    organisation: str
    purpose: str
    lawful_basis: str
    attributes: tuple[AttributeTerm, ...]
    start: date
    end: date
    review: date
    onward_sharing: bool = False
    security_commitments: str = ""
    contacts: str = ""
    # What people read, in Welsh: empty until staff give it (see ``missing_welsh`` and ``said``).
    organisation_cy: str = ""
    purpose_cy: str = ""
    lawful_basis_cy: str = ""
    # What a data protection officer needs (DPO_FIELDS): empty on versions written before they were asked.
    dpia_reference: str = ""
    controller_relationship: str = ""
    special_category_condition: str = ""
    deletion_on_end: str = ""
    owner_name: str = ""
    owner_email: str = ""
    dpo_contact: str = ""
    breach_contact: str = ""
    international_transfers: str = ""

    def attribute(self, claim: str) -> AttributeTerm | None:
        return next((a for a in self.attributes if a.claim == claim), None)

    def missing_welsh(self) -> list[str]:
        """The fields people read that have English words and no Welsh ones (staff see them flagged)."""
        return [
            name
            for name in PUBLIC_FIELDS
            if getattr(self, name).strip() and not getattr(self, f"{name}_cy").strip()
        ]

    def said(self, name: str, language: str) -> Said:
        """Field ``name`` (one of PUBLIC_FIELDS) in ``language`` if staff gave it, otherwise the English
        marked as English: a page never puts it inside a sentence in another language."""
        if language == "cy":
            welsh = getattr(self, f"{name}_cy").strip()
            if welsh:
                return Said(welsh, "cy", translated=True)
        return Said(getattr(self, name), "en", translated=language == "en")

    def problems(self) -> list[str]:
        """What stops these terms being submitted, in words an author can act on."""
        return [words for _field, words in self.field_problems()]

    def field_problems(self) -> list[tuple[str, str]]:
        """The same problems, each with the field it is about (the form shows it there)."""
        out = []
        if not self.organisation.strip():
            out.append(("organisation", "Enter the accountable organisation"))
        if len(self.purpose.strip()) < 20:
            out.append(("purpose", "Describe the purpose in plain language (at least 20 characters)"))
        if not self.lawful_basis.strip():
            out.append(("lawful_basis", "Enter the lawful basis"))
        if not self.attributes:
            out.append(("attributes", "List at least one attribute"))
        if len({a.claim for a in self.attributes}) != len(self.attributes):
            out.append(("attributes", "List each attribute once"))
        for a in self.attributes:
            if a.claim not in AGREEABLE_CLAIMS:
                out.append(("attributes", f"{a.claim} is not an attribute the broker can share"))
            if a.min_level not in LEVELS:
                out.append(
                    ("attributes", f"The minimum level for {a.claim} must be one of {', '.join(LEVELS)}")
                )
            if not 1 <= a.retention_days <= MAX_RETENTION_DAYS:
                out.append(
                    (
                        "attributes",
                        f"The retention period for {a.claim} must be between 1 and {MAX_RETENTION_DAYS} days",
                    )
                )
        if self.controller_relationship and self.controller_relationship not in CONTROLLER_RELATIONSHIPS:
            out.append(("controller_relationship", "Choose how the parties stand to each other"))
        special = special_category_problem((a.claim for a in self.attributes), self.special_category_condition)
        if special:
            out.append(("special_category_condition", special))
        if self.owner_email and not _looks_like_email(self.owner_email):
            out.append(("owner_email", "Enter the owner's email address, like name@example.gov.uk"))
        if self.end <= self.start:
            out.append(("end", "The end date must be after the start date"))
        if not self.start <= self.review <= self.end:
            out.append(("review", "The review date must fall between the start and end dates"))
        return out


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in value))


@dataclass(frozen=True)
class Version:
    reference: str
    number: int
    client_id: str
    status: str
    terms: Terms
    author: str
    approved_by: str | None = None
    history: tuple[str, ...] = field(default=())
    submitted_by: str | None = None


def act(version: Version, action: str, actor: str) -> str:
    """The status after ``actor`` does ``action``, or :class:`PolicyError` saying why not."""
    new = TRANSITIONS.get((version.status, action))
    if new is None:
        raise PolicyError(f"A {version.status} version cannot be {action_words(action)}")
    if action == "submit":
        problems = version.terms.problems()
        if problems:
            raise PolicyError("; ".join(problems))
    if action == "approve" and actor == version.author:
        raise PolicyError("The author of a version cannot approve it: a second administrator must")
    if action == "approve" and actor == version.submitted_by:
        raise PolicyError("The person who submitted a version cannot approve it: a second administrator must")
    return new


def can(status: str, action: str) -> bool:
    """Whether ``action`` may be done to a version in ``status`` (who may do it is checked by :func:`act`)."""
    return (status, action) in TRANSITIONS


def action_words(action: str) -> str:
    return {
        "submit": "submitted",
        "approve": "approved",
        "reject": "rejected",
        "suspend": "suspended",
        "resume": "resumed",
        "terminate": "terminated",
    }.get(action, action)


def effective_status(status: str, terms: Terms, today: date) -> str:
    """The status as it stands today: an approved version past its end date has expired (nobody needs
    to act), one inside its dates is active, and one before its start is still only approved."""
    if status in ("approved", "active"):
        if today > terms.end:
            return "expired"
        return "active" if today >= terms.start else "approved"
    return status


def in_force(status: str, terms: Terms, now: datetime) -> bool:
    return effective_status(status, terms, now.date()) == "active"


def governing_number(versions: Iterable[tuple[int, str, date]], today: date) -> int | None:
    """Which version, of (number, status, start date), governs a service on ``today``: the newest
    ever approved whose start date has come. A suspended or terminated one still governs (nothing
    is released), and an earlier version never revives; an approved version that starts later
    takes over on its start date, so approving it does not stop the one in force before then.
    Until any has started, the newest ever approved governs (not yet in force)."""
    approved = [(number, start) for number, status, start in versions if status in EVER_APPROVED]
    started = [number for number, start in approved if start <= today]
    return max(started or [number for number, _start in approved], default=None)


def changes_needing_consent(old: Terms, new: Terms) -> list[str]:
    """A new version asks people again when it adds attributes, or changes the purpose or the lawful
    basis. Narrowing the attributes, or changing retention or dates, keeps what people agreed to
    (narrowed at once by the release decision). Companion claims (``email_verified``) ride with their
    main claim, so terms with and without them compare alike."""
    out = []
    added = _main_claims(new) - _main_claims(old)
    if added:
        out.append("adds " + ", ".join(sorted(added)))
    if old.purpose.strip() != new.purpose.strip():
        out.append("changes the purpose")
    if old.lawful_basis.strip() != new.lawful_basis.strip():
        out.append("changes the lawful basis")
    return out


def _main_claims(terms: Terms) -> set[str]:
    claims = {a.claim for a in terms.attributes}
    return claims - {c for main in claims for c in COMPANIONS.get(main, ())}


def diff(old: Terms, new: Terms) -> list[tuple[str, str, str]]:
    """Every difference between two versions' terms, (field, old, new): each field of :class:`Terms`
    in the order it is declared (a field added to the terms is compared without a change here), then
    each attribute shared by either, with its level, whether it is required and how long it is kept."""
    rows = []
    for name in (f.name for f in fields(Terms) if f.name != "attributes"):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            rows.append((name, _said(a), _said(b)))
    before = {a.claim: a for a in old.attributes}
    after = {a.claim: a for a in new.attributes}
    for claim in sorted(before | after):
        a, b = before.get(claim), after.get(claim)
        if a != b:
            rows.append((f"attribute {claim}", _term(a), _term(b)))
    return rows


def _said(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def ends_sharing_at_once(terms: Terms, today: date) -> bool:
    """Whether approving a version with these terms cuts the service off at once: its end date has
    come (it ends today, or ended before). It governs from its start date, which came before its end
    (``field_problems``), so on approval it replaces the version in force and nothing more is shared.
    Staff are warned when they draft or submit it, and an approver confirms it on purpose."""
    return terms.end <= today


ENDS_AT_ONCE = "This version's end date is {end}: approving it ends sharing with the service at once"
CONFIRM_END = "Confirm that you understand approving this version ends sharing at once"


def _term(term: AttributeTerm | None) -> str:
    if term is None:
        return "(not shared)"
    need = "required" if term.required else "optional"
    return f"{need}, from {term.min_level}, kept {term.retention_days} days"


def parse_attribute_lines(text: str) -> tuple[AttributeTerm, ...]:
    """Attributes as an author types them, one per line: ``claim level required|optional days``
    (``email P0 required 365``). Raises PolicyError naming the line that is not right."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if (
            len(parts) != 4
            or parts[1] not in LEVELS
            or parts[2] not in ("required", "optional")
            or not (parts[3].isascii() and parts[3].isdigit())
        ):
            raise PolicyError(
                f"Attribute line {number} must read: claim, level (P0 to P3), required or optional, days kept"
            )
        out.append(AttributeTerm(parts[0], parts[1], parts[2] == "required", int(parts[3])))
    return tuple(out)


def attribute_lines(terms: Terms) -> str:
    return "\n".join(
        f"{a.claim} {a.min_level} {'required' if a.required else 'optional'} {a.retention_days}"
        for a in terms.attributes
    )


DATES = ("start", "end", "review")


def read_draft(fields: Mapping[str, str | None]) -> tuple[Terms | None, dict[str, str]]:
    """Terms from a draft's fields as an author typed them, or what is wrong, field by field."""
    errors: dict[str, str] = {}
    dates: dict[str, date] = {}
    for name in DATES:
        try:
            dates[name] = date.fromisoformat((fields.get(name) or "").strip())
        except ValueError:
            errors[name] = f"Enter the {name} date as YYYY-MM-DD"
    try:
        attributes = parse_attribute_lines(fields.get("attributes") or "")
    except PolicyError as exc:
        errors["attributes"] = str(exc)
        attributes = ()
    if errors:
        return None, errors
    terms = Terms(
        organisation=(fields.get("organisation") or "").strip(),
        purpose=(fields.get("purpose") or "").strip(),
        lawful_basis=(fields.get("lawful_basis") or "").strip(),
        attributes=attributes,
        start=dates["start"],
        end=dates["end"],
        review=dates["review"],
        onward_sharing=fields.get("onward_sharing") == "yes",
        security_commitments=(fields.get("security_commitments") or "").strip(),
        contacts=(fields.get("contacts") or "").strip(),
        **{f"{name}_cy": (fields.get(f"{name}_cy") or "").strip() for name in PUBLIC_FIELDS},
        **{name: (fields.get(name) or "").strip() for name in DPO_FIELDS},
    )
    for name, problem in terms.field_problems():
        errors.setdefault(name, problem)
    return (None, errors) if errors else (terms, {})


def draft_fields(terms: Terms) -> dict[str, str]:
    """A draft's fields filled in from ``terms`` (the inverse of :func:`read_draft`)."""
    return {
        "organisation": terms.organisation,
        "purpose": terms.purpose,
        "lawful_basis": terms.lawful_basis,
        "attributes": attribute_lines(terms),
        "start": terms.start.isoformat(),
        "end": terms.end.isoformat(),
        "review": terms.review.isoformat(),
        "onward_sharing": "yes" if terms.onward_sharing else "",
        "security_commitments": terms.security_commitments,
        "contacts": terms.contacts,
        **{f"{name}_cy": getattr(terms, f"{name}_cy") for name in PUBLIC_FIELDS},
        **{name: getattr(terms, name) for name in DPO_FIELDS},
    }
