"""WhatsApp Cloud API bookkeeping: opt-outs, delivery statuses and inbound messages from its webhook."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.db import transaction

from dues import clock
from dues.audit.services import audit_append

from ..models import InboundReply, MessageDelivery, MessagingOptOut

STOP_WORDS = {"stop", "unsubscribe", "stop all", "opt out", "optout", "band karo", "mat bhejo"}


def _company():
    from dues.companies.selectors import company_get

    return company_get()


def _last_ten(number: str) -> str:
    return re.sub(r"\D", "", number or "")[-10:]


def refuse_if_opted_out(*, channel: str, number: str, customer_code: str, key: str) -> None:
    """Raise ``TransportError`` (and audit the refusal) when ``number`` opted out of ``channel``."""
    from dues.messaging.transports import TransportError

    company = _company()
    if MessagingOptOut.objects.filter(company=company, channel=channel, address=_last_ten(number)).exists():
        audit_append(actor="system:whatsapp", action="refuse", object_type="message", object_id=key[:100],
                     company_id=company.pk, before=None,
                     after={"channel": channel, "to": number, "customer": customer_code, "why": "opted out"})
        raise TransportError(f"{number} opted out of {channel} messages; not sent")


def opt_out_add(*, channel: str, number: str, actor, reason: str = "") -> MessagingOptOut:
    company = _company()
    with transaction.atomic():
        row, created = MessagingOptOut.objects.get_or_create(
            company=company, channel=channel, address=_last_ten(number),
            defaults={"reason": reason[:200], "created_by": str(actor)[:150]})
        if created:
            audit_append(actor=actor, action="create", object_type="opt_out", object_id=str(row.pk),
                         company_id=company.pk, before=None,
                         after={"channel": channel, "address": row.address, "reason": row.reason})
    return row


def delivery_record(*, channel: str, provider_id: str, key: str, customer_code: str, to: str) -> None:
    MessageDelivery.objects.get_or_create(channel=channel, provider_id=provider_id[:200], defaults={
        "company": _company(), "key": key[:200], "customer_code": customer_code[:40], "to": to[:40]})


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC of the raw body with the app secret>``."""
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[7:].strip().lower())


def webhook_process(payload: dict) -> dict:
    """Apply one webhook delivery: statuses update the deliveries (never backwards), messages become replies
    (STOP opts the number out). Answers counts."""
    from .replies import reply_record

    company = _company()
    counts = {"statuses": 0, "messages": 0, "opt_outs": 0}
    for entry in payload.get("entry", []) or []:
        for change in entry.get("changes", []) or []:
            value = change.get("value", {}) or {}
            for st in value.get("statuses", []) or []:
                status = st.get("status", "")
                if status not in MessageDelivery.ORDER:
                    continue
                with transaction.atomic():
                    row = MessageDelivery.objects.select_for_update().filter(
                        channel="whatsapp", provider_id=str(st.get("id", ""))).first()
                    if row is None or MessageDelivery.ORDER[status] <= MessageDelivery.ORDER.get(row.status, 0):
                        continue
                    errors = st.get("errors") or []
                    row.status, row.updated_at = status, clock.now()
                    row.error = "; ".join(str(e.get("title") or e.get("message") or e.get("code")) for e in errors)[:500]
                    row.save(update_fields=["status", "updated_at", "error"])
                    counts["statuses"] += 1
            for msg in value.get("messages", []) or []:
                sender, text = str(msg.get("from", "")), ((msg.get("text") or {}).get("body") or "")
                if not sender or not msg.get("id"):
                    continue
                if text.strip().lower().strip(".!") in STOP_WORDS:
                    opt_out_add(channel="whatsapp", number=sender, actor="system:whatsapp", reason=f"replied {text.strip()[:40]}")
                    counts["opt_outs"] += 1
                    continue
                if text:
                    reply_record(company=company, channel=InboundReply.WHATSAPP, sender=sender, body=text,
                                 message_id=str(msg["id"]), actor="system:whatsapp")
                    counts["messages"] += 1
    return counts
