"""Dunning policies and their steps, each customer's collections profile, the actions of the daily
run (with their idempotency keys) and the activity log of every contact with a customer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues.core.dunning import CHANNELS

MONEY = {"max_digits": 20, "decimal_places": 4}


class DunningPolicy(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="dunning_policies")
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "dunning policies"
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="dunning_policy_name_unique"),
            models.UniqueConstraint(fields=["company"], condition=Q(is_default=True), name="dunning_policy_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class DunningStep(models.Model):
    CHANNEL_CHOICES = [(c, c.replace("_", " ")) for c in CHANNELS]

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=40, help_text="e.g. reminder-1")
    offset_days = models.IntegerField(help_text="days after the due date (negative: before it)")
    channel = models.CharField(max_length=12, choices=CHANNEL_CHOICES)
    template = models.CharField(max_length=60)
    min_overdue = models.DecimalField(**MONEY, default=0)
    cc = models.CharField(max_length=500, blank=True, help_text="addresses to copy; @ar_manager copies the AR managers")

    class Meta:
        ordering = ["policy", "order"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "key"], name="dunning_step_key_unique"),
            models.UniqueConstraint(fields=["policy", "order"], name="dunning_step_order_unique"),
            models.CheckConstraint(condition=Q(min_overdue__gte=0), name="dunning_step_min_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.offset_days:+d} days, {self.channel})"


class SegmentPolicy(models.Model):
    """The policy for every customer of a segment (a customer's own policy comes first)."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="segment_policies")
    segment = models.CharField(max_length=100)
    policy = models.ForeignKey(DunningPolicy, on_delete=models.PROTECT, related_name="segments")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "segment"], name="segment_policy_unique")]


class CustomerCollections(models.Model):
    """A customer's collections settings: their own policy, and a hold from dunning."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="collections")
    policy = models.ForeignKey(DunningPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="customers")
    dunning_hold = models.BooleanField(default=False)
    hold_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class DunningAction(models.Model):
    PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"
    STATUSES = [(s, s) for s in (PENDING, SENT, SKIPPED, FAILED)]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="dunning_actions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="dunning_actions")
    step = models.ForeignKey(DunningStep, on_delete=models.PROTECT, related_name="actions")
    step_key = models.CharField(max_length=40)
    date = models.DateField(help_text="the run date the action was due on")
    items = models.JSONField(default=list, help_text="document numbers of the items it covers")
    amount = models.DecimalField(**MONEY)
    channel = models.CharField(max_length=12)
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=1000, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "idempotency_key"], name="dunning_action_key_unique"),
        ]
        indexes = [models.Index(fields=["company", "status"]), models.Index(fields=["company", "date"])]

    def __str__(self) -> str:
        return f"{self.step_key} to {self.customer_id} on {self.date} ({self.status})"


class DunningActionItem(models.Model):
    """Which open item an action covered at which step: what the run must not send again."""

    action = models.ForeignKey(DunningAction, on_delete=models.CASCADE, related_name="covered")
    open_item = models.ForeignKey("ledger.OpenItem", on_delete=models.PROTECT, related_name="dunning_covered")
    step_key = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["action", "open_item"], name="dunning_action_item_unique")]
        indexes = [models.Index(fields=["open_item", "step_key"])]


class Activity(models.Model):
    KINDS = [(k, k) for k in ("call", "email", "sms", "whatsapp", "visit", "meeting", "letter", "task")]
    OUTCOMES = [(o, o.replace("_", " ")) for o in
                ("", "sent", "failed", "reached", "no_answer", "promised", "disputed", "refused", "wrong_contact", "open")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="activities")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=10, choices=KINDS)
    outcome = models.CharField(max_length=15, blank=True, choices=OUTCOMES)
    subject = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    next_follow_up = models.DateField(null=True, blank=True)
    action = models.ForeignKey(DunningAction, null=True, blank=True, on_delete=models.PROTECT, related_name="activities")
    created_by = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["company", "customer", "at"]), models.Index(fields=["company", "next_follow_up"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.outcome}"
