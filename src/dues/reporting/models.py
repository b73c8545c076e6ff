"""Collection targets: how much each collector is to collect in a month (docs/kpi.md, "Collections
against target per collector")."""

from __future__ import annotations

from django.db import models

from dues import clock


class CollectionTarget(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    collector = models.CharField(max_length=100, help_text="the collector's name as on the customers")
    month = models.DateField(help_text="the first day of the month")
    amount = models.DecimalField(max_digits=20, decimal_places=4)
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-month", "collector"]
        constraints = [models.UniqueConstraint(fields=["company", "collector", "month"], name="target_once_a_month")]

    def __str__(self) -> str:
        return f"{self.collector} {self.month:%Y-%m}: {self.amount}"
