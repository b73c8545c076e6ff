"""Every native Tally export in shared/data/tally/native imported with ``dues import tally``, checked
against the figures a person reads in the files (see shared/data/SOURCES.md for where they come from).

- UTTAM POLYRUBS (ASCII, CRLF, the rupee sign lost as "?"): masters and a Day Book in one file. One
  debtor, *L Artisan Products* (Haryana, GSTIN 06AFAPM5726L1ZB, 60 days' credit) with seven opening
  bills adding up to its opening balance of 29,292.00 Dr, and one *GST Sale Invoice* (a custom type
  under Sales) UP3/24-25/1319 of 48,091.00 on 8 March 2025: 77,383.00 outstanding. The purchase and
  the two expense vouchers (creditors and a job worker) make no customers.
- TKM Company (UTF-16LE): the masters hold two debtors, John Smith (opening 5,000.00 Dr, bill-wise
  but with no bills: on account) and Kesu (nothing); the Day Book's parties (Sabu, kuttu, Ram, ...)
  are not in those masters, so their vouchers are skipped and named, not guessed into customers.
- Test P Ltd (UTF-16LE, a Day Book without masters): a cash sale and one to "Paart2", unknown without
  masters: no customers.
- Test Company masters (UTF-16LE): stock masters only: nothing to import.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.django_db]

ROOT = Path(os.environ.get("DUES_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
NATIVE = ROOT / "tally" / "native"
UTTAM = NATIVE / "jitendrapoddar_DayBook_ascii.xml"
TKM_MASTERS = NATIVE / "kesans_TKM_masters_utf16.xml"
TKM_DAYBOOK = NATIVE / "kesans_TKM_DayBook_utf16.xml"
TESTP = NATIVE / "jogsaurabh_TestPLtd_DayBook_utf16.xml"
TESTCO = NATIVE / "kesans_TestCompany_masters_utf16.xml"
ALL = [UTTAM, TKM_MASTERS, TKM_DAYBOOK, TESTP, TESTCO]

UTTAM_BILLS = {"UP3/23-24/0593": ("2024-02-23", "6726.00"), "UP3/23-24/0602": ("2024-03-01", "4024.00"),
               "UP3/23-24/0604": ("2024-03-02", "4413.00"), "UP3/23-24/0631": ("2024-03-14", "2301.00"),
               "UP3/23-24/0633": ("2024-03-15", "3682.00"), "UP3/23-24/0640": ("2024-03-18", "7163.00"),
               "UP3/23-24/0653": ("2024-03-23", "983.00")}


@pytest.fixture(autouse=True)
def samples():
    missing = [p for p in ALL if not p.is_file()]
    if missing:
        reason = f"no shared Tally samples at {NATIVE} (set DUES_SHARED_DATA): {', '.join(p.name for p in missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def residual(doc) -> D:
    from dues.ledger.models import OpenItem

    return OpenItem.objects.get(document=doc, reversal_of__isnull=True).residual


def balance(code: str) -> D:
    from dues.ledger.models import OpenItem

    return sum((i.residual if i.side == "D" else -i.residual for i in OpenItem.objects.filter(customer__code=code)),
               D(0))


def test_uttam_polyrubs_ascii_day_book_with_masters(company):
    from dues.customers.models import Customer
    from dues.integrations.tally.importer import import_tally
    from dues.ledger.models import Document

    r = import_tally(paths=[UTTAM], company=company, actor="test")
    assert list(Customer.objects.values_list("code", "gstin", "state_code", "credit_days")) == [
        ("L Artisan Products", "06AFAPM5726L1ZB", "06", 60)]
    openings = {d.number: (d.date.isoformat(), f"{d.amount:.2f}") for d in Document.objects.filter(kind="opening")}
    assert openings == UTTAM_BILLS and sum(D(a) for _, a in UTTAM_BILLS.values()) == D("29292.00")
    inv = Document.objects.get(kind="invoice")
    assert (inv.number, inv.date, inv.amount, inv.due_date) == ("UP3/24-25/1319", date(2025, 3, 8), D("48091.00"),
                                                                 date(2025, 5, 7))
    assert residual(inv) == D("48091.00")
    assert balance("L Artisan Products") == D("77383.00")
    assert (r.vouchers_posted, r.not_debtors) == (1, 3)  # the purchase and two expenses touch no debtor
    assert r.check.agrees and [(c.code, c.tally) for c in r.check.customers] == [("L Artisan Products", D("77383.00"))]


def test_tkm_masters_and_day_book(company):
    from dues.customers.models import Customer
    from dues.integrations.tally.importer import import_tally
    from dues.ledger.models import Document

    r = import_tally(paths=[TKM_MASTERS, TKM_DAYBOOK], company=company, actor="test")
    assert list(Customer.objects.order_by("code").values_list("code", "state_code", "pan")) == [
        ("John Smith", "32", "FFFPF9999F"), ("Kesu", "32", "ABCTY1234D")]
    opening = Document.objects.get(kind="opening")
    assert (opening.customer.code, opening.amount, opening.side, opening.date) == (
        "John Smith", D("5000.00"), "D", date(2018, 4, 1))  # the fiscal year of the Day Book's first voucher
    assert balance("John Smith") == D("5000.00") and balance("Kesu") == 0
    assert not Document.objects.exclude(kind="opening").exists()
    assert set(r.unknown_parties) >= {"Sabu", "kuttu", "Ram"}
    assert r.check.agrees


def test_test_p_ltd_day_book_without_masters_makes_no_customers(company):
    from dues.customers.models import Customer
    from dues.integrations.tally.importer import import_tally

    r = import_tally(paths=[TESTP], company=company, actor="test")
    assert not Customer.objects.exists() and r.documents == 0
    assert r.unknown_parties == {"Cash": 1, "Paart2": 1}  # without masters even "Cash" is unknown


def test_every_sample_in_one_import_then_again_changes_nothing(company):
    from dues.customers.models import Customer
    from dues.integrations.tally.importer import import_tally
    from dues.ledger.models import Document

    first = import_tally(paths=ALL, company=company, actor="test")
    assert sorted(Customer.objects.values_list("code", flat=True)) == ["John Smith", "Kesu", "L Artisan Products"]
    docs = Document.objects.count()
    assert docs == 7 + 1 + 1  # seven opening bills and the invoice of UTTAM, John Smith's opening
    again = import_tally(paths=ALL, company=company, actor="test")
    assert Document.objects.count() == docs and again.documents == 0 and again.vouchers_unchanged == 1
    assert first.check.agrees and again.check.agrees
