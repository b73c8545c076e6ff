"""Bank reconciliation: the bank book (our journal lines on the bank's GL account) against the bank's
statement lines, as of a date, and the statement that ties book balance to bank balance.

Two set-based reads (the book's journal lines, the account's bank lines up to the date) and matching
in memory:

1. by link: a bank line whose ``receipt`` is a posted document matches that document's entry;
2. a receipt cancelled in the book (entry and its reversal both on or before the date) that never
   reached the bank cancels itself out (listed as ``cancelled_in_book``);
3. by amount (same direction), a date window (the bank books it from 3 days before to 10 days after
   the book), preferring the same reference (UTR / cheque number), then the nearest date.

What is left is "in the book, not in the bank" and "in the bank, not in the book" (unapplied credits,
ignored or returned credits, bank charges, other debits: the AR desk books no payments). An item in
the book and not in the bank explains a difference only when it can still be on its way:

- ``in_transit``: dated within the bank's booking window (10 days) before the last day the imported
  statements cover: deposited, not yet credited (a cheque in clearing), or paid, not yet debited;
- ``before_statements``: dated before the first imported statement: in its opening balance;
- ``not_in_bank``: anything else: the statements cover its day and ten more, and the bank never
  booked it (a receipt keyed in that never arrived, a wrong amount, a statement missing). It is
  listed but explains nothing: the reconciliation does not tie.

The statement::

    book balance
  + bank balance brought forward (the first imported statement's opening balance: not in the book)
  − book items before the first statement (in that opening balance)
  − book items in transit (signed: money in positive)
  + bank items not in the book (signed)
  + amount differences of matched pairs (bank − book)
  = adjusted book balance;  unexplained = bank balance − adjusted book balance;  ties when zero
    (so book items not in the bank and a gap in the statements both show as unexplained).

The bank balance on the date is the statement's own stated balance (the last statement ending on or
before the date, plus any lines after it) when there is one, else the computed one (brought forward
plus every line); both are reported, so a gap in the imported statements shows up as unexplained.

Receipts post to the company's one Bank account: when several bank accounts share that GL account,
a receipt linked to a line of another bank account is left out of this account's book; unlinked
entries are counted in each (reconcile such accounts together, or link the receipts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef

from dues.banking.models import BankAccount, BankLine, BankStatement
from dues.core.errors import DuesError
from dues.core.money import ZERO
from dues.ledger.models import JournalLine

EARLY, LATE = timedelta(days=3), timedelta(days=10)  # the bank may book from 3 days before to 10 days after
CHARGE_WORDS = re.compile(r"\b(?:CHARGES?|CHGS?|CHRGS?|FEES?|COMMISSION|COMM|SMS|GST|SERVICE\s+TAX|DEBIT\s+CARD|"
                          r"ANNUAL|AMC|MIN(?:IMUM)?\s+BAL)\b", re.I)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text or "").lstrip("0")


@dataclass
class BookItem:
    entry_id: int
    date: date
    number: str
    reference: str
    amount: Decimal  # signed: money in (a debit on the bank account) is positive
    narration: str
    reverses_id: int | None = None
    document_id: int | None = None
    status: str = ""  # when not in the bank: in_transit, before_statements, not_in_bank

    def as_json(self) -> dict:
        out = {"entry": self.entry_id, "date": self.date.isoformat(), "document": self.number,
               "reference": self.reference, "amount": _m(self.amount), "narration": self.narration}
        if self.status:
            out["status"] = self.status
        return out


IN_TRANSIT, BEFORE_STATEMENTS, NOT_IN_BANK = "in_transit", "before_statements", "not_in_bank"


@dataclass
class BankItem:
    line_id: int
    date: date
    reference: str
    cheque: str
    amount: Decimal  # signed: a credit (money in) is positive
    narration: str
    status: str
    note: str
    receipt_id: int | None
    row: int | None
    kind: str = ""  # when not in the book: unapplied_credit, ignored, returned, reversal, bank_charges, ...

    def as_json(self) -> dict:
        out = {"line": self.line_id, "date": self.date.isoformat(), "reference": self.reference,
               "amount": _m(self.amount), "narration": self.narration, "status": self.status}
        if self.kind:
            out["kind"] = self.kind
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Match:
    book: BookItem
    bank: BankItem
    how: str  # link, reference, amount

    @property
    def difference(self) -> Decimal:
        return self.bank.amount - self.book.amount


@dataclass
class BankReconciliation:
    account: BankAccount
    as_of: date
    book_balance: Decimal
    brought_forward: Decimal
    computed_bank_balance: Decimal
    stated_bank_balance: Decimal | None
    matched: list[Match] = field(default_factory=list)
    book_only: list[BookItem] = field(default_factory=list)
    bank_only: list[BankItem] = field(default_factory=list)
    cancelled_in_book: list[tuple[BookItem, BookItem]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    statements_from: date | None = None  # the first day the imported statements cover
    statements_to: date | None = None    # the last day they cover, up to ``as_of``

    def _book_sum(self, status: str) -> Decimal:
        return sum((b.amount for b in self.book_only if b.status == status), ZERO)

    @property
    def in_transit(self) -> list[BookItem]:
        return [b for b in self.book_only if b.status == IN_TRANSIT]

    @property
    def not_in_bank(self) -> list[BookItem]:
        return [b for b in self.book_only if b.status == NOT_IN_BANK]

    @property
    def bank_balance(self) -> Decimal:
        return self.stated_bank_balance if self.stated_bank_balance is not None else self.computed_bank_balance

    @property
    def not_cleared(self) -> Decimal:
        """In the book, on its way to the bank (or from it): what legitimately explains a difference."""
        return self._book_sum(IN_TRANSIT)

    @property
    def before_statements(self) -> Decimal:
        return self._book_sum(BEFORE_STATEMENTS)

    @property
    def not_found(self) -> Decimal:
        """In the book, never booked by the bank although its statements cover the day: explains nothing."""
        return self._book_sum(NOT_IN_BANK)

    @property
    def not_booked(self) -> Decimal:
        return sum((b.amount for b in self.bank_only), ZERO)

    @property
    def match_differences(self) -> Decimal:
        return sum((m.difference for m in self.matched), ZERO)

    @property
    def adjusted_book_balance(self) -> Decimal:
        return (self.book_balance + self.brought_forward - self.before_statements - self.not_cleared
                + self.not_booked + self.match_differences)

    @property
    def unexplained(self) -> Decimal:
        return self.bank_balance - self.adjusted_book_balance

    @property
    def ties(self) -> bool:
        return self.unexplained == 0

    def statement_lines(self) -> list[tuple[str, Decimal]]:
        """The bank reconciliation statement, line by line (label, amount), ending in the bank balance."""
        dep = sum((b.amount for b in self.in_transit if b.amount > 0), ZERO)
        wdl = sum((b.amount for b in self.in_transit if b.amount < 0), ZERO)
        cr = sum((b.amount for b in self.bank_only if b.amount > 0), ZERO)
        dr = sum((b.amount for b in self.bank_only if b.amount < 0), ZERO)
        lines = [("Balance as per book", self.book_balance),
                 ("Add: bank balance brought forward (before the book)", self.brought_forward)]
        if self.before_statements:
            lines.append(("Less: booked before the first statement (in its opening balance)",
                          -self.before_statements))
        lines += [("Less: deposited, not yet cleared by the bank", -dep),
                 ("Add: paid out in the book, not yet debited by the bank", -wdl),
                 ("Add: credited by the bank, not in the book", cr),
                 ("Less: debited by the bank, not in the book", dr)]
        if self.match_differences:
            lines.append(("Add: differences on matched entries (bank − book)", self.match_differences))
        lines.append(("Adjusted book balance", self.adjusted_book_balance))
        if self.not_found:
            lines.append(("Unexplained: in the book, never booked by the bank", -self.not_found))
        if self.unexplained + self.not_found:
            lines.append(("Unexplained: other", self.unexplained + self.not_found))
        lines.append(("Balance as per bank", self.bank_balance))
        return lines

    def as_json(self) -> dict:
        return {
            "account": self.account.code, "gl_account": self.account.gl_account.code, "as_of": self.as_of.isoformat(),
            "book_balance": _m(self.book_balance), "brought_forward": _m(self.brought_forward),
            "bank_balance": _m(self.bank_balance),
            "bank_balance_source": "statement" if self.stated_bank_balance is not None else "computed",
            "computed_bank_balance": _m(self.computed_bank_balance),
            "statements_from": self.statements_from.isoformat() if self.statements_from else None,
            "statements_to": self.statements_to.isoformat() if self.statements_to else None,
            "not_cleared": _m(self.not_cleared), "not_booked": _m(self.not_booked),
            "before_statements": _m(self.before_statements), "not_in_bank": _m(self.not_found),
            "match_differences": _m(self.match_differences),
            "adjusted_book_balance": _m(self.adjusted_book_balance),
            "unexplained": _m(self.unexplained), "ties": self.ties,
            "statement": [{"label": label, "amount": _m(v)} for label, v in self.statement_lines()],
            "matched": [{"book": m.book.number, "entry": m.book.entry_id, "bank_line": m.bank.line_id,
                         "bank_reference": m.bank.reference, "date": m.book.date.isoformat(),
                         "bank_date": m.bank.date.isoformat(), "amount": _m(m.bank.amount),
                         "difference": _m(m.difference), "how": m.how} for m in self.matched],
            "in_book_not_in_bank": [b.as_json() for b in self.book_only],
            "in_bank_not_in_book": [b.as_json() for b in self.bank_only],
            "cancelled_in_book": [{"original": a.as_json(), "reversal": b.as_json()} for a, b in self.cancelled_in_book],
            "warnings": list(self.warnings),
        }


def _m(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _book(account: BankAccount, as_of: date) -> list[BookItem]:
    others = BankLine.objects.filter(receipt_id=OuterRef("entry__document_id")).exclude(bank_account=account)
    rows = (JournalLine.objects.filter(account_id=account.gl_account_id, entry__company_id=account.company_id,
                                       entry__date__lte=as_of)
            .exclude(Exists(others))
            .order_by("entry__date", "entry_id", "pk")
            .values_list("entry_id", "entry__date", "entry__document__number", "entry__document__reference",
                         "debit", "credit", "entry__narration", "entry__reverses_id", "entry__document_id"))
    items: dict[int, BookItem] = {}
    for entry_id, day, number, reference, debit, credit, narration, reverses, document_id in rows:
        if entry_id in items:  # two lines of one entry on the bank: one book item
            items[entry_id].amount += debit - credit
            continue
        items[entry_id] = BookItem(entry_id, day, number or f"JE-{entry_id}", reference or "", debit - credit,
                                   narration, reverses, document_id)
    return [b for b in items.values() if b.amount]


def _bank(account: BankAccount, as_of: date) -> list[BankItem]:
    rows = (BankLine.objects.filter(bank_account=account, booking_date__lte=as_of)
            .order_by("booking_date", "row", "pk")
            .values_list("pk", "booking_date", "reference", "cheque_number", "direction", "amount", "narration",
                         "status", "note", "receipt_id", "row"))
    return [BankItem(pk, day, ref, cheque or "", amount if direction == BankLine.CREDIT else -amount, narration or "",
                     status, note or "", receipt_id, row)
            for pk, day, ref, cheque, direction, amount, narration, status, note, receipt_id, row in rows]


def _same_ref(book: BookItem, bank: BankItem) -> bool:
    ours = _digits(book.reference)
    if len(ours) < 4:
        return False
    return ours in {_digits(bank.reference), _digits(bank.cheque)} or ours in _digits(bank.narration)


def _kind(item: BankItem) -> str:
    if item.amount > 0:
        return {BankLine.IGNORED: "ignored", BankLine.RETURNED: "returned",
                BankLine.APPLIED: "applied_not_in_book"}.get(item.status, "unapplied_credit")
    if item.status == BankLine.REVERSAL:
        return "reversal"
    return "bank_charges" if CHARGE_WORDS.search(item.narration) else "other_debit"


def _balances(account: BankAccount, as_of: date, lines: list[BankItem], warnings: list[str]
              ) -> tuple[Decimal, Decimal, Decimal | None]:
    """(brought forward, computed balance on ``as_of``, stated balance on ``as_of`` or None)."""
    first = (BankLine.objects.filter(bank_account=account).order_by("booking_date", "row", "pk")
             .values_list("statement__opening_balance", flat=True).first())
    if first is None and lines:
        warnings.append("the first statement states no opening balance: taken as zero")
    brought = first if first is not None else ZERO
    computed = brought + sum((b.amount for b in lines), ZERO)
    last = (BankStatement.objects.filter(bank_account=account, period_end__lte=as_of, closing_balance__isnull=False)
            .order_by("-period_end", "-pk").values_list("period_end", "closing_balance").first())
    stated = None
    if last is not None:
        end, closing = last
        stated = closing + sum((b.amount for b in lines if b.date > end), ZERO)
        if stated != computed:
            warnings.append(f"the statement's balance ({_m(stated)}) differs from the lines imported "
                            f"({_m(computed)}): a statement may be missing")
    return brought, computed, stated


def _coverage(account: BankAccount, as_of: date) -> tuple[date | None, date | None]:
    """(first day, last day up to ``as_of``) the account's imported statements cover; (None, None) if none."""
    from django.db.models import Max, Min

    days = BankStatement.objects.filter(bank_account=account).aggregate(
        first=Min("period_start"), first_line=Min("bank_lines__booking_date"))
    first = min((d for d in (days["first"], days["first_line"]) if d), default=None)
    if first is None or first > as_of:
        return first, None
    upto = BankStatement.objects.filter(bank_account=account, period_start__lte=as_of).aggregate(
        end=Max("period_end"))["end"]
    last_line = BankLine.objects.filter(bank_account=account, booking_date__lte=as_of).aggregate(
        d=Max("booking_date"))["d"]
    last = max((d for d in (upto, last_line) if d), default=None)
    return first, min(last, as_of) if last else None


