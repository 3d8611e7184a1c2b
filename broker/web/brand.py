"""The service frame on every page: the operator's service name (English and Welsh), logo, phase
banner, footer links and the organisation named in the statements, all from configuration."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import inspect

from broker.config import LOGO_TYPES, Settings
from broker.deps import ServicesDep
from broker.language import N_, current_language
from broker.webkit.csrf import csrf_token

router = APIRouter(include_in_schema=False)

# The pages every footer links to (broker/web/statements.py), before the operator's own links.
STATEMENT_LINKS = (
    ("/accessibility", N_("Accessibility statement")),
    ("/privacy", N_("Privacy notice")),
    ("/cookies", N_("Cookies")),
)


@dataclass(frozen=True)
class Bilingual:
    """A name the operator gives in English and Welsh: shown in the language of the page."""

    en: str
    cy: str

    def __str__(self) -> str:
        return self.cy if current_language() == "cy" else self.en


def shows_sign_out(request: Request) -> bool:
    """The page is served to someone signed in (``check_session`` or the home page found the session),
    and the page has not just ended that session (signing out everywhere, deleting the account)."""
    found = getattr(request.state, "signed_in", None)
    if found is None:
        return False
    state = inspect(found[0])
    # Read what is loaded, never from the database: a page drawn after a rolled-back operation holds
    # an expired (or detached) session object, and a template must not query.
    return not (state.deleted or state.was_deleted) and state.dict.get("ended_at") is None


def branded(templates: Jinja2Templates, settings: Settings) -> Jinja2Templates:
    """The service name, phase, footer and logo settings, available to every template."""
    globals_ = templates.env.globals
    globals_["service_name"] = Bilingual(settings.service_name, settings.service_name_cy)
    globals_["organisation_name"] = Bilingual(settings.organisation_name, settings.organisation_name_cy)
    globals_["contact_email"] = settings.contact_email
    globals_["phase"] = settings.phase
    globals_["feedback_url"] = settings.feedback_url
    globals_["statement_links"] = STATEMENT_LINKS
    globals_["footer_links"] = settings.footer_links
    globals_["has_logo"] = settings.logo_file is not None
    globals_["shows_sign_out"] = shows_sign_out
    globals_["header_csrf_token"] = csrf_token
    return templates


@router.get("/brand/logo")
def logo(services: ServicesDep) -> FileResponse:
    path = services.settings.logo_file
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(
        path, media_type=LOGO_TYPES[path.suffix.lower()], headers={"Cache-Control": "public, max-age=86400"}
    )
