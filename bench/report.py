"""One screen and one picture from the benchmark results: reads bench/results/silent_flow.json and
password_signin.json, writes bench/results/summary.json (everything, with the broker/peer ratios)
and bench/results/throughput_p99.png (flows per second and p99 against concurrency, both servers),
and prints the summary.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = {
    "silent_flow": "(a) silent flow",
    "private_key_jwt": "(b) private_key_jwt",
    "discovery": "(c) discovery+JWKS",
    "million": "(e) (a), 1M people",
}
PEER = "node-oidc-provider"


def rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    results = report["results"]
    out = []
    for scenario, label in SCENARIOS.items():
        ours = (
            (results.get("broker_million") or {}).get("silent_flow")
            if scenario == "million"
            else results["broker"].get(scenario)
        )
        theirs = results[PEER].get("silent_flow" if scenario == "million" else scenario)
        if not ours or not theirs:
            continue
        for b, p in zip(ours, theirs, strict=True):
            out.append(
                {
                    "scenario": scenario,
                    "label": label,
                    "concurrency": b["concurrency"],
                    "broker_per_second": b["per_second"],
                    "peer_per_second": p["per_second"],
                    "ratio": round(b["per_second"] / p["per_second"], 2) if p["per_second"] else None,
                    "broker_p50_ms": b["p50_ms"],
                    "peer_p50_ms": p["p50_ms"],
                    "broker_p99_ms": b["p99_ms"],
                    "peer_p99_ms": p["p99_ms"],
                    "p99_ratio": round(b["p99_ms"] / p["p99_ms"], 2) if p["p99_ms"] else None,
                    "errors": f"{b['errors']}/{p['errors']}",
                    "broker_cpu_ms": b.get("server_cpu_ms"),
                    "peer_cpu_ms": p.get("server_cpu_ms"),
                    "broker_database_cpu_ms": b.get("database_cpu_ms"),
                    "broker_driver_cpu_ms": b.get("driver_cpu_ms"),
                    "peer_driver_cpu_ms": p.get("driver_cpu_ms"),
                }
            )
    return out


def plot(table: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [s for s in SCENARIOS if any(r["scenario"] == s for r in table)]
    fig, axes = plt.subplots(2, len(scenarios), figsize=(4 * len(scenarios), 7), squeeze=False)
    for col, scenario in enumerate(scenarios):
        mine = [r for r in table if r["scenario"] == scenario]
        x = [r["concurrency"] for r in mine]
        for row, (key, unit) in enumerate((("per_second", "flows/s"), ("p99_ms", "p99 ms"))):
            ax = axes[row][col]
            ax.plot(x, [r[f"broker_{key}"] for r in mine], "o-", label="broker")
            peer_label = PEER + (" (a)" if scenario == "million" else "")
            ax.plot(x, [r[f"peer_{key}"] for r in mine], "s--", label=peer_label)
            ax.set_xscale("log", base=2)
            ax.set_xticks(x, [str(c) for c in x])
            ax.set_xlabel("concurrency")
            ax.set_ylabel(unit)
            if row == 0:
                ax.set_title(SCENARIOS[scenario])
                ax.set_ylim(bottom=0)
            else:
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    report = json.loads((RESULTS / "silent_flow.json").read_text())
    table = rows(report)
    password = RESULTS / "password_signin.json"
    summary = {
        "machine": report["machine"],
        "server_processes": report.get("server_processes"),
        "broker_database": report.get("broker_database"),
        "million_counts": (report["results"].get("broker_million") or {}).get("counts"),
        "table": table,
        "password_signin": json.loads(password.read_text()) if password.exists() else None,
    }
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(table, RESULTS / "throughput_p99.png")
    m = report["machine"]
    print(
        f"\n{m['cpus']} cores ({m['cpu_model']}), one server process each; broker on {report.get('broker_database')}"
    )
    head = f"{'scenario':<22}{'conc':>5}{'broker/s':>10}{'peer/s':>9}{'ratio':>7}{'broker p99':>12}{'peer p99':>10}{'errors':>8}"
    print(head)
    print("-" * len(head))
    for r in table:
        print(
            f"{r['label']:<22}{r['concurrency']:>5}{r['broker_per_second']:>10}{r['peer_per_second']:>9}"
            f"{number(r['ratio'], '.2f'):>7}{number(r['broker_p99_ms'], '.0f'):>10}ms"
            f"{number(r['peer_p99_ms'], '.0f'):>8}ms{r['errors']:>8}"
        )
    budget = [r for r in table if r["scenario"] == "silent_flow"]
    if budget and budget[0]["broker_driver_cpu_ms"] is not None:
        print("CPU per silent flow (ms): server + PostgreSQL + load driver, at each concurrency")
        for r in budget:
            print(
                f"  c={r['concurrency']:<3} broker {number(r['broker_cpu_ms'], '.1f')}"
                f" + {number(r['broker_database_cpu_ms'], '.1f')}"
                f" + {number(r['broker_driver_cpu_ms'], '.1f')}"
                f"   peer {number(r['peer_cpu_ms'], '.1f')} + 0 + {number(r['peer_driver_cpu_ms'], '.1f')}"
            )
    if summary["million_counts"]:
        print(f"(e) ran against {summary['million_counts']}; its peer column is the peer's (a)")
    if summary["password_signin"]:
        print("(d) password sign-in (broker only):", password_line(summary["password_signin"]))
    print(f"ratio = broker/peer flows per second. Written: {RESULTS}/summary.json, throughput_p99.png")


def number(value: float | None, spec: str) -> str:
    """A figure, or a dash where a run completed nothing (no ratio, no percentile)."""
    return "—" if value is None or math.isnan(value) else format(value, spec)


def password_line(report: dict[str, Any]) -> str:
    parts = [
        f"c={r['concurrency']}: {r['sign_ins_per_second']}/s p99 {r['p99_ms']:.0f} ms"
        for r in report.get("runs", [])
    ]
    peak = report.get("peak_rss_mib_after_100_concurrent")
    return "; ".join(parts) + (f"; peak memory {peak:.0f} MiB" if peak else "")


if __name__ == "__main__":
    main()
