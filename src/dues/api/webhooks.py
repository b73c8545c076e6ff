"""Webhooks: subscribers, events written to a durable outbox in the transaction of the change, and delivery.

Events come from the audit log (``dues.audit.services.audit_listen``): every service that changes
anything appends its audit record in its own transaction, so an outbox row exists exactly when the
change committed. ``deliver_due(now)`` sends what is due (a plain function: the CLI's
``dues webhook deliver`` or any scheduler calls it), signs each body with the subscriber's secret and
retries failures with exponential back-off, logging every attempt.

Signature: ``X-Dues-Timestamp: <unix seconds>`` and
``X-Dues-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction

from dues import clock
from dues.audit.services import AuditEntry, audit_append
from dues.core.errors import DuesError, Problem, ValidationFailed

from .models import WebhookDelivery, WebhookOutbox, WebhookSubscriber

EVENTS = ("invoice.posted", "receipt.posted", "promise.broken", "dispute.opened", "dispute.resolved",
          "customer.hold", "customer.released")
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 60  # 1, 2, 4, ... minutes, at most six hours apart
BACKOFF_CAP = 6 * 3600
TIMEOUT = 10
LEASE = timedelta(minutes=5)  # a claimed row is not sent again before this, unless its result is recorded


def event_of(entry: AuditEntry) -> str | None:
    """The webhook event an audit record is, if any."""
    after, before = entry.after or {}, entry.before or {}
    if entry.action in ("post", "import") and entry.object_type in ("invoice", "receipt"):
        return f"{entry.object_type}.posted"
    if entry.object_type == "dispute":
        if entry.action == "create":
            return "dispute.opened"
        if entry.action == "update" and after.get("status") in ("resolved_credit_note", "rejected") \
                and before.get("status") != after.get("status"):
            return "dispute.resolved"
    if entry.object_type == "promise_to_pay" and entry.action == "update" and after.get("status") == "broken":
        return "promise.broken"
    if entry.object_type == "customer_collections" and "hold" in after and before.get("hold") != after.get("hold"):
        return "customer.hold" if after["hold"] else "customer.released"
    return None


def enqueue_from_audit(entries: Sequence[AuditEntry]) -> None:
    """Audit listener: one outbox row per event and subscriber wanting it (in the caller's transaction)."""
    events = [(e, name) for e in entries if (name := event_of(e))]
    if not events:
        return
    subscribers = list(WebhookSubscriber.objects.filter(active=True))
    if not subscribers:
        return
    now = clock.now()
    rows = []
    for entry, name in events:
        data = dict(entry.after or {})
        if name == "promise.broken":
            data.setdefault("id", entry.object_id)
        body = json.dumps({"id": secrets.token_hex(8), "event": name, "occurred_at": now.isoformat(),
                           "object_id": entry.object_id, "actor": entry.actor, "data": data},
                          sort_keys=True, separators=(",", ":"), default=str)
        rows += [WebhookOutbox(subscriber=s, event=name, body=body, next_attempt_at=now, created_at=now)
                 for s in subscribers if s.wants(name)]
    WebhookOutbox.objects.bulk_create(rows)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: int | None = None,
           tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if now is not None and abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


def _check(url: str, events: Sequence[str]) -> list[Problem]:
    found = []
    if not url.startswith(("http://", "https://")):
        found.append(Problem("must be an http:// or https:// address", "url"))
    for name in events:
        if name not in EVENTS:
            found.append(Problem(f"unknown event {name!r}; one of {', '.join(EVENTS)}", "events"))
    return found


@transaction.atomic
def subscriber_add(*, url: str, events: Sequence[str] = (), secret: str = "", actor=None) -> WebhookSubscriber:
    found = _check(url, events)
    if found:
        raise ValidationFailed(found)
    sub = WebhookSubscriber.objects.create(url=url, events=sorted(set(events)), secret=secret or secrets.token_hex(24))
    audit_append(actor=actor, action="create", object_type="webhook_subscriber", object_id=str(sub.pk),
                 after={"url": url, "events": sub.events})
    return sub


@transaction.atomic
def subscriber_remove(*, pk: int, actor=None) -> WebhookSubscriber:
    sub = WebhookSubscriber.objects.filter(pk=pk, active=True).first()
    if sub is None:
        raise DuesError(f"no active webhook subscriber {pk}")
    sub.active = False
    sub.save(update_fields=["active"])
    WebhookOutbox.objects.filter(subscriber=sub, status=WebhookOutbox.PENDING).update(status=WebhookOutbox.FAILED)
    audit_append(actor=actor, action="remove", object_type="webhook_subscriber", object_id=str(sub.pk),
                 before={"url": sub.url, "events": sub.events})
    return sub


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP))


def _send(row: WebhookOutbox, now: datetime) -> tuple[int | None, str]:
    body = row.body.encode()
    ts = int(now.timestamp())
    request = urllib.request.Request(row.subscriber.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "dues-webhooks/1", "X-Dues-Event": row.event,
        "X-Dues-Delivery": str(row.pk), "X-Dues-Timestamp": str(ts),
        "X-Dues-Signature": sign(row.subscriber.secret, ts, body)})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (http(s) checked on add)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def deliver_due(now: datetime | None = None, *, limit: int = 100) -> dict[str, int]:
    """Send the outbox rows due at ``now``; returns counts of delivered, retried and failed rows.

    Rows are first claimed in a short transaction (their next attempt moved a lease ahead; on
    PostgreSQL ``SKIP LOCKED``, so two deliverers never take the same row), then sent with no
    transaction open (a slow receiver never holds a lock), each result recorded in its own
    transaction. A deliverer that dies mid-way leaves its rows to be retried when the lease ends.
    """
    now = now or clock.now()
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    with transaction.atomic():
        due = (WebhookOutbox.objects.filter(status=WebhookOutbox.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at", "pk"))
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        WebhookOutbox.objects.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    for row in WebhookOutbox.objects.filter(pk__in=ids).select_related("subscriber").order_by("pk"):
        started = time.monotonic()
        code, error = _send(row, now)
        with transaction.atomic():
            WebhookDelivery.objects.create(outbox=row, attempted_at=now, status_code=code, error=error,
                                           duration_ms=int((time.monotonic() - started) * 1000))
            row.attempts += 1
            if code is not None and 200 <= code < 300:
                row.status, row.delivered_at = WebhookOutbox.DELIVERED, now
                counts["delivered"] += 1
            elif row.attempts >= MAX_ATTEMPTS:
                row.status = WebhookOutbox.FAILED
                counts["failed"] += 1
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                counts["retry"] += 1
            row.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    return counts
