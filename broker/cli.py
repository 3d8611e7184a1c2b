"""The ``broker`` command."""

from __future__ import annotations

import errno
import gc
import json
import os
import socket
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from broker.config import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.types import ASGIApp

app = typer.Typer(help="Single sign-on identity broker for public services.", no_args_is_help=True)
clients_app = typer.Typer(help="Relying services.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (for operators and tests).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff roles.", no_args_is_help=True)
mou_app = typer.Typer(
    help="Data sharing agreements (MOUs) as YAML, for version control.", no_args_is_help=True
)
referees_app = typer.Typer(help="Registered referees for vouching.", no_args_is_help=True)
identities_app = typer.Typer(help="Proven identities.", no_args_is_help=True)
simulated_app = typer.Typer(
    help="The simulated identity authorities' registry (development and testing only).", no_args_is_help=True
)
app.add_typer(clients_app, name="clients")
app.add_typer(accounts_app, name="accounts")
app.add_typer(audit_app, name="audit")
app.add_typer(simulated_app, name="simulated")
app.add_typer(staff_app, name="staff")
app.add_typer(mou_app, name="mou")
app.add_typer(referees_app, name="referees")
app.add_typer(identities_app, name="identities")


def fail(message: str) -> NoReturn:
    typer.echo(f"broker: {message}", err=True)
    raise typer.Exit(2)


def refuse_unfit(**options: tuple[str | list[str] | None, int]) -> None:
    """Exit with one line naming the first option whose text does not fit: longer than ``limit`` (the
    length of the column it is stored in, ``broker.store.bounds``), or holding a control character
    such as a NUL byte. PostgreSQL would refuse either with a traceback."""
    from broker.store.bounds import Problem, text_problem

    for name, (value, limit) in options.items():
        option = "--" + name.replace("_", "-")
        for text in [value] if isinstance(value, str) else value or []:
            problem = text_problem(text, limit)
            if problem is Problem.TOO_LONG:
                fail(f"{option} is longer than {limit} characters")
            if problem is not None:
                fail(f"{option} contains a control character (such as a NUL byte)")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable


def refuse_unusable_ports(**ports: int | None) -> None:
    """Exit with one line naming the first option that is no port number, before anything starts."""
    for name, port in ports.items():
        if port is not None and not 0 < port < 65536:
            fail(f"--{name.replace('_', '-')} must be a port number from 1 to 65535")