def _classify(item: BookItem, first: date | None, last: date | None) -> str:
    if first is None or item.date < first:
        return BEFORE_STATEMENTS
    if last is None or item.date > last - LATE:
        return IN_TRANSIT
    return NOT_IN_BANK


def bank_reconciliation(*, company, account: BankAccount | str, as_of: date) -> BankReconciliation:
    """Reconcile one bank account's book against its statement lines as of ``as_of``."""
    if isinstance(account, str):
        found = BankAccount.objects.filter(company=company, code=account).select_related("gl_account").first()
        if found is None:
            codes = ", ".join(BankAccount.objects.filter(company=company).order_by("code")
                              .values_list("code", flat=True)) or "none yet: import a statement first"
            raise DuesError(f"no bank account {account!r} (bank accounts: {codes})")
        account = found
    warnings: list[str] = []
    book = _book(account, as_of)
    bank = _bank(account, as_of)
    brought, computed, stated = _balances(account, as_of, bank, warnings)
    rec = BankReconciliation(account, as_of, sum((b.amount for b in book), ZERO), brought, computed, stated,
                             warnings=warnings)
    rec.statements_from, rec.statements_to = _coverage(account, as_of)

    # 1. by link: the receipt posted for a bank line
    originals = {b.document_id: b for b in book if b.document_id and b.reverses_id is None}
    matched_book: set[int] = set()
    open_bank: list[BankItem] = []
    for line in bank:
        target = originals.get(line.receipt_id) if line.receipt_id and line.amount > 0 else None
        if target is not None and target.entry_id not in matched_book:
            rec.matched.append(Match(target, line, "link"))
            matched_book.add(target.entry_id)
        else:
            open_bank.append(line)

    # 2. a posting and its cancellation, both in the book and neither in the bank, cancel out
    rest = [b for b in book if b.entry_id not in matched_book]
    by_entry = {b.entry_id: b for b in rest}
    linked_docs = {line.receipt_id for line in bank if line.receipt_id}
    cancelled: set[int] = set()
    for b in rest:
        original = by_entry.get(b.reverses_id) if b.reverses_id else None
        if original is not None and original.document_id not in linked_docs and original.amount == -b.amount:
            rec.cancelled_in_book.append((original, b))
            cancelled.update((original.entry_id, b.entry_id))
    rest = [b for b in rest if b.entry_id not in cancelled]

    # 3. by amount in a date window, the same reference first, then the nearest date
    pool: dict[Decimal, list[BankItem]] = {}
    for line in open_bank:
        pool.setdefault(line.amount, []).append(line)
    for b in rest:
        candidates = [x for x in pool.get(b.amount, ()) if b.date - EARLY <= x.date <= b.date + LATE]
        if not candidates:
            b.status = _classify(b, rec.statements_from, rec.statements_to)
            rec.book_only.append(b)
            continue
        same = [x for x in candidates if _same_ref(b, x)]
        best = min(same or candidates, key=lambda x: (abs((x.date - b.date).days), x.line_id))
        pool[b.amount].remove(best)
        rec.matched.append(Match(b, best, "reference" if same else "amount"))
    matched_lines = {m.bank.line_id for m in rec.matched}
    for line in open_bank:
        if line.line_id not in matched_lines:
            line.kind = _kind(line)
            rec.bank_only.append(line)
    rec.matched.sort(key=lambda m: (m.bank.date, m.bank.line_id))
    early = [b for b in rec.book_only if b.status == BEFORE_STATEMENTS]
    if early and rec.statements_from:
        rec.warnings.append(f"{len(early)} book item(s) dated before the first statement "
                            f"({rec.statements_from:%d-%m-%Y}) are taken as in its opening balance")
    if rec.statements_to and rec.statements_to < as_of:
        rec.warnings.append(f"the imported statements end on {rec.statements_to:%d-%m-%Y}: book items after "
                            "it cannot be checked yet")
    return rec


