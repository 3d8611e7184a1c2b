"""Data sharing agreements imported from a file (`broker mou import`): the file is checked against a
schema first, and every problem is reported with the line it is on; then each agreement's newest version
becomes a draft, all in one unit of work, so a file with any problem stores nothing.

The schema is strict where a loose reading would change the meaning: ``'false'`` (quoted) is not a
boolean, ``null`` is not text, ``'365'`` is not a number. The terms are then held to the rules the console
holds a draft to (``Terms.field_problems``): one claim vocabulary, bounded retention.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from broker.policy.mou import DPO_FIELDS, AttributeTerm, PolicyError, Terms
from broker.policy.service import add_version, create_mou, terms_of
from broker.store.bounds import column_length, text_problem
from broker.store.models import Account, Client, Mou, MouVersion
from broker.store.unit import unit_of_work


def _bounded(limit: int) -> Any:
    def check(value: str) -> str:
        problem = text_problem(value, limit)
        if problem is not None:
            raise ValueError(f"{problem} (at most {limit} characters, no control characters)")
        return value

    return Annotated[str, Field(strict=True), AfterValidator(check)]


class _Entry(BaseModel):
    # Fields `broker mou export` writes for people to read (number, status, history) are not terms.
    model_config = ConfigDict(extra="ignore", frozen=True)


class AttributeEntry(_Entry):
    claim: _bounded(200)  # type: ignore[valid-type]
    min_level: _bounded(8) = "P0"  # type: ignore[valid-type]
    required: StrictBool = True
    retention_days: StrictInt = 365


class VersionEntry(_Entry):
    organisation: _bounded(column_length(MouVersion.organisation))  # type: ignore[valid-type]
    purpose: _bounded(column_length(MouVersion.purpose))  # type: ignore[valid-type]
    lawful_basis: _bounded(column_length(MouVersion.lawful_basis))  # type: ignore[valid-type]
    attributes: list[AttributeEntry]
    start: date
    end: date
    review: date
    onward_sharing: StrictBool = False
    security_commitments: _bounded(column_length(MouVersion.security_commitments)) = ""  # type: ignore[valid-type]
    contacts: _bounded(column_length(MouVersion.contacts)) = ""  # type: ignore[valid-type]
    # What people read in Welsh (empty: not given yet, and the console flags it).
    organisation_cy: _bounded(column_length(MouVersion.organisation_cy)) = ""  # type: ignore[valid-type]
    purpose_cy: _bounded(column_length(MouVersion.purpose_cy)) = ""  # type: ignore[valid-type]
    lawful_basis_cy: _bounded(column_length(MouVersion.lawful_basis_cy)) = ""  # type: ignore[valid-type]
    # What a data protection officer needs (broker.policy.mou.DPO_FIELDS); the choice and the owner's
    # email address are checked with the other terms (``Terms.field_problems``).
    dpia_reference: _bounded(column_length(MouVersion.dpia_reference)) = ""  # type: ignore[valid-type]
    controller_relationship: _bounded(column_length(MouVersion.controller_relationship)) = ""  # type: ignore[valid-type]
    special_category_condition: _bounded(column_length(MouVersion.special_category_condition)) = ""  # type: ignore[valid-type]
    deletion_on_end: _bounded(column_length(MouVersion.deletion_on_end)) = ""  # type: ignore[valid-type]
    owner_name: _bounded(column_length(MouVersion.owner_name)) = ""  # type: ignore[valid-type]
    owner_email: _bounded(column_length(MouVersion.owner_email)) = ""  # type: ignore[valid-type]
    dpo_contact: _bounded(column_length(MouVersion.dpo_contact)) = ""  # type: ignore[valid-type]
    breach_contact: _bounded(column_length(MouVersion.breach_contact)) = ""  # type: ignore[valid-type]
    international_transfers: _bounded(column_length(MouVersion.international_transfers)) = ""  # type: ignore[valid-type]

    def terms(self) -> Terms:
        return Terms(
            organisation=self.organisation,
            purpose=self.purpose,
            lawful_basis=self.lawful_basis,
            attributes=tuple(
                AttributeTerm(a.claim, a.min_level, a.required, a.retention_days) for a in self.attributes
            ),
            start=self.start,
            end=self.end,
            review=self.review,
            onward_sharing=self.onward_sharing,
            security_commitments=self.security_commitments,
            contacts=self.contacts,
            organisation_cy=self.organisation_cy,
            purpose_cy=self.purpose_cy,
            lawful_basis_cy=self.lawful_basis_cy,
            **{name: getattr(self, name) for name in DPO_FIELDS},
        )


class AgreementEntry(_Entry):
    reference: _bounded(column_length(Mou.reference))  # type: ignore[valid-type]
    client_id: _bounded(column_length(Client.client_id))  # type: ignore[valid-type]
    versions: list[VersionEntry] = Field(min_length=1)


class AgreementFile(_Entry):
    mous: list[AgreementEntry]


class FileProblems(PolicyError):
    """The file is not an agreement file: each problem with its line."""


def read_agreement_file(text: str) -> AgreementFile:
    """The file's agreements, or :class:`FileProblems` naming every problem with its line number."""
    try:
        root = yaml.compose(text)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise FileProblems(f"{where}not YAML: {getattr(exc, 'problem', None) or exc}") from None
    try:
        parsed = AgreementFile.model_validate(document)
    except ValidationError as exc:
        raise FileProblems("; ".join(_described(error, root) for error in exc.errors())) from None
    problems = [
        f"line {_line(root, ('mous', i, 'versions', len(entry.versions) - 1))}: {entry.reference}: {words}"
        for i, entry in enumerate(parsed.mous)
        for words in entry.versions[-1].terms().problems()
    ]
    if problems:
        raise FileProblems("; ".join(problems))
    return parsed


