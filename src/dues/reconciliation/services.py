"""Writes of the reconciliation app: balance confirmations and the follow-ups of a ledger reconciliation.

Every function is one action, checks the actor's capability before writing anything, runs in a
transaction and leaves audit records (the ledger and collections services it calls audit their own
writes too).

Balance confirmation
    ``confirmation_request``  letter PDF + e-mail (the outbox when no SMTP is configured; a letter to
                              print when the customer has no e-mail address), one request per customer
    ``confirmation_reply``    confirmed / disagreed (with their figure and their ledger: it is reconciled
                              against ours and the result kept) / no_reply
    ``confirmation_remind``   the letter again to requests left unanswered for N days

Follow-ups of a ledger reconciliation (``reconciliation_followups``)
    ``book_tds``    TDS they deducted that we do not show (a ``tds_difference`` from their ledger): posted as
                    a receipt of amount 0 with that TDS, dated the as-of date: Dr TDS receivable, Cr the
                    customer (the customer paid that part of our bill to the government on our behalf; we
                    claim it against Form 26AS / their Form 16A). It sits on account until allocated.
    ``disputes``    an ``amount_mismatch`` where they booked less than our document: a dispute on the
                    document for the difference (out of dunning while sales sorts it out).
    ``activities``  a ``missing_in_theirs`` entry (our invoice, receipt or note they have not booked): an
                    open collections task to ask them to book it, follow-up in 7 days.
Each is idempotent: what is already booked / disputed / asked for is skipped and said so.

TDS vs Form 26AS (``tds_book_unrecorded``)
    TDS 26AS shows and we do not record: one TDS-only receipt per customer and quarter, through the
    same posting as ``book_tds`` (``tds_only_receipt``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError, Problem, ValidationFailed
from dues.core.money import ZERO, quantize
from dues.formats import format_day
from dues.users.permissions import require, require_customer, require_post

from . import confirmation as conf
from .models import ConfirmationRequest

CAP_ACT = "collections.act"
FOLLOWUP_ACTIONS = ("book_tds", "disputes", "activities")
MAX_REPLY_FILE = 10 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# balance confirmation


@dataclass
class SendResult:
    customer: str
    status: str  # sent / letter / skipped / failed
    note: str
    request: ConfirmationRequest | None = None

    def as_json(self) -> dict:
        return {"customer": self.customer, "status": self.status, "note": self.note,
                "id": self.request.pk if self.request else None,
                "our_balance": str(self.request.our_balance.quantize(Decimal("0.01"))) if self.request else None}


def _emails(customer) -> list[str]:
    found = [customer.email] + [c.email for c in customer.contacts.all()]
    out: list[str] = []
    for value in filter(None, (v.strip() for v in found if v)):
        for part in (p.strip() for p in value.replace(";", ",").split(",")):
            if part and part.lower() not in (o.lower() for o in out):
                out.append(part)
    return out


def _state(r: ConfirmationRequest) -> dict:
    return {"customer": r.customer.code, "as_of": r.as_of.isoformat(), "our_balance": f"{r.our_balance:.2f}",
            "status": r.status, "their_balance": None if r.their_balance is None else f"{r.their_balance:.2f}",
            "channel": r.channel, "sent_to": r.sent_to, "reply_file": r.reply_file_name or None,
            "reminders": r.reminders}


def _customers_with_balance(company, as_of: date, actor):
    from dues.customers.models import Customer
    from dues.reporting.selectors import ageing
    from dues.users.permissions import customers_visible

    codes = [row.key for row in ageing(company=company, as_of=as_of).rows if row.total != 0]
    return list(customers_visible(actor, Customer.objects.filter(company=company, code__in=codes)).order_by("code"))


def _letter_file(request: ConfirmationRequest) -> Path:
    from dues.messaging.transports import letters_dir

    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", request.customer.code)
    return letters_dir() / f"balance-confirmation-{safe}-{request.as_of.isoformat()}-{request.pk}.pdf"


def _message(company, request: ConfirmationRequest, pdf: bytes, reminder: int = 0):
    from dues.formats import format_money
    from dues.messaging.transports import Message

    cur = company.currency
    balance = quantize(request.our_balance, cur)
    day = request.as_of.strftime("%d-%m-%Y")
    subject = (f"{'Reminder: ' if reminder else ''}Balance confirmation as of {day}: {request.customer.code} "
               f"{request.customer.name}")
    body = ("Dear Sir / Madam,\n\n"
            + ("We have not yet received your reply to our request below.\n\n" if reminder else "")
            + f"Please confirm the balance of your account {request.customer.code} in our books as of {day}: "
            f"{format_money(abs(balance), locale=company.locale or 'en_IN', currency=cur)} "
            f"{'due to us' if balance >= 0 else 'in your favour'}.\n"
            f"The attached letter lists the open items. Reply to this e-mail with the signed reply slip; if your "
            f"books differ, please attach your ledger of our account (Excel, CSV or Tally export).\n\n"
            f"Reference: confirmation {request.pk}\n\nRegards,\nAccounts receivable, {company.name}\n")
    name = f"balance-confirmation-{request.customer.code}-{request.as_of.isoformat()}.pdf"
    return Message(channel="email", customer=request.customer.code,
                   key=f"confirmation:{request.pk}" + (f":reminder-{reminder}" if reminder else ""),
                   subject=subject, body=body, to=request.sent_to.split(", ") if request.sent_to else [],
                   attachments=[(name, pdf, "application/pdf")])


def confirmation_request(*, company, as_of: date, actor, customers=None, all_with_balance: bool = False,
                         on: date | None = None, transport=None) -> list[SendResult]:
    """Send a balance-confirmation letter as of ``as_of`` to ``customers`` (or all with a balance).

    One request per customer, each in its own transaction: the PDF is rendered, kept in the letters
    folder and e-mailed (the outbox without SMTP); without an e-mail address it is left as a letter to
    print. A customer with an unanswered request for the same date is skipped.
    """
    from dues.messaging.transports import EmailTransport

    require(actor, CAP_ACT, "send balance confirmations")
    if (customers is None) == (not all_with_balance):
        raise DuesError("name the customers or ask for all with a balance (not both)")
    if as_of > clock.today():
        raise ValidationFailed([Problem("a balance can be confirmed as of today at the latest", "as_of")])
    targets = _customers_with_balance(company, as_of, actor) if all_with_balance else list(customers)
    for customer in targets:
        require_customer(actor, customer)
    on = on or clock.today()
    transport = transport or EmailTransport()
    results: list[SendResult] = []
    try:
        for customer in targets:
            results.append(_request_one(company, customer, as_of, on, actor, transport))
    finally:
        close = getattr(transport, "close", None)
        if close:
            close()
    return results


def _request_one(company, customer, as_of: date, on: date, actor, transport) -> SendResult:
    if ConfirmationRequest.objects.filter(company=company, customer=customer, as_of=as_of,
                                          status=ConfirmationRequest.REQUESTED).exists():
        return SendResult(customer.code, "skipped", f"a request as of {as_of.isoformat()} is still unanswered")
    try:
        with transaction.atomic():
            items = conf.open_items(company, customer, as_of)
            balance = conf.balance_of(items)
            to = _emails(customer)
            request = ConfirmationRequest.objects.create(
                company=company, customer=customer, as_of=as_of, our_balance=balance,
                channel=ConfirmationRequest.EMAIL if to else ConfirmationRequest.LETTER, sent_to=", ".join(to),
                requested_by=actor_name(actor))
            pdf = conf.render_confirmation(company, customer, as_of, items, balance, on=on, reference=str(request.pk))
            path = _letter_file(request)
            path.write_bytes(pdf)
            request.letter_path = str(path)
            request.delivery = transport.send(_message(company, request, pdf)) if to else \
                f"no e-mail address: print {path.name} and post it"
            request.save(update_fields=["letter_path", "delivery"])
            audit_append(actor=actor, action="create", object_type="balance_confirmation", object_id=request.pk,
                         company_id=company.pk, before=None, after=_state(request) | {"delivery": request.delivery})
    except DuesError:
        raise
    except Exception as exc:  # the transport refused: nothing kept for this customer, the others go on
        return SendResult(customer.code, "failed", f"{type(exc).__name__}: {exc}")
    return SendResult(customer.code, "sent" if to else "letter", request.delivery, request)


def _reply_file(file) -> tuple[str, bytes]:
    if isinstance(file, tuple):
        name, data = file
    else:
        path = Path(file)
        name, data = path.name, path.read_bytes()
    if len(data) > MAX_REPLY_FILE:
        raise ValidationFailed([Problem(f"{name} is larger than {MAX_REPLY_FILE // (1024 * 1024)} MB", "file")])
    if not data:
        raise ValidationFailed([Problem(f"{name} is empty", "file")])
    return os.path.basename(name)[:255], data


@transaction.atomic
def confirmation_reply(*, request: ConfirmationRequest, status: str, actor, their_balance=None, file=None,
                       preset: str | None = None, mapping: str | None = None) -> ConfirmationRequest:
    """Record the customer's reply. A disagreement with their ledger (``file``: a path or ``(name, bytes)``)
    reconciles it against ours as of the request's date and keeps the result; their balance defaults
    to the one their ledger shows."""
    from dues.reconciliation.selectors import reconcile_customer

    require(actor, CAP_ACT, "record a balance-confirmation reply")
    request = ConfirmationRequest.objects.select_for_update().select_related("customer", "company").get(pk=request.pk)
    require_customer(actor, request.customer)
    company = request.company
    found: list[Problem] = []
    if status not in (ConfirmationRequest.CONFIRMED, ConfirmationRequest.DISAGREED, ConfirmationRequest.NO_REPLY):
        found.append(Problem(f"unknown reply {status!r}; one of confirmed, disagreed, no_reply", "status"))
    value = None
    if their_balance not in (None, ""):
        try:
            value = quantize(Decimal(str(their_balance).replace(",", "").strip()), company.currency)
        except Exception:
            found.append(Problem(f"not an amount: {their_balance!r}", "their_balance"))
    if file is not None and status != ConfirmationRequest.DISAGREED:
        found.append(Problem("their ledger goes with a disagreement", "file"))
    ours = quantize(request.our_balance, company.currency)
    if status == ConfirmationRequest.CONFIRMED and value is not None and value != ours:
        found.append(Problem(f"{value} is not our balance {ours}: record a disagreement", "their_balance"))
    if status == ConfirmationRequest.DISAGREED and value is None and file is None:
        found.append(Problem("give their balance (or attach their ledger)", "their_balance"))
    if found:
        raise ValidationFailed(found)
    before = _state(request)
    summary = None
    name, data = ("", None)
    if file is not None:
        name, data = _reply_file(file)
        rec = reconcile_customer(company=company, code=request.customer.code, their_file=name, as_of=request.as_of,
                                 preset=preset, mapping=mapping, data=data)
        summary = rec.as_json()
        if value is None:
            value = quantize(rec.result.their_balance, company.currency)
    if status == ConfirmationRequest.CONFIRMED:
        value = ours
    if status == ConfirmationRequest.DISAGREED and value == ours and summary is None:
        raise ValidationFailed([Problem(f"{value} is our balance: record a confirmation", "their_balance")])
    request.status = status
    request.their_balance = value if status != ConfirmationRequest.NO_REPLY else None
    if data is not None:
        request.reply_file_name, request.reply_file, request.reconciliation = name, data, summary
    request.replied_at = clock.now()
    request.replied_by = actor_name(actor)
    request.save()
    after = _state(request)
    if summary is not None:
        after |= {"unexplained": summary["unexplained"], "differences": len(summary["differences"])}
    audit_append(actor=actor, action="update", object_type="balance_confirmation", object_id=request.pk,
                 company_id=company.pk, before=before, after=after)
    return request


def confirmation_remind(*, company, older_than_days: int, actor, now=None, transport=None) -> list[SendResult]:
    """Send the letter again to every unanswered request last sent (or reminded) ``older_than_days`` ago or more."""
    from django.db.models import Q

    from dues.messaging.transports import EmailTransport

    require(actor, CAP_ACT, "remind customers of balance confirmations")
    if older_than_days < 0:
        raise ValidationFailed([Problem("cannot be negative", "days")])
    now = now or clock.now()
    cutoff = now - timedelta(days=older_than_days)
    due = (ConfirmationRequest.objects.filter(company=company, status=ConfirmationRequest.REQUESTED)
           .filter(Q(last_reminded_at__isnull=True, requested_at__lte=cutoff) | Q(last_reminded_at__lte=cutoff))
           .select_related("customer").order_by("customer__code", "pk"))
    from dues.customers.models import Customer
    from dues.users.permissions import customers_visible

    due = due.filter(customer__in=customers_visible(actor, Customer.objects.filter(company=company)))
    transport = transport or EmailTransport()
    results: list[SendResult] = []
    try:
        for request in due:
            try:
                with transaction.atomic():
                    path = Path(request.letter_path) if request.letter_path else None
                    if path is not None and path.is_file():
                        pdf = path.read_bytes()
                    else:
                        items = conf.open_items(company, request.customer, request.as_of)
                        pdf = conf.render_confirmation(company, request.customer, request.as_of, items,
                                                       request.our_balance, on=now.date(), reference=str(request.pk))
                    before = _state(request)
                    request.reminders += 1
                    request.last_reminded_at = now
                    note = (transport.send(_message(company, request, pdf, reminder=request.reminders))
                            if request.sent_to else f"no e-mail address: print {request.letter_path} again")
                    request.save(update_fields=["reminders", "last_reminded_at"])
                    audit_append(actor=actor, action="update", object_type="balance_confirmation",
                                 object_id=request.pk, company_id=company.pk, before=before,
                                 after=_state(request) | {"reminder": note})
            except DuesError:
                raise
            except Exception as exc:
                results.append(SendResult(request.customer.code, "failed", f"{type(exc).__name__}: {exc}", request))
                continue
            results.append(SendResult(request.customer.code, "sent" if request.sent_to else "letter", note, request))
    finally:
        close = getattr(transport, "close", None)
        if close:
            close()
    return results


# ---------------------------------------------------------------------------------------------
# follow-ups of a ledger reconciliation


@dataclass
class FollowupResult:
    booked: list[str] = field(default_factory=list)  # receipt numbers (TDS)
    disputes: list[str] = field(default_factory=list)  # "INV-1 (1,000.00)"
    activities: list[str] = field(default_factory=list)  # subjects
    skipped: list[str] = field(default_factory=list)  # what was not done and why

    def as_json(self) -> dict:
        return {"booked": self.booked, "disputes": self.disputes, "activities": self.activities,
                "skipped": self.skipped}


def _row(label: str | None) -> int | None:
    m = re.fullmatch(r"row (\d+)", (label or "").strip())
    return int(m.group(1)) if m else None


def followup_plan(result) -> dict[str, list]:
    """Which differences each follow-up would act on (for the web page's buttons and a dry run)."""
    from dues.core import reconcile as rc

    plan: dict[str, list] = {a: [] for a in FOLLOWUP_ACTIONS}
    for d in result.differences:
        if not d.amount:  # e.g. the zero payment line of a TDS-only receipt: nothing to act on
            continue
        if d.kind == rc.TDS_DIFFERENCE and d.theirs and d.amount < 0:
            plan["book_tds"].append(d)
        elif d.kind == rc.AMOUNT_MISMATCH and d.ours and d.amount < 0:
            plan["disputes"].append(d)
        elif d.kind == rc.MISSING_IN_THEIRS and d.ours:
            plan["activities"].append(d)
    return plan


@transaction.atomic
def reconciliation_followups(*, company, customer, result, actions, actor, on: date | None = None,
                             dispute_reason: str = "price", dispute_owner: str = "sales") -> FollowupResult:
    """Act on a reconciliation (``result``: a ``core.reconcile.Reconciliation`` or ``CustomerReconciliation``)."""
    from dues.collections.models import Activity, Dispute
    from dues.collections.services.disputes import dispute_open
    from dues.ledger.models import Document

    result = getattr(result, "result", result)
    actions = list(dict.fromkeys(actions))
    unknown = [a for a in actions if a not in FOLLOWUP_ACTIONS]
    if unknown:
        raise ValidationFailed([Problem(f"unknown follow-up {', '.join(unknown)}; one of "
                                        f"{', '.join(FOLLOWUP_ACTIONS)}", "actions")])
    # every permission first: a refused actor writes nothing
    if "book_tds" in actions:
        require_post(actor, Document.RECEIPT)
    if "disputes" in actions or "activities" in actions:
        require(actor, CAP_ACT, "open disputes and collection tasks")
    require_customer(actor, customer)
    on = on or clock.today()
    cur = company.currency
    plan = followup_plan(result)
    out = FollowupResult()
    who = actor_name(actor)

    if "book_tds" in actions:
        for d in plan["book_tds"]:
            tds = quantize(-d.amount, cur)
            row = _row(d.theirs)
            number = f"TDS/{customer.code}/{result.as_of:%y%m%d}/{row or len(out.booked) + 1}"[:40]
            _doc, why = tds_only_receipt(
                company=company, customer=customer, number=number, on=result.as_of, tds=tds,
                reference=f"their {d.theirs}", actor=actor,
                description=f"TDS per customer's ledger ({d.theirs}" + (f", on {d.ours}" if d.ours else "") + ")")
            if why:
                out.skipped.append(f"{number}: {why}")
                continue
            out.booked.append(number)

    if "disputes" in actions:
        for d in plan["disputes"]:
            number = d.ours.split(",")[0].strip()
            doc = Document.objects.filter(company=company, customer=customer, number=number,
                                          kind__in=Document.DEBIT_KINDS, status=Document.POSTED).first()
            if doc is None:
                out.skipped.append(f"{number}: not an invoice or debit note we can dispute")
                continue
            if Dispute.objects.filter(document=doc, status__in=Dispute.ACTIVE).exists():
                out.skipped.append(f"{number}: a dispute is already open")
                continue
            amount = quantize(-d.amount, cur)
            try:
                dispute_open(company=company, invoice=doc, amount=amount, reason=dispute_reason, owner=dispute_owner,
                             actor=actor, opened_on=on, notes=f"ledger reconciliation as of {result.as_of:%d-%m-%Y}: "
                                                                f"{d.explanation}")
            except ValidationFailed as exc:
                out.skipped.append(f"{number}: {'; '.join(p.message for p in exc.problems)}")
                continue
            out.disputes.append(f"{number} ({amount:,.2f})")

    if "activities" in actions:
        for d in plan["activities"]:
            subject = f"ask {customer.code} to book {d.ours} ({abs(quantize(d.amount, cur)):,.2f}) in their ledger"
            if Activity.objects.filter(company=company, customer=customer, subject=subject, outcome="open").exists():
                out.skipped.append(f"{d.ours}: already asked")
                continue
            activity = Activity.objects.create(
                company=company, customer=customer, kind="task", outcome="open", subject=subject[:300],
                notes=f"ledger reconciliation as of {result.as_of:%d-%m-%Y}: {d.explanation}",
                next_follow_up=on + timedelta(days=7), created_by=who)
            audit_append(actor=actor, action="create", object_type="activity", object_id=activity.pk,
                         company_id=company.pk, before=None,
                         after={"customer": customer.code, "kind": "task", "outcome": "open", "subject": subject,
                                "next_follow_up": activity.next_follow_up.isoformat()})
            out.activities.append(subject)

    audit_append(actor=actor, action="create", object_type="reconciliation_followups", object_id=customer.code,
                 company_id=company.pk, before=None,
                 after={"customer": customer.code, "as_of": result.as_of.isoformat(), "actions": actions,
                        **out.as_json()})
    return out


# ---------------------------------------------------------------------------------------------
# TDS the customer deducted that we do not show: one posting for both follow-ups


def tds_only_receipt(*, company, customer, number: str, on: date, tds: Decimal, reference: str, description: str,
                     actor):
    """Post a TDS-only receipt: amount 0 with ``tds`` (Dr TDS receivable, Cr the customer: they paid that part
    of our bill to the government on our behalf). It stays on account: the customer's TDS certificate
    (Form 16A) says which invoices it belongs to, and a person allocates it.

    Returns ``(document, "")`` when posted, or ``(None, why)`` when a receipt numbered ``number`` exists
    already (posted, or posted and cancelled: never booked twice). ``document_post`` checks receipts.post,
    the lock date and audits the posting.
    """
    from dues.ledger.models import Document
    from dues.ledger.services import DocumentDraft, document_post

    status = (Document.objects.filter(company=company, kind=Document.RECEIPT, number=number)
              .values_list("status", flat=True).first())
    if status == Document.POSTED:
        return None, "already booked"
    if status is not None:
        return None, "booked before and cancelled; book it by hand if it is still due"
    doc = document_post(DocumentDraft(kind=Document.RECEIPT, number=number, customer=customer, date=on, amount=ZERO,
                                      tds=quantize(tds, company.currency), mode="other", reference=reference[:100],
                                      description=description[:500]), company=company, actor=actor)
    return doc, ""


@dataclass
class TdsBooking:
    booked: list[dict] = field(default_factory=list)  # {"customer", "quarter", "number", "date", "tds"}
    skipped: list[dict] = field(default_factory=list)  # {"customer", "quarter", "number", "reason"}

    def as_json(self) -> dict:
        return {"booked": self.booked, "skipped": self.skipped}


@transaction.atomic
def tds_book_unrecorded(company, result, *, actor, quarters=None) -> TdsBooking:
    """Book the TDS that Form 26AS shows and we do not (``in_26as_not_recorded`` rows of a TDS reconciliation:
    a ``core.tds26as.TdsReconciliation`` or ``reconciliation.tds.TdsReport``): one TDS-only receipt per customer
    and quarter for the difference, numbered ``TDS26AS/<code>/<FY>-Q<n>``, dated the latest 26AS transaction
    date of that quarter (when the customer deducted; it keeps the receipt in the quarter 26AS shows, so
    the quarter matches on the next run). ``quarters`` (1-4 or "Q1".."Q4") narrows which quarters are booked.

    Skipped, and said why: a quarter already booked (re-running posts nothing twice), a date on or before
    the lock date, a TAN that several customers carry (whose TDS it is cannot be told), a number that
    would be too long. Left on account, not allocated: the customer's TDS certificate says which invoices.
    """
    from dues.core import tds26as as t
    from dues.customers.models import Customer
    from dues.ledger.models import Document

    result = getattr(result, "result", result)
    require_post(actor, Document.RECEIPT)  # before anything: a refused actor writes nothing
    wanted = None if quarters is None else {int(str(q).upper().removeprefix("Q")) for q in quarters}
    label = result.fy.label
    rows = [r for r in result.rows if r.status == t.NOT_RECORDED and (wanted is None or r.quarter in wanted)]
    customers = {c.code: c for c in Customer.objects.filter(company=company,
                                                            code__in={r.customers[0] for r in rows})}
    # the lock date as it is now (the caller's company object may be older than a lock set since)
    lock = type(company).objects.values_list("lock_date", flat=True).get(pk=company.pk)
    out = TdsBooking()
    for r in rows:
        code = r.customers[0]
        number = f"TDS26AS/{code}/{label}-Q{r.quarter}"
        tds = quantize(r.difference, company.currency)
        on = max((ln.date for ln in r.lines), default=None)

        def skip(reason: str, r=r, number=number, tds=tds) -> None:
            out.skipped.append({"customer": ", ".join(r.customers), "quarter": f"Q{r.quarter}", "number": number,
                                "tds": str(tds), "reason": reason})

        if len(r.customers) > 1:
            skip(f"TAN {r.tan} is on {', '.join(r.customers)}: book it on the right customer by hand")
            continue
        if len(number) > 40:
            skip("the customer code is too long for the receipt number; book it by hand")
            continue
        if on is None or code not in customers:
            skip("no 26AS line or customer to book it on")
            continue
        if lock and on <= lock:
            skip(f"dated {format_day(on)}, on or before the lock date {format_day(lock)}: the period "
                 f"is closed; book it in an open period by hand or reopen the period")
            continue
        sections = ", ".join(r.sections)
        _doc, why = tds_only_receipt(
            company=company, customer=customers[code], number=number, on=on, tds=tds, actor=actor,
            reference=f"26AS {r.tan} FY {label} Q{r.quarter}",
            description=f"TDS per Form 26AS, FY {label} Q{r.quarter} (TAN {r.tan}"
                        + (f", section {sections}" if sections else "") + f"): 26AS {r.theirs:.2f}, "
                        f"ours {r.ours:.2f}")
        if why:
            skip(why)
            continue
        out.booked.append({"customer": code, "quarter": f"Q{r.quarter}", "number": number, "date": on.isoformat(),
                           "tds": str(tds)})
    audit_append(actor=actor, action="create", object_type="tds_26as_booking", object_id=label,
                 company_id=company.pk, before=None, after={"fy": label, **out.as_json()})
    return out
