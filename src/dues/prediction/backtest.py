"""The back-test: train on invoices dated before the split date, predict the payment date of the rest.

Only what is known at invoice time is used. An invoice's features come from its customer's invoices
paid before its invoice date, and only invoices dated before the split date count as paid history at
all: the ``paid_date`` of an invoice dated on or after the split date is never read while predicting
(``Invoice.paid_date()`` is called for training rows only). Scoring reads the truth afterwards, and
leaves out rows whose ``paid_date`` is not a date.

Baseline: each customer's mean days-to-pay over the training rows (the overall mean for a customer
with none), as the issue defines it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from .features import CustomerHistory, Paid, invoice_features
from .history import HistoryError, Invoice


@dataclass
class BacktestResult:
    split_date: date
    predictions: list[dict]  # invoice, predicted_paid_date (ISO), baseline_paid_date (ISO)
    mae_days: float | None
    baseline_mae_days: float | None
    train_rows: int
    test_rows: int
    scored_rows: int
    extra: dict = field(default_factory=dict)

    @property
    def improvement(self) -> float | None:
        if not self.mae_days or not self.baseline_mae_days:
            return None
        return 1 - self.mae_days / self.baseline_mae_days

    def as_dict(self, *, with_baseline: bool = False) -> dict:
        preds = self.predictions if with_baseline else [
            {"invoice": p["invoice"], "predicted_paid_date": p["predicted_paid_date"]} for p in self.predictions]
        imp = self.improvement
        return {
            "split_date": self.split_date.isoformat(),
            "train_rows": self.train_rows,
            "test_rows": self.test_rows,
            "scored_rows": self.scored_rows,
            "mae_days": None if self.mae_days is None else round(self.mae_days, 3),
            "baseline_mae_days": None if self.baseline_mae_days is None else round(self.baseline_mae_days, 3),
            "improvement_pct": None if imp is None else round(100 * imp, 2),
            "predictions": preds,
        }


def _training_paid(train: list[Invoice]) -> dict[str, list[Paid]]:
    paid: dict[str, list[Paid]] = defaultdict(list)
    for r in train:
        try:
            on = r.paid_date()
        except ValueError as exc:
            raise HistoryError(f"invoice {r.invoice} (dated before the split): paid_date: {exc}") from None
        if on is not None:
            paid[r.customer].append(Paid(r.invoice_date, r.due_date, on, float(r.amount)))
    return paid


def _rows(invoices: list[Invoice], histories: dict[str, CustomerHistory], use_disputed: bool) -> list[list[float]]:
    empty = CustomerHistory([])
    return [invoice_features(r.invoice_date, r.due_date, float(r.amount),
                             histories.get(r.customer, empty).before(r.invoice_date),
                             r.disputed if use_disputed else None) for r in invoices]


def predict_split(rows: list[Invoice], split: date, *, use_disputed: bool = False, **params) -> BacktestResult:
    """Train on rows dated before ``split``, predict the others (never reading their paid_date)."""
    from .model import DaysToPayModel

    train = [r for r in rows if r.invoice_date < split]
    test = [r for r in rows if r.invoice_date >= split]
    paid = _training_paid(train)
    histories = {c: CustomerHistory(p) for c, p in paid.items()}

    fit_rows = [r for r in train if r.paid_date() is not None]
    y = [(r.paid_date() - r.invoice_date).days for r in fit_rows]
    model = DaysToPayModel(**params).fit(_rows(fit_rows, histories, use_disputed), y)
    predicted = model.predict(_rows(test, histories, use_disputed))

    # baseline: the customer's mean days-to-pay over training rows, else the overall mean
    overall = sum(y) / len(y) if y else 30.0
    mean_by_customer = {c: sum(p.days for p in ps) / len(ps) for c, ps in paid.items()}

    predictions = []
    for r, days in zip(test, predicted, strict=True):
        base = mean_by_customer.get(r.customer, overall)
        predictions.append({
            "invoice": r.invoice,
            "predicted_paid_date": (r.invoice_date + timedelta(days=round(max(days, 0.0)))).isoformat(),
            "baseline_paid_date": (r.invoice_date + timedelta(days=round(base))).isoformat(),
        })
    result = BacktestResult(split, predictions, None, None, len(train), len(test), 0)
    score(result, test)
    return result


def score(result: BacktestResult, test: list[Invoice]) -> None:
    """Fill in the MAE of model and baseline from the test rows' true paid dates (after predicting)."""
    errs, base_errs = [], []
    for r, p in zip(test, result.predictions, strict=True):
        try:
            truth = r.paid_date()
        except ValueError:
            continue
        if truth is None:
            continue
        errs.append(abs((date.fromisoformat(p["predicted_paid_date"]) - truth).days))
        base_errs.append(abs((date.fromisoformat(p["baseline_paid_date"]) - truth).days))
    result.scored_rows = len(errs)
    if errs:
        result.mae_days = sum(errs) / len(errs)
        result.baseline_mae_days = sum(base_errs) / len(base_errs)


def expanding_monthly(rows: list[Invoice], first: date, last: date, *, use_disputed: bool = False) -> dict:
    """An expanding window: for each month from ``first`` to ``last``, train on everything dated before
    the month and predict that month's invoices only. Returns per-month and pooled MAE."""
    months = []
    on = first.replace(day=1)
    while on <= last:
        nxt = (on.replace(day=28) + timedelta(days=4)).replace(day=1)
        window = [r for r in rows if r.invoice_date < nxt]
        res = predict_split(window, on, use_disputed=use_disputed)
        months.append({"month": on.strftime("%Y-%m"), "test_rows": res.scored_rows,
                       "mae_days": res.mae_days, "baseline_mae_days": res.baseline_mae_days})
        on = nxt
    n = sum(m["test_rows"] for m in months)
    model = sum(m["mae_days"] * m["test_rows"] for m in months if m["mae_days"] is not None) / n if n else None
    base = sum(m["baseline_mae_days"] * m["test_rows"] for m in months if m["baseline_mae_days"] is not None) / n if n else None
    return {"months": months, "test_rows": n, "mae_days": model, "baseline_mae_days": base,
            "improvement_pct": (100 * (1 - model / base)) if model and base else None}
