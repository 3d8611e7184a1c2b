"""Words for people, marked for the citizen pages' Welsh catalogue (``pybabel extract -k N_``).

Accounts sit below the web layer and never import it: ``N_`` only marks text, and the page that shows
it translates it (error pages translate an error's title, and its message with its values).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks text for the catalogue; it is translated where it is shown."""
    return message
