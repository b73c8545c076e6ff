"""``dues kpi``: receivables KPIs with their trend by month (definitions in docs/kpi.md)."""

from __future__ import annotations

import click

from dues import clock

from .main import cli
from .output import print_json, table


@cli.command()
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="first month (default: 11 months before --to)")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="last day (default today)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def kpi(obj, start, end, fmt):
    """DSO (simple and count-back), best possible DSO, ADD, CEI, overdue %, promise-kept rate and dispute
    cycle time, by month."""
    from datetime import timedelta

    from dues.reporting.kpi import kpis
    from dues.reporting.targets import collections_vs_target

    company = obj.company()
    end_d = end.date() if end else clock.today()
    start_d = start.date() if start else (end_d.replace(day=1) - timedelta(days=320)).replace(day=1)
    if start_d > end_d:
        raise click.BadParameter("--from is after --to")
    months = [m.as_dict() for m in kpis(company=company, start=start_d, end=end_d)]
    collectors = [c.as_dict() for c in collections_vs_target(company=company, start=start_d, end=end_d)]
    if fmt == "json":
        print_json({"from": start_d.isoformat(), "to": end_d.isoformat(), "months": months, "collectors": collectors,
                    "notes": []})
        return

    def v(x, suffix=""):
        return "-" if x is None else f"{x}{suffix}"

    table(f"KPIs by month, {start_d} to {end_d}",
          ["month", "DSO", "DSO count-back", "best DSO", "ADD", "CEI", "overdue", "promises kept", "dispute cycle"],
          [[m["month"], v(m["dso_simple"]), v(m["dso_count_back"]), v(m["best_possible_dso"]), v(m["add"]),
            v(m["cei"], " %"), v(m["overdue_pct"], " %"),
            v(m["promise_kept_rate"], f" % of {m['promises_due']}") if m["promises_due"] else "-",
            v(m["dispute_cycle_days"], f" d ({m['disputes_resolved']})")] for m in months],
          right=list(range(1, 9)))
    _collectors_table(collectors, f"Collections against target per collector, {start_d} to {end_d}")


def _collectors_table(rows: list[dict], title: str) -> None:
    if not rows:
        click.echo("collections against target per collector: no receipts and no targets in the period "
                   "(set one with dues target set)")
        return
    table(title, ["month", "collector", "collected", "target", "achieved"],
          [[r["month"], r["collector"], r["collected"], r["target"] or "-",
            f"{r['achieved_pct']} %" if r["achieved_pct"] is not None else "-"] for r in rows], right=[2, 3, 4])


@cli.group()
def target():
    """Collection targets per collector and month (the KPI "collections against target per collector")."""


@target.command("set")
@click.argument("collector")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--amount", required=True, help="the month's target, e.g. 500000 or 5,00,000")
@click.pass_obj
def target_set_cmd(obj, collector, month, amount):
    """Set COLLECTOR's collection target for a month (admin / AR manager; audited)."""
    from dues.reporting.targets import target_set

    t = target_set(company=obj.company(), collector=collector, month=month, amount=amount, actor=obj.user)
    click.echo(f"target for {t.collector} in {t.month:%Y-%m}: {t.amount.normalize():f}")


@target.command("list")
@click.option("--month", help="YYYY-MM (default: this month)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def target_list_cmd(obj, month, fmt):
    """Each collector's target and what was collected in the month (to today for this month)."""
    from dues.reporting.kpi import month_end
    from dues.reporting.targets import collections_vs_target, parse_month

    first = parse_month(month) if month else clock.today().replace(day=1)
    end = min(month_end(first), clock.today()) if first <= clock.today() else month_end(first)
    rows = [c.as_dict() for c in collections_vs_target(company=obj.company(), start=first, end=end)]
    if fmt == "json":
        print_json({"month": f"{first:%Y-%m}", "to": end.isoformat(), "collectors": rows})
        return
    _collectors_table(rows, f"Collections against target, {first:%Y-%m} (to {end})")