def refuse_busy(host: str, option: str, port: int) -> None:
    """Exit with one line when ``host:port`` cannot be listened on (another program has it, or the
    address is not this machine's), before anything starts: uvicorn would log it among its start-up
    messages and a traceback, after the demo's details were printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "another program is using it" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc)).lower()
            fail(f"cannot listen on {host}:{port} ({option}): {why}")


def quiet_deprecations() -> None:
    """Libraries' deprecation warnings are for the developers who upgrade them (the test suite shows
    them), not for someone running the broker: not shown, unless asked for with ``python -W``."""
    if sys.warnoptions:
        return
    import authlib.deprecate  # noqa: F401 - on import it puts an "always" filter of its own first

    warnings.simplefilter("ignore", DeprecationWarning)


def audited_sessions(settings: Settings, engine: Engine) -> sessionmaker[Session]:
    """Sessions for commands that write to the audit log: they hold its chain key, as the broker's
    own do (an entry written without it would break the keyed chain, so none would be written)."""
    from broker.audit.log import CHAIN_KEY
    from broker.store.db import make_sessionmaker
    from broker.store.signing_keys import build_key_service

    try:
        key = build_key_service(settings, engine).audit_chain_key()
    except startup_errors() as exc:
        fail(str(exc))
    return make_sessionmaker(engine, {CHAIN_KEY: key})


def startup_errors() -> tuple[type[Exception], ...]:
    """Start-up failures an operator can fix: shown as one line, never a traceback."""
    from keys import KeyEncryptionKeyError, TamperedKeyError

    return (KeyEncryptionKeyError, TamperedKeyError, SettingsError)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus metrics at /metrics on this port (never on the public one)."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address of the metrics listener: the loopback, or a private interface.")
    ] = "127.0.0.1",
) -> None:
    """Run the broker (migrates an empty SQLite database on first start)."""
    import uvicorn

    from broker.app import create_app
    from broker.hardening import server_options
    from broker.logs import configure_logging
    from broker.observability import metrics_app

    refuse_unusable_ports(port=port, metrics_port=metrics_port)
    if metrics_port == port:
        fail("--metrics-port must differ from --port: metrics are never served on the public listener")
    settings = settings_or_exit()
    configure_logging(settings)
    try:
        application = create_app(settings)
    except startup_errors() as exc:
        fail(str(exc))
        return
    # After start-up's own checks, whose problems come first; before uvicorn, which would log a busy
    # port among its start-up messages and exit 0 or 3.
    refuse_busy(host, "--port", port)
    # What start-up built lives as long as the process: move it out of the garbage collector's way, so
    # a full collection does not walk it again (one took ~100 ms of a busy server, every request
    # waiting behind it).
    if metrics_port is not None:
        _serve_in_background(metrics_app(application.state.services), metrics_host, metrics_port)
    gc.collect()
    gc.freeze()
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        **server_options(),
    )


def _serve_in_background(application: ASGIApp, host: str, port: int) -> None:
    """A second listener on a thread of its own (it stops with the process); a port that cannot be
    bound stops start-up with one line, before the public listener opens."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(application, host=host, port=port, log_config=None, access_log=False))
    try:
        sockets = [server.config.bind_socket()]
    except SystemExit:  # uvicorn has logged why
        fail(f"cannot listen for metrics on {host}:{port}")
    threading.Thread(target=server.run, kwargs={"sockets": sockets}, daemon=True, name="metrics").start()


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from broker.store.db import make_engine
    from broker.store.migrate import upgrade

    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    typer.echo("database is up to date")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port of the broker.")] = 8000,
    rp_port: Annotated[
        int, typer.Option(help="Port of the two demo services (at localhost and at 127.0.0.1).")
    ] = 8001,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show the logs here, not only in var/demo.log.")
    ] = False,
) -> None:
    """Seed two demo relying services and a demo account, then serve the broker and the demo services."""
    from broker.demo.run import run_demo

    refuse_unusable_ports(port=port, rp_port=rp_port)
    if port == rp_port:
        fail("--rp-port must differ from --port: the broker and the demo services each need their own")
    # The demo's footer and statements name an organisation, unless the operator names their own.
    os.environ.setdefault("BROKER_ORGANISATION_NAME", "Demo Council")
    os.environ.setdefault("BROKER_ORGANISATION_NAME_CY", "Cyngor Demo")
    settings = settings_or_exit()
    refuse_busy("127.0.0.1", "--port", port)
    refuse_busy("127.0.0.1", "--rp-port", rp_port)
    try:
        run_demo(settings, port=port, rp_port=rp_port, verbose=verbose)
    except startup_errors() as exc:
        fail(str(exc))


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="The service's name, shown to people.")],
    redirect_uri: Annotated[list[str], typer.Option(help="Exact redirect URI (repeatable).")],
    auth_method: Annotated[
        str, typer.Option(help="client_secret_basic or private_key_jwt.")
    ] = "client_secret_basic",
    jwks_file: Annotated[
        Path | None, typer.Option(help="The client's public JWK or JWKS (private_key_jwt).")
    ] = None,
    jwks_uri: Annotated[str | None, typer.Option(help="Where the client publishes its JWKS.")] = None,
    claims: Annotated[str, typer.Option(help="Comma-separated claims the service may receive.")] = "",
    post_logout_redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Registered post-logout URI.")
    ] = None,
    backchannel_logout_uri: Annotated[str | None, typer.Option(help="Back-channel logout receiver.")] = None,
    security_event_uri: Annotated[
        str | None, typer.Option(help="Receiver of pushed security events (RFC 8935).")
    ] = None,
    sector_identifier: Annotated[
        str | None, typer.Option(help="Pairwise sector (host); default the redirect host.")
    ] = None,
    id_token_alg: Annotated[str, typer.Option(help="ES256 or RS256.")] = "ES256",
    subject_type: Annotated[str, typer.Option(help="pairwise or public.")] = "pairwise",
) -> None:
    """Register a relying service; prints one JSON object with client_id (and client_secret). The rules
    are the console's: both register through ``RelyingServices``."""
    from broker.deps import utc_now
    from broker.errors import BrokerError
    from broker.oidc.clients import NewClient, RelyingServices, load_jwks_file
    from broker.store.bounds import FREE_TEXT, column_length
    from broker.store.db import make_engine
    from broker.store.migrate import is_empty, upgrade
    from broker.store.models import Client

    refuse_unfit(
        name=(name, column_length(Client.name)),
        redirect_uri=(redirect_uri, FREE_TEXT),
        auth_method=(auth_method, column_length(Client.token_endpoint_auth_method)),
        jwks_uri=(jwks_uri, column_length(Client.jwks_uri)),
        claims=(claims, FREE_TEXT),
        post_logout_redirect_uri=(post_logout_redirect_uri, FREE_TEXT),
        backchannel_logout_uri=(backchannel_logout_uri, column_length(Client.backchannel_logout_uri)),
        security_event_uri=(security_event_uri, column_length(Client.security_event_uri)),
        sector_identifier=(sector_identifier, column_length(Client.sector_identifier)),
        id_token_alg=(id_token_alg, column_length(Client.id_token_signed_response_alg)),
        subject_type=(subject_type, column_length(Client.subject_type)),
    )
    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    try:
        new = NewClient(
            name=name,
            redirect_uris=redirect_uri,
            auth_method=auth_method,
            jwks=load_jwks_file(jwks_file) if jwks_file else None,
            jwks_uri=jwks_uri,
            claims=[c.strip() for c in claims.split(",") if c.strip()],
            post_logout_redirect_uris=post_logout_redirect_uri or [],
            backchannel_logout_uri=backchannel_logout_uri,
            security_event_uri=security_event_uri,
            sector_identifier=sector_identifier,
            id_token_alg=id_token_alg,
            subject_type=subject_type,
        )
        with audited_sessions(settings, engine)() as db:
            registry = RelyingServices(
                db,
                utc_now,
                allow_private_outbound=settings.outbound_allows_private,
                operator_approves=settings.operator_approves_agreements,
            )
            client, secret = registry.register(new, None)
            out = {
                "client_id": client.client_id,
                "agreement": "approved" if settings.operator_approves_agreements else "draft",
                "token_endpoint_auth_method": client.token_endpoint_auth_method,
                "redirect_uris": client.redirect_uris,
                "claims": client.claims,
                "sector_identifier": client.sector_identifier,
            }
            if secret:
                out["client_secret"] = secret
    except BrokerError as exc:
        fail(exc.description)
    finally:
        engine.dispose()
    typer.echo(json.dumps(out))


