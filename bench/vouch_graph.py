"""Benchmark: the rule and graph checks for one new vouch, in a network of 100,000 people and 300,000
vouches. Every check must be bounded by the neighbourhood (this applicant's vouchers, the vouches they
gave, one address), so its time should not grow with the network.

Builds the network in a fresh database (SQLite by default; ``--database-url postgresql://...`` for
PostgreSQL), then times ``VouchingService.voucher_facts`` + ``circle`` + ``check_vouch`` for random
(applicant, voucher) pairs, without writing. Writes bench/results/vouch_graph[_postgresql].json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from broker.identity import wiring
from broker.identity.registry import simulated_authorities
from broker.store.db import make_engine, make_sessionmaker
from broker.store.migrate import upgrade
from broker.store.models import Account, IdentityRecord, Vouch, VouchRequest
from vouching.rules import Applicant, Case, Statement, VouchingPolicy, check_vouch

RESULTS = Path(__file__).resolve().parent / "results"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BATCH = 20_000


def build(url: str, people: int, vouches: int, seed: int) -> float:
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    ids = [f"p{i:06d}" for i in range(people)]
    postcode = [f"CF{i % 90 + 10} {i % 9}{chr(65 + i % 26)}{chr(65 + (i // 26) % 26)}" for i in range(people)]
    with engine.begin() as conn:
        for start in range(0, people, BATCH):
            chunk = range(start, min(start + BATCH, people))
            conn.execute(
                insert(Account),
                [
                    {
                        "id": ids[i],
                        "email": f"{ids[i]}@example.org",
                        "email_verified": True,
                        "phone_number_verified": False,
                        "identity_level": "P2",
                        "pairwise_seed": "0" * 64,
                        "roles": [],
                        "created_at": NOW,
                    }
                    for i in chunk
                ],
            )
            conn.execute(
                insert(IdentityRecord),
                [
                    {
                        "id": f"r{ids[i]}",
                        "account_id": ids[i],
                        "version": 1,
                        "route": "documents",
                        "started_at": NOW,
                        "completed_at": NOW - timedelta(days=30),
                        "names": [],
                        "birth_date": date(1980, 1, 1),
                        "addresses": [
                            {
                                "building": str(i % 200),
                                "street": "Street",
                                "town": "Town",
                                "postcode": postcode[i],
                                "lived_from": "2010-01-01",
                                "lived_until": None,
                            }
                        ],
                        "evidence": [],
                        "activity": 1,
                        "fraud": 2,
                        "verification": 2,
                        "questions": [],
                        "level": "P2",
                        "profile": "M1A",
                        "recheck_by": date(2029, 1, 1),
                    }
                    for i in chunk
                ],
            )
            conn.execute(
                insert(VouchRequest),
                [
                    {
                        "id": f"q{ids[i]}",
                        "applicant_id": ids[i],
                        "given_names": "Given",
                        "family_name": f"F{i}",
                        "birth_date": date(1990, 1, 1),
                        "address": {
                            "building": "1",
                            "street": "S",
                            "town": "T",
                            "postcode": postcode[i],
                            "lived_from": "2015-01-01",
                            "lived_until": None,
                        },
                        "address_key": f"1|{postcode[i]}",
                        "created_at": NOW - timedelta(days=60),
                    }
                    for i in chunk
                ],
            )
        rows = []
        for n in range(vouches):
            voucher, applicant = rng.randrange(people), rng.randrange(people)
            if voucher == applicant:
                applicant = (applicant + 1) % people
            accepted = NOW - timedelta(days=rng.randrange(1, 700))
            rows.append(
                {
                    "id": f"v{n:07d}",
                    "request_id": f"q{ids[applicant]}",
                    "applicant_id": ids[applicant],
                    "invited_email": "x@example.org",
                    "token_hash": f"{n:064d}",
                    "invited_at": accepted,
                    "expires_at": accepted + timedelta(days=14),
                    "voucher_id": ids[voucher],
                    "relationship": "friend",
                    "known_years": 5,
                    "lives_with_applicant": False,
                    "is_referee": False,
                    "accepted_at": accepted,
                    "effective_at": accepted + timedelta(days=7),
                    "refusals": [],
                }
            )
            if len(rows) == BATCH:
                conn.execute(insert(Vouch), rows)
                rows = []
        if rows:
            conn.execute(insert(Vouch), rows)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))  # planner statistics, as a live database keeps them
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str, people: int, samples: int, seed: int) -> list[float]:
    rng = random.Random(seed + 1)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    timings = []
    policy = VouchingPolicy()
    for _ in range(samples):
        applicant_id, voucher_id = f"p{rng.randrange(people):06d}", f"p{rng.randrange(people):06d}"
        with factory() as db:
            service = wiring.vouching_service(
                db,
                lambda: NOW,
                simulated_authorities,
                env="development",
                policy=policy,
                issuer="http://bench",
            )
            request = db.get(VouchRequest, f"q{applicant_id}")
            voucher = db.get(Account, voucher_id)
            assert request is not None and voucher is not None
            started = time.perf_counter()
            facts = service.voucher_facts(voucher)
            circle = service.circle(request, voucher_id)
            applicant = Applicant(
                applicant_id,
                request.given_names,
                request.family_name,
                request.birth_date,
                request.address_key,
            )
            check_vouch(Case(applicant, facts, Statement("friend", 5, False), circle, NOW, policy))
            timings.append((time.perf_counter() - started) * 1000)
            db.rollback()
    engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--vouches", type=int, default=300_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/graph.db"
        built = build(url, args.people, args.vouches, seed=7)
        timings = measure(url, args.people, args.samples, seed=7)
    timings.sort()
    result = {
        "benchmark": "vouch_graph",
        "database": url.split(":")[0],
        "people": args.people,
        "vouches": args.vouches,
        "samples": args.samples,
        "build_seconds": round(built, 1),
        "check_ms": {
            "p50": round(statistics.median(timings), 2),
            "p95": round(timings[int(len(timings) * 0.95) - 1], 2),
            "max": round(timings[-1], 2),
        },
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    name = "vouch_graph" + ("" if result["database"] == "sqlite" else "_postgresql")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
