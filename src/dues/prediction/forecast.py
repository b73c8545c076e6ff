"""Live prediction: a payment date for every open invoice, and the cash-collection forecast by week.

Pure: the caller reads the ledger (``dues.reporting.forecast``) and passes paid invoices and open ones.
Three models share the features of the back-test (plus the disputed flag, which is known live): the
median (absolute-error loss) gives the expected date, the 10 % and 90 % quantiles the early and late
dates. The forecast adds each open invoice's residual to the week of its expected date; its range is
the cumulative collection if every invoice paid at its late date (low) or its early date (high).
An expected date already past is taken as today: the invoice is still open, so it has not been paid yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .features import CustomerHistory, Paid, invoice_features

WEEKS = 13


@dataclass(frozen=True)
class OpenInvoice:
    number: str
    customer: str
    invoice_date: date
    due_date: date
    residual: Decimal
    disputed: bool = False


@dataclass(frozen=True)
class PaidInvoice:
    customer: str
    invoice_date: date
    due_date: date
    paid_date: date
    amount: Decimal
    disputed: bool = False


@dataclass(frozen=True)
class Prediction:
    invoice: OpenInvoice
    expected: date
    early: date
    late: date


def predict_open(paid: list[PaidInvoice], open_items: list[OpenInvoice], today: date) -> list[Prediction]:
    from .model import DaysToPayModel

    by_customer: dict[str, list[Paid]] = defaultdict(list)
    for p in paid:
        by_customer[p.customer].append(Paid(p.invoice_date, p.due_date, p.paid_date, float(p.amount)))
    histories = {c: CustomerHistory(ps) for c, ps in by_customer.items()}
    empty = CustomerHistory([])

    def rows(items):
        return [invoice_features(i.invoice_date, i.due_date, float(getattr(i, "residual", None) or i.amount),
                                 histories.get(i.customer, empty).before(i.invoice_date), i.disputed) for i in items]

    train = rows(paid)
    y = [(p.paid_date - p.invoice_date).days for p in paid]
    test = rows(open_items)
    out = {}
    for name, q in (("expected", None), ("early", 0.1), ("late", 0.9)):
        out[name] = DaysToPayModel(quantile=q).fit(train, y).predict(test) if y else [30.0] * len(test)

    result = []
    for k, inv in enumerate(open_items):
        days = sorted(max(0.0, out[n][k]) for n in ("early", "expected", "late"))
        when = [max(today, inv.invoice_date + timedelta(days=round(d))) for d in days]
        result.append(Prediction(inv, when[1], when[0], when[2]))
    return result


def weekly_forecast(predictions: list[Prediction], today: date, weeks: int = WEEKS) -> dict:
    """Collections by week for ``weeks`` weeks from today: expected, and the cumulative range."""

    def week_of(on: date) -> int:
        return (on - today).days // 7

    expected = [Decimal(0)] * weeks
    early = [Decimal(0)] * weeks
    late = [Decimal(0)] * weeks
    later = Decimal(0)
    for p in predictions:
        amount = p.invoice.residual
        w = week_of(p.expected)
        if w < weeks:
            expected[w] += amount
        else:
            later += amount
        if week_of(p.early) < weeks:
            early[week_of(p.early)] += amount
        if week_of(p.late) < weeks:
            late[week_of(p.late)] += amount
    rows = []
    cum = cum_low = cum_high = Decimal(0)
    for w in range(weeks):
        cum += expected[w]
        cum_low += late[w]
        cum_high += early[w]
        start = today + timedelta(days=7 * w)
        rows.append({"week": w + 1, "start": start.isoformat(), "end": (start + timedelta(days=6)).isoformat(),
                     "expected": expected[w], "cumulative_expected": cum,
                     "cumulative_low": min(cum_low, cum), "cumulative_high": max(cum_high, cum)})
    total = sum((p.invoice.residual for p in predictions), Decimal(0))
    return {"as_of": today.isoformat(), "weeks": rows, "after_13_weeks": later, "open_total": total}
