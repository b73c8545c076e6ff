"""Reads for ledger clearance: our side of a customer's ledger, and the whole reconciliation.

Our side is read in one query from the bill-wise items (what the ledger balance is made of): each
posted document's item, split for a receipt into the payment (cash plus bank charges), its TDS and
its discount. A document cancelled on or before the as-of date is left out together with its
reversal (they net to zero on that date); one cancelled later is in, as it was in the books then.
Entries up to ``LOOKAHEAD`` days after the as-of date are read too, to recognise timing
differences; a cancelled document is never among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection

from dues.companies.models import Company
from dues.core import reconcile as rc
from dues.core.errors import DuesError
from dues.core.money import quantize
from dues.customers.models import Customer

SCALE = 10_000
LOOKAHEAD = 60  # days after the as-of date read for timing differences (the document window)

_KIND = {"invoice": rc.INVOICE, "debit_note": rc.DEBIT_NOTE, "credit_note": rc.CREDIT_NOTE, "receipt": rc.PAYMENT,
         "write_off": rc.WRITE_OFF, "opening": rc.OPENING}


def _dec(scaled) -> Decimal:
    return Decimal(int(scaled or 0)) / SCALE


def our_entries(*, company: Company, customer: Customer, as_of: date, lookahead: int = LOOKAHEAD) -> list[rc.OurEntry]:
    """The customer's ledger in our books dated up to ``as_of`` + ``lookahead`` days, as ``OurEntry`` values."""
    until = as_of + timedelta(days=lookahead)
    s = SCALE
    sql = f"""SELECT d.number, d.kind, oi.date, oi.side, CAST(ROUND(oi.amount * {s}) AS BIGINT),
                     CAST(ROUND(d.tds * {s}) AS BIGINT), CAST(ROUND(d.discount * {s}) AS BIGINT), d.reference
                FROM ledger_openitem oi JOIN ledger_document d ON d.id = oi.document_id
               WHERE oi.company_id = %s AND oi.customer_id = %s AND oi.reversal_of_id IS NULL AND oi.date <= %s
                 AND (d.status = 'posted' OR (d.cancelled_on > %s AND oi.date <= %s))
               ORDER BY oi.date, oi.id"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [company.pk, customer.pk, until.isoformat(), as_of.isoformat(), as_of.isoformat()])
        result = cursor.fetchall()
    # the bills each credit note is against: what it is allocated to, net of reversed allocations
    bills_sql = """SELECT cd.number, dd.number
                     FROM ledger_allocation a
                     JOIN ledger_openitem ci ON ci.id = a.credit_item_id JOIN ledger_document cd ON cd.id = ci.document_id
                     JOIN ledger_openitem di ON di.id = a.debit_item_id JOIN ledger_document dd ON dd.id = di.document_id
                    WHERE a.company_id = %s AND ci.customer_id = %s AND cd.kind = 'credit_note'
                    GROUP BY cd.number, dd.number HAVING SUM(a.amount) > 0
                    ORDER BY cd.number, dd.number"""
    bills: dict[str, list[str]] = {}
    if any(row[1] == "credit_note" for row in result):
        with connection.cursor() as cursor:
            cursor.execute(bills_sql, [company.pk, customer.pk])
            for note, bill in cursor.fetchall():
                bills.setdefault(note, []).append(bill)
    out: list[rc.OurEntry] = []
    for number, kind, on, side, amount, tds, discount, reference in result:
        on = on if isinstance(on, date) else date.fromisoformat(str(on))
        sign = 1 if side == "D" else -1
        value = _dec(amount)
        if kind == "receipt":
            tds_v, disc_v = _dec(tds), _dec(discount)
            cash = value - tds_v - disc_v
            if cash:  # a TDS-only receipt (their TDS booked from a reconciliation) moved no money
                out.append(rc.OurEntry(number, rc.PAYMENT, on, -cash, reference or ""))
            if tds_v:
                out.append(rc.OurEntry(number, rc.TDS, on, -tds_v, reference or ""))
            if disc_v:
                out.append(rc.OurEntry(number, rc.DISCOUNT, on, -disc_v, reference or ""))
            continue
        out.append(rc.OurEntry(number, _KIND.get(kind, kind), on, sign * value, reference or "",
                               tuple(bills.get(number, ())) if kind == "credit_note" else ()))
    return out


def our_balance(*, company: Company, customer: Customer, as_of: date) -> Decimal:
    """The customer's balance in our books on ``as_of``: the ageing total (due less unapplied)."""
    from dues.reporting.selectors import ageing

    return ageing(company=company, as_of=as_of, customer=customer).totals.total


@dataclass
class CustomerReconciliation:
    customer: Customer
    currency: str
    result: rc.Reconciliation
    source: str

    def money(self, value: Decimal) -> str:
        return str(quantize(value, self.currency))

    def as_json(self) -> dict:
        r = self.result
        return {
            "customer": self.customer.code,
            "as_of": r.as_of.isoformat(),
            "our_balance": self.money(r.our_balance),
            "their_balance": self.money(r.their_balance),
            "matched": [{"ours": ", ".join(m.ours), "theirs": ", ".join(m.theirs), "amount": self.money(m.amount),
                         "how": m.how, "note": m.note} for m in r.matched],
            "differences": [{"kind": d.kind, "ours": d.ours, "theirs": d.theirs, "amount": self.money(d.amount),
                             "explanation": d.explanation} for d in r.differences],
            "unexplained": self.money(r.unexplained),
        }


def reconcile_customer(*, company: Company, code: str, their_file: str | Path, as_of: date, preset: str | None = None,
                       mapping: str | None = None, data: bytes | None = None,
                       windows: rc.Windows | None = None) -> CustomerReconciliation:
    """Reconcile customer ``code``'s ledger of us (``their_file``) with ours as of ``as_of``.

    ``windows``: the engine's date windows (``rc.Windows()``, e.g. ``note`` for a credit note and their
    debit note), the defaults when not given."""
    from dues.integrations.their_ledger import read_their_ledger

    customer = Customer.objects.filter(company=company, code=code).first()
    if customer is None:
        raise DuesError(f"no customer {code!r}")
    theirs = read_their_ledger(their_file, preset=preset, mapping=mapping, data=data)
    ours = our_entries(company=company, customer=customer, as_of=as_of)
    result = rc.reconcile(ours, theirs, as_of=as_of, windows=windows or rc.Windows())
    book = our_balance(company=company, customer=customer, as_of=as_of)
    if result.our_balance != book:  # the entries must make the ledger balance; anything else is a bug
        raise DuesError(f"our entries of {code} add up to {result.our_balance}, the ledger says {book}")
    data_rows = [t for t in theirs if t.kind != rc.THEIR_OPENING]
    if len(data_rows) >= 5 and not [m for m in result.matched if m.how != "opening"]:
        raise DuesError(f"{Path(their_file).name}: none of its {len(data_rows)} entries matches {code}'s ledger "
                        f"in our books: is it another customer's ledger, or the wrong columns (--map)?")
    return CustomerReconciliation(customer, company.currency, result, Path(their_file).name)
