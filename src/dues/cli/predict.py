"""``dues predict backtest`` and ``dues bench predict``: payment-date prediction measured on history files.

scikit-learn is imported only inside these commands (dues.prediction.model), so start-up stays fast.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click

from .bench import bench
from .main import cli
from .output import print_json, table

SPLITS = ("2012-10-01", "2013-01-01", "2013-04-01", "2013-07-01")


def _default_ibm() -> Path:
    root = os.environ.get("DUES_SHARED_DATA") or Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(root) / "payments" / "WA_Fn-UseC_-Accounts-Receivable.csv"


def _pct(x):
    return "-" if x is None else f"{x:.1f} %"


def _days(x):
    return "-" if x is None else f"{x:.2f}"


@cli.group()
def predict():
    """Payment-date prediction (see docs/prediction.md)."""


@predict.command("backtest")
@click.argument("history", type=click.Path(exists=True, dir_okay=False))
@click.option("--split-date", "split", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="train on invoices dated before D, predict the rest")
@click.option("--disputed/--no-disputed", "use_disputed", default=False, show_default=True,
              help="use the disputed column as a feature (when the file has one)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def backtest(history, split, use_disputed, fmt):
    """Back-test on HISTORY (customer,invoice,invoice_date,due_date,amount,paid_date[,disputed])."""
    from dues.prediction.backtest import predict_split
    from dues.prediction.history import read_history

    result = predict_split(read_history(history), split.date(), use_disputed=use_disputed)
    if fmt == "json":
        print_json(result.as_dict())
        return
    table(f"Back-test, split {result.split_date}", ["figure", "value"], [
        ["training invoices (dated before the split)", result.train_rows],
        ["predicted invoices", result.test_rows],
        ["scored (paid_date readable)", result.scored_rows],
        ["model MAE, days", _days(result.mae_days)],
        ["baseline MAE, days (customer mean)", _days(result.baseline_mae_days)],
        ["improvement", _pct(None if result.improvement is None else 100 * result.improvement)],
    ], right=[1])


def run_bench(rows, splits, monthly_from, monthly_to, use_disputed=False) -> dict:
    from dues.prediction.backtest import expanding_monthly, predict_split

    out = {"splits": [], "monthly": None}
    for s in splits:
        r = predict_split(rows, s, use_disputed=use_disputed).as_dict()
        r.pop("predictions")
        out["splits"].append(r)
    if monthly_from and monthly_to:
        out["monthly"] = expanding_monthly(rows, monthly_from, monthly_to, use_disputed=use_disputed)
    return out


@bench.command("predict")
@click.option("--history", type=click.Path(exists=True, dir_okay=False),
              help="a HISTORY csv (default: the IBM sample in ../shared/data/payments, or $DUES_SHARED_DATA)")
@click.option("--split", "splits", multiple=True, type=click.DateTime(["%Y-%m-%d"]),
              help=f"split dates (default {', '.join(SPLITS)})")
@click.option("--monthly-from", type=click.DateTime(["%Y-%m-%d"]), default="2013-01-01", show_default=True)
@click.option("--monthly-to", type=click.DateTime(["%Y-%m-%d"]), default="2013-11-30", show_default=True)
@click.option("--no-monthly", is_flag=True, help="only the split dates")
@click.option("--disputed", "use_disputed", is_flag=True, help="also use the disputed flag")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def bench_predict(history, splits, monthly_from, monthly_to, no_monthly, use_disputed, fmt):
    """Back-test figures, model against the per-customer-mean baseline, at several split dates and over
    an expanding monthly window (train on all before the month, predict the month)."""
    from dues.prediction.history import read_history, read_ibm

    if history:
        rows = read_history(history)
    else:
        path = _default_ibm()
        if not path.is_file():
            raise click.ClickException(f"no IBM sample at {path} (give --history or set DUES_SHARED_DATA)")
        rows = read_ibm(path)
    split_dates = [d.date() for d in splits] or [date.fromisoformat(s) for s in SPLITS]
    res = run_bench(rows, split_dates, None if no_monthly else monthly_from.date(),
                    None if no_monthly else monthly_to.date(), use_disputed)
    if fmt == "json":
        print_json(res)
        return
    table("Back-test at split dates" + (" (with disputed)" if use_disputed else ""),
          ["split", "train", "test", "model MAE", "baseline MAE", "improvement"],
          [[r["split_date"], r["train_rows"], r["test_rows"], _days(r["mae_days"]), _days(r["baseline_mae_days"]),
            _pct(r["improvement_pct"])] for r in res["splits"]], right=[1, 2, 3, 4, 5])
    m = res["monthly"]
    if m:
        rows_out = [[x["month"], x["test_rows"], _days(x["mae_days"]), _days(x["baseline_mae_days"])] for x in m["months"]]
        rows_out.append(["pooled", m["test_rows"], _days(m["mae_days"]), _days(m["baseline_mae_days"])])
        table(f"Expanding monthly window: improvement {_pct(m['improvement_pct'])}",
              ["month", "test", "model MAE", "baseline MAE"], rows_out, right=[1, 2, 3])
