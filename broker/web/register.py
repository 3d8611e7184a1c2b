"""The public register of data sharing agreements in force: which service receives what about people,
from which organisation, why, on what lawful basis and between which dates, as a page and as JSON, in
English and Welsh. Drafts and agreements not in force (suspended, ended, expired, not yet started) are
never shown."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broker.deps import Db, ServicesDep
from broker.policy.claims import HUMAN_NAMES
from broker.policy.mou import PUBLIC_FIELDS
from broker.policy.register import InForce, agreements_in_force
from broker.web.i18n import LANGUAGES, _, catalogue, current_language
from broker.webkit.pages import render
from broker.webkit.router import page_router

router = page_router()


@router.get("/agreements")
def register_page(request: Request, db: Db, services: ServicesDep) -> Response:
    entries = agreements_in_force(db, services.clock().date())
    language = current_language()
    context = {
        "title": _("Register of data sharing agreements"),
        "entries": entries,
        "words": [{name: e.terms.said(name, language) for name in PUBLIC_FIELDS} for e in entries],
        "names": HUMAN_NAMES,
    }
    return render(services, request, "register.html", context)


@router.get("/agreements.json")
def register_json(request: Request, db: Db, services: ServicesDep) -> Response:
    today = services.clock().date()
    entries = agreements_in_force(db, today)
    return JSONResponse({"as_of": today.isoformat(), "agreements": [as_json(e) for e in entries]})


def as_json(entry: InForce) -> dict[str, Any]:
    """One agreement, its words in each language: where staff gave no Welsh for a field, the Welsh
    entry carries the English text marked ``"lang": "en"`` (as the pages show it)."""
    terms = entry.terms
    words: dict[str, Any] = {}
    for language in LANGUAGES:
        said = {name: terms.said(name, language) for name in PUBLIC_FIELDS}
        words[language] = {
            **{name: {"text": s.text, "lang": s.lang} for name, s in said.items()},
            "attributes": [
                catalogue(language).gettext(HUMAN_NAMES.get(a.claim, a.claim)) for a in terms.attributes
            ],
        }
    return {
        "service": entry.client.name,
        "client_id": entry.client.client_id,
        "reference": entry.mou.reference,
        "version": entry.version.number,
        "start": terms.start.isoformat(),
        "end": terms.end.isoformat(),
        "review": terms.review.isoformat(),
        "attributes": [a.claim for a in terms.attributes],
        "summary": f"/services/{entry.client.client_id}/agreement",
        **words,
    }