def _described(error: Any, root: yaml.Node | None) -> str:
    path = ".".join(str(part) for part in error["loc"])
    words = str(error["msg"]).removeprefix("Value error, ")
    return f"line {_line(root, error['loc'])}: {path or 'the file'}: {words}"


def _line(root: yaml.Node | None, loc: Sequence[Any]) -> int:
    """The line (from 1) of the deepest node of ``loc`` the file has."""
    node = root
    if node is None:
        return 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


class AgreementImport:
    """Each agreement's newest version in the file becomes a draft by ``author`` (a policy author),
    when it differs from the stored newest. A service has one agreement: an entry naming a new
    reference for a service that has one, or a stored reference under another service, is refused."""

    def __init__(self, db: Session, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def run(self, agreements: AgreementFile, author_email: str) -> list[dict[str, object]]:
        drafted: list[dict[str, object]] = []
        with unit_of_work(self.db):
            author = self.db.scalar(select(Account).filter_by(email=author_email))
            if author is None or "policy_author" not in (author.roles or []):
                raise PolicyError(
                    "--author must be the email address of a staff account with the policy_author role"
                )
            for entry in agreements.mous:
                mou = self._agreement_of(entry)
                terms = entry.versions[-1].terms()
                stored = self.db.scalars(
                    select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number.desc())
                ).first()
                if stored is not None and terms_of(stored) == terms:
                    continue
                row = add_version(self.db, mou, terms, author.id, self.clock())
                drafted.append({"reference": mou.reference, "version": row.number})
        return drafted

    def _agreement_of(self, entry: AgreementEntry) -> Mou:
        mou = self.db.scalar(select(Mou).filter_by(reference=entry.reference))
        if mou is not None:
            if mou.client_id != entry.client_id:
                raise PolicyError(
                    f"{entry.reference} is the MOU of service {mou.client_id}, not {entry.client_id}"
                )
            return mou
        if self.db.get(Client, entry.client_id) is None:
            raise PolicyError(f"{entry.reference}: no service {entry.client_id}")
        held = self.db.scalar(select(Mou.reference).filter_by(client_id=entry.client_id))
        if held is not None:
            raise PolicyError(f"{entry.reference}: service {entry.client_id} already has the MOU {held}")
        return create_mou(self.db, entry.client_id, entry.reference, self.clock())
