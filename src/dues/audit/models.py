"""The audit log: append-only, hash-chained, and not a Django-managed table.

The tables are created by this app's migration with database triggers that refuse UPDATE, DELETE
(and TRUNCATE on PostgreSQL). They are unmanaged so that no Django machinery — ``flush`` included —
ever empties them; there is no setting that switches the log off.
"""

from __future__ import annotations

from django.db import models


class AuditRecord(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=80)
    company_id = models.BigIntegerField(null=True)
    before_json = models.TextField()
    after_json = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        managed = False
        db_table = "audit_record"
        ordering = ["seq"]

    def payload(self) -> dict:
        """What the hash covers; the timestamp in UTC with microseconds."""
        from datetime import UTC

        return {
            "seq": self.seq, "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": self.actor,
            "action": self.action, "object_type": self.object_type, "object_id": self.object_id,
            "company": self.company_id, "before": self.before_json, "after": self.after_json,
        }


class AuditHead(models.Model):
    """The last record's sequence number and hash, so that cutting records off the end shows."""

    id = models.SmallIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        managed = False
        db_table = "audit_head"
