"""Words for people, marked for the citizen pages' Welsh catalogue (``pybabel extract -k N_``).

This package never imports the web layer: ``N_`` only marks text, and the page that shows it
translates it. Text with values keeps its message and values in :class:`Filled`, so a page can show
the same sentence in another language.
"""

from __future__ import annotations

from typing import Self


def N_(message: str) -> str:
    """Marks text for the catalogue; it is translated where it is shown."""
    return message


class Filled(str):
    """English text made from a catalogue message with ``%(name)s`` placeholders and their values.

    It is the English string (so it compares, stores and logs as before) and also keeps ``message``
    and ``values``: a page translates it with ``_(text.message, **text.values)``.
    """

    message: str
    values: dict[str, object]

    def __new__(cls, message: str, **values: object) -> Self:
        text = super().__new__(cls, message % values)
        text.message, text.values = message, values
        return text
