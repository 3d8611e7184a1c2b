"""A PostgreSQL database of 1,000,000 accounts and 1,000,000 consents for benchmark (e), built once
and reused while it holds the rows (the database `broker_bench_million` beside the one named by
BROKER_BENCH_POSTGRES_URL or BROKER_TEST_POSTGRES_URL).

Fast because PostgreSQL makes the rows itself (INSERT … SELECT over generate_series) and every
account shares one precomputed argon2id hash: about a minute on two cores, instead of a million
password hashes. Run directly to build it ahead of `make bench`:

    .venv/bin/python bench/seed_million.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "1000000"))
DATABASE = "broker_bench_million"
BROKER = str(Path(sys.executable).with_name("broker"))

# Values for the columns we fill; any other NOT NULL column without a default gets a neutral value
# for its type, so the seed keeps working as the schema grows.
ACCOUNT = {
    "id": "md5('account' || i)::uuid::text",
    "email": "'seed-' || i || '@bench.example'",
    "email_verified": "true",
    "password_hash": "%(hash)s",
    "phone_number_verified": "false",
    "identity_level": "'P0'",
    "roles": "'[]'",
    "pairwise_seed": "md5('seed' || i)",
    "created_at": "now()",
}
CONSENT = {
    "id": "md5('consent' || i)::uuid::text",
    "account_id": "md5('account' || i)::uuid::text",
    "client_id": "%(client_id)s",
    "scopes": """'["openid", "email"]'""",
    "claims": """'["email"]'""",
    "granted_at": "now()",
    "mou_version_id": "%(mou_version_id)s",
    "declined": "'[]'",
    "method": "'consent page'",
}
NEUTRAL = {"boolean": "false", "integer": "0", "json": "'[]'", "jsonb": "'[]'"}


@dataclass
class Seeded:
    url: str
    client: tuple[str, str]
    counts: dict[str, int]


def columns(conn: psycopg.Connection, table: str, known: dict[str, str]) -> dict[str, str]:
    """Each column to fill → its expression, cast to the column's type."""
    out = {}
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable = 'NO' AND column_default IS NULL"
        " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s",
        (table,),
    ).fetchall()
    for name, data_type, required in rows:
        expression = known.get(name) or (NEUTRAL.get(data_type, "''") if required else None)
        if expression:
            out[name] = f"({expression})::{data_type}"
    return out


def insert_select(table: str, cols: dict[str, str]) -> str:
    names = ", ".join(f'"{c}"' for c in cols)
    return f'INSERT INTO "{table}" ({names}) SELECT {", ".join(cols.values())} FROM generate_series(1, %(n)s) AS i'


def counts(conn: psycopg.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("account", "consent")}  # type: ignore[index]


def ensure(admin_url: str) -> Seeded:
    url = admin_url.rsplit("/", 1)[0] + "/" + DATABASE
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            admin.execute(f'CREATE DATABASE "{DATABASE}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
    env["BROKER_DATABASE_URL"] = url
    subprocess.run([BROKER, "migrate"], env=env, check=True, capture_output=True)
    with psycopg.connect(url, autocommit=True) as conn:
        # Each benchmark run starts the broker with a new key-encryption key (in its temporary
        # directory): keys wrapped by an earlier run's KEK could not be unwrapped, so the broker
        # makes new ones.
        conn.execute("DELETE FROM signing_key")
        conn.execute("CREATE TABLE IF NOT EXISTS bench_seed (key text PRIMARY KEY, value text NOT NULL)")
        row = conn.execute("SELECT value FROM bench_seed WHERE key = 'client'").fetchone()
        if row:
            held = counts(conn)
            if min(held.values()) >= PEOPLE:
                client = json.loads(row[0])
                return Seeded(url, (client["client_id"], client["client_secret"]), held)
        started = time.perf_counter()
        print(
            f"seeding {PEOPLE:,} accounts and consents into {DATABASE} (once; reused afterwards)", flush=True
        )
        conn.execute("DELETE FROM consent")
        conn.execute("DELETE FROM account WHERE email LIKE 'seed-%%'")
        client = json.loads(
            subprocess.run(
                [BROKER, "clients", "create", "--name", "Million", "--redirect-uri", "http://localhost/cb"]
                + ["--claims", "email"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        version = conn.execute(
            "SELECT v.id FROM mou_version v JOIN mou m ON m.id = v.mou_id WHERE m.client_id = %s"
            " ORDER BY v.number DESC LIMIT 1",
            (client["client_id"],),
        ).fetchone()
        assert version, "the client has no agreement"
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from broker.accounts.passwords import PasswordService

        params = {
            "n": PEOPLE,
            "hash": PasswordService().hash("seeded account, never signs in"),
            "client_id": client["client_id"],
            "mou_version_id": version[0],
        }
        conn.execute(insert_select("account", columns(conn, "account", ACCOUNT)), params)
        conn.execute(insert_select("consent", columns(conn, "consent", CONSENT)), params)
        conn.execute("ANALYZE account")
        conn.execute("ANALYZE consent")
        conn.execute(
            "INSERT INTO bench_seed VALUES ('client', %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (json.dumps({"client_id": client["client_id"], "client_secret": client["client_secret"]}),),
        )
        held = counts(conn)
        print(f"seeded in {time.perf_counter() - started:.0f} s: {held}", flush=True)
        return Seeded(url, (client["client_id"], client["client_secret"]), held)


if __name__ == "__main__":
    pg = os.environ.get("BROKER_BENCH_POSTGRES_URL") or os.environ.get("BROKER_TEST_POSTGRES_URL")
    if not pg:
        sys.exit("set BROKER_BENCH_POSTGRES_URL")
    print(ensure(pg))
