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


SNAPSHOT_BUCKETS = 11  # the ageing's buckets a summary row can hold: the web's at most 10 bounds, plus "not due"


class AgeingSnapshot(models.Model):
    """A company's ageing summary: each customer's bucket sums on one date, for one basis and set of buckets,
    kept exact by ``AgeingChange`` (``dues.reporting.summary``). At most one per company."""

    company = models.OneToOneField("companies.Company", on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(null=True, blank=True, help_text="empty until the first build has finished")
    basis = models.CharField(max_length=10, blank=True)
    cutoffs = models.CharField(max_length=200, blank=True, help_text="the bucket bounds, comma-separated days")
    built_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)


class AgeingSnapshotRow(models.Model):
    """One customer's residuals on the snapshot's date by bucket (``b0`` newest) and its unapplied credits
    (``bu``), as integers of 1/10,000 of the currency unit. Customers with nothing open have no row."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)
    b0 = models.BigIntegerField(db_default=0)
    b1 = models.BigIntegerField(db_default=0)
    b2 = models.BigIntegerField(db_default=0)
    b3 = models.BigIntegerField(db_default=0)
    b4 = models.BigIntegerField(db_default=0)
    b5 = models.BigIntegerField(db_default=0)
    b6 = models.BigIntegerField(db_default=0)
    b7 = models.BigIntegerField(db_default=0)
    b8 = models.BigIntegerField(db_default=0)
    b9 = models.BigIntegerField(db_default=0)
    b10 = models.BigIntegerField(db_default=0)
    bu = models.BigIntegerField(db_default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "customer"], name="ageing_snapshot_row_once")]


class AgeingChange(models.Model):
    """A customer whose open items or allocations changed since the summary was last refreshed: written by
    database triggers on ``ledger_openitem`` and ``ledger_allocation`` in the changing transaction itself
    (migration ``reporting/0002``), so no code path can forget it; removed by the refresh that saw it."""

    company = models.ForeignKey("companies.Company", on_delete=models.CASCADE, related_name="+", db_constraint=False,
                                db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)

    class Meta:
        indexes = [models.Index(fields=["company", "customer"], name="ageing_change_customer")]
