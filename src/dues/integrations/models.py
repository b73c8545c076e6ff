"""A record of every import: which file (by content hash), what it created."""

from __future__ import annotations

from django.db import models

from dues import clock


class ImportBatch(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="imports")
    kind = models.CharField(max_length=20)
    filename = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["company", "sha256"])]
