"""Dunning policies and their steps, each customer's collections profile, the actions of the daily
run (with their idempotency keys) and the activity log of every contact with a customer."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from dues import clock
from dues.core.dunning import CHANNELS

MONEY = {"max_digits": 20, "decimal_places": 4}
DEFAULT_MIN_OVERDUE = Decimal("500.00")  # in the company's currency
INTEREST_MODES = [("none", "none"), ("simple", "simple"), ("compound", "compound (monthly rests)"),
                  ("msmed", "MSMED Act (3 x RBI bank rate, monthly rests)")]
LANGUAGES = [("en", "English"), ("hi", "Hindi"), ("mr", "Marathi"), ("gu", "Gujarati"), ("ta", "Tamil"),
             ("te", "Telugu"), ("kn", "Kannada"), ("bn", "Bengali")]
INTEREST_BASES = [("reducing", "reducing balance"), ("due_date", "whole amount from the due date")]


class DunningPolicy(models.Model):
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="dunning_policies")
    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    interest_mode = models.CharField(max_length=8, choices=INTEREST_MODES, default="none",
                                     help_text="overdue interest for the customers on this policy")
    interest_rate = models.DecimalField(max_digits=7, decimal_places=4, default=0, help_text="per cent per year")
    interest_basis = models.CharField(max_length=8, choices=INTEREST_BASES, default="reducing")
    min_overdue = models.DecimalField(**MONEY, default=DEFAULT_MIN_OVERDUE,
                                      help_text="nothing is sent to a customer whose overdue total (net of disputes "
                                                "and unapplied credits) is below it; before the due date, the amount "
                                                "falling due")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name_plural = "dunning policies"
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="dunning_policy_name_unique"),
            models.UniqueConstraint(fields=["company"], condition=Q(is_default=True), name="dunning_policy_one_default"),
            models.CheckConstraint(condition=Q(min_overdue__gte=0), name="dunning_policy_min_nonneg"),
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
    active = models.BooleanField(default=True, help_text="a removed step that has sent messages is kept, inactive, "
                                                         "for their history")

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
    interest_mode = models.CharField(max_length=8, choices=INTEREST_MODES, blank=True,
                                     help_text="blank: the policy's interest terms")
    interest_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                                        help_text="per cent per year")
    interest_basis = models.CharField(max_length=8, choices=INTEREST_BASES, blank=True)
    language = models.CharField(max_length=5, choices=LANGUAGES, default="en",
                                help_text="the language of the messages sent to the customer")
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    def save(self, *args, **kwargs):
        self.updated_at = clock.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


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
    created_at = models.DateTimeField(default=clock.now, editable=False)
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
    on = models.DateField(default=clock.today,
                          help_text="the day of the contact (a call logged the day after is still on the day of the call)")
    at = models.DateTimeField(default=clock.now, editable=False, help_text="when it was recorded")

    class Meta:
        verbose_name_plural = "activities"
        indexes = [models.Index(fields=["company", "customer", "at"]), models.Index(fields=["company", "next_follow_up"]),
                   models.Index(fields=["company", "customer", "on"], name="activity_contact_on")]

    def __str__(self) -> str:
        return f"{self.kind} {self.customer_id} {self.outcome}"

    @property
    def recorded_later(self) -> bool:
        """Logged on another day than the contact (e.g. a visit written up the next morning)."""
        from django.utils import timezone

        return timezone.localtime(self.at).date() != self.on


class PromiseToPay(models.Model):
    """A customer's promise to pay an amount by a date (for some invoices, or on account).

    Its status follows the receipts: kept when what was received after it was taken reaches the
    amount; once the promised date plus the grace days has passed, partly kept when something came,
    else broken. The status as of any date is worked out (``dues.core.promises``,
    ``selectors.promises_as_of``); ``status``, ``received`` and ``settled_on`` stored here are
    today's, written only by ``services.promises.promises_refresh`` for today.
    """

    OPEN, KEPT, PARTLY_KEPT, BROKEN = "open", "kept", "partly_kept", "broken"
    STATUSES = [(s, s.replace("_", " ")) for s in (OPEN, KEPT, PARTLY_KEPT, BROKEN)]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="promises")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="promises")
    amount = models.DecimalField(**MONEY)
    promised_date = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=3)
    deadline = models.DateField(help_text="the promised date plus the grace days: receipts up to it count")
    taken_on = models.DateField(help_text="the day the promise was taken: receipts from it on count")
    invoices = models.ManyToManyField("ledger.Document", blank=True, related_name="promises",
                                      help_text="the invoices it covers; none: the customer's account as a whole")
    taken_by = models.CharField(max_length=150)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=STATUSES, default=OPEN)
    received = models.DecimalField(**MONEY, default=0)
    settled_on = models.DateField(null=True, blank=True, help_text="when it turned kept, partly kept or broken")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="promises")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="promise_amount_pos"),
            models.CheckConstraint(condition=Q(received__gte=0), name="promise_received_nonneg"),
            models.CheckConstraint(condition=Q(promised_date__gte=F("taken_on")), name="promise_date_after_taken"),
        ]
        indexes = [models.Index(fields=["company", "status", "promised_date"]),
                   models.Index(fields=["company", "customer", "status"])]

    def __str__(self) -> str:
        return f"promise {self.pk} {self.customer_id} {self.amount} by {self.promised_date} ({self.status})"


class Dispute(models.Model):
    """A customer disputes (part of) an invoice; while open or in progress the invoice is not dunned."""

    OPEN, IN_PROGRESS, RESOLVED_CREDIT_NOTE, REJECTED = "open", "in_progress", "resolved_credit_note", "rejected"
    STATUSES = [(s, s.replace("_", " ")) for s in (OPEN, IN_PROGRESS, RESOLVED_CREDIT_NOTE, REJECTED)]
    ACTIVE = (OPEN, IN_PROGRESS)
    REASONS = [(r, r.replace("_", " ")) for r in ("price", "quantity", "damaged", "not_received", "tax", "duplicate")]
    OWNERS = [(o, o) for o in ("sales", "dispatch", "finance")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="disputes")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="disputes")
    document = models.ForeignKey("ledger.Document", on_delete=models.PROTECT, related_name="disputes")
    amount = models.DecimalField(**MONEY, help_text="the disputed part (at most the invoice's residual)")
    reason = models.CharField(max_length=12, choices=REASONS)
    owner = models.CharField(max_length=8, choices=OWNERS, help_text="the department that must resolve it")
    status = models.CharField(max_length=20, choices=STATUSES, default=OPEN)
    sla_days = models.PositiveSmallIntegerField(default=7)
    opened_on = models.DateField()
    resolved_on = models.DateField(null=True, blank=True)
    credit_note = models.ForeignKey("ledger.Document", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="resolved_disputes")
    notes = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_pos"),
            models.CheckConstraint(condition=~Q(status="resolved_credit_note") | Q(credit_note__isnull=False),
                                   name="dispute_credit_note_when_resolved"),
        ]
        indexes = [models.Index(fields=["company", "status"]), models.Index(fields=["document", "status"])]

    def __str__(self) -> str:
        return f"dispute {self.pk} on {self.document_id} ({self.status})"


class InterestCharge(models.Model):
    """Overdue interest charged to a customer by a debit note, up to and including ``through``.

    The next computation starts the day after the last ``through``, so interest is never charged twice.
    """

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="interest_charges")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="interest_charges")
    document = models.OneToOneField("ledger.Document", on_delete=models.PROTECT, related_name="interest_charge")
    through = models.DateField()
    amount = models.DecimalField(**MONEY)
    mode = models.CharField(max_length=8)
    rate = models.DecimalField(max_digits=7, decimal_places=4)
    detail = models.JSONField(default=list, help_text="per item: number, days, interest")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["company", "customer", "through"])]


class Escalation(models.Model):
    """A customer's account sent up to the AR manager or to legal, with the case history."""

    AR_MANAGER, LEGAL = "ar_manager", "legal"
    TARGETS = [(AR_MANAGER, "AR manager"), (LEGAL, "legal")]
    OPEN, CLOSED = "open", "closed"

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="escalations")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="escalations")
    to = models.CharField(max_length=10, choices=TARGETS)
    reason = models.TextField()
    status = models.CharField(max_length=6, choices=[(OPEN, "open"), (CLOSED, "closed")], default=OPEN)
    overdue = models.DecimalField(**MONEY, default=0, help_text="the overdue amount when it was escalated")
    on = models.DateField()
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["company", "status", "to"])]

    def __str__(self) -> str:
        return f"escalation of {self.customer_id} to {self.to} ({self.status})"