@clients_app.command("check")
def clients_check() -> None:
    """Name registered URIs the broker will not call (internal or private addresses); exit 1 if any."""
    from broker.outbound.check import refused_uris, registered_uris
    from broker.store.db import make_engine, make_sessionmaker

    settings = settings_or_exit()
    with make_sessionmaker(make_engine(settings.database_url))() as db:
        uris = registered_uris(db)
    found = refused_uris(uris, allow_private=settings.outbound_allows_private)
    for refused in found:
        typer.echo(refused.describe())
    if found:
        raise typer.Exit(1)
    typer.echo(f"{len(uris)} registered URIs checked: the broker may call each of them")


@accounts_app.command("create")
def accounts_create(
    email: Annotated[str, typer.Option(help="Email address.")],
    password: Annotated[str, typer.Option(help="Password.", prompt=True, hide_input=True)],
    verified: Annotated[bool, typer.Option(help="Mark the email address verified.")] = False,
) -> None:
    """Create an account."""
    from broker.accounts.passwords import PasswordService
    from broker.accounts.service import AccountService
    from broker.deps import utc_now
    from broker.errors import BrokerError
    from broker.store.bounds import SHORT_TEXT, column_length
    from broker.store.db import make_engine, make_sessionmaker, transaction
    from broker.store.migrate import is_empty, upgrade
    from broker.store.models import Account

    refuse_unfit(email=(email, column_length(Account.email)), password=(password, SHORT_TEXT))
    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    try:
        with transaction(make_sessionmaker(engine)) as db:
            account = AccountService(db, PasswordService()).create(
                email, password, verified=verified, now=utc_now()
            )
            typer.echo(json.dumps({"id": account.id, "email_verified": account.email_verified}))
    except BrokerError as exc:
        fail(exc.description)


