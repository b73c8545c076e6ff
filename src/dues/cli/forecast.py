"""``dues forecast``: a predicted payment date for every open invoice, and 13 weeks of expected collections."""

from __future__ import annotations

from decimal import Decimal

import click

from dues import clock

from .main import cli
from .output import money_text, print_json, table


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


@cli.command()
@click.option("--invoices", "show_invoices", is_flag=True, help="also list each open invoice's predicted dates")
@click.option("--save/--no-save", default=True, show_default=True, help="keep it for the dashboard card")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def forecast(obj, show_invoices, save, fmt):
    """Cash-collection forecast for the next 13 weeks (expected, with a range), from each open invoice's
    predicted payment date (gradient boosting over the customer's paid history; disputes count)."""
    from dues.prediction.forecast import predict_open, weekly_forecast
    from dues.reporting.forecast import prediction_inputs

    company = obj.company()
    today = clock.today()
    paid, open_items = prediction_inputs(company=company, as_of=today)
    predictions = predict_open(paid, open_items, today)
    report = weekly_forecast(predictions, today)
    if save:
        from dues.risk.services import save_forecast

        save_forecast(company, report, len(paid))
    if fmt == "json":
        data = {**report, "trained_on_paid_invoices": len(paid),
                "weeks": [{k: (_money(v) if k.startswith(("expected", "cumulative")) else v) for k, v in w.items()}
                          for w in report["weeks"]],
                "after_13_weeks": _money(report["after_13_weeks"]), "open_total": _money(report["open_total"]),
                "invoices": [{"invoice": p.invoice.number, "customer": p.invoice.customer,
                              "residual": _money(p.invoice.residual), "disputed": p.invoice.disputed,
                              "predicted_paid_date": p.expected.isoformat(), "early": p.early.isoformat(),
                              "late": p.late.isoformat()} for p in predictions]}
        print_json(data)
        return
    table(f"Collections forecast from {today} ({len(open_items)} open invoices, model trained on {len(paid)} paid)",
          ["week", "from", "to", "expected", "cumulative", "cumulative range"],
          [[w["week"], w["start"], w["end"], money_text(w["expected"]), money_text(w["cumulative_expected"]),
            f"{money_text(w['cumulative_low'])} – {money_text(w['cumulative_high'])}"] for w in report["weeks"]],
          right=[3, 4, 5])
    table("", ["", "amount"], [["expected after 13 weeks", money_text(report["after_13_weeks"])],
                               ["open invoices in all", money_text(report["open_total"])]], right=[1])
    if show_invoices:
        table("Predicted payment dates", ["invoice", "customer", "residual", "expected", "early", "late", "disputed"],
              [[p.invoice.number, p.invoice.customer, money_text(p.invoice.residual), p.expected, p.early, p.late,
                "yes" if p.invoice.disputed else ""] for p in predictions], right=[2])
