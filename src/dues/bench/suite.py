"""``dues bench all``: every benchmark, each on a scratch database of its own, in one run and one JSON file.

Each benchmark runs as its own ``dues --db URL bench NAME --format json`` process on a new SQLite file or a
new PostgreSQL database (dropped afterwards), the way an operator would run it; this module only chooses the
sizes, collects the figures, sets each one beside its baseline and target, and writes them all to one JSON
file that docs/performance.md tabulates. A benchmark that fails, or whose cross-check disagrees (the
selector against DuckDB), fails the run; a missed speed target is reported, not failed on.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dues import __version__, clock

# What each figure is held to: (figure, target text, test). The baselines measured in the same run (DuckDB on
# the same rows) are in the figures themselves; the ratios are the comparison.
TARGETS: dict[str, list[tuple[str, str, Callable[[float], bool]]]] = {
    "ageing": [("summary_fastest_ratio", "<= 3x DuckDB's fastest", lambda v: v <= 3),
               ("summary_changed_fastest_ratio", "<= 3x DuckDB's fastest", lambda v: v <= 3),
               ("fastest_ratio", "<= 3x DuckDB's fastest", lambda v: v <= 3),
               ("past_as_of_fastest_ratio", "<= 3x DuckDB's fastest", lambda v: v <= 3)],
    "ageing-small": [("seconds", "<= 0.010 s", lambda v: v <= 0.010)],
    "posting": [("documents_per_second", ">= 5,000", lambda v: v >= 5000)],
    "web": [("slowest_p95_ms", "<= 200 ms", lambda v: v <= 200)],
    "cash-apply": [("invoice_auto_apply_rate_pct", ">= 90 %", lambda v: v >= 90),
                   ("auto_applied_precision_pct", ">= 99.5 %", lambda v: v >= 99.5)],
}
# the figures the summary shows for each benchmark, with the baseline they are read against
SHOWN: dict[str, list[str]] = {
    "ageing": ["summary_seconds", "summary_fastest_ratio", "summary_changed_seconds", "summary_changed_fastest_ratio",
               "summary_build_seconds", "seconds", "duckdb_stored_seconds", "duckdb_seconds", "fastest_ratio",
               "past_as_of_seconds",
               "past_as_of_duckdb_stored_seconds", "past_as_of_duckdb_seconds", "past_as_of_fastest_ratio",
               "totals_agree"],
    "ageing-small": ["seconds", "duckdb_stored_seconds", "fastest_ratio", "past_as_of_seconds", "totals_agree"],
    "posting": ["documents_per_second", "invoices_per_second", "receipts_per_second", "single_receipt_median_ms",
                "single_receipt_p95_ms"],
    "web": ["pages_measured", "slowest_p95_ms", "pages_over_target"],
    "cash-apply": ["identification_rate_pct", "invoice_auto_apply_rate_pct", "auto_applied_precision_pct",
                   "lines_per_second"],
}


@dataclass(frozen=True)
class Sizes:
    open_items: int = 1_000_000
    small_open_items: int = 2_500  # with twice as many settled: a 7,500-invoice book
    documents: int = 20_000
    customers: int = 100_000
    cash_lines: int = 10_000
    cash_open_items: int = 1_000_000
    web_runs: int = 20


def plan(sizes: Sizes) -> list[tuple[str, list[str], bool]]:
    """(name, the bench command's arguments, whether it runs on each database or once, on SQLite)."""
    return [
        ("ageing", ["ageing", "--open-items", str(sizes.open_items)], True),
        ("ageing-small", ["ageing", "--open-items", str(sizes.small_open_items)], True),
        ("posting", ["posting", "--documents", str(sizes.documents)], True),
        ("web", ["web", "--customers", str(sizes.customers), "--runs", str(sizes.web_runs)], True),
        ("cash-apply", ["cash-apply", "--lines", str(sizes.cash_lines), "--open-items", str(sizes.cash_open_items)],
         False),
    ]


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def postgres_reachable(server: str) -> bool:
    try:
        _pg_admin(server, "SELECT 1")
    except Exception:  # any failure to connect: the runs on PostgreSQL are skipped, and the result says so
        return False
    return True


class Scratch:
    """A new, empty database of one kind for each benchmark, removed after it."""

    def __init__(self, work: Path, pg_server: str):
        self.work, self.pg_server = work, pg_server.rstrip("/")
        self.pg_name: str | None = None

    def new(self, database: str) -> str:
        self.drop()
        if database == "sqlite":
            path = self.work / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
            return f"sqlite:///{path}"
        self.pg_name = f"dues_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _pg_admin(self.pg_server, f'CREATE DATABASE "{self.pg_name}"')
        return f"{self.pg_server}/{self.pg_name}"

    def drop(self) -> None:
        for path in self.work.glob("bench-*.sqlite3*"):
            path.unlink()
        if self.pg_name:
            _pg_admin(self.pg_server, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self.pg_name = None


def judge(name: str, figures: dict) -> list[dict]:
    out = []
    for figure, target, test in TARGETS.get(name, []):
        value = figures.get(figure)
        out.append({"figure": figure, "value": value, "target": target,
                    "met": value is not None and bool(test(value))})
    return out


def run(*, sizes: Sizes, databases: list[str], pg_server: str, quiet: bool = False,
        say: Callable[[str], None] = print) -> dict:
    """Every benchmark on every database given; the whole result (see the module's docstring)."""
    started = time.perf_counter()
    results: list[dict] = []
    skipped: list[str] = []
    if "postgresql" in databases and not postgres_reachable(pg_server):
        databases = [d for d in databases if d != "postgresql"]
        skipped.append(f"postgresql: not reachable at {pg_server}")
    with tempfile.TemporaryDirectory(prefix="dues-bench-all-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "DUES_HOME": str(work)}
        env.pop("DUES_DATABASE_URL", None)
        scratch = Scratch(work, pg_server)
        try:
            for name, args, per_database in plan(sizes):
                for database in databases if per_database else ["sqlite"]:
                    url = scratch.new(database)
                    say(f"== {name} on {database}: dues bench {' '.join(args)}")
                    begun = time.perf_counter()
                    command = [sys.executable, "-m", "dues.cli.main", "--db", url, "bench", *args, "--format",
                               "json", *(["--quiet"] if quiet else [])]
                    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
                    entry = {"bench": name, "database": database, "command": " ".join(["dues", "bench", *args]),
                             "exit_code": proc.returncode, "wall_seconds": round(time.perf_counter() - begun, 1)}
                    try:
                        entry["figures"] = json.loads(proc.stdout)
                    except ValueError:
                        entry["figures"] = {}
                        entry["output"] = proc.stdout[-2000:]
                    entry["targets"] = judge(name, entry["figures"])
                    results.append(entry)
        finally:
            scratch.drop()
    return {
        "dues_version": __version__,
        "measured_at": clock.now().isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "sizes": sizes.__dict__,
        "databases": databases,
        "skipped": skipped,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
        "failed": [f"{r['bench']} on {r['database']}" for r in results
                   if r["exit_code"] != 0 or r["figures"].get("totals_agree") is False],
    }


def _shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def markdown(result: dict) -> str:
    """The figures as a Markdown table: benchmark, database, figure, value, target and whether it is met."""
    lines = ["| benchmark | database | figure | value | target |", "|---|---|---|---|---|"]
    for entry in result["results"]:
        figures = entry["figures"]
        targets = {t["figure"]: t for t in entry["targets"]}
        label = f"{entry['bench']} (`{entry['command']}`)"
        if not figures:
            lines.append(f"| {label} | {entry['database']} | exit code {entry['exit_code']} | failed | |")
            continue
        for figure in SHOWN.get(entry["bench"], []):
            if figure not in figures:
                continue
            t = targets.get(figure)
            target = f"{t['target']}: **{'met' if t['met'] else 'MISSED'}**" if t else ""
            lines.append(f"| {label} | {entry['database']} | `{figure}` | {_shown(figures[figure])} | {target} |")
    return "\n".join(lines) + "\n"
