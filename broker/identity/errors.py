"""The identity check's and vouching's domain errors.

A :class:`FieldError` is a problem the person can correct: it names the form field it belongs to, and
its message is catalogue text (``N_``, or :class:`vouching.text.Filled` with values) that the page
translates beside that field. The others are pages of their own, shown by ``broker/errors.py``.
"""

from __future__ import annotations

from broker.errors import PageError
from vouching.proofing import IN_USE
from vouching.text import N_


class FieldError(ValueError):
    """A problem with what the person entered; ``field`` names the form field it is shown beside."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# The identity check by documents
# The field that holds each kind of document's number on its page.
DOCUMENT_NUMBER_FIELD = {"uk_passport": "mrz_line1", "uk_driving_licence": "licence_number"}


class DocumentProblem(FieldError):
    """The document as entered cannot be checked (not a UK passport, expired, not the person claimed)."""


class DocumentInUse(FieldError):
    """The document already proved an identity on another account."""

    def __init__(self, kind: str) -> None:
        super().__init__(DOCUMENT_NUMBER_FIELD[kind], IN_USE[kind])
        self.kind = kind


class NoAttempt(PageError):
    status = 400
    code = "no_identity_check"
    title = N_("Start proving your identity again")

    def __init__(self) -> None:
        super().__init__(N_("Your answers were not saved. Go to Prove your identity and start again."))


class ProofingUnavailable(PageError):
    """Production with only the simulated authorities: they never prove anyone there."""

    status = 503
    code = "temporarily_unavailable"
    title = N_("Identity checks are not available")

    def __init__(self) -> None:
        super().__init__(N_("This service cannot check identities yet. Try again later."))


# Vouching
class VouchingError(FieldError):
    """A vouching request the person can correct."""


class ConflictOfInterest(VouchingError):
    """A reviewer asked to decide a vouch they gave or received."""


class NotInvited(VouchingError):
    """Someone other than the person invited (by email) tried to answer an invitation."""


class NoSuchVouch(PageError):
    """A vouch, request or invitation that is not there, or not this person's to act on."""

    status = 404
    code = "not_found"
    title = N_("Page not found")


class InvitationUsed(PageError):
    status = 410
    code = "gone"
    title = N_("You cannot use this link")
