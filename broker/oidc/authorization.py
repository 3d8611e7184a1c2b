"""The authorization request, from validation to a code or to the page the person needs next.

Named checks run in order (RFC 6749 §4.1.2.1: nothing is redirected until the client and its
redirect URI are trusted), then :func:`broker.oidc.decision.decide` says what happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list

from broker.accounts.interactions import InteractionService
from broker.accounts.sessions import SessionService
from broker.accounts.subject import subject
from broker.errors import ProtocolError, UnknownClient, UntrustedRedirectUri, authorize_error_params
from broker.identity.service import level as identity_level_of
from broker.language import N_
from broker.oidc.context import OidcContext
from broker.oidc.decision import AuthorizeFacts, Decision, SessionFacts, decide
from broker.oidc.errors import (
    AccessDenied,
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    RequestNotSupported,
    RequestUriNotSupported,
    from_authlib,
    named,
)
from broker.oidc.hints import HintInvalid, verify_id_token_hint
from broker.oidc.release import release_decision
from broker.oidc.requests import BrokerRequest
from broker.oidc.server import Approval, BrokerServer
from broker.oidc.vtr import TrustRequest, VtrInvalid, best_identity_level, parse_vtr
from broker.policy import claims as claims_mod
from broker.policy.release import Agreement
from broker.policy.release import decide as decide_release
from broker.store.models import Account, BrowserSession, Client, Interaction

# The most an authorization request's parameters may hold, names and values together: ten times a
# generous claims request. Larger ones are refused with invalid_request, to the client once its
# redirect URI is trusted (docs/operating.md: the server reads targets of up to 128 KB).
MAX_AUTHORIZE_PARAMS = 32 * 1024


@dataclass
class Redirect:
    location: str
    status: int = 302


@dataclass
class Checked:
    """An authorization request that passed every check."""

    client: Client
    redirect_uri: str
    state: str | None
    scopes: list[str]
    trust: TrustRequest
    claims: claims_mod.ClaimsRequest
    requested: set[str]
    prompts: frozenset[str]
    max_age: int | None
    hint: dict[str, Any] | None  # the claims of a checked id_token_hint


def client_redirect(
    ctx: OidcContext, redirect_uri: str, params: list[tuple[str, str]], state: str | None
) -> Redirect:
    """Every authorization response carries ``state`` and ``iss`` (RFC 9207 §2); a ``state`` too large
    to be accepted is not sent back either (only a request over the size limit can carry one)."""
    if state is not None and len(state) <= MAX_AUTHORIZE_PARAMS:
        params.append(("state", state))
    params.append(("iss", ctx.settings.issuer))
    return Redirect(add_params_to_uri(redirect_uri, params))


def refuse(ctx: OidcContext, redirect_uri: str, error: ProtocolError, state: str | None) -> Redirect:
    """The authorization error response (RFC 6749 §4.1.2.1), to a redirect URI already trusted."""
    return client_redirect(ctx, redirect_uri, authorize_error_params(error), state)


def error_redirect(
    ctx: OidcContext, redirect_uri: str, error: str, description: str, state: str | None
) -> Redirect:
    """:func:`refuse`, for a caller that names the error by its code (the consent page)."""
    return refuse(ctx, redirect_uri, named(error, description), state)


# Named checks, beyond what Authlib checks itself.
def check_size(request: BrokerRequest) -> None:
    size = sum(
        len(name) + len(value) for name, values in request.payload.datalist.items() for value in values
    )
    if size > MAX_AUTHORIZE_PARAMS:
        raise InvalidRequest(f"the request parameters exceed {MAX_AUTHORIZE_PARAMS // 1024} KB")


def check_openid_scope(scopes: list[str]) -> None:
    if "openid" not in scopes:
        raise InvalidScope("scope must include openid")


def check_scopes_allowed(client: Client, scopes: list[str]) -> None:
    refused = [s for s in scopes if s not in client.scopes]
    if refused:
        raise InvalidScope(f"scope not allowed for this service: {' '.join(refused)}")


def check_no_request_object(data: dict[str, str]) -> None:
    if "request" in data:
        raise RequestNotSupported("request objects are not supported")
    if "request_uri" in data:
        raise RequestUriNotSupported("request_uri is not supported")


def check_response_mode(data: dict[str, str]) -> None:
    if data.get("response_mode", "query") != "query":
        raise InvalidRequest("response_mode must be query")


def check_max_age(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit():  # type: ignore[union-attr]
        raise InvalidRequest("max_age must be a whole number of seconds")
    return int(raw)  # type: ignore[arg-type]


def check_vtr(raw: str | None) -> TrustRequest:
    try:
        return parse_vtr(raw)
    except VtrInvalid as exc:
        raise InvalidRequest(str(exc)) from None


def check_id_token_hint(ctx: OidcContext, raw: str | None, client: Client) -> dict[str, Any] | None:
    """OIDC Core §3.1.2.1: an ID token this broker issued (expired or not), to this very service. One
    issued to another service is refused: answering whether it names the person signed in would tell
    this service who another one knows, across pairwise subjects."""
    if raw in (None, ""):
        return None
    try:
        claims, audience = verify_id_token_hint(ctx, raw)  # type: ignore[arg-type]
    except HintInvalid as exc:
        raise InvalidRequest(f"id_token_hint is {exc}") from None
    if audience != client.client_id:
        raise InvalidRequest("id_token_hint was issued to another service")
    return claims


def hint_names_another(checked: Checked, account: Account | None) -> bool:
    """The hint's subject, as this service knows people (pairwise), is not the person signed in."""
    if checked.hint is None or account is None:
        return False
    return bool(checked.hint["sub"] != subject(checked.client, account))