@audit_app.command("verify")
def audit_verify() -> None:
    """Seal the releases not yet sealed, then check the audit log: its keyed hash chain, every release
    seal against the release ledger, and the signed checkpoints (a log shorter than one, or with
    another hash at its entry, was cut short or rewritten). Exit 1 naming the first broken entry."""
    from broker.audit.chain import Broken
    from broker.audit.checkpoints import Checkpoints, Read
    from broker.audit.log import CHAIN_KEY, check
    from broker.audit.sealing import seal_releases
    from broker.deps import utc_now
    from broker.store.db import make_engine, make_read_only_sessionmaker, make_sessionmaker, transaction
    from broker.store.signing_keys import build_key_service
    from keys import KeyringSigner

    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    key, read = None, Read()
    if settings.key_encryption_key_file.exists():  # without it, only entries from before keying verify
        try:
            keys = build_key_service(settings, engine)
            keys.check_readable()  # keys swapped in the database would vouch for forged checkpoints
            signer = KeyringSigner(keys) if keys.list_keys() else None  # none: the broker never ran
            if signer is not None:
                signer.check_usable()
        except startup_errors() as exc:
            fail(str(exc))
        key = keys.audit_chain_key()
        with transaction(make_sessionmaker(engine, {CHAIN_KEY: key})) as db:
            seal_releases(db, utc_now())
        if signer is not None:
            read = Checkpoints(settings.audit_checkpoint_file, signer, settings.issuer).read()
    with make_read_only_sessionmaker(engine)() as db:
        found = check(db, key, read.anchors)
    engine.dispose()
    for problem in read.problems:
        typer.echo(f"audit checkpoints: {problem}", err=True)
    if isinstance(found, Broken):
        typer.echo(f"audit log broken at entry {found.seq}: {found.reason}", err=True)
        raise typer.Exit(1)
    if read.problems:
        raise typer.Exit(1)
    checked = (
        f"{read.checked} signed checkpoints agree ({read.skipped} signed by keys since removed)"
        if key
        else "no key-encryption key, so no keyed entry or checkpoint was checked"
    )
    typer.echo(
        f"audit log intact: {found.head.seq} entries; {found.releases.sealed} releases sealed, "
        f"{found.releases.unsealed} not yet; {checked}"
    )


@simulated_app.command("put")
def simulated_put(
    kind: Annotated[str, typer.Argument(help="uk_passport, uk_driving_licence or person.")],
    reference: Annotated[
        str, typer.Argument(help="Document number, or FAMILY-NAME|YYYY-MM-DD for a person.")
    ],
    data: Annotated[str, typer.Argument(help="The entry as a JSON object (see vouching/authorities.py).")],
) -> None:
    """Add or replace an entry the simulated authorities answer from."""
    from broker.deps import utc_now
    from broker.identity import registry
    from broker.store.db import make_engine, make_sessionmaker, transaction
    from broker.store.migrate import is_empty, upgrade

    settings = settings_or_exit()
    if settings.env == "production":
        fail("the simulated registry is for development and testing, not production")
    try:
        entry = json.loads(data)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        fail("DATA must be a JSON object")
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    try:
        with transaction(make_sessionmaker(engine)) as db:
            registry.put(db, kind, reference, entry, utc_now())  # type: ignore[arg-type]
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps({"kind": kind, "reference": reference.upper()}))


