"""Every page form, posted what an attacker would send: text longer than its column, a NUL byte, bytes
that are not UTF-8, and digits of other scripts where a number is expected. Each gets a 400 with an
error page or a GOV.UK error summary, never a 5xx, and nothing is stored, on SQLite and PostgreSQL.

The forms are found, not listed: every POST route of a page router (``broker.webkit.access``), posted
to as a browser signed in strongly enough for it (a person with two factors, or staff with a passkey).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from broker.app import ROUTED
from broker.store.base import Base
from broker.store.bounds import FREE_TEXT, SHORT_TEXT, Problem, column_length, number_problem, text_problem
from broker.store.models import Account, Client, MouVersion, Passkey
from broker.webkit.access import ROLES, Need, page_routes, rule_for
from broker.webkit.forms import FIELDS, MESSAGES, PAGE_FIELDS, FormUnreadable, form_problems, read_strictly
from tests.e2e.agent import UserAgent, latest_code
from tests.e2e.conftest import LiveBroker
from tests.e2e.test_admin_console import service_mou, staff

ARABIC_INDIC = "١٢٣"  # 123 to int(), and true to str.isdigit()
FULLWIDTH = "１２"
# Path parameters: the guard reads the form before the route looks anything up.
PLACEHOLDERS = {"number": "1", "action": "approve"}


def page_form_routes() -> list[str]:
    """The path of every page route that takes a POST: the routes of every page router the
    application includes (``broker.app.ROUTED``)."""
    routes = page_routes(module.router for module in ROUTED)
    return sorted({r.path for r in routes if "POST" in r.methods})


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "x" + uuid.uuid4().hex[:8]), path)


def two_factor_person(broker: LiveBroker) -> UserAgent:
    """A person signed in with their password and a security code, just now."""
    email = f"hostile-{uuid.uuid4().hex[:8]}@example.org"
    broker.create_account(email)
    agent = UserAgent(broker)
    here = agent.go(f"{broker.url}/account/sign-in?next=/account/security")
    here = agent.submit(here, {"email": email, "password": "correct horse battery staple"})
    agent.submit(here, {"code": latest_code(broker, email)})
    assert agent.go(f"{broker.url}/account/security").endswith("/account/security")
    return agent


@pytest.fixture(scope="module")
def agents(broker: LiveBroker) -> dict[Need, UserAgent]:
    """A browser for each strength of session a page may need."""
    anyone = UserAgent(broker)
    anyone.go(f"{broker.url}/account/sign-in")  # the browser cookie the forms' token comes from
    person = two_factor_person(broker)
    found = {
        Need.ANYONE: anyone,
        Need.SIGNED_IN: person,
        Need.TWO_FACTORS: person,
        Need.RECENT_TWO_FACTORS: person,
        Need.STAFF: staff(broker, *ROLES),
    }
    yield found
    for agent in {id(a): a for a in found.values()}.values():
        agent.close()


def post_raw(agent: UserAgent, url: str, body: bytes) -> httpx.Response:
    """A url-encoded body exactly as given, with this browser's anti-forgery token first."""
    content = f"csrf_token={agent.csrf}&".encode() + body
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return agent.http.post(url, content=content, headers=headers)