def check_claims(
    agreement: Agreement | None, raw: str | None, scopes: list[str], now: datetime
) -> tuple[claims_mod.ClaimsRequest, set[str]]:
    """Every claim asked for must be covered by the service's MOU in force: refused here, with the
    reason, never silently dropped (``invalid_scope`` for a scope, ``access_denied`` for a claim)."""
    try:
        asked = claims_mod.requested(scopes, raw)
    except claims_mod.ClaimsRequestInvalid as exc:
        raise InvalidRequest(str(exc)) from None
    by_scope, requested = asked.by_scope, set(asked.claims)
    allowed = decide_release(agreement, frozenset(requested), None, "P3", now, consent_needed=False)
    refused = sorted(allowed.refused)
    if refused:
        error = InvalidScope if set(refused) <= by_scope else AccessDenied
        reason = allowed.refused[refused[0]]
        raise error(f"this service may not receive {', '.join(refused)}: {reason}")
    return asked.parameter, requested


class Authorizer:
    def __init__(self, ctx: OidcContext) -> None:
        self.ctx = ctx
        self.server = BrokerServer(ctx)
        self.sessions = SessionService(ctx.db, ctx.settings)
        self.interactions = InteractionService(ctx.db)

    def authorize(
        self,
        request: BrokerRequest,
        session_secret: str | None,
        browser_secret: str,
        resume: Interaction | None = None,
    ) -> Redirect:
        now = self.ctx.clock()
        found = self.sessions.find_for_reading(session_secret, now)
        session, account = found if found else (None, None)
        if account is not None:
            self.ctx.repo.hold(account)
        try:
            grant = self.server.get_consent_grant(request, end_user=account)
        except OAuth2Error as error:
            return self._untrusted_or_refused(from_authlib(error), request)
        except ValueError:  # Authlib could not even describe the error (see BrokerServer)
            raise UntrustedRedirectUri("The request could not be accepted.") from None
        client: Client = grant.client.row
        redirect_uri: str = grant.redirect_uri
        state = request.payload.state
        try:
            checked = self._check(request, client, redirect_uri)
            decision = decide(self._facts(checked, session, account, resume))
        except ProtocolError as error:
            return refuse(self.ctx, redirect_uri, error, state)

        if decision.error:
            return refuse(self.ctx, redirect_uri, decision.error(decision.reason), state)
        if decision.interactive:
            return self._interact(decision, client, request, browser_secret, resume, now)
        assert session is not None and account is not None
        identity_vot = (
            best_identity_level(
                identity_level_of(self.ctx.db, account.id, now.date()), checked.trust.identity_levels
            )
            if checked.trust.wants_identity
            else None
        )
        approval = Approval(
            account=account,
            session_id=session.id,
            auth_time=session.auth_time,
            amr=list(session.amr),
            vot=session.level,
            identity_vot=identity_vot,
            claims=self._releasable(checked, account.id, identity_vot or "P0", now).as_dict(),
        )
        try:
            status, _, headers = self.server.create_authorization_response(
                request, grant_user=approval, grant=grant
            )
        except ProtocolError as error:
            return refuse(self.ctx, redirect_uri, error, state)
        location = headers["Location"]
        self.ctx.repo.record_participation(session.id, client.client_id, subject(client, account), now)
        if resume is not None:
            resume.completed_at = now
        return Redirect(add_params_to_uri(location, [("iss", self.ctx.settings.issuer)]), status)

    def _untrusted_or_refused(self, error: ProtocolError, request: BrokerRequest) -> Redirect:
        """RFC 6749 §4.1.2.1: an error goes back to the client only once its redirect URI is trusted;
        before that, the person is told on a page."""
        if error.redirect_uri:
            return refuse(self.ctx, error.redirect_uri, error, request.payload.state)
        if isinstance(error, InvalidClient):
            raise UnknownClient(N_("Go back to the service you were using and try again."))
        raise UntrustedRedirectUri(error.description or "The request could not be accepted.")

    def _check(self, request: BrokerRequest, client: Client, redirect_uri: str) -> Checked:
        check_size(request)
        data: dict[str, Any] = request.payload.data
        scopes = scope_to_list(data.get("scope") or "") or []
        check_openid_scope(scopes)
        check_scopes_allowed(client, scopes)
        check_no_request_object(data)
        check_response_mode(data)
        max_age = check_max_age(data.get("max_age"))
        trust = check_vtr(data.get("vtr"))
        claims_request, requested = check_claims(
            self.ctx.agreement(client.client_id), data.get("claims"), scopes, self.ctx.clock()
        )
        hint = check_id_token_hint(self.ctx, data.get("id_token_hint"), client)
        return Checked(
            client=client,
            redirect_uri=redirect_uri,
            state=data.get("state"),
            scopes=scopes,
            trust=trust,
            claims=claims_request,
            requested=requested,
            prompts=frozenset((data.get("prompt") or "").split()),
            max_age=max_age,
            hint=hint,
        )

    def _facts(
        self,
        checked: Checked,
        session: BrowserSession | None,
        account: Account | None,
        resume: Interaction | None,
    ) -> AuthorizeFacts:
        now = self.ctx.clock()
        identity_level = "P0"
        unconsented: set[str] = set()
        if session is not None:
            if checked.trust.wants_identity:
                if self.ctx.refresh_identity is not None:
                    self.ctx.refresh_identity(session.account_id)
                identity_level = identity_level_of(self.ctx.db, session.account_id, now.date())
            facts = self.ctx.consent(session.account_id, checked.client.client_id)
            agreed = set(facts.claims | facts.declined) if facts else set()
            unconsented = claims_mod.shareable(checked.requested) - agreed
        fresh = bool(
            resume is not None
            and resume.login_completed_at is not None
            and session is not None
            and resume.session_id == session.id
        )
        return AuthorizeFacts(
            now=now,
            session=SessionFacts(session.level, session.auth_time) if session else None,
            fresh_login=fresh,
            prompts=checked.prompts,
            max_age=checked.max_age,
            trust=checked.trust,
            identity_level=identity_level,
            identity_attempted=bool(resume is not None and resume.identity_attempted_at is not None),
            return_codes_requested=claims_mod.RETURN_CODE in checked.requested,
            unconsented_claims=frozenset(unconsented),
            consent_just_given=bool(resume is not None and resume.consent_given_at is not None),
            hint_names_another=hint_names_another(checked, account),
        )

    def _releasable(
        self, checked: Checked, account_id: str, identity_level: str, now: datetime
    ) -> claims_mod.ClaimsRequest:
        """What the grant may carry: the release decision's answer (optional attributes the person
        declined are left out). Scope claims go to userinfo; the claims parameter may also ask for
        them in the ID token."""
        release = release_decision(
            self.ctx,
            account_id=account_id,
            client_id=checked.client.client_id,
            requested=checked.requested,
            identity_level=lambda: identity_level,
            now=now,
        )
        allowed = release.released
        userinfo = {name: None for name in claims_mod.scope_claims(checked.scopes) if name in allowed}
        userinfo.update({k: v for k, v in checked.claims.userinfo.items() if k in allowed})
        id_token = {k: v for k, v in checked.claims.id_token.items() if k in allowed}
        return claims_mod.ClaimsRequest(userinfo=userinfo, id_token=id_token)

    def _interact(
        self,
        decision: Decision,
        client: Client,
        request: BrokerRequest,
        browser_secret: str,
        resume: Interaction | None,
        now: Any,
    ) -> Redirect:
        interaction = resume
        if interaction is None or decision.outcome == "login":
            if interaction is not None:
                interaction.completed_at = now
            params = {k: list(v) for k, v in request.payload.datalist.items()}
            interaction = self.interactions.start(client.client_id, params, browser_secret, now)
        page = {"login": "/sign-in", "prove": "/identity/prove"}.get(decision.outcome, "/consent")
        return Redirect(self.ctx.url(f"{page}/{interaction.id}"), 303)