def _with_account(email: str) -> Any:
    """A transaction and the account with this email (exits with one line when there is none)."""
    from contextlib import contextmanager

    from sqlalchemy import select

    from broker.store.bounds import column_length
    from broker.store.db import make_engine, transaction
    from broker.store.migrate import is_empty, upgrade
    from broker.store.models import Account

    refuse_unfit(email=(email, column_length(Account.email)))
    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)

    @contextmanager
    def opened() -> Any:
        with transaction(audited_sessions(settings, engine)) as db:
            account = db.scalar(select(Account).where(Account.email == email.strip().lower()))
            if account is None:
                fail(f"no account with the email address {email}")
            yield settings, db, account

    return opened()


def _staff_change(email: str, role: str, change: str) -> None:
    """Grant or revoke a staff role as the operator, through the staff service (audited; never the
    last administrator's)."""
    from broker.accounts.staff import ROLES, StaffChangeRefused, StaffRoles
    from broker.deps import utc_now

    if role not in ROLES:
        fail(f"role must be one of {', '.join(ROLES)}")
    with _with_account(email) as (_, db, account):
        roles = StaffRoles(db, utc_now)
        try:
            changed = (roles.grant if change == "grant" else roles.revoke)(account.email, role, "operator")
        except StaffChangeRefused as refused:
            fail(refused.description)
        typer.echo(json.dumps({"id": changed.id, "roles": changed.roles}))


@staff_app.command("grant")
def staff_grant(
    email: Annotated[str, typer.Option(help="The account's email address.")],
    role: Annotated[str, typer.Option(help="administrator, policy_author, approver, auditor, ...")],
) -> None:
    """Give an account a staff role (the first administrator is made so)."""
    _staff_change(email, role, "grant")


@staff_app.command("revoke")
def staff_revoke(
    email: Annotated[str, typer.Option(help="The account's email address.")],
    role: Annotated[str, typer.Option(help="The role to take away.")],
) -> None:
    """Take a staff role from an account; the last administrator's is refused."""
    _staff_change(email, role, "revoke")


@referees_app.command("add")
def referees_add(
    email: Annotated[str, typer.Option(help="The referee's account email address.")],
    occupation: Annotated[str, typer.Option(help="Their registered role, e.g. 'GP'.")],
    body: Annotated[str, typer.Option(help="The register, e.g. 'General Medical Council'.")],
    number: Annotated[str, typer.Option(help="Their registration number.")],
    evidence: Annotated[str, typer.Option(help="How the registration was checked.")],
) -> None:
    """Record a registered referee, whose vouches carry more weight."""
    from broker.audit.log import record
    from broker.deps import utc_now
    from broker.store.bounds import column_length
    from broker.store.models import Referee

    refuse_unfit(
        occupation=(occupation, column_length(Referee.occupation)),
        body=(body, column_length(Referee.registration_body)),
        number=(number, column_length(Referee.registration_number)),
        evidence=(evidence, column_length(Referee.evidence_note)),
    )
    with _with_account(email) as (_, db, account):
        now = utc_now()
        db.merge(
            Referee(
                account_id=account.id,
                occupation=occupation,
                registration_body=body,
                registration_number=number,
                evidence_note=evidence,
                recorded_by="operator",
                recorded_at=now,
            )
        )
        record(db, "referee.recorded", now=now, actor="operator", subject=account.id, occupation=occupation)
        typer.echo(json.dumps({"id": account.id, "occupation": occupation}))


@identities_app.command("revoke")
def identities_revoke(
    email: Annotated[str, typer.Option(help="The account whose identity is found false.")],
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")],
) -> None:
    """Revoke an identity: its vouches are withdrawn and every identity resting on them re-scored."""
    from broker.deps import utc_now
    from broker.identity import wiring
    from broker.identity.registry import simulated_authorities
    from broker.store.bounds import column_length
    from broker.store.models import IdentityRecord

    refuse_unfit(reason=(reason, column_length(IdentityRecord.revoked_reason)))
    with _with_account(email) as (settings, db, account):
        service = wiring.vouching_service(
            db,
            utc_now,
            simulated_authorities,
            env=settings.env,
            policy=settings.vouching_policy(),
            issuer=settings.issuer,
        )
        reached = service.revoke_identity(account, reason, "operator")
        typer.echo(json.dumps({"id": account.id, "rescored": len(reached)}))


