"""``dues risk``: each customer's risk grade A–E with its reasons, and the slow-paying / high-risk list."""

from __future__ import annotations

import click

from dues import clock

from .main import cli
from .output import money_text, print_json, table


@cli.command()
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="grade as of this date (default today)")
@click.option("--stored", is_flag=True, help="show the grades as last computed (by the scheduler), do not recompute")
@click.option("--all", "show_all", is_flag=True, help="every customer, not only grades C to E")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def risk(obj, as_of, stored, show_all, fmt):
    """Risk grades (A best, E worst) with reasons in words and the suggested action. By default
    recomputes them (``recompute_risk``) and lists the slow-paying and high-risk customers (C to E)."""
    from decimal import Decimal

    from dues.risk.models import CustomerRisk
    from dues.risk.services import recompute_risk

    company = obj.company()
    if not stored:
        recompute_risk(as_of.date() if as_of else clock.today(), company=company)
    qs = CustomerRisk.objects.filter(company=company).select_related("customer").order_by("-points", "customer__code")
    if not show_all:
        qs = qs.filter(grade__in=("C", "D", "E"))
    rows = [{"customer": r.customer.code, "name": r.customer.name, "grade": r.grade, "points": r.points,
             "reasons": r.reasons, "action": r.action, "outstanding": r.figures.get("outstanding", "0"),
             "as_of": r.as_of.isoformat()} for r in qs]
    if fmt == "json":
        counts = dict.fromkeys("ABCDE", 0)
        for g in CustomerRisk.objects.filter(company=company).values_list("grade", flat=True):
            counts[g] += 1
        print_json({"grades": counts, "customers": rows})
        return
    table("Risk grades" + ("" if show_all else ": slow-paying and high-risk customers (C to E)"),
          ["customer", "grade", "outstanding", "reasons", "suggested action"],
          [[f"{r['customer']} {r['name']}", r["grade"], money_text(Decimal(r["outstanding"])), "; ".join(r["reasons"]),
            r["action"]] for r in rows], right=[2])