def urlencoded(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()


# What an attacker posts, each as the body after the anti-forgery token.
HOSTILE: dict[str, bytes] = {
    "overlong email": urlencoded({"email": "a" * 400 + "@example.com"}),
    "overlong name": urlencoded({"name": "n" * 201, "given_names": "g" * 201}),
    "overlong free text": urlencoded({"purpose": "p" * (FREE_TEXT + 1)}),
    "overlong unknown field": urlencoded({"anything": "x" * (SHORT_TEXT + 1)}),
    "NUL byte": urlencoded({"email": "someone\x00@example.com", "name": "a\x00b", "note": "\x00"}),
    "NUL in a field's name": urlencoded({"na\x00me": "x"}),
    "invalid UTF-8, percent-encoded": b"name=%FF%FE&email=a%C3%28%40example.org",
    "invalid UTF-8, raw bytes": b"name=\xff\xfe&email=\xc3\x28",
    "raw UTF-8 bytes": "name=Siân".encode(),
    "Arabic-Indic digits": urlencoded({"code": ARABIC_INDIC * 2, "known_years": ARABIC_INDIC}),
    "fullwidth digits": urlencoded({"birth_date-year": "１９９０", "lived_from": FULLWIDTH}),
    "a huge number": urlencoded({"known_years": "9" * 5000}),
}


def refused(response: httpx.Response) -> bool:
    """A 400 error page: an error summary, or a page saying the form could not be read."""
    return response.status_code == 400 and (
        "govuk-error-summary__list" in response.text or FormUnreadable.title in response.text
    )


def row_counts(broker: LiveBroker) -> dict[str, int]:
    with broker.db() as db:
        return {
            table.name: db.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_every_page_form_refuses_hostile_input_and_stores_nothing(broker, agents):
    routes = page_form_routes()
    # The forms behind sign-in and the staff console are among them.
    assert {"/account/password", "/admin/services/new", "/identity/vouching/start", "/vouch/{token}"} <= set(
        routes
    )
    before = row_counts(broker)
    wrong = []
    for path in routes:
        agent = agents[rule_for(path).need]
        for kind, body in HOSTILE.items():
            response = post_raw(agent, broker.url + concrete(path), body)
            if not refused(response):
                wrong.append(f"{path} {kind}: {response.status_code}")
    assert not wrong, wrong
    assert row_counts(broker) == before


def test_the_guard_lets_ordinary_text_through_to_the_page(broker, agents):
    """The same forms, sent text that fits, reach the page (whatever it then says of the answers)."""
    for path in page_form_routes():
        agent = agents[rule_for(path).need]
        body = urlencoded({"name": "Siân Ó Ceallaigh", "email": "x@example.org", "code": "123456"})
        response = post_raw(agent, broker.url + concrete(path), body)
        assert response.status_code < 500, path
        assert "Remove the control characters" not in response.text
        assert FormUnreadable.title not in response.text


def test_each_field_is_bounded_to_its_column_and_named_in_the_summary(broker, agents):
    admin = agents[Need.STAFF]
    response = admin.post(
        f"{broker.url}/admin/services/new", {"name": "n" * 201, "redirect_uris": "https://x/cb"}
    )
    assert refused(response)
    assert 'href="#name"' in response.text and "200 characters or fewer" in response.text
    # A name exactly as long as its column is registered, on PostgreSQL as on SQLite.
    name = "n" * column_length(Client.name)
    response = admin.post(
        f"{broker.url}/admin/services/new",
        {
            "name": name,
            "redirect_uris": f"https://rp.example/cb/{uuid.uuid4().hex[:6]}",
            "auth_method": "client_secret_basic",
            "id_token_alg": "ES256",
            "claims": "email",
        },
    )
    assert response.status_code == 200, response.text
    with broker.db() as db:
        assert db.scalar(select(func.count()).select_from(Client).where(Client.name == name)) == 1


def test_an_agreements_draft_with_a_nul_byte_is_an_error_summary_and_no_version(broker, agents):
    _client_id, reference = service_mou(broker)
    with broker.db() as db:
        versions = db.scalar(select(func.count()).select_from(MouVersion))
    response = agents[Need.STAFF].post(
        f"{broker.url}/admin/mous/{reference}/new",
        {"organisation": "o" * 201, "purpose": "Fishing\x00licences", "lawful_basis": "Public task"},
    )
    assert refused(response)
    assert 'href="#organisation"' in response.text and 'href="#purpose"' in response.text
    with broker.db() as db:
        assert db.scalar(select(func.count()).select_from(MouVersion)) == versions


# The rules themselves, as tables.


@pytest.mark.parametrize(
    ("value", "limit", "problem"),
    [
        ("Siân", 4, None),
        ("Siân!", 4, Problem.TOO_LONG),
        ("tab\tand\r\nnew line", 100, None),
        ("nul\x00", 100, Problem.CONTROL),
        ("bell\x07", 100, Problem.CONTROL),
        ("delete\x7f", 100, Problem.CONTROL),
        ("", 0, None),
    ],
)
def test_text_problem(value: str, limit: int, problem: Problem | None) -> None:
    assert text_problem(value, limit) is problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2024", None),
        (" 12 ", None),
        ("twelve", None),  # not a number: the page says so, in its own words
        (ARABIC_INDIC, Problem.NOT_ASCII_DIGITS),
        (FULLWIDTH, Problem.NOT_ASCII_DIGITS),
        ("½", Problem.NOT_ASCII_DIGITS),
        ("9" * 21, Problem.TOO_LONG),
        ("1\x00", Problem.CONTROL),
    ],
)
def test_number_problem(value: str, problem: Problem | None) -> None:
    assert number_problem(value) is problem


def test_bounds_are_read_from_the_columns() -> None:
    assert column_length(Account.email) == Account.__table__.c.email.type.length == FIELDS["email"]
    assert FIELDS["name"] == Passkey.__table__.c.name.type.length
    assert PAGE_FIELDS["/admin/services/new"]["name"] == Client.__table__.c.name.type.length
    assert FIELDS["organisation"] == MouVersion.__table__.c.organisation.type.length
    assert column_length(MouVersion.purpose) == FREE_TEXT  # an unbounded Text column


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"a=1&b=", [("a", "1"), ("b", "")]),
        (b"name=Si%C3%A2n+Jones", [("name", "Siân Jones")]),
    ],
)
def test_read_strictly_reads_what_a_browser_sends(body: bytes, fields: list[tuple[str, str]]) -> None:
    assert read_strictly(body) == fields


@pytest.mark.parametrize("body", [b"name=%FF", b"name=\xc3\xa2", b"name=%C3%28", b"a=" + b"&a=" * 300])
def test_read_strictly_refuses_what_is_not_utf8_or_too_many_fields(body: bytes) -> None:
    with pytest.raises(FormUnreadable):
        read_strictly(body)


def test_form_problems_name_each_field_once() -> None:
    problems = form_problems(
        [("email", "a" * 321), ("email", "b" * 400), ("code", "١"), ("ok", "fine")], "/x"
    )
    assert set(problems) == {"email", "code"}
    assert problems["email"] == "This answer must be 320 characters or fewer"
    names: Callable[[str], dict[str, str]] = lambda path: form_problems([("name", "n" * 150)], path)
    assert names("/account/passkeys/{credential_id}/rename") and not names("/admin/services/new")


def test_a_choice_is_left_to_its_page_to_refuse_in_its_own_words() -> None:
    assert form_problems([("decision", "agree\x00"), ("confirm", "y" * 5000)], "/account/delete") == {}
    assert form_problems([("note", "n\x00")], "/admin/vouches/{vouch_id}") == {
        "note": MESSAGES[Problem.CONTROL]
    }
