"""Customers' replies read back: stored, matched to the customer and turned into suggestions to accept or dismiss.

A reply is matched by its thread first (In-Reply-To/References naming one of our Message-IDs, see
``dues.messaging.transports.thread_message_id``), else by its sender: an e-mail address or a phone
number (last ten digits) of a contact or of the customer itself. What it suggests is read by
``dues.messaging.replies.suggest``. Accepting a suggestion does what it says (records the promise,
opens the dispute, logs the payment claimed, e-mails the statement); every step is audited.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import Problem, ValidationFailed
from dues.customers.models import Contact, Customer
from dues.messaging.replies import DISPUTE, PAYMENT, PROMISE, STATEMENT, suggest
from dues.messaging.transports import thread_customer_codes
from dues.users.permissions import require, require_customer

from ..models import InboundReply, ReplySuggestion


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")[-10:]


def match_customer(company, *, sender: str, channel: str, thread_headers: tuple[str, ...] = ()):
    """(customer, how) for a reply: by thread, then by e-mail address or phone; (None, "") when nothing matches."""
    for code in thread_customer_codes(*thread_headers):
        customer = Customer.objects.filter(company=company, code=code).first()
        if customer is not None:
            return customer, "thread"
    if channel == InboundReply.EMAIL:
        address = parseaddr(sender)[1].strip().lower()
        if not address:
            return None, ""
        pattern = rf"(^|[\s,;<]){re.escape(address)}($|[\s,;>])"
        contact = (Contact.objects.filter(customer__company=company, email__iregex=pattern)
                   .select_related("customer").order_by("-is_primary", "pk").first())
        if contact is not None:
            return contact.customer, "address"
        customer = Customer.objects.filter(company=company, email__iregex=pattern).order_by("pk").first()
        return (customer, "address") if customer else (None, "")
    digits = _digits(sender)
    if len(digits) < 10:
        return None, ""
    tail = rf"{digits[:5]}\D*{digits[5:]}$"
    contact = (Contact.objects.filter(customer__company=company)
               .filter(Q(whatsapp__regex=tail) | Q(phone__regex=tail)).select_related("customer")
               .order_by("-is_primary", "pk").first())
    if contact is not None:
        return contact.customer, "address"
    customer = Customer.objects.filter(company=company, phone__regex=tail).order_by("pk").first()
    return (customer, "address") if customer else (None, "")


@transaction.atomic
def reply_record(*, company, channel: str, sender: str, body: str, message_id: str, actor, subject: str = "",
                 thread_headers: tuple[str, ...] = (), received_at=None) -> tuple[InboundReply, bool]:
    """Store one reply (once per message id), match it and write its suggestions; (reply, created)."""
    existing = InboundReply.objects.filter(company=company, message_id=message_id[:300]).first()
    if existing is not None:
        return existing, False
    customer, how = match_customer(company, sender=sender, channel=channel, thread_headers=thread_headers)
    try:
        with transaction.atomic():
            reply = InboundReply.objects.create(
                company=company, customer=customer, channel=channel, sender=sender[:254], subject=subject[:300],
                body=body, message_id=message_id[:300], matched_by=how, received_at=received_at or clock.now())
    except IntegrityError:  # the same message read at once by another fetch
        return InboundReply.objects.get(company=company, message_id=message_id[:300]), False
    made = []
    if customer is not None:
        for s in suggest(body, clock.today()):
            made.append(ReplySuggestion.objects.create(
                company=company, customer=customer, reply=reply, kind=s.kind, amount=s.amount, date=s.date,
                reason=s.reason, utr=s.utr[:40], documents=s.documents, evidence=s.evidence[:300]))
    audit_append(actor=actor, action="create", object_type="inbound_reply", object_id=str(reply.pk),
                 company_id=company.pk, before=None,
                 after={"channel": channel, "sender": reply.sender, "customer": customer.code if customer else None,
                        "matched_by": how, "message_id": reply.message_id,
                        "suggestions": [{"id": m.pk, "kind": m.kind} for m in made]})
    return reply, True


@dataclass
class FetchResult:
    read: int = 0
    new: int = 0
    unmatched: int = 0
    suggestions: int = 0
    problems: list[str] = field(default_factory=list)


def _text_of(msg) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text


def replies_fetch_folder(*, company, folder: Path, actor) -> FetchResult:
    """Read every ``.eml`` file (and a maildir's ``new``/``cur`` messages) under ``folder``; each once."""
    require(actor, "collections.act", "read customers' replies")
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationFailed([Problem(f"{folder}: no such folder", "folder")])
    paths = sorted(folder.glob("*.eml"))
    for sub in ("new", "cur"):
        if (folder / sub).is_dir():
            paths += sorted(p for p in (folder / sub).iterdir() if p.is_file())
    result = FetchResult()
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            result.problems.append(f"{path.name}: {exc}")
            continue
        _read_one(result, company, raw, path.name, actor)
    return result


def _read_one(result: FetchResult, company, raw: bytes, name: str, actor) -> None:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        sender = str(msg.get("From", "") or "")
        if not parseaddr(sender)[1]:
            raise ValueError("no From address")
        message_id = str(msg.get("Message-ID", "") or "").strip() or f"file:{name}"
        body = _text_of(msg)
    except (ValueError, LookupError, UnicodeError) as exc:
        result.problems.append(f"{name}: {exc}")
        return
    result.read += 1
    reply, created = reply_record(company=company, channel=InboundReply.EMAIL, sender=sender, body=body,
                                  message_id=message_id, subject=str(msg.get("Subject", "") or ""),
                                  thread_headers=(str(msg.get("In-Reply-To", "") or ""),
                                                  str(msg.get("References", "") or "")), actor=actor)
    if created:
        result.new += 1
        result.unmatched += reply.customer_id is None
        result.suggestions += reply.suggestions.count()


def imap_settings(url: str):
    """``imaps://user:password@host[:port]/MAILBOX`` (``imap://`` for STARTTLS-less plain IMAP) parsed."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValidationFailed([Problem("DUES_IMAP_URL must look like imaps://user:password@host/INBOX", "imap")])
    return (parts.scheme == "imaps", parts.hostname, parts.port or (993 if parts.scheme == "imaps" else 143),
            unquote(parts.username), unquote(parts.password or ""), unquote(parts.path.lstrip("/")) or "INBOX")


def replies_fetch_imap(*, company, url: str, actor, imap_class=None) -> FetchResult:
    """Read the unseen messages of an IMAP mailbox (``imaplib``); each read one is marked seen."""
    import imaplib

    require(actor, "collections.act", "read customers' replies")
    ssl, host, port, user, password, mailbox = imap_settings(url)
    cls = imap_class or (imaplib.IMAP4_SSL if ssl else imaplib.IMAP4)
    result = FetchResult()
    try:
        conn = cls(host, port)
        try:
            conn.login(user, password)
            conn.select(mailbox)
            _status, data = conn.search(None, "UNSEEN")
            for num in (data[0] or b"").split():
                _status, parts = conn.fetch(num, "(RFC822)")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
                _read_one(result, company, raw, f"imap:{num.decode()}", actor)
                conn.store(num, "+FLAGS", "\\Seen")
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
    except (imaplib.IMAP4.error, OSError) as exc:
        raise ValidationFailed([Problem(f"IMAP {host}: {exc}", "imap")]) from exc
    return result


def _locked_open(suggestion: ReplySuggestion, actor) -> ReplySuggestion:
    row = ReplySuggestion.objects.select_for_update().select_related("customer", "company", "reply").get(
        pk=suggestion.pk)
    require(actor, "collections.act", "act on a reply's suggestion")
    require_customer(actor, row.customer)
    if row.status != ReplySuggestion.OPEN:
        raise ValidationFailed([Problem(f"suggestion {row.pk} is already {row.status}", "status")])
    return row


def _decide(row: ReplySuggestion, actor, status: str, result: str) -> None:
    row.status, row.decided_by, row.decided_at, row.result = status, actor_name(actor), clock.now(), result[:300]
    row.save(update_fields=["status", "decided_by", "decided_at", "result"])
    audit_append(actor=actor, action="accept" if status == ReplySuggestion.ACCEPTED else "dismiss",
                 object_type="reply_suggestion", object_id=str(row.pk), company_id=row.company_id,
                 before={"status": ReplySuggestion.OPEN},
                 after={"status": status, "kind": row.kind, "customer": row.customer.code, "result": row.result})


@transaction.atomic
def suggestion_dismiss(*, suggestion: ReplySuggestion, actor) -> ReplySuggestion:
    row = _locked_open(suggestion, actor)
    _decide(row, actor, ReplySuggestion.DISMISSED, "dismissed")
    return row


def suggestion_accept(*, suggestion: ReplySuggestion, actor, amount=None, on=None, invoice: str = "",
                      transport=None) -> ReplySuggestion:
    """Do what the suggestion says; ``amount``/``on``/``invoice`` fill in or correct what the reply left out."""
    from dues.ledger.models import Document, OpenItem

    from .activities import activity_log
    from .bulk import bulk_send_statements
    from .disputes import dispute_open
    from .promises import promise_add

    if suggestion.kind == STATEMENT:  # the e-mail goes out outside the transaction (it cannot be taken back)
        with transaction.atomic():
            _locked_open(suggestion, actor)
        sent = bulk_send_statements(company=suggestion.company, codes=[suggestion.customer.code], actor=actor,
                                    transport=transport)
        if not sent.done:
            why = sent.skipped[0][1] if sent.skipped else "not sent"
            raise ValidationFailed([Problem(f"the statement was not sent: {why}", "customer")])
        with transaction.atomic():
            row = _locked_open(suggestion, actor)
            _decide(row, actor, ReplySuggestion.ACCEPTED, "statement e-mailed")
            return row
    with transaction.atomic():
        row = _locked_open(suggestion, actor)
        customer, note = row.customer, f"from the {row.reply.get_channel_display()} reply of {row.reply.sender}"
        if row.kind == PROMISE:
            value, day = amount or row.amount, on or row.date
            problems = []
            if value is None:
                problems.append(Problem("the reply names no amount; give one", "amount"))
            if day is None:
                problems.append(Problem("the reply names no date; give one", "date"))
            if problems:
                raise ValidationFailed(problems)
            invoices = [n for n in row.documents if Document.objects.filter(
                customer=customer, number=n, kind__in=Document.DEBIT_KINDS).exists()]
            promise = promise_add(customer=customer, amount=value, promised_date=day, invoices=invoices,
                                  kind="whatsapp" if row.reply.channel == InboundReply.WHATSAPP else "email",
                                  notes=note, actor=actor)
            result = f"promise {promise.pk}: {promise.amount:.2f} by {day.isoformat()}"
        elif row.kind == DISPUTE:
            number = invoice or next(iter(row.documents), "")
            doc = Document.objects.filter(customer=customer, number=number, kind__in=Document.DEBIT_KINDS).first()
            if doc is None:
                raise ValidationFailed([Problem("name the invoice the dispute is about" if not number else
                                                f"{number} is not an invoice of {customer.code}", "invoice")])
            residual = OpenItem.objects.filter(document=doc, reversal_of__isnull=True).values_list(
                "residual", flat=True).first()
            value = amount or row.amount or residual or doc.amount
            dispute = dispute_open(company=row.company, invoice=doc, amount=value, reason=row.reason, owner="sales",
                                   notes=note, actor=actor)
            result = f"dispute {dispute.pk} on {doc.number}: {row.reason}"
        elif row.kind == PAYMENT:
            said = f"{row.amount:.2f}" if row.amount is not None else "an amount not said"
            activity = activity_log(customer=customer, kind="whatsapp" if row.reply.channel == "whatsapp" else "email",
                                    outcome="reached", subject=f"payment claimed: {said}"
                                    + (f", UTR {row.utr}" if row.utr else ""), notes=note, actor=actor)
            result = f"note {activity.pk}: payment claimed" + (f", UTR {row.utr}" if row.utr else "")
        else:  # pragma: no cover - the kinds are fixed
            raise ValidationFailed([Problem(f"unknown kind {row.kind}", "kind")])
        _decide(row, actor, ReplySuggestion.ACCEPTED, result)
        return row
