"""Portal links (only a SHA-256 of the token is kept) and the log of every request made with one."""

from __future__ import annotations

from django.db import models

from dues import clock


class PortalLink(models.Model):
    """One customer's link: works until ``expires_at`` unless revoked; the token itself is never stored."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="portal_links")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="portal_links")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token in the link")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["company", "customer", "revoked_at"])]

    def __str__(self) -> str:
        return f"portal link {self.pk} of {self.customer_id}"

    @property
    def actor(self) -> str:
        """Who acts through this link in the audit log and on the records it creates."""
        return f"portal:{self.customer.code}#link{self.pk}"

    def usable(self, now) -> bool:
        return self.revoked_at is None and now < self.expires_at


class PortalAccess(models.Model):
    """One request made with a valid link: when, from where, what, and the answer's status code."""

    link = models.ForeignKey(PortalLink, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField(default=clock.now, editable=False)
    address = models.GenericIPAddressField(null=True, blank=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["link", "at"])]


class DisputeAttachment(models.Model):
    """A file a customer attached to a dispute they raised through the portal (a photo, a GRN, a PDF)."""

    dispute = models.ForeignKey("collections.Dispute", on_delete=models.PROTECT, related_name="portal_attachments")
    link = models.ForeignKey(PortalLink, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(default=clock.now, editable=False)

    def __str__(self) -> str:
        return f"{self.name} on dispute {self.dispute_id}"
