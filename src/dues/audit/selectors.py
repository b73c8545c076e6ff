"""Reading the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditRecord


def audit_records(*, object_type: str = "", object_id: str = "", actor: str = "", limit: int | None = None) -> QuerySet:
    qs = AuditRecord.objects.order_by("-seq")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor=actor)
    return qs[:limit] if limit else qs