def bank_reconciliations(*, company, as_of: date) -> list[BankReconciliation]:
    """Every bank account of the company, reconciled as of ``as_of`` (by account code)."""
    return [bank_reconciliation(company=company, account=a, as_of=as_of)
            for a in BankAccount.objects.filter(company=company).select_related("gl_account").order_by("code")]


def write_xlsx(rec: BankReconciliation, target) -> None:
    """The bank reconciliation as a workbook: Statement, Matched, Not cleared, Not in book."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dues.reporting.exports import number_format, safe_cell

    wb = Workbook()
    wb.remove(wb.active)
    bold, fmt = Font(bold=True), number_format()

    def sheet(title, header, rows, money_cols):
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([v if isinstance(v, Decimal | int | date) or v is None else safe_cell(v) for v in row])
        for col in money_cols:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col + 1, max_col=col + 1):
                cell.number_format = fmt
        ws.freeze_panes = "A2"
        for i in range(len(header)):
            ws.column_dimensions[chr(65 + i)].width = 50 if (i == 0 and title == "Statement") else 18

    sheet("Statement", [f"{rec.account.code} as of {rec.as_of:%d-%m-%Y}", "Amount"],
          [[label, v] for label, v in rec.statement_lines()], (1,))
    sheet("Matched", ["Book date", "Document", "Bank date", "Bank reference", "Amount", "Difference", "How"],
          [[m.book.date, m.book.number, m.bank.date, m.bank.reference, m.bank.amount, m.difference, m.how]
           for m in rec.matched], (4, 5))
    sheet("Not cleared", ["Date", "Document", "Reference", "Amount", "Narration", "Status"],
          [[b.date, b.number, b.reference, b.amount, b.narration, b.status.replace("_", " ")] for b in rec.book_only],
          (3,))
    sheet("Not in book", ["Date", "Kind", "Reference", "Amount", "Narration", "Note"],
          [[b.date, b.kind, b.reference, b.amount, b.narration, b.note] for b in rec.bank_only], (3,))
    wb.save(target)