@identities_app.command("seal-documents")
def identities_seal_documents() -> None:
    """Fingerprint the documents of identities checked before numbers were masked (so each proves one
    account), then mask their numbers. Needs the key-encryption key; safe to run again."""
    from dataclasses import asdict

    from broker.deps import utc_now
    from broker.identity.sealing import DocumentSealer
    from broker.store.db import make_engine
    from broker.store.migrate import is_empty, upgrade
    from broker.store.signing_keys import build_key_service

    settings = settings_or_exit()
    if not settings.key_encryption_key_file.exists():  # a new key would fingerprint nothing usefully
        fail(f"key-encryption key file {settings.key_encryption_key_file} does not exist")
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    try:
        keys = build_key_service(settings, engine)
        keys.check_readable()  # the broker's own key: fingerprints made with another would match nothing
    except startup_errors() as exc:
        fail(str(exc))
        return
    done = DocumentSealer(audited_sessions(settings, engine), keys.document_key(), utc_now).run()
    engine.dispose()
    typer.echo(json.dumps(asdict(done)))


def _session() -> Any:
    from broker.store.db import make_engine, transaction
    from broker.store.migrate import is_empty, upgrade

    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    if is_empty(engine):
        upgrade(engine)
    return transaction(audited_sessions(settings, engine))


@mou_app.command("export")
def mou_export(
    reference: Annotated[str | None, typer.Option(help="Only this MOU.")] = None,
) -> None:
    """Print every MOU (or one) with all its versions as YAML."""
    import yaml
    from sqlalchemy import select

    from broker.policy.service import as_export
    from broker.store.models import Mou, MouVersion

    with _session() as db:
        query = select(Mou).order_by(Mou.reference)
        if reference:
            query = query.where(Mou.reference == reference)
        documents = [
            as_export(
                mou, list(db.scalars(select(MouVersion).filter_by(mou_id=mou.id).order_by(MouVersion.number)))
            )
            for mou in db.scalars(query)
        ]
    if reference and not documents:
        fail(f"no MOU with the reference {reference}")
    typer.echo(yaml.safe_dump({"mous": documents}, sort_keys=False, allow_unicode=True), nl=False)


@mou_app.command("import")
def mou_import(
    path: Annotated[Path, typer.Argument(help="A YAML file as `broker mou export` writes.")],
    author: Annotated[
        str, typer.Option(help="The email address of the policy author importing (the drafts' author).")
    ],
) -> None:
    """Each MOU's newest version in the file becomes a new draft, when it differs from the stored
    newest; approval still needs two administrators in the console. The author must be a staff
    account with the policy_author role: the drafts are recorded as theirs, so they cannot also
    approve them. The file is checked against a schema first (every problem with its line); a service
    has one MOU; terms the console would refuse are refused; a file with any problem stores nothing."""
    from broker.accounts.service import normalise_email
    from broker.deps import utc_now
    from broker.policy.agreement_file import AgreementImport, read_agreement_file
    from broker.policy.mou import PolicyError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read MOUs from {path}: {type(exc).__name__}")
    try:
        agreements = read_agreement_file(text)
        with _session() as db:
            drafted = AgreementImport(db, utc_now).run(agreements, normalise_email(author))
    except PolicyError as exc:
        fail(f"cannot import: {exc}")
    typer.echo(json.dumps({"drafted": drafted}))


@mou_app.command("remind")
def mou_remind() -> None:
    """Email each agreement's named owner when its end date is within 30 days, or its review date is
    within 30 days or past: once per agreement per date (each reminder is in the audit log). Prints
    what was sent, and the agreements that have no owner's email address to send to."""
    from broker.deps import utc_now
    from broker.policy.reminders import Reminders

    settings = settings_or_exit()
    with _session() as db:
        done = Reminders(db, utc_now, settings.issuer).send()
    typer.echo(json.dumps({"reminders": done}))


def _mount_keys() -> None:
    from broker.keys_cli import app as keys_app

    app.add_typer(keys_app, name="keys", help="Signing keys: list, rotate, retire.")


def main() -> None:
    quiet_deprecations()
    _mount_keys()
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"broker: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
