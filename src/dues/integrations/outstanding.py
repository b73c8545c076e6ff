"""Does dues agree with another system's bill-wise outstanding? (``dues check outstanding``)

The file (Busy's Bills Receivable, Marg's party-wise bill-wise outstanding, Tally's Outstandings
exported to Excel, or any CSV/XLSX) is read through the same column mapping as ``dues import
invoices`` (a saved mapping or a preset for ``source``, ``--map`` on top): party (``customer``: a code,
or a name), bill number, bill date and pending amount. Per customer, the file's total against dues'
open items on ``as_of`` (debits less unapplied credits), and bill by bill (matched by number, case and
surrounding spaces ignored): a bill missing in dues, one missing in the file, or amounts that differ,
with both figures. Reads only; writes nothing.

A customer with something open in dues but absent from the file differs (each of its bills "missing in
the file"), as does a party the file names that is no customer of dues (each bill "missing in dues").
A negative pending amount (an on-account credit in their report) is taken as written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from dues.core.errors import Problem, ValidationFailed
from dues.core.money import MoneyError, parse_amount, quantize
from dues.customers.models import Customer
from dues.reporting.selectors import open_bills

from .importers import FIELDS, _customers_by_name, _RowReader
from .mapping import mapping_for
from .tabular import read_import_table
from .tally.check import CheckReport, CustomerCheck

ZERO = Decimal(0)
REQUIRED = ("customer", "number", "amount")


def _key(number: str) -> str:
    return " ".join(number.split()).casefold()


def read_outstanding(path, *, company, source: str = "", mapping: dict[str, str] | None = None,
                     data: bytes | None = None) -> tuple[str, dict[str, dict[str, tuple[str, Decimal]]]]:
    """(file name, {party: {bill key: (bill number as written, pending amount)}}); every bad row is
    reported at once (``FILE:ROW: field: reason``). Rows of the same party and bill are added up."""
    columns: dict = mapping_for(company, source, "invoices", optional=bool(mapping)) if source else {}
    if mapping:
        columns.update({k.lower(): v for k, v in mapping.items()})
    table, _raw = read_import_table(Path(path), data, REQUIRED, columns, FIELDS["invoices"])
    problems: list[Problem] = []
    parties: dict[str, dict[str, tuple[str, Decimal]]] = {}
    for row in table.rows:
        r = _RowReader(row, table.source, problems, company.currency)
        before = len(problems)
        party, number = r.required("customer"), r.required("number")
        r.date("date", required=False)  # a bad bill date is reported, as the import would
        text = r.text("amount")
        amount = ZERO
        if not text:
            r.bad("amount", "is required")
        else:
            try:
                amount = parse_amount(text.replace("\u00a0", ""), company.currency)
            except MoneyError as exc:
                r.bad("amount", str(exc))
        if len(problems) > before:
            continue
        bills = parties.setdefault(party, {})
        shown, total = bills.get(_key(number), (number, ZERO))
        bills[_key(number)] = (shown, total + amount)
    if problems:
        raise ValidationFailed(problems)
    return table.source, parties


def check_outstanding(*, path, company, as_of: date, source: str = "", mapping: dict[str, str] | None = None,
                      data: bytes | None = None) -> CheckReport:
    """The agreement report of the file at ``path`` with dues' open items on ``as_of``."""
    name, parties = read_outstanding(path, company=company, source=source, mapping=mapping, data=data)
    cur = company.currency
    found = {c.code: c for c in Customer.objects.filter(company=company, code__in=list(parties))}
    found.update(_customers_by_name(company, set(parties) - set(found)))

    ours: dict[int, dict[str, tuple[str, Decimal]]] = {}
    who: dict[int, tuple[str, str]] = {}
    for b in open_bills(company=company, as_of=as_of):
        who[b.customer_id] = (b.code, b.name)
        bills = ours.setdefault(b.customer_id, {})
        shown, total = bills.get(_key(b.number), (b.number, ZERO))
        bills[_key(b.number)] = (shown, total + b.residual)

    theirs: dict[int, dict[str, tuple[str, Decimal]]] = {}
    labels: dict[int, str] = {}
    checks: list[CustomerCheck] = []
    for party in sorted(parties):
        customer = found.get(party)
        if customer is None:  # no such customer in dues: every bill of the party is missing in dues
            bills = parties[party]
            check = CustomerCheck(party, "", quantize(sum((a for _, a in bills.values()), ZERO), cur), ZERO,
                                  label="file")
            check.bills = [(shown, quantize(a, cur), None) for _, (shown, a) in sorted(bills.items()) if a != 0]
            checks.append(check)
            continue
        who.setdefault(customer.pk, (customer.code, customer.name))
        labels.setdefault(customer.pk, party)
        mine = theirs.setdefault(customer.pk, {})
        for k, (shown, a) in parties[party].items():
            mine[k] = (mine.get(k, (shown, ZERO))[0], mine.get(k, (shown, ZERO))[1] + a)

    for cid in set(theirs) | set(ours):
        file_bills, dues_bills = theirs.get(cid, {}), ours.get(cid, {})
        code, _name = who[cid]
        check = CustomerCheck(labels.get(cid, ""), code, quantize(sum((a for _, a in file_bills.values()), ZERO), cur),
                              quantize(sum((a for _, a in dues_bills.values()), ZERO), cur), label="file")
        for k in sorted(set(file_bills) | set(dues_bills)):
            t = quantize(file_bills[k][1], cur) if k in file_bills and file_bills[k][1] != 0 else None
            o = quantize(dues_bills[k][1], cur) if k in dues_bills else None
            if t is None and o is None:
                continue
            if t != o:
                shown = (file_bills.get(k) or dues_bills[k])[0]
                check.bills.append((shown, t, o))
        checks.append(check)
    checks.sort(key=lambda c: (c.code or c.ledger).casefold())
    return CheckReport(checks, source="file",
                       title=f"Agreement with {name} (its bill-wise outstanding vs dues' open items on {as_of})",
                       as_of=as_of)
