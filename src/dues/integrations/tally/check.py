"""Does dues agree with Tally? Per customer, our residual against the bill-wise outstanding the Tally
files imply (opening bills + every voucher's bill allocations), to the paisa, with the bills that differ.

Tally's side: for each debtor ledger, the opening balance of its master plus every debtor entry of the
vouchers in the files (cancelled and optional ones left out); bill by bill, the sum of the allocations
naming each bill. Ours: what is open today on the customer (debits less unapplied credits), and, for
each Tally bill, the residual of the document that carries it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from dues.core.money import quantize
from dues.ledger.models import Document, OpenItem

ZERO = Decimal(0)


@dataclass
class CustomerCheck:
    """One customer's agreement: their figure (Tally's, or an outstanding file's) against ours. In ``bills``
    (only those that differ) a figure is None when that side does not have the bill at all."""

    ledger: str
    code: str
    theirs: Decimal
    ours: Decimal
    bills: list[tuple[str, Decimal | None, Decimal | None]] = field(default_factory=list)
    label: str = "tally"  # the key their figures take in ``as_dict``

    @property
    def tally(self) -> Decimal:
        return self.theirs

    @property
    def difference(self) -> Decimal:
        return self.ours - self.theirs

    @property
    def agrees(self) -> bool:
        return self.difference == 0 and not self.bills

    def as_dict(self) -> dict:
        def money(x):
            return None if x is None else f"{x:.2f}"

        return {"ledger": self.ledger, "code": self.code, self.label: money(self.theirs), "dues": money(self.ours),
                "difference": money(self.difference), "agrees": self.agrees,
                "bills": [{"bill": b, self.label: money(t), "dues": money(o), "status": bill_status(t, o)}
                          for b, t, o in self.bills]}


def bill_status(theirs, ours) -> str:
    return "missing in dues" if ours is None else "missing in the file" if theirs is None else "amounts differ"


@dataclass
class CheckReport:
    customers: list[CustomerCheck]
    source: str = "Tally"  # who the other side is, for the printed report
    title: str = "Agreement with Tally (bill-wise outstanding the files imply vs dues)"
    as_of: date | None = None

    @property
    def agrees(self) -> bool:
        return all(c.agrees for c in self.customers)

    def differences(self) -> list[CustomerCheck]:
        return [c for c in self.customers if not c.agrees]


def compare(company, figures, ledgers) -> CheckReport:
    from dues.integrations.models import TallyBill, TallyMaster

    cur = company.currency
    ledgers = sorted(ledgers)
    links = {t.name: t.customer for t in TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER,
                                                                    name__in=ledgers, customer__isnull=False)
             .select_related("customer")}
    totals: dict[tuple[int, str], Decimal] = {}
    for customer_id, side, r in (OpenItem.objects.filter(company=company, customer__in=list(links.values()))
                                 .values_list("customer_id", "side").annotate(r=Sum("residual"))
                                 .values_list("customer_id", "side", "r")):
        totals[(customer_id, side)] = r or ZERO
    carried: dict[str, dict[str, tuple[int, str]]] = {}
    for led, name, doc_id, side in (TallyBill.objects.filter(company=company, ledger__in=ledgers,
                                                             document__status=Document.POSTED)
                                    .values_list("ledger", "name", "document_id", "document__side")):
        carried.setdefault(led, {})[name] = (doc_id, side)
    residual = dict(OpenItem.objects.filter(document_id__in=[d for m in carried.values() for d, _ in m.values()],
                                            reversal_of__isnull=True).values_list("document_id", "residual"))
    by_ledger: dict[str, dict[str, Decimal]] = {}
    for (led, name), amount in figures.bills.items():
        by_ledger.setdefault(led, {})[name] = amount
    out = []
    for ledger in ledgers:
        customer = links.get(ledger)
        if customer is None:
            continue
        ours = quantize(totals.get((customer.pk, "D"), ZERO) - totals.get((customer.pk, "C"), ZERO), cur)
        check = CustomerCheck(ledger, customer.code, quantize(figures.totals.get(ledger, ZERO), cur), ours)
        mine = carried.get(ledger, {})
        for name, amount in sorted(by_ledger.get(ledger, {}).items()):
            t = quantize(amount, cur)
            o = ZERO
            if name in mine:
                doc_id, side = mine[name]
                o = quantize(residual.get(doc_id, ZERO), cur) * (1 if side == "D" else -1)
            if t != o:
                check.bills.append((name, t, o))
        out.append(check)
    return CheckReport(out)


def check_files(*, paths, company) -> CheckReport:
    """``dues tally check``: read the files (writing nothing) and compare with what dues holds now."""
    from .importer import Masters, TallyFigures, read_masters
    from .xml import read_tally

    masters: Masters = read_masters(paths, company)
    from dues.integrations.models import TallyMaster

    known = set(TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER, customer__isnull=False)
                .values_list("name", flat=True))
    figures, ledgers = TallyFigures(), set()
    for led in masters.ledgers.values():
        if led.name in known and masters.is_debtor(led.name):
            figures.add(led.name, led.opening, led.bills)
            ledgers.add(led.name)
    seen: set[str] = set()
    for p in paths:
        for v in read_tally(p, want=("VOUCHER",)):
            if v.cancelled or v.optional or (v.guid and v.guid in seen):
                continue
            seen.add(v.guid)
            for e in v.entries:
                if e.ledger in known and masters.is_debtor(e.ledger):
                    figures.add(e.ledger, e.amount, e.bills)
                    ledgers.add(e.ledger)
    add_stored_openings(company, masters, figures, ledgers)
    return compare(company, figures, ledgers)


def add_stored_openings(company, masters, figures, ledgers) -> None:
    """A debtor whose master is not in the files: its opening as the last masters import held it."""
    from dues.integrations.models import TallyMaster

    for name, details in TallyMaster.objects.filter(company=company, kind=TallyMaster.LEDGER, name__in=list(ledgers),
                                                    customer__isnull=False).values_list("name", "details"):
        if name not in masters.ledgers and details.get("opening"):
            figures.totals[name] += Decimal(details["opening"])
