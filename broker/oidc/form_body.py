"""The body of a request a relying service sends the broker directly: token (RFC 6749 §3.2), token
introspection (RFC 7662 §2.1) and revocation (RFC 7009 §2.1). It is ``application/x-www-form-urlencoded``
and names each parameter once, as the authorization endpoint already requires of its query (§3.1)."""

from __future__ import annotations

from collections.abc import Mapping

from broker.oidc.errors import InvalidRequest
from broker.oidc.requests import Params

URLENCODED = "application/x-www-form-urlencoded"


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def check_form_body(headers: Mapping[str, str], form: Params) -> None:
    """A body of another type (multipart/form-data, JSON) is refused rather than read as no parameters;
    a request with no body at all is left to the endpoint, which names what is missing."""
    kind = media_type(headers)
    if kind and kind != URLENCODED:
        raise InvalidRequest(f"the request body must be {URLENCODED}")
    repeated = sorted(name for name, values in form.datalist.items() if len(values) > 1)
    if repeated:
        raise InvalidRequest(f"given more than once: {', '.join(repeated)}")
