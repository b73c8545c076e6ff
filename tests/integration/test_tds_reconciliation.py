"""TDS vs Form 26AS on a real database: the customer's TAN, our TDS per quarter, follow-up activities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dues.collections.models import Activity
from dues.core import tds26as as t
from dues.core.errors import DuesError, PermissionDenied, ValidationFailed
from dues.customers.models import Customer
from dues.customers.services import customer_update
from dues.integrations.importers import import_file
from dues.ledger.services import document_cancel
from dues.reconciliation.tds import our_tds, tds_follow_up, tds_reconciliation
from tests.core.test_tds26as import TEXT

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]
D = Decimal

# 26AS: Shree Ganesh (PNES12345A) 1,000 + 250 in Q1; Kaveri (BLRK54321C) 10,000 in Q3 (status U);
# plus a deductor we know by name only (Delta Exports, no TAN on the customer yet)
DELTA = ("3^DELTA EXPORTS^DELD11111B^^^^^300000.00^300.00^300.00\n"
         "^1^194Q^02-Aug-2025^F^31-Oct-2025^-^300000.00^300.00^300.00\n")


@pytest.fixture
def form(tmp_path):
    f = tmp_path / "AAACT1234E-2026.txt"
    f.write_text(TEXT.replace("\nPART A1", "\n" + DELTA + "PART A1"), encoding="utf-8")
    return f


@pytest.fixture
def books(company, make_customer, post):
    ganesh = make_customer("C001", name="Shree Ganesh Traders", tan="pnes12345a")
    kaveri = make_customer("C002", name="Kaveri Distributors", tan="BLRK54321C")
    make_customer("C003", name="Delta Exports")
    post("receipt", "RCT-1", ganesh, "2025-05-10", "999000", tds=D("1000"))
    post("receipt", "RCT-2", ganesh, "2025-06-12", "249750.40", tds=D("249.60"))
    post("receipt", "RCT-3", ganesh, "2025-08-20", "799200", tds=D("800"))  # not in 26AS
    post("receipt", "RCT-4", kaveri, "2025-10-20", "294000", tds=D("6000"))  # 26AS shows 10,000
    post("receipt", "RCT-0", kaveri, "2025-03-31", "99000", tds=D("1000"))  # the year before
    gone = post("receipt", "RCT-9", kaveri, "2025-11-05", "49500", tds=D("500"))
    document_cancel(document=gone, on=date(2025, 11, 6), reason="bounced", actor="test")
    post("receipt", "RCT-5", kaveri, "2025-12-01", "50000")  # no TDS
    return company


def test_the_tan_is_validated_and_imported(company, make_customer, tmp_path):
    c = make_customer("C001", tan="mum a 12345 b")
    assert c.tan == "MUMA12345B"
    with pytest.raises(ValidationFailed, match="tan: TAN MUMA1234B has the wrong length"):
        customer_update(customer=c, data={"tan": "MUMA1234B"}, actor="test")
    f = tmp_path / "customers.csv"
    f.write_text("code,name,tan\nC001,Customer C001,PNES12345A\nC002,Kaveri,12345PNESA\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as exc:
        import_file(kind="customers", path=f, company=company, actor="test")
    assert [str(p) for p in exc.value.problems] == [
        "customers.csv:3: tan: TAN 12345PNESA is not valid (four letters, five digits and a letter, like MUMA12345B)"]
    f.write_text("code,name,tan\nC001,Customer C001,PNES12345A\nC002,Kaveri,\n", encoding="utf-8")
    import_file(kind="customers", path=f, company=company, actor="test")
    assert dict(Customer.objects.values_list("code", "tan")) == {"C001": "PNES12345A", "C002": ""}


def test_our_tds_is_one_query_per_customer_and_quarter(books, django_assert_num_queries):
    with django_assert_num_queries(1):
        got = our_tds(company=books, fy=t.fiscal_year_of("2025-26"))
    assert [(o.customer, o.tan, o.quarter, o.tds, o.receipts) for o in got] == [
        ("C001", "PNES12345A", 1, D("1249.60"), 2), ("C001", "PNES12345A", 2, D("800.00"), 1),
        ("C002", "BLRK54321C", 3, D("6000.00"), 1)]  # the cancelled RCT-9 and last year's RCT-0 are out


def test_reconciliation_per_customer_and_quarter(books, form):
    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    out = report.as_json()
    rows = [(r["customer"], r["quarter"], r["status"], r["ours"], r["theirs"], r["difference"], r["unmatched_receipts"])
            for r in out["rows"]]
    assert rows == [
        ("C001", "Q1", "matched", "1249.60", "1250.00", "0.40", []),
        ("C001", "Q2", "deducted_not_in_26as", "800.00", "0.00", "-800.00", ["RCT-3"]),
        ("C002", "Q3", "in_26as_not_recorded", "6000.00", "10000.00", "4000.00", ["RCT-4"]),
    ]
    assert out["rows"][2]["not_final"] == "10000.00" and out["rows"][0]["lines_26as"] == [8, 9]
    assert out["unknown_tans"] == [{"tan": "DELD11111B", "deductor": "DELTA EXPORTS", "quarter": "Q2",
                                    "amount": "300000.00", "tds": "300.00", "lines_26as": [15],
                                    "suggestion": "C003"}]
    assert out["totals"] == {"ours": "8049.60", "matched": "1249.60", "deducted_not_in_26as": "800.00",
                             "in_26as_not_recorded": "4000.00", "rounding": "0.40", "theirs": "11250.00",
                             "unknown_tan": "300.00", "26as": "11550.00"}
    assert out["ties"] is True
    assert [(c["customer"], c["ours"], c["theirs"]) for c in out["customers"]] == [
        ("C001", "2049.60", "1250.00"), ("C002", "6000.00", "10000.00")]


def test_a_26as_of_another_year_is_refused(books, form):
    with pytest.raises(DuesError, match="is Form 26AS for FY 2025-26, not 2024-25"):
        tds_reconciliation(company=books, path=form, fy="2024-25")
    with pytest.raises(DuesError, match="not a fiscal year"):
        tds_reconciliation(company=books, path=form, fy="2025")


def test_follow_ups_are_activities_once_and_need_the_right_role(books, form):
    from dues.users.services import user_add

    report = tds_reconciliation(company=books, path=form, fy="2025-26")
    auditor, _ = user_add(username="audit1", role="auditor", password="x-pass-word-2026", actor="test")
    with pytest.raises(PermissionDenied):
        tds_follow_up(report=report, actor=auditor, on=date(2026, 11, 29))
    assert Activity.objects.count() == 0
    collector, _ = user_add(username="coll1", role="collector", password="x-pass-word-2026", actor="test")
    assert tds_follow_up(report=report, actor=collector, on=date(2026, 11, 29)) == {
        "created": 1, "existing": 0, "customers": ["C001"]}
    act = Activity.objects.get()
    assert (act.customer.code, act.subject, act.next_follow_up, act.created_by) == (
        "C001", "TDS not in Form 26AS: FY 2025-26 Q2", date(2026, 12, 6), "coll1")
    assert "RCT-3" in act.notes and "Short by 800.00" in act.notes
    assert tds_follow_up(report=report, actor=collector, on=date(2026, 11, 30))["existing"] == 1
    assert Activity.objects.count() == 1
