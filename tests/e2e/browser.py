"""Debian's Chromium, launched the way this machine allows (no downloads, no background networking)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def outbox_code(current: Any, broker_url: str, recipient: str) -> str:
    """The newest security code sent to ``recipient``, read off the development outbox page."""
    outbox = current.context.new_page()
    outbox.goto(f"{broker_url}/dev/outbox?{urlencode({'to': recipient})}")
    row = outbox.get_by_role("row").filter(has_text=recipient).first
    found = re.search(r"\b(\d{6})\b", row.inner_text())
    outbox.close()
    assert found, f"no code for {recipient} in the outbox"
    return found.group(1)
