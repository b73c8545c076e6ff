"""Importing bank statements: one file, all-or-nothing, audited, never doubling a line.

``bank_statement_import`` parses the file (``dues.integrations.bank``), picks the bank account for
each statement, and inserts only lines not already there (same account, booking date, direction,
amount, reference). Lines without a bank reference get a generated stable one from date, amount,
narration and their ordinal among identical lines, so re-importing the same or an overlapping
statement finds them again.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Account, Company
from dues.core import posting as roles
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.integrations.bank import StatementData, parse_statement
from dues.users.permissions import require

from .models import BankAccount, BankLine, BankStatement


@dataclass
class BankImportResult:
    source: str
    format: str
    statements: int = 0
    lines: int = 0
    created: int = 0
    duplicates: int = 0
    accounts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    statement_ids: list[int] = field(default_factory=list)


class _DryRun(Exception):
    pass


def _digits(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _same_number(a: str, b: str) -> bool:
    a, b = _digits(a), _digits(b)
    if not a or not b:
        return False
    return a == b or (min(len(a), len(b)) >= 6 and (a.endswith(b) or b.endswith(a)))


def _pick_account(company: Company, st: StatementData, code: str | None, actor, created: list[str]) -> BankAccount:
    accounts = list(BankAccount.objects.filter(company=company).order_by("code"))
    if code:
        found = next((a for a in accounts if a.code == code), None)
        if found is None:
            if accounts:
                raise DuesError(f"no bank account {code!r} (there are: {', '.join(a.code for a in accounts)})")
            return _create_account(company, st, code, actor, created)
        if st.account_number and found.number and not _same_number(st.account_number, found.number):
            raise DuesError(f"{st.source}: {st.label} is for account {st.account_number}, but bank account "
                            f"{found.code} is {found.number}")
        return found
    if st.account_number:
        matches = [a for a in accounts if _same_number(a.number, st.account_number)]
        if len(matches) == 1:
            return matches[0]
    if not accounts:
        return _create_account(company, st, "BANK1", actor, created)
    if len(accounts) == 1 and (not st.account_number or not accounts[0].number):
        return accounts[0]
    if created and not st.account_number:
        return accounts[-1]
    if all(a.code in created for a in accounts):  # a file with several accounts, all new to us
        return _create_account(company, st, f"BANK{len(accounts) + 1}", actor, created)
    raise DuesError(f"{st.source}: {st.label}: which bank account? pass --account "
                    f"({', '.join(f'{a.code} {a.number}'.strip() for a in accounts)})")


def _create_account(company: Company, st: StatementData, code: str, actor, created: list[str]) -> BankAccount:
    gl = Account.objects.filter(company=company, role=roles.BANK).first()
    if gl is None:
        raise DuesError("the company has no Bank account in its chart (role 'bank')")
    account = BankAccount.objects.create(
        company=company, code=code, name=st.account_name or f"Bank account {st.account_number}".strip(),
        number=st.account_number[:40], ifsc=st.bank_id[:11], currency=st.currency or company.currency, gl_account=gl)
    created.append(code)
    audit_append_many([AuditEntry(actor_name(actor), "create", "bank_account", str(account.pk), company.pk, None,
                                  {"code": code, "name": account.name, "number": account.number,
                                   "ifsc": account.ifsc, "currency": account.currency, "gl_account": gl.code})])
    return account


def _generated_reference(txn, ordinal: int) -> str:
    basis = f"{txn.booking_date.isoformat()}|{txn.direction}|{txn.amount.normalize()}|{' '.join(txn.narration.split()).upper()}|{ordinal}"
    return "GEN-" + hashlib.sha256(basis.encode()).hexdigest()[:16].upper()


def _lines(st: StatementData, account: BankAccount, statement: BankStatement, company: Company) -> list[BankLine]:
    out: list[BankLine] = []
    seen_generated: Counter = Counter()
    seen_keys: Counter = Counter()
    for txn in st.transactions:
        if txn.has_reference:
            reference, generated = txn.reference.strip()[:100], False
            key = (txn.booking_date, txn.direction, txn.amount, reference)
            seen_keys[key] += 1
            if seen_keys[key] > 1:  # the same bank reference twice on one day for one amount: keep both
                reference = f"{reference[:95]}#{seen_keys[key]}"
        else:
            basis = (txn.booking_date, txn.direction, txn.amount, " ".join(txn.narration.split()).upper())
            seen_generated[basis] += 1
            reference, generated = _generated_reference(txn, seen_generated[basis]), True
        out.append(BankLine(
            company=company, bank_account=account, statement=statement, booking_date=txn.booking_date,
            value_date=txn.value_date, direction=txn.direction, amount=txn.amount,
            currency=txn.currency or account.currency, reference=reference, reference_generated=generated,
            narration=txn.narration, counterparty_name=txn.counterparty_name[:200],
            counterparty_account=txn.counterparty_account[:60], counterparty_ifsc=txn.counterparty_ifsc[:20],
            counterparty_upi=txn.counterparty_upi[:120], end_to_end_id=txn.end_to_end_id[:100],
            bank_code=txn.bank_code[:40], cheque_number=txn.cheque_number[:20], reversal=txn.reversal,
            booked=txn.booked, row=txn.row,
        ))
    return out


def bank_statement_import(*, company: Company, path: str | Path, data: bytes | None = None, account: str | None = None,
                          fmt: str = "auto", preset: str = "generic", mapping: dict[str, str] | None = None,
                          dry_run: bool = False, actor=None) -> BankImportResult:
    """Import every statement in the file into its bank account; nothing is written unless all of it is good."""
    require(actor, "receipts.post", "import bank statements")
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DuesError(f"{path}: cannot read the file ({exc.strerror})") from exc
    statements = parse_statement(data, path.name, fmt, preset, mapping)
    sha = hashlib.sha256(data).hexdigest()
    result = BankImportResult(source=path.name, format=statements[0].format if statements else fmt, dry_run=dry_run)
    for st in statements:
        result.warnings.extend(st.warnings)
    try:
        with transaction.atomic():
            _write(company, statements, account, sha, actor, result)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def _write(company, statements, account_code, sha, actor, result: BankImportResult) -> None:
    created_accounts: list[str] = []
    audit: list[AuditEntry] = []
    who = actor_name(actor)
    for st in statements:
        account = _pick_account(company, st, account_code, actor, created_accounts)
        if st.currency and st.currency != account.currency:
            raise ValidationFailed([Problem(f"{st.label} is in {st.currency}, but bank account {account.code} is in "
                                            f"{account.currency}", "currency", st.row, st.source)])
        statement = BankStatement.objects.create(
            company=company, bank_account=account, source=st.source, sha256=sha, format=st.format,
            statement_id=st.statement_id[:100], period_start=st.period_start, period_end=st.period_end,
            opening_balance=st.opening.amount if st.opening else None,
            closing_balance=st.closing.amount if st.closing else None, lines=len(st.transactions),
            imported_by=who,
        )
        lines = _lines(st, account, statement, company)
        new = _new_lines(account, lines)
        BankLine.objects.bulk_create(new, batch_size=1000)
        statement.new_lines = len(new)
        statement.save(update_fields=["new_lines"])
        result.statements += 1
        result.lines += len(lines)
        result.created += len(new)
        result.duplicates += len(lines) - len(new)
        result.statement_ids.append(statement.pk)
        if account.code not in result.accounts:
            result.accounts.append(account.code)
        audit.append(AuditEntry(who, "import", "bank_statement", str(statement.pk), company.pk, None, {
            "file": st.source, "sha256": sha, "format": st.format, "statement": st.statement_id,
            "bank_account": account.code, "lines": len(lines), "new_lines": len(new),
            "opening": str(st.opening.amount) if st.opening else None,
            "closing": str(st.closing.amount) if st.closing else None,
            "credits": str(st.credits), "debits": str(st.debits),
        }))
    audit_append_many(audit)


def _new_lines(account: BankAccount, lines: list[BankLine]) -> list[BankLine]:
    """Lines whose (date, direction, amount, reference) is not in the account yet; one query per statement."""
    if not lines:
        return []
    lo = min(x.booking_date for x in lines)
    hi = max(x.booking_date for x in lines)
    existing = {
        (d, c, a.normalize(), r) for d, c, a, r in BankLine.objects.filter(
            bank_account=account, booking_date__range=(lo, hi)).values_list("booking_date", "direction", "amount",
                                                                            "reference")
    }
    out, seen = [], set()
    for x in lines:
        key = (x.booking_date, x.direction, x.amount.normalize(), x.reference)
        if key in existing or key in seen:
            continue
        seen.add(key)
        out.append(x)
    return out


# ------------------------------------------------------------------------------------------ cash application
# The engine (dues.core.matching) decides; these load what it needs set-based, post what it is sure
# of as receipts (TDS and bank charges booked to their accounts) and learn from what people confirm.

AUTO_THRESHOLD = 0.95
_MODES = (("RTGS", "rtgs"), ("NEFT", "neft"), ("IMPS", "imps"), ("UPI", "upi"), ("CHQ", "cheque"),
          ("CHEQUE", "cheque"), ("CLG", "cheque"), ("NACH", "nach"))


@dataclass
class CashApplyLine:
    line_id: int
    reference: str
    date: str
    amount: str
    status: str
    customer: str | None
    allocations: list[dict]
    tds: str
    charges: str
    confidence: float
    reasons: list[str]
    on_account: str = "0.00"
    receipt: str | None = None

    def as_json(self) -> dict:
        return {"reference": self.reference, "date": self.date, "amount": self.amount, "status": self.status,
                "customer": self.customer, "allocations": self.allocations, "tds": self.tds, "charges": self.charges,
                "confidence": self.confidence, "reasons": self.reasons}


@dataclass
class CashApplyResult:
    lines: list[CashApplyLine] = field(default_factory=list)

    @property
    def summary(self) -> dict:
        counts = Counter(x.status for x in self.lines)
        return {"lines": len(self.lines), "applied": counts["applied"], "suggested": counts["suggested"],
                "unmatched": counts["unmatched"]}

    def as_json(self) -> dict:
        return {"lines": [x.as_json() for x in self.lines], "summary": self.summary}


def _money_text(x) -> str:
    from decimal import Decimal

    return f"{Decimal(x).quantize(Decimal('0.01')):.2f}"


def _mode(line: BankLine) -> str:
    text = line.narration.upper()
    for word, mode in _MODES:
        if re.search(rf"\b{word}\b", text):
            return mode
    return "cheque" if line.cheque_number else "bank"


def _credit(line: BankLine):
    from dues.core.matching import BankCredit

    return BankCredit(key=line.pk, date=line.booking_date, amount=line.amount - line.applied_amount,
                      reference=line.reference if not line.reference_generated else "", narration=line.narration,
                      counterparty_name=line.counterparty_name, counterparty_account=line.counterparty_account,
                      counterparty_ifsc=line.counterparty_ifsc, counterparty_upi=line.counterparty_upi)


_PAYER_INDEXES: dict[int, tuple[tuple, object]] = {}  # company id -> (its payers, the index built from them)


def matcher_for(company: Company):
    """The engine loaded with the company's customers, learned identities and open debit items (three queries).

    The index of the payers is built again only when they differ from the last run's (compared in full,
    not by a checksum), so the workbench and repeated runs do not re-index 100,000 names each time.
    """
    from dues.core.matching import Matcher, OpenInvoice, Payer, PayerIndex
    from dues.customers.models import Customer
    from dues.ledger.models import Document, OpenItem

    from .models import CustomerBankIdentity

    learned: dict[str, list[tuple[str, str]]] = {}
    for code, kind, value in CustomerBankIdentity.objects.filter(company=company).values_list(
            "customer__code", "kind", "value"):
        learned.setdefault(code, []).append((kind, value))
    payers = tuple(Payer(code, name, tuple(a for a in (aliases or []) if isinstance(a, str)),
                         tuple(learned.get(code, ())))
                   for code, name, aliases in Customer.objects.filter(company=company)
                   .order_by("code").values_list("code", "name", "aliases"))
    cached = _PAYER_INDEXES.get(company.pk)
    if cached is not None and cached[0] == payers:
        index = cached[1]
    else:
        index = PayerIndex(payers)
        _PAYER_INDEXES[company.pk] = (payers, index)
    rows = (OpenItem.objects.filter(company=company, side="D", residual__gt=0, reversal_of__isnull=True,
                                    document__status=Document.POSTED)
            .values_list("pk", "customer__code", "document__number", "date", "residual", "amount",
                         "document__taxable_value", "document__kind"))
    invoices = [OpenInvoice(pk, code, number, day, residual, amount,
                            taxable if kind in (Document.INVOICE, Document.DEBIT_NOTE) and taxable and taxable > 0
                            else None)
                for pk, code, number, day, residual, amount, taxable, kind in rows]
    return Matcher(index, invoices)


def _receipt_number(line: BankLine) -> str:
    from dues.ledger.models import Document

    base = f"BNK-{line.pk}"
    taken = set(Document.objects.filter(company_id=line.company_id, kind=Document.RECEIPT,
                                        number__startswith=base).values_list("number", flat=True))
    if base not in taken:
        return base
    k = 2
    while f"{base}-{k}" in taken:
        k += 1
    return f"{base}-{k}"


def _post_for_line(line_id: int, customer, allocations, *, tds, charges, discount=0, actor, reasons=(),
                   confidence=None, how: str):
    """Post the receipt for one bank line and mark the line applied; None if the line is no longer unapplied."""
    from decimal import Decimal

    from dues.ledger.services import DocumentDraft, document_post

    with transaction.atomic():
        line = BankLine.objects.select_for_update().get(pk=line_id)
        if line.status != BankLine.UNAPPLIED or line.receipt_id is not None:
            return None
        amount = line.amount - line.applied_amount
        doc = document_post(DocumentDraft(
            kind="receipt", number=_receipt_number(line), customer=customer, date=line.booking_date,
            amount=amount, mode=_mode(line), reference=line.reference, tds=Decimal(tds), charges=Decimal(charges),
            discount=Decimal(discount), description=f"bank {line.bank_account.code}: {line.narration}"[:500],
            allocations=[(n, Decimal(a)) for n, a in allocations]), company=line.company, actor=actor)
        line.status, line.applied_amount, line.receipt = BankLine.APPLIED, line.amount, doc
        line.save(update_fields=["status", "applied_amount", "receipt"])
        from .advices import advices_matched

        advices_matched(line, customer, actor)
        audit_append_many([AuditEntry(actor_name(actor), how, "bank_line", str(line.pk), line.company_id,
                                      {"status": BankLine.UNAPPLIED},
                                      {"status": BankLine.APPLIED, "receipt": doc.number, "customer": customer.code,
                                       "allocations": [[n, _money_text(a)] for n, a in allocations],
                                       "tds": _money_text(tds), "charges": _money_text(charges),
                                       "confidence": confidence, "reasons": list(reasons)})])
        return doc


def cash_apply(company: Company, *, auto: bool = False, threshold: float = AUTO_THRESHOLD, actor=None,
               bank_account: BankAccount | None = None) -> CashApplyResult:
    """Run the engine over the unapplied credits; with ``auto``, post and allocate those at or above ``threshold``.

    Idempotent: a line is applied inside a transaction that locks it and checks it is still unapplied,
    and its receipt is linked to it, so re-running (or two runs at once) never applies a line twice.
    """
    from dues.customers.models import Customer

    from .advices import advices_open
    from .selectors import unapplied_credits

    require(actor, "receipts.post" if auto else "desk.view", "apply bank credits to invoices")
    lines = list(unapplied_credits(company=company, bank_account=bank_account).filter(status=BankLine.UNAPPLIED))
    result = CashApplyResult()
    if not lines:  # nothing to apply: the engine (every customer's names, every open invoice) is not loaded
        return result
    matcher = matcher_for(company)
    customers: dict[str, Customer] = {}  # those a line is posted to, read as they are needed
    advices = {a.utr.strip().upper(): a for a in advices_open(company)}  # what customers told us they paid
    for line in lines:
        decision = matcher.match(_credit(line))
        best = decision.best
        row = CashApplyLine(line.pk, line.reference, line.booking_date.isoformat(), _money_text(line.amount),
                            "unmatched", None, [], "0.00", "0.00", round(decision.confidence, 4), [])
        if best is not None:
            row.status, row.customer = "suggested", best.customer
            row.allocations = [{"invoice": n, "amount": _money_text(a)} for n, a in best.allocations]
            row.tds, row.charges = _money_text(best.tds), _money_text(best.charges)
            row.on_account, row.reasons = _money_text(best.on_account), list(best.reasons)
            if best.confidence >= threshold:
                if auto:
                    try:
                        if best.customer not in customers:
                            customers[best.customer] = Customer.objects.get(company=company, code=best.customer)
                        doc = _post_for_line(line.pk, customers[best.customer], best.allocations, tds=best.tds,
                                             charges=best.charges, discount=best.discount, actor=actor,
                                             reasons=best.reasons, confidence=best.confidence, how="cash_apply")
                    except DuesError as exc:
                        row.reasons.append(f"could not post: {exc}")
                        doc = None
                    if doc is not None:
                        row.status, row.receipt = "applied", doc.number
                        matcher.consume(best)
                else:
                    matcher.consume(best)  # a preview shows what --auto would do, line after line
        else:
            row.reasons = ["no customer found in the narration, reference or learned accounts"]
        advice = advices.get(line.reference.strip().upper()) if not line.reference_generated else None
        if advice is not None:
            row.reasons.append(f"remittance advice {advice.pk}: {advice.customer.code} told us of UTR {advice.utr}, "
                               f"{_money_text(advice.amount)} on {advice.paid_on.isoformat()}"
                               + (f" for {', '.join(advice.invoices)}" if advice.invoices else ""))
        result.lines.append(row)
    return result


def cash_apply_confirm(line: BankLine, customer, allocations, *, tds=0, charges=0, discount=0, actor=None):
    """A person's match: post the receipt for ``line`` and remember how this payer shows up for ``customer``."""
    from dues.core.matching import identity_value, normalise_name, payer_text

    from .models import CustomerBankIdentity

    require(actor, "receipts.post", "apply bank credits to invoices")
    if customer.company_id != line.company_id:
        raise DuesError(f"{customer.code} is not a customer of this company")
    with transaction.atomic():
        doc = _post_for_line(line.pk, customer, list(allocations), tds=tds, charges=charges, discount=discount,
                             actor=actor, how="cash_apply_confirm", reasons=("confirmed by a person",))
        if doc is None:
            raise DuesError(f"bank line {line.reference} is already applied")
        learned = []
        if line.counterparty_upi:
            learned.append((CustomerBankIdentity.UPI, identity_value("upi", line.counterparty_upi)))
        if line.counterparty_account:
            learned.append((CustomerBankIdentity.ACCOUNT, identity_value("account", line.counterparty_account)))
            if line.counterparty_ifsc:
                learned.append((CustomerBankIdentity.IFSC_ACCOUNT, identity_value(
                    "ifsc_account", f"{line.counterparty_ifsc}:{line.counterparty_account}")))
        alias = payer_text(line.narration, line.counterparty_name)
        known = {normalise_name(customer.name), *(normalise_name(a) for a in customer.aliases or [] if isinstance(a, str))}
        if alias and alias not in known:
            learned.append((CustomerBankIdentity.ALIAS, alias))
        who = actor_name(actor)
        new = []
        for kind, value in learned:
            if value and not CustomerBankIdentity.objects.filter(company_id=line.company_id, customer=customer,
                                                                 kind=kind, value=value[:200]).exists():
                CustomerBankIdentity.objects.create(company_id=line.company_id, customer=customer, kind=kind,
                                                    value=value[:200], created_by=who)
                new.append([kind, value[:200]])
        if new:
            audit_append_many([AuditEntry(who, "learn", "customer_bank_identity", customer.code, line.company_id,
                                          None, {"customer": customer.code, "identities": new,
                                                 "bank_line": line.reference})])
    return doc
