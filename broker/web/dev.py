"""Development-only pages: the outbox of messages that would have been sent."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from broker.deps import Db, ServicesDep
from broker.errors import PageNotFound
from broker.notify.outbox import Outbox
from broker.notify.outbox import render as render_message
from broker.webkit.pages import render
from broker.webkit.router import page_router

router = page_router()


@router.get("/dev/outbox")
def outbox(request: Request, db: Db, services: ServicesDep) -> Response:
    if services.settings.env == "production" or services.settings.notify_api_key:
        raise PageNotFound()
    messages = [
        {
            "to": m.recipient,
            "channel": m.channel,
            "at": m.created_at,
            "body": render_message(m.template, m.personalisation),
        }
        for m in Outbox(db).recent(recipient=request.query_params.get("to") or None)
    ]
    return render(services, request, "outbox.html", {"messages": messages})
