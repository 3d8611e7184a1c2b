"""Authlib's request objects, built from values already read off a Starlette request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request


class Params:
    """Form or query parameters as Authlib wants them: ``data`` (first values) and ``datalist``."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self.datalist[key].append(value)
        self.data: dict[str, str] = {k: v[0] for k, v in self.datalist.items()}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def __getitem__(self, key: str) -> str:
        return self.data[key]

    def to_items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, values in self.datalist.items() for v in values]


class _Payload(OAuth2Payload):
    def __init__(self, params: Params) -> None:
        self._params = params

    @property
    def data(self) -> dict[str, str]:
        return self._params.data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._params.datalist


class BrokerRequest(OAuth2Request):
    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], query: Params, form: Params
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._query = query
        self._form = form
        # Authorization requests read the query (GET) or the form (POST); token requests the form.
        self.payload = _Payload(form if method == "POST" else query)

    @property
    def args(self) -> Params:
        return self._query

    @property
    def form(self) -> Params:
        return self._form
