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
