"""Bank lines taken out of cash application: credits the bank took back, and credits a person ignored.

**Returned credits (cheque bounce).** A bank *debit* that reverses an earlier credit: the same
amount, in the same account, on or after the credit, linked to it by the same bank reference or
cheque number (or the credit's reference quoted in the debit's narration), or, failing a link, by
return words in the narration ("CHQ RET", "RTN", "RETURN", "BOUNCE", "REVERSAL", "DISHONOURED") and
a single earlier credit of that amount within ``RETURN_WINDOW_DAYS``. When the credit was applied,
its receipt is cancelled on the debit's date (``document_cancel`` undoes the allocations, so the
invoices are open again from that date); both lines are marked (``returned`` / ``reversal``) and
audited, so a second run finds nothing to do. A debit that matches nothing is left alone.

**Ignored credits.** Interest, refunds, transfers between own accounts: a person marks them
``ignored`` with a reason (audited), and cash application no longer proposes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.companies.models import Company
from dues.core.errors import DuesError
from dues.users.permissions import require

from .models import BankAccount, BankLine

RETURN_WINDOW_DAYS = 45
_RETURN_WORDS = re.compile(
    r"\b(?:RETURN(?:ED)?|RTN|RTND|RET|CHQ\s*RET|I/W\s*RET|O/W\s*RET|BOUNCED?|REVERSAL|REVERSED|REV|DISHONOU?RED|"
    r"UNPAID|REFER\s+TO\s+DRAWER|INSUFFICIENT\s+FUNDS?)\b")
_TOKEN = re.compile(r"[A-Z0-9]{6,}")


@dataclass
class ReturnedPair:
    credit: BankLine
    debit: BankLine
    why: str
    receipt: str | None = None  # number of the receipt cancelled (None: the credit was not applied)
    error: str = ""  # why it could not be done (a closed period, say): left for a person

    def as_json(self) -> dict:
        return {"credit": self.credit.reference, "debit": self.debit.reference, "date": self.debit.booking_date.isoformat(),
                "amount": f"{self.debit.amount:.2f}", "why": self.why, "receipt_cancelled": self.receipt,
                "error": self.error}


def has_return_words(text: str) -> bool:
    return bool(_RETURN_WORDS.search(text.upper()))


def _link(credit: BankLine, debit: BankLine) -> str:
    """How ``debit`` names ``credit`` (empty: it does not)."""
    if not credit.reference_generated and not debit.reference_generated and credit.reference == debit.reference:
        return f"same bank reference {credit.reference}"
    if credit.cheque_number and credit.cheque_number.lstrip("0") and \
            credit.cheque_number.lstrip("0") == debit.cheque_number.lstrip("0"):
        return f"same cheque number {credit.cheque_number}"
    narration = debit.narration.upper()
    for token in ([credit.reference] if not credit.reference_generated else []) + [credit.cheque_number]:
        token = token.strip().upper()
        if len(token) >= 6 and token in _TOKEN.findall(narration):
            return f"credit reference {token} in the debit's narration"
    return ""


def returned_pairs(company: Company, *, bank_account: BankAccount | None = None) -> list[ReturnedPair]:
    """Debits not yet marked that reverse an earlier credit not yet marked; two queries, nothing written."""
    debits = BankLine.objects.filter(company=company, direction=BankLine.DEBIT, booked=True,
                                     status=BankLine.UNAPPLIED)
    if bank_account is not None:
        debits = debits.filter(bank_account=bank_account)
    debits = list(debits.order_by("booking_date", "pk"))
    if not debits:
        return []
    lo = min(d.booking_date for d in debits) - timedelta(days=RETURN_WINDOW_DAYS)
    hi = max(d.booking_date for d in debits)
    credits = list(BankLine.objects.filter(
        company=company, direction=BankLine.CREDIT, booked=True,
        bank_account_id__in={d.bank_account_id for d in debits}, amount__in={d.amount for d in debits},
        booking_date__range=(lo, hi),
        status__in=[BankLine.UNAPPLIED, BankLine.PARTLY, BankLine.APPLIED]).order_by("-booking_date", "-pk"))
    by_key: dict[tuple[int, Decimal], list[BankLine]] = {}
    for c in credits:
        by_key.setdefault((c.bank_account_id, c.amount), []).append(c)
    taken: set[int] = set()
    out: list[ReturnedPair] = []
    for debit in debits:
        words = debit.reversal or has_return_words(debit.narration)
        window = [c for c in by_key.get((debit.bank_account_id, debit.amount), [])
                  if c.pk not in taken and c.booking_date <= debit.booking_date
                  and (debit.booking_date - c.booking_date).days <= RETURN_WINDOW_DAYS]
        linked = [(c, why) for c in window if (why := _link(c, debit))]
        pick = None
        if linked:
            pick = linked[0]  # the latest linked credit
        elif words and len(window) == 1:
            pick = (window[0], "the only credit of this amount in the "
                               f"{RETURN_WINDOW_DAYS} days before")
        if pick is None:
            continue
        credit, why = pick
        if words:
            why = f"{why}; narration says it is a return"
        taken.add(credit.pk)
        out.append(ReturnedPair(credit, debit, why))
    return out


def bank_returns_apply(company: Company, *, actor=None, bank_account: BankAccount | None = None,
                       dry_run: bool = False) -> list[ReturnedPair]:
    """Find returned credits and undo them: receipts cancelled on the debit's date, both lines marked.

    Each pair in its own transaction: one that cannot be done (a closed period) is reported in
    ``error`` and left as it was, the others still go through. Re-running finds nothing new.
    """
    from dues.ledger.models import Document
    from dues.ledger.services import document_cancel

    pairs = returned_pairs(company, bank_account=bank_account)
    if dry_run:
        return pairs
    require(actor, "receipts.post", "undo returned bank credits")
    who = actor_name(actor)
    for pair in pairs:
        try:
            with transaction.atomic():
                credit = BankLine.objects.select_for_update().get(pk=pair.credit.pk)
                debit = BankLine.objects.select_for_update().get(pk=pair.debit.pk)
                if debit.status != BankLine.UNAPPLIED or credit.status not in (BankLine.UNAPPLIED, BankLine.PARTLY,
                                                                               BankLine.APPLIED):
                    pair.error = "already handled"
                    continue
                before = {"status": credit.status}
                if credit.receipt_id is not None:
                    receipt = Document.objects.get(pk=credit.receipt_id)
                    if receipt.status == Document.POSTED:
                        document_cancel(document=receipt, on=debit.booking_date,
                                        reason=f"returned by bank: {debit.reference} {debit.narration}".strip()[:250],
                                        actor=actor)
                        pair.receipt = receipt.number
                credit.status, credit.note = BankLine.RETURNED, f"returned by {debit.reference} on {debit.booking_date:%d-%m-%Y}"[:300]
                debit.status, debit.note = BankLine.REVERSAL, f"returns credit {credit.reference} of {credit.booking_date:%d-%m-%Y}"[:300]
                credit.save(update_fields=["status", "note"])
                debit.save(update_fields=["status", "note"])
                audit_append_many([
                    AuditEntry(who, "bank_return", "bank_line", str(credit.pk), company.pk, before,
                               {"status": BankLine.RETURNED, "returned_by": debit.reference,
                                "receipt_cancelled": pair.receipt, "why": pair.why}),
                    AuditEntry(who, "bank_return", "bank_line", str(debit.pk), company.pk,
                               {"status": BankLine.UNAPPLIED},
                               {"status": BankLine.REVERSAL, "returns": credit.reference, "why": pair.why}),
                ])
                pair.credit, pair.debit = credit, debit
        except DuesError as exc:
            pair.error = str(exc)
    return pairs


def bank_line_ignore(line: BankLine, *, reason: str, actor=None) -> BankLine:
    """Mark an unapplied credit as not a customer's money (interest, refund, own transfer), with a reason."""
    require(actor, "receipts.post", "ignore bank credits")
    reason = " ".join(reason.split())
    if not reason:
        raise DuesError("say why this credit is not a customer's payment")
    with transaction.atomic():
        locked = BankLine.objects.select_for_update().get(pk=line.pk)
        if locked.direction != BankLine.CREDIT or locked.status != BankLine.UNAPPLIED or locked.receipt_id:
            raise DuesError(f"bank line {locked.reference} is {locked.get_status_display()}: only an unapplied "
                            "credit can be ignored")
        locked.status, locked.note = BankLine.IGNORED, reason[:300]
        locked.save(update_fields=["status", "note"])
        audit_append_many([AuditEntry(actor_name(actor), "ignore", "bank_line", str(locked.pk), locked.company_id,
                                      {"status": BankLine.UNAPPLIED}, {"status": BankLine.IGNORED, "reason": reason})])
    return locked


def bank_line_unignore(line: BankLine, *, actor=None) -> BankLine:
    """Put an ignored credit back in the queue (a person changed their mind), audited."""
    require(actor, "receipts.post", "put bank credits back for matching")
    with transaction.atomic():
        locked = BankLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != BankLine.IGNORED:
            raise DuesError(f"bank line {locked.reference} is not ignored")
        note = locked.note
        locked.status, locked.note = BankLine.UNAPPLIED, ""
        locked.save(update_fields=["status", "note"])
        audit_append_many([AuditEntry(actor_name(actor), "unignore", "bank_line", str(locked.pk), locked.company_id,
                                      {"status": BankLine.IGNORED, "reason": note}, {"status": BankLine.UNAPPLIED})])
    return locked
