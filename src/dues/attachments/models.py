"""Proofs and documents: a purchase order, a signed delivery challan or proof of delivery, kept with
the delivery, invoice or dispute it proves.

- A ``StoredFile`` is the bytes, content-addressed: named by their SHA-256 in the proof storage
  (``sha256/ab/abcdef…``), so the same bytes are stored once however often they are attached.
- An ``Attachment`` links a stored file to a delivery challan, a posted invoice and/or a dispute,
  with its kind, the name it was sent under and who attached it. The customer is kept on the row
  so that who may read it is one filter (sales: their own customers).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from dues import clock


class StoredFile(models.Model):
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    media_type = models.CharField(max_length=40, help_text="read from the content: PDF, JPEG, PNG or WebP")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    @property
    def key(self) -> str:
        """The file's name in the proof storage."""
        return f"sha256/{self.sha256[:2]}/{self.sha256}"

    def __str__(self) -> str:
        return f"sha256:{self.sha256[:12]}"


class Attachment(models.Model):
    PO, CHALLAN, POD, OTHER = "po", "challan", "pod", "other"
    KINDS = [(PO, "purchase order"), (CHALLAN, "signed delivery challan"), (POD, "proof of delivery"),
             (OTHER, "other")]

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="attachments")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="attachments")
    file = models.ForeignKey(StoredFile, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=8, choices=KINDS, default=POD)
    filename = models.CharField(max_length=200, help_text="the name it was sent under")
    delivery = models.ForeignKey("billing.Delivery", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="attachments")
    document = models.ForeignKey("ledger.Document", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="attachments")
    dispute = models.ForeignKey("collections.Dispute", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="attachments")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(delivery__isnull=False) | Q(document__isnull=False)
                                   | Q(dispute__isnull=False), name="attachment_has_target"),
            models.CheckConstraint(condition=Q(kind__in=["po", "challan", "pod", "other"]), name="attachment_kind"),
        ]
        indexes = [models.Index(fields=["company", "customer"], name="attachment_customer")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    def audit_state(self) -> dict:
        state = {"sha256": self.file.sha256, "size": self.file.size, "media_type": self.file.media_type,
                 "kind": self.kind, "filename": self.filename, "customer": self.customer.code}
        if self.delivery_id:
            state["delivery"] = self.delivery.number
        if self.document_id:
            state["invoice"] = self.document.number
        if self.dispute_id:
            state["dispute"] = self.dispute_id
        return state