class MessageTemplate(models.Model):
    """A company's own wording of a dunning message template in one language.

    The run uses the override in the customer's language, else the English override, else the
    template file shipped with dues (``templates/collections/messages/<name>.txt``).
    """

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="message_templates")
    name = models.CharField(max_length=60, help_text="the steps' template name, e.g. reminder-1")
    language = models.CharField(max_length=5, choices=LANGUAGES, default="en")
    channel = models.CharField(max_length=12, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    updated_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "name", "language"],
                                               name="message_template_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def save(self, *args, **kwargs):
        self.updated_at = clock.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


class InboundReply(models.Model):
    """A customer's reply read back (an e-mail from the drop folder or IMAP, a WhatsApp message)."""

    EMAIL, WHATSAPP = "email", "whatsapp"
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="inbound_replies")
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="inbound_replies", help_text="empty when no customer matched")
    channel = models.CharField(max_length=10, choices=[(EMAIL, "e-mail"), (WHATSAPP, "WhatsApp")])
    sender = models.CharField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    message_id = models.CharField(max_length=300, help_text="the e-mail's Message-ID or the WhatsApp message id")
    matched_by = models.CharField(max_length=10, blank=True, help_text="thread, address or empty")
    received_at = models.DateTimeField(default=clock.now)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "message_id"], name="inbound_reply_once")]

    def __str__(self) -> str:
        return f"{self.channel} from {self.sender}"


