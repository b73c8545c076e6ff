"""Disputes (issue 5): the disputed part is held back from dunning and shown apart in ageing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

D = date(2026, 11, 30)


def days(n: int) -> date:
    return D + timedelta(days=n)


@pytest.fixture
def outbox(monkeypatch, tmp_path):
    monkeypatch.delenv("DUES_SMTP_URL", raising=False)
    monkeypatch.delenv("DUES_SMS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("DUES_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "outbox"


@pytest.fixture
def books(company, make_customer, post):
    """C001: INV-1 10,000 (dispute 5,000, then 6,000 paid: 4,000 left, all of it disputed) and INV-2
    20,000 (2,500 disputed). C002: INV-3 8,000 with a rejected dispute and one resolved by CN-1 (1,000)."""
    from dues.collections.services.disputes import dispute_open, dispute_resolve

    acme = make_customer("C001", name="Acme Fasteners", email="accounts@acme.example")
    zen = make_customer("C002", name="Zenith Polymers", email="ap@zenith.example")
    post("invoice", "INV-1", acme, days(-40), "10000", due_date=days(-10))
    post("invoice", "INV-2", acme, days(-31), "20000", due_date=days(-1))
    post("invoice", "INV-3", zen, days(-31), "8000", due_date=days(-1))
    dispute_open(company=company, invoice="INV-1", amount="5000", reason="damaged", owner="dispatch", actor="test",
                 opened_on=days(-8))
    post("receipt", "RCT-1", acme, days(-3), "6000", allocations=[("INV-1", Decimal("6000"))])
    dispute_open(company=company, invoice="INV-2", amount="2500.50", reason="price", owner="sales", actor="test",
                 opened_on=days(-1))
    rejected = dispute_open(company=company, invoice="INV-3", amount="3000", reason="quantity", owner="dispatch",
                            actor="test", opened_on=days(-6))
    dispute_resolve(dispute=rejected, rejected=True, actor="test", on=days(-2))
    credited = dispute_open(company=company, invoice="INV-3", amount="1000", reason="tax", owner="finance",
                            actor="test", opened_on=days(-6))
    post("credit_note", "CN-1", zen, days(-2), "1000", allocations=[("INV-3", Decimal("1000"))])
    dispute_resolve(dispute=credited, credit_note="CN-1", actor="test", on=days(-2))
    return acme, zen


def by_key(report):
    return {r.key: r for r in report.rows}


def test_disputed_column_is_the_open_disputes_capped_at_the_residual(company, books):
    from dues.reporting.selectors import ageing, ageing_summary

    report = ageing(company=company, as_of=D)
    rows = by_key(report)
    # INV-1: 5,000 disputed but only 4,000 left: capped; INV-2: 2,500.50
    assert rows["C001"].disputed == Decimal("6500.50")
    assert rows["C001"].total == Decimal("24000")  # the buckets still add up to the whole outstanding
    # C002: one dispute rejected, one resolved by a credit note: nothing counted
    assert rows["C002"].disputed == 0 and rows["C002"].total == Decimal("7000")
    assert report.totals.disputed == Decimal("6500.50") and report.totals.total == Decimal("31000")

    # a breakdown, not a deduction: the figures are those of the report without it
    plain = ageing(company=company, as_of=D, disputed=False)
    assert [(r.key, r.buckets, r.unapplied, r.total) for r in plain.rows] == \
        [(r.key, r.buckets, r.unapplied, r.total) for r in report.rows]
    assert all(r.disputed == 0 for r in plain.rows)

    summary = ageing_summary(company=company, as_of=D)
    assert summary.totals.disputed == Decimal("6500.50") and summary.totals.total == Decimal("31000")
    assert summary.totals.buckets == report.totals.buckets

    # by salesperson / one customer: the same figure
    assert ageing(company=company, as_of=D, by="salesperson").totals.disputed == Decimal("6500.50")
    assert ageing(company=company, as_of=D, customer=books[1]).totals.disputed == 0


def test_disputed_as_of_earlier_dates(company, books):
    from dues.reporting.selectors import ageing

    def disputed(on):
        return {r.key: r.disputed for r in ageing(company=company, as_of=on).rows}

    # before INV-1's dispute was opened: nothing; INV-2's dispute not yet opened either
    assert disputed(days(-9)) == {"C001": 0, "C002": 0}
    # after it opened, before the receipt: the whole 5,000 (residual 10,000); C002's two opened on D-6
    assert disputed(days(-5)) == {"C001": Decimal("5000"), "C002": Decimal("4000")}
    # C002's disputes were still active on D-4 (closed on D-2): 4,000 of its 8,000
    assert disputed(days(-4))["C002"] == Decimal("4000")
    assert disputed(days(-2))["C002"] == 0  # closed that day


def test_cli_json_csv_and_table_carry_disputed(company, books, tmp_path):
    from click.testing import CliRunner

    import dues.cli.reports  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    result = CliRunner().invoke(cli, ["ageing", "--as-of", D.isoformat(), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {r["key"]: r for r in data["rows"]}
    assert rows["C001"]["disputed"] == "6500.50" and rows["C002"]["disputed"] == "0.00"
    assert rows["C001"]["total"] == "24000.00"  # existing keys unchanged
    assert data["totals"]["disputed"] == "6500.50" and data["totals"]["total"] == "31000.00"

    result = CliRunner().invoke(cli, ["ageing", "--as-of", D.isoformat(), "--format", "csv"], catch_exceptions=False)
    lines = [line.split(",") for line in result.output.strip().splitlines()]
    assert lines[0][-2:] == ["total", "disputed"]
    assert lines[-1][0] == "TOTAL" and lines[-1][-2:] == ["31000.00", "6500.50"]

    target = tmp_path / "ageing.xlsx"
    result = CliRunner().invoke(cli, ["ageing", "--as-of", D.isoformat(), "--format", "xlsx", "-o", str(target)],
                                catch_exceptions=False)
    from openpyxl import load_workbook

    ws = load_workbook(target).worksheets[0]
    assert ws.cell(row=1, column=ws.max_column).value == "Of which disputed"
    assert ws.cell(row=ws.max_row, column=ws.max_column).value == 6500.5

    result = CliRunner().invoke(cli, ["ageing", "--as-of", D.isoformat()], catch_exceptions=False)
    assert "disputed" in result.output and "6,500.50" in result.output


def test_dunning_sends_the_undisputed_part_and_skips_a_fully_disputed_invoice(company, books, outbox):
    from dues.collections.models import Activity, DunningAction
    from dues.collections.services.dunning import collect_run

    actions = [a.as_json() for a in collect_run(company=company, on=D, actor="test").actions]
    sent = sorted((a["customer"], a["items"], Decimal(a["amount"])) for a in actions if a["status"] == "sent")
    # INV-2: 20,000 less 2,500.50 disputed; INV-3: its disputes are closed, all 7,000 left is dunned
    assert sent == [("C001", ["INV-2"], Decimal("17499.50")), ("C002", ["INV-3"], Decimal("7000.00"))]
    skipped = [(a["customer"], a["items"], a["reason"]) for a in actions if a["status"] == "skipped"]
    assert skipped == [("C001", ["INV-1"], "disputed item(s) left out")]  # 4,000 left, 5,000 disputed
    assert DunningAction.objects.get(customer=books[0]).amount == Decimal("17499.50")

    body = Activity.objects.get(customer=books[0], action__isnull=False).notes
    assert "17,499.50" in body and "20,000.00" not in body
    assert "2,500.50 under dispute not included" in body


def test_web_ageing_shows_the_disputed_column_only_when_a_dispute_exists(client, company, books):
    from django.contrib.auth import get_user_model

    from dues.users.models import UserRole

    user = get_user_model().objects.create_user("manager", password="x")
    UserRole.objects.create(user=user, role="ar_manager")
    client.force_login(user)
    page = client.get(f"/ageing/?as_of={D.isoformat()}").content.decode()
    assert "Of which disputed" in page and "6,500.50" in page
    earlier = client.get(f"/ageing/?as_of={days(-9).isoformat()}").content.decode()
    assert "Of which disputed" not in earlier
