"""A customer's risk grade as last computed (by ``dues.risk.services.recompute_risk``)."""

from __future__ import annotations

from django.db import models

from dues import clock


class CustomerRisk(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="risk")
    grade = models.CharField(max_length=1)
    points = models.PositiveSmallIntegerField(default=0)
    reasons = models.JSONField(default=list)
    action = models.CharField(max_length=200)
    figures = models.JSONField(default=dict)
    as_of = models.DateField()
    computed_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["company", "grade"], name="risk_company_grade")]


class ForecastSnapshot(models.Model):
    """The cash-collection forecast as last computed (``dues.risk.services.recompute_forecast`` or
    ``dues forecast``): what the dashboard card shows without training a model on a page load."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField()
    computed_at = models.DateTimeField(default=clock.now)
    weeks = models.JSONField(default=list)  # [{week, start, end, expected, cumulative_expected, cumulative_low, cumulative_high}]
    open_total = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    after_13_weeks = models.DecimalField(max_digits=20, decimal_places=4, default=0)
    trained_on = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["company", "-computed_at"], name="forecast_company_latest")]