class ReplySuggestion(models.Model):
    """What a reply suggests (a promise, a dispute, a payment claimed, a statement request), to accept or dismiss."""

    OPEN, ACCEPTED, DISMISSED = "open", "accepted", "dismissed"
    KINDS = [(k, k.replace("_", " ")) for k in ("promise", "dispute", "payment_claimed", "statement_request")]
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="reply_suggestions")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="reply_suggestions")
    reply = models.ForeignKey(InboundReply, on_delete=models.PROTECT, related_name="suggestions")
    kind = models.CharField(max_length=20, choices=KINDS)
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    date = models.DateField(null=True, blank=True)
    reason = models.CharField(max_length=20, blank=True)
    utr = models.CharField(max_length=40, blank=True)
    documents = models.JSONField(default=list)
    evidence = models.CharField(max_length=300, blank=True, help_text="the words it was read from")
    status = models.CharField(max_length=10, default=OPEN,
                              choices=[(OPEN, "open"), (ACCEPTED, "accepted"), (DISMISSED, "dismissed")])
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True, help_text="what accepting it did")

    class Meta:
        indexes = [models.Index(fields=["company", "status", "customer"], name="reply_suggestion_open")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.customer_id} ({self.status})"


class MessageDelivery(models.Model):
    """A message handed to a provider that reports back (WhatsApp Cloud API): its id there and latest status."""

    SENT, DELIVERED, READ, FAILED = "sent", "delivered", "read", "failed"
    ORDER = {SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4}
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="message_deliveries")
    channel = models.CharField(max_length=10)
    provider_id = models.CharField(max_length=200, help_text="the provider's message id (wamid...)")
    key = models.CharField(max_length=200, help_text="our message key (the action's idempotency key)")
    customer_code = models.CharField(max_length=40, blank=True)
    to = models.CharField(max_length=40)
    status = models.CharField(max_length=10, default=SENT)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "provider_id"], name="message_delivery_once")]


class MessagingOptOut(models.Model):
    """A number (or address) that asked not to be messaged on a channel (replied STOP, or marked by a person)."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="opt_outs")
    channel = models.CharField(max_length=10)
    address = models.CharField(max_length=254, help_text="the last ten digits of a number, or an e-mail address")
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "channel", "address"], name="opt_out_once")]
