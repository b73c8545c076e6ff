"""The demo's bank statement: the last days of HDFC credits waiting to be applied on the cash workbench.

Credits are drawn from the demo's open invoices, the way customers really pay: the exact invoice,
net of 2% TDS on the taxable value, two invoices in one transfer, a UPI payment from a short name,
a cheque; plus bank interest (not a customer) and the bank's own charges. The file goes through the
same import as a real one (``dues import bank``); nothing is applied, so the workbench has work.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal

from dues.core.money import ZERO

OPENING = Decimal("1843250.75")
TDS_RATE = Decimal("0.02")
CENT = Decimal("0.01")


def _inr(value: Decimal) -> str:
    """1234567.5 -> '12,34,567.50' (the way HDFC writes amounts: Indian grouping, no symbol)."""
    return format_decimal(value, format="#,##,##0.00", locale="en_IN")


def statement_csv(company, today: date, *, seed: int = 7, credits: int = 24) -> bytes:
    """An HDFC-layout CSV statement of the last ten days ending ``today`` (running balance consistent)."""
    from django.db.models import F

    from dues.ledger.models import OpenItem

    rng = random.Random(seed)
    # invoices nobody has paid anything of yet: how a payment usually meets an invoice
    items = list(OpenItem.objects.filter(company=company, side="D", residual=F("amount"), reversal_of__isnull=True,
                                         document__kind="invoice", document__status="posted")
                 .select_related("customer", "document").order_by("due_date", "pk")[:400])
    by_customer: dict[int, list] = {}
    for item in items:
        by_customer.setdefault(item.customer_id, []).append(item)
    payers = [v for v in by_customer.values()]
    rng.shuffle(payers)
    rows: list[tuple[date, str, str, Decimal, Decimal]] = []  # date, narration, reference, debit, credit
    start = today - timedelta(days=9)
    for n, open_items in enumerate(payers[:credits]):
        customer = open_items[0].customer
        first = open_items[0]
        style = n % 6
        when = start + timedelta(days=rng.randint(0, 9))
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
        rows.append((when, text, utr, ZERO, amount.quantize(CENT)))
    quarter_start = today - timedelta(days=91)
    rows.append((today - timedelta(days=3), f"INT.PD:{quarter_start:%d-%m-%Y} TO {today - timedelta(days=3):%d-%m-%Y}",
                 "", ZERO, Decimal("4127.00")))
    rows.append((today - timedelta(days=1), "CHRG: NEFT/RTGS CHARGES INCL GST", "", Decimal("354.00"), ZERO))
    rows.sort(key=lambda r: (r[0], r[2]))

    lines = [f"{company.name}", "Statement of account", "Account No :50200012345678", "IFSC :HDFC0001234",
             f"Statement From : {start:%d/%m/%Y} To : {today:%d/%m/%Y}", "",
             "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance"]
    balance = OPENING
    for when, text, ref, debit, credit in rows:
        balance += credit - debit
        d = f"{when:%d/%m/%y}"
        lines.append(",".join([d, f'"{text}"', ref, d, f'"{_inr(debit)}"' if debit else "",
                               f'"{_inr(credit)}"' if credit else "", f'"{_inr(balance)}"']))
    return ("\n".join(lines) + "\n").encode()


def import_demo_statement(company, today: date, *, actor, seed: int = 7):
    """Import the demo statement through the real bank import; returns its result."""
    from dues.banking.services import bank_statement_import

    data = statement_csv(company, today, seed=seed)
    return bank_statement_import(company=company, path=f"hdfc-{today:%Y%m%d}.csv", data=data, preset="hdfc",
                                 actor=actor)
