"""Recurring contract billing: charges imported, one unbilled delivery per period, drafted by the bill run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.core.errors import ValidationFailed

ITEMS = """code,name,hsn,unit,gst_rate,kind
AMC,Annual maintenance,998719,NOS,18,service
LIC,Software licence,997331,NOS,18,service
"""
CHARGES = """code,customer,item,rate,qty,frequency,billing_day,start,end,discount_pct,po
AMC-C001,C001,AMC,5000,1,monthly,31,2026-10-15,2027-03-31,,PO-AMC
LIC-C001,C001,LIC,1200,2,quarterly,1,2026-07-01,,10,
LIC-Y,C002,LIC,90000,,yearly,5,2026-04-05,,,
"""


@pytest.fixture
def book(company, make_customer, tmp_path):
    from dues.billing.imports import import_billing_file

    make_customer("C001", name="Patil Engineering", state="27")
    make_customer("C002", name="Kaveri Pumps", state="29", gstin="")
    for kind, text in (("items", ITEMS), ("recurring", CHARGES)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        import_billing_file(kind=kind, path=path, company=company, actor="maker")
    return company


def test_periods_are_generated_once_each(book):
    from dues.billing.models import Delivery, DeliveryLine
    from dues.billing.recurring import generate_recurring

    result = generate_recurring(company=book, up_to=date(2026, 12, 31), actor="maker")
    got = sorted((d.number, d.date) for d in result.deliveries)
    assert got == [("RC-AMC-C001-20261031", date(2026, 10, 31)), ("RC-AMC-C001-20261130", date(2026, 11, 30)),
                   ("RC-AMC-C001-20261231", date(2026, 12, 31)), ("RC-LIC-C001-20260701", date(2026, 7, 1)),
                   ("RC-LIC-C001-20261001", date(2026, 10, 1)), ("RC-LIC-Y-20260405", date(2026, 4, 5))]
    line = DeliveryLine.objects.get(delivery__number="RC-LIC-C001-20261001")
    assert (line.quantity, line.rate, line.discount_pct, line.hsn, line.gst_rate) == (
        Decimal(2), Decimal(1200), Decimal(10), "997331", Decimal(18))
    assert Delivery.objects.get(number="RC-AMC-C001-20261130").po == "PO-AMC"
    # again, and further on: only the new periods; the AMC ends on 31 March 2027
    assert generate_recurring(company=book, up_to=date(2026, 12, 31), actor="maker").count == 0
    later = generate_recurring(company=book, up_to=date(2027, 6, 30), actor="maker")
    assert sorted(d.number for d in later.deliveries) == [
        "RC-AMC-C001-20270131", "RC-AMC-C001-20270228", "RC-AMC-C001-20270331", "RC-LIC-C001-20270101",
        "RC-LIC-C001-20270401", "RC-LIC-Y-20270405"]
    assert Delivery.objects.filter(recurring_charge__isnull=False).count() == 12


def test_the_bill_run_drafts_the_periods_and_never_twice(book):
    from dues.billing.models import Bill
    from dues.billing.services import bill_run

    first = bill_run(company=book, on=date(2026, 11, 30), actor="maker")
    assert len(first.bills) == 5  # AMC Oct, Nov; LIC Jul, Oct; LIC-Y Apr
    amc = next(b for b in first.bills if first.deliveries[b.pk] == ["RC-AMC-C001-20261130"])
    assert (amc.taxable, amc.cgst, amc.sgst, amc.total) == (Decimal("5000.00"), Decimal("450.00"),
                                                             Decimal("450.00"), Decimal("5900.00"))
    assert bill_run(company=book, on=date(2026, 11, 30), actor="maker").bills == []
    assert len(bill_run(company=book, on=date(2026, 12, 31), actor="maker").bills) == 1
    assert Bill.objects.count() == 6


def test_a_unique_key_per_charge_and_period(book):
    from django.db import IntegrityError, transaction

    from dues.billing.models import Delivery, RecurringCharge
    from dues.billing.recurring import generate_recurring

    generate_recurring(company=book, up_to=date(2026, 10, 31), actor="maker")
    d = Delivery.objects.get(number="RC-AMC-C001-20261031")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(company=book, number="other", customer=d.customer, date=d.date, created_by="x",
                                recurring_charge=RecurringCharge.objects.get(code="AMC-C001"), period=d.period)


def test_reimport_updates_by_code_and_bad_rows_are_named(book, tmp_path):
    from dues.billing.imports import import_billing_file
    from dues.billing.models import RecurringCharge

    path = tmp_path / "again.csv"
    path.write_text(CHARGES.replace("5000", "5500"))
    result = import_billing_file(kind="recurring", path=path, company=book, actor="maker")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert RecurringCharge.objects.get(code="AMC-C001").rate == Decimal(5500)
    bad = tmp_path / "bad.csv"
    bad.write_text("code,customer,item,rate,frequency,billing_day,start,end\n"
                   "NEW-1,C001,AMC,100,monthly,1,2026-04-01,\n"
                   "X1,NOPE,AMC,100,monthly,1,2026-04-01,\n"
                   "X2,C001,AMC,100,weekly,1,2026-04-01,\n"
                   "X3,C001,AMC,100,monthly,32,2026-04-01,\n"
                   "X4,C001,AMC,100,monthly,1,2026-04-01,2026-03-01\n"
                   "NEW-1,C001,LIC,100,monthly,1,2026-04-01,\n")
    with pytest.raises(ValidationFailed) as exc:
        import_billing_file(kind="recurring", path=bad, company=book, actor="maker")
    assert [str(p) for p in exc.value.problems] == [
        "bad.csv:3: customer: unknown customer 'NOPE' (import customers first)",
        "bad.csv:4: frequency: 'weekly' is not monthly, quarterly or yearly",
        "bad.csv:5: billing_day: must be a day of the month, 1 to 31, got '32'",
        "bad.csv:6: end: 2026-03-01 is before start 2026-04-01",
        "bad.csv:7: code: charge NEW-1 appears twice (also at row 2)",
    ]
    assert not RecurringCharge.objects.filter(code="NEW-1").exists()


def test_bill_recurring_command(book):
    from click.testing import CliRunner

    import dues.cli.billing  # noqa: F401  (registers the commands)
    from dues.cli.main import cli

    result = CliRunner().invoke(cli, ["bill", "recurring", "--date", "2026-10-31", "--customer", "C001"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "RC-AMC-C001-20261031" in result.output and "LIC-Y" not in result.output


def test_the_recurring_billing_job(book):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from dues.jobs.jobs import JOB_FUNCTIONS

    ctx = SimpleNamespace(run=SimpleNamespace(slot=datetime(2026, 12, 31, 6, tzinfo=UTC)))
    assert JOB_FUNCTIONS["recurring_billing"](ctx).startswith("6 recurring period(s)")  # the slot's day
    assert JOB_FUNCTIONS["recurring_billing"](ctx).startswith("0 recurring period(s)")
