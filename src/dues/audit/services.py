"""Appending to the audit log, and verifying it.

Every service that changes anything calls ``audit_append`` (or ``audit_append_many`` for a batch)
inside its own transaction, so a change and its record commit together or not at all. The chain is
extended under a lock (an advisory lock on PostgreSQL; SQLite's immediate transactions already let
one writer in at a time), so concurrent writers never fork it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from dues import clock
from dues.core.auditchain import ChainBreak, ChainRecord, canonical, chain_hash, verify
from dues.db import insert_rows

from .models import AuditRecord

_PG_LOCK_KEY = 0x64756573  # "dues"
COLUMNS = ["seq", "at", "actor", "action", "object_type", "object_id", "company_id", "before_json", "after_json",
           "prev_hash", "hash"]


def actor_name(user: Any) -> str:
    """Who did it: a Django user, a name given on the CLI, or 'system'."""
    if user is None:
        return "system"
    if isinstance(user, str):
        return user or "system"
    return user.get_username()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    actor: str
    action: str
    object_type: str
    object_id: str
    company_id: int | None = None
    before: dict | None = None
    after: dict | None = field(default=None)


def _payload(seq: int, at: datetime, e: AuditEntry, before_json: str, after_json: str) -> dict:
    return {
        "seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": e.actor,
        "action": e.action, "object_type": e.object_type, "object_id": e.object_id, "company": e.company_id,
        "before": before_json, "after": after_json,
    }


_listeners: list[Callable[[Sequence[AuditEntry]], None]] = []


def audit_listen(listener: Callable[[Sequence[AuditEntry]], None]) -> None:
    """Call ``listener(entries)`` inside the transaction of every append (the API's webhook outbox):
    what it writes commits with the change, or not at all."""
    if listener not in _listeners:
        _listeners.append(listener)


def audit_append_many(entries: Sequence[AuditEntry], *, at: datetime | None = None) -> int:
    """Append ``entries`` in order; returns the sequence number of the last one (0 if none)."""
    if not entries:
        return 0
    at = at or clock.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
            cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        else:
            cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        seq, prev = cursor.fetchone()
        rows = []
        for e in entries:
            seq += 1
            before_json = canonical(e.before) if e.before is not None else ""
            after_json = canonical(e.after) if e.after is not None else ""
            digest = chain_hash(prev, _payload(seq, at, e, before_json, after_json))
            rows.append((seq, at, e.actor, e.action, e.object_type, str(e.object_id), e.company_id, before_json,
                         after_json, prev, digest))
            prev = digest
        insert_rows(AuditRecord._meta.db_table, COLUMNS, rows)
        cursor.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
        for listener in _listeners:
            listener(entries)
    return seq


def audit_append(*, actor: Any, action: str, object_type: str, object_id: Any, company_id: int | None = None,
                 before: dict | None = None, after: dict | None = None) -> int:
    return audit_append_many([AuditEntry(actor_name(actor), action, object_type, str(object_id), company_id,
                                         before, after)])


def _records() -> Iterator[ChainRecord]:
    for rec in AuditRecord.objects.order_by("seq").iterator(chunk_size=5000):
        yield ChainRecord(rec.seq, rec.payload(), rec.prev_hash, rec.hash)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    records: int
    head_seq: int
    head_hash: str
    problem: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def audit_verify(anchors: Sequence[tuple[int, str]] = ()) -> VerifyResult:
    """Recompute the whole chain from the first record; report the first record that breaks it.

    ``anchors`` are (seq, hash) pairs of the head taken outside the database (printed in each close pack,
    sent with the daily report). The chain and its head live in the same database, so someone with write
    access could delete the newest records and rewind the head to match; an anchor catches that, because
    the record it names must still be there with that hash.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1")
        row = cursor.fetchone()
    head = (int(row[0]), row[1]) if row else (0, "")
    counted = AuditRecord.objects.count()
    problem = verify(_records(), head=head if head[0] else None)
    if problem is None and not head[0] and counted:
        problem = ChainBreak(1, "the log head is missing")
    if problem is None and anchors:
        problem = _check_anchors(anchors, head[0])
    return VerifyResult(counted, head[0], head[1], problem)


def _check_anchors(anchors: Sequence[tuple[int, str]], head_seq: int) -> ChainBreak | None:
    wanted = dict(anchors)
    found = dict(AuditRecord.objects.filter(seq__in=list(wanted)).values_list("seq", "hash"))
    for seq, digest in sorted(wanted.items()):
        if seq > head_seq:
            return ChainBreak(head_seq + 1, f"the log ends at record {head_seq}, but anchor {seq} {digest[:16]}... "
                                            "was taken when it was longer: records were removed from the end and "
                                            "the head rewound")
        if found.get(seq) != digest:
            return ChainBreak(seq, f"record {seq} does not have the anchored hash {digest[:16]}...: the log was "
                                   "rewritten from there on")
    return None
