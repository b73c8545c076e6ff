"""``dues kpi``: receivables KPIs with their trend by month (definitions in docs/kpi.md)."""

from __future__ import annotations

import click

from dues import clock

from .main import cli
from .output import print_json, table

NO_TARGET = ("collections against target per collector: omitted, dues keeps no collection targets yet "
             "(see docs/kpi.md)")


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

    company = obj.company()
    end_d = end.date() if end else clock.today()
    start_d = start.date() if start else (end_d.replace(day=1) - timedelta(days=320)).replace(day=1)
    if start_d > end_d:
        raise click.BadParameter("--from is after --to")
    months = [m.as_dict() for m in kpis(company=company, start=start_d, end=end_d)]
    if fmt == "json":
        print_json({"from": start_d.isoformat(), "to": end_d.isoformat(), "months": months, "notes": [NO_TARGET]})
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
    click.echo(NO_TARGET)
