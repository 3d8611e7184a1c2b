"""Document evidence at rest (pure): once a document is checked, the broker keeps what it decided
(kind, scores, checks, problems, expiry), the document's keyed fingerprint (one document proves one
account) and its number masked. The number itself is personal data the broker no longer needs."""

from __future__ import annotations

from typing import Any

from vouching.documents import fingerprint, is_masked, mask_number
from vouching.proofing import IN_USE

# Where a document's number sits in its details: a passport's, then a driving licence's.
NUMBER_FIELDS = ("documentNumber", "personalNumber")


def clear_number(entry: dict[str, Any]) -> str | None:
    """The number of the document an entry is about, if it is still held in clear (entries stored
    before numbers were masked); None for a vouch, a sealed entry or a document without one."""
    if entry["kind"] not in IN_USE:
        return None
    details = entry.get("document") or {}
    for field in NUMBER_FIELDS:
        number = details.get(field)
        if number and not is_masked(number):
            return str(number)
    return None


def document_fingerprint(entry: dict[str, Any], key: bytes) -> str | None:
    """The entry's document as a keyed fingerprint: the one kept with it, or made from a number still
    held in clear. None when the entry is no document."""
    if entry["kind"] not in IN_USE:
        return None
    kept = entry.get("fingerprint")
    if kept:
        return str(kept)
    number = clear_number(entry)
    return fingerprint(key, entry["kind"], number) if number else None


def sealed(entry: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The entry as it is stored: its fingerprint kept and every number in its details masked. An
    entry with nothing in clear (a vouch, or one sealed already) comes back unchanged."""
    if clear_number(entry) is None:
        return entry
    details = dict(entry.get("document") or {})
    for field in NUMBER_FIELDS:
        if details.get(field):
            details[field] = mask_number(str(details[field]))
    return {**entry, "document": details, "fingerprint": document_fingerprint(entry, key)}
