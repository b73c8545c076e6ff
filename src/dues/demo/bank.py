"""The demo's bank: a year of HDFC statements in which the company's receipts clear, and the last days'
credits waiting on the cash workbench.

Month by month, every receipt the demo booked reaches the bank the way it would: NEFT, RTGS, IMPS and
UPI the same day, a cheque one or two working days after it was deposited (so the cheques of the
last days are still in clearing: genuinely outstanding on the bank reconciliation). Those lines are
linked to their receipts, as cash application leaves them. The last days also bring credits nobody
has booked yet, drawn from the open invoices the way customers really pay (the exact invoice, net of
2% TDS on the taxable value, two invoices in one transfer, a UPI payment from a short name, a part
payment, a cheque), plus bank interest and the bank's own charges, not booked either. Each month's
file goes through the same import as a real one (``dues import bank``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dues.core.money import ZERO, indian_grouping

OPENING = Decimal("1843250.75")
TDS_RATE = Decimal("0.02")
CENT = Decimal("0.01")
ACCOUNT_NUMBER = "50200012345678"
IFSC = "HDFC0001234"


@dataclass
class Row:
    when: date
    narration: str
    reference: str
    debit: Decimal
    credit: Decimal
    receipt_id: int | None = None  # the booked receipt this credit is


def _working_day(d: date) -> date:
    return d + timedelta(days=1) if d.weekday() == 6 else d


def _cleared_on(rng: random.Random, on: date, mode: str) -> date:
    """When the bank credits a receipt: electronic the same day, a cheque (CTS clearing) mostly the next
    working day, sometimes the one after."""
    if mode != "cheque":
        return on
    return _working_day(on + timedelta(days=rng.choices((1, 2), weights=(7, 3))[0]))


def receipt_rows(company, today: date, rng: random.Random) -> tuple[list[Row], int]:
    """A bank credit for every posted receipt that has reached the bank by ``today``; and how many are still in clearing."""
    from dues.ledger.models import Document

    rows, clearing = [], 0
    for pk, on, amount, mode, ref, name in (
            Document.objects.filter(company=company, kind=Document.RECEIPT, status=Document.POSTED, amount__gt=0)
            .exclude(mode="cash").order_by("date", "pk")
            .values_list("pk", "date", "amount", "mode", "reference", "customer__name")):
        when = _cleared_on(rng, on, mode)
        if when > today:
            clearing += 1
            continue
        name = name.upper()
        amount = Decimal(amount).quantize(CENT)
        if mode == "cheque":  # "CHQ 123456 Saraswat Bank": the bank's line carries the cheque number
            number = (ref.split() + ["0"])[1]
            text, ref = f"CHQ DEP-MICR CTS-{number}-{name}", number
        elif mode == "upi":
            short = name.split()[0]
            text = f"UPI/{ref}/{short}/{short.lower()}@okaxis/Axis Bank"
        elif mode == "imps":
            text = f"IMPS-{ref}-{name}-UTIB-XXXX{rng.randint(1000, 9999)}"
        else:
            text = f"{mode.upper()} CR-{ref[:4]}0{rng.randint(100000, 999999)}-{name}-{ref}"
        rows.append(Row(when, text, ref, ZERO, amount, pk))
    return rows, clearing


def unbooked_rows(company, today: date, rng: random.Random, credits: int = 24) -> list[Row]:
    """The last days' credits nobody has booked (for the cash workbench), bank interest and charges.

    They fall in the current month (from the 1st at the earliest), so the months before close clean.
    """
    from django.db.models import F

    from dues.ledger.models import OpenItem

    # invoices nobody has paid anything of yet: how a payment usually meets an invoice
    items = list(OpenItem.objects.filter(company=company, side="D", residual=F("amount"), reversal_of__isnull=True,
                                         document__kind="invoice", document__status="posted")
                 .select_related("customer", "document").order_by("due_date", "pk")[:400])
    by_customer: dict[int, list] = {}
    for item in items:
        by_customer.setdefault(item.customer_id, []).append(item)
    payers = [v for v in by_customer.values()]
    rng.shuffle(payers)
    rows: list[Row] = []
    start = max(today - timedelta(days=9), today.replace(day=1))
    span = (today - start).days
    for n, open_items in enumerate(payers[:credits]):
        customer = open_items[0].customer
        first = open_items[0]
        style = n % 6
        when = start + timedelta(days=rng.randint(0, span))
        utr = f"{rng.randint(10**11, 10**12 - 1)}"
        name = customer.name.upper()
        if style == 0:  # the exact invoice, NEFT
            amount = first.residual
            text = f"NEFT CR-HDFC0001234-{name}-N{utr}"
        elif style == 1 and first.residual == first.amount and first.document.taxable_value:
            # net of 2% TDS on the taxable value (the GST-inclusive total is not what TDS is on)
            amount = first.residual - (first.document.taxable_value * TDS_RATE).quantize(CENT, ROUND_HALF_UP)
            text = f"RTGS CR-ICIC0000456-{name}-ICICR{utr} {first.document.number}"
        elif style == 2 and len(open_items) > 1:  # two invoices in one transfer
            amount = open_items[0].residual + open_items[1].residual
            text = f"NEFT CR-SBIN0005678-{name}-SBINN{utr} BILLS {open_items[0].document.number}," \
                   f"{open_items[1].document.number}"
        elif style == 3:  # UPI from a short name
            amount = first.residual
            short = name.split()[0]
            text = f"UPI/{utr}/{short}/{short.lower()}@okhdfcbank/HDFC Bank"
        elif style == 4:  # a part payment, round figure
            amount = max((first.residual / 2).quantize(Decimal("1000")), Decimal("1000"))
            amount = min(amount, first.residual)
            text = f"IMPS-{utr}-{name}-KKBK-XXXX{rng.randint(1000, 9999)}"
        else:  # a cheque
            amount = first.residual
            text = f"CHQ DEP {rng.randint(100000, 999999)} {name} CLG"
        rows.append(Row(when, text, utr, ZERO, amount.quantize(CENT)))
    quarter_start = today - timedelta(days=91)
    paid = max(today - timedelta(days=3), start)
    rows.append(Row(paid, f"INT.PD:{quarter_start:%d-%m-%Y} TO {paid:%d-%m-%Y}", "", ZERO, Decimal("4127.00")))
    rows.append(Row(max(today - timedelta(days=1), start), "CHRG: NEFT/RTGS CHARGES INCL GST", "",
                    Decimal("354.00"), ZERO))
    return rows


def statement_csv(company, rows: list[Row], opening: Decimal, start: date, end: date) -> tuple[bytes, Decimal]:
    """One HDFC-layout CSV statement of ``rows`` (in order, running balance from ``opening``); and its closing."""
    lines = [f"{company.name}", "Statement of account", f"Account No :{ACCOUNT_NUMBER}", f"IFSC :{IFSC}",
             f"Statement From : {start:%d/%m/%Y} To : {end:%d/%m/%Y}", "",
             "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance"]
    balance = opening
    for r in rows:
        balance += r.credit - r.debit
        d = f"{r.when:%d/%m/%y}"
        lines.append(",".join([d, f'"{r.narration}"', r.reference, d, f'"{indian_grouping(r.debit)}"' if r.debit else "",
                               f'"{indian_grouping(r.credit)}"' if r.credit else "", f'"{indian_grouping(balance)}"']))
    return ("\n".join(lines) + "\n").encode(), balance


@dataclass
class DemoBank:
    statements: int
    lines: int
    cleared: int     # receipts the bank has credited (lines linked to them)
    clearing: int    # cheques deposited, not yet credited by ``today``
    unbooked: int    # credits and debits in the bank the book does not have yet


def import_demo_statements(company, today: date, *, actor, seed: int = 7) -> DemoBank:
    """Import the demo year's statements month by month through the real bank import and link each
    receipt's line to it (what cash application leaves behind)."""
    from django.db import connection

    from dues.audit.services import AuditEntry, actor_name, audit_append_many
    from dues.banking.models import BankLine
    from dues.banking.services import bank_statement_import

    unbooked = unbooked_rows(company, today, random.Random(seed))
    cleared, clearing = receipt_rows(company, today, random.Random(seed + 1))
    months: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for r in cleared + unbooked:
        months[(r.when.year, r.when.month)].append(r)
    balance, lines, links = OPENING, 0, []
    for (y, m) in sorted(months):
        rows = sorted(months[(y, m)], key=lambda r: (r.when, r.receipt_id is None, r.receipt_id or 0, r.reference))
        first = date(y, m, 1)
        last = min(today, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
        data, balance = statement_csv(company, rows, balance, first, last)
        result = bank_statement_import(company=company, path=f"hdfc-{y}{m:02d}.csv", data=data, preset="hdfc",
                                       actor=actor)
        imported = list(BankLine.objects.filter(statement_id__in=result.statement_ids).order_by("row", "pk"))
        if len(imported) != len(rows):  # pragma: no cover - the demo's lines are all new
            raise RuntimeError(f"demo statement {y}-{m:02d}: {len(imported)} lines imported of {len(rows)}")
        lines += len(imported)
        for line, r in zip(imported, rows, strict=True):
            if r.receipt_id is not None:
                line.status, line.applied_amount, line.receipt_id = BankLine.APPLIED, line.amount, r.receipt_id
                links.append(line)
    with connection.cursor() as cursor:  # one statement per line, prepared once (bulk_update is slow here)
        cursor.executemany(f'UPDATE "{BankLine._meta.db_table}" SET status = %s, applied_amount = amount, '  # noqa: S608
                           'receipt_id = %s WHERE id = %s',
                           [(BankLine.APPLIED, line.receipt_id, line.pk) for line in links])
    audit_append_many([AuditEntry(actor_name(actor), "apply", "bank_statement", str(sid), company.pk, None,
                                  {"lines_linked_to_receipts": n})
                       for sid, n in sorted(_count_by_statement(links).items())])
    return DemoBank(len(months), lines, len(links), clearing, len(unbooked))


def _count_by_statement(lines) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for line in lines:
        out[line.statement_id] += 1
    return out
