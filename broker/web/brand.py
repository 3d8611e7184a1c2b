"""The operator's brand on every page: service name, logo and footer links, from configuration."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates

from broker.config import LOGO_TYPES, Settings
from broker.deps import ServicesDep

router = APIRouter(include_in_schema=False)


def branded(templates: Jinja2Templates, settings: Settings) -> Jinja2Templates:
    """BROKER_SERVICE_NAME, BROKER_FOOTER_LINKS and BROKER_LOGO_FILE, available to every template."""
    templates.env.globals["service_name"] = settings.service_name
    templates.env.globals["footer_links"] = settings.footer_links
    templates.env.globals["has_logo"] = settings.logo_file is not None
    return templates


@router.get("/brand/logo")
def logo(services: ServicesDep) -> FileResponse:
    path = services.settings.logo_file
    if path is None:
        raise HTTPException(status_code=404)
    return FileResponse(
        path, media_type=LOGO_TYPES[path.suffix.lower()], headers={"Cache-Control": "public, max-age=86400"}
    )
