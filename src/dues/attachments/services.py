"""Attaching a proof: check the bytes, store them once under their SHA-256, link and audit.

Everything is checked before anything is written: the target exists, the kind is known, the file is
not empty nor larger than ``settings.ATTACHMENT_MAX_BYTES``, and its content is a PDF, JPEG, PNG or
WebP. Then the bytes go to the proof storage (skipped when the same bytes are already there) and
the row and its audit record (with the hash) commit together. Should the database refuse after the
bytes were stored, the stored file is only unreferenced: the next attach of the same bytes reuses it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction

from dues.audit.services import actor_name, audit_append
from dues.billing.models import Delivery
from dues.collections.models import Dispute
from dues.core.errors import DuesError
from dues.core.filetypes import MEDIA_TYPES, describe, sniff
from dues.ledger.models import Document
from dues.users.permissions import require

from .models import Attachment, StoredFile

KIND_NAMES = {k for k, _ in Attachment.KINDS}


def proof_storage():
    """The storage proofs live in: settings.STORAGES["proofs"] (local directory or S3-compatible)."""
    return storages["proofs"]


@dataclass(frozen=True, slots=True)
class Target:
    """What a proof is attached to: a delivery challan, an invoice and/or a dispute (one customer)."""

    delivery: Delivery | None = None
    document: Document | None = None
    dispute: Dispute | None = None

    @property
    def customer(self):
        return next(t.customer for t in (self.delivery, self.document, self.dispute) if t is not None)

    @property
    def audit_object(self) -> tuple[str, str]:
        """Where the attach is recorded: on the invoice (its page shows its history), else the delivery."""
        if self.document is not None:
            return self.document.kind, self.document.number
        if self.delivery is not None:
            return "delivery", self.delivery.number
        return "dispute", str(self.dispute.pk)


def target_get(*, company, invoice: str = "", delivery: str = "", dispute: int | None = None) -> Target:
    """Look the target up by its numbers; an unknown one is refused by name."""
    found: dict[str, Any] = {}
    if invoice:
        document = (Document.objects.select_related("customer")
                    .filter(company=company, kind__in=Document.DEBIT_KINDS, number=invoice)
                    .order_by("kind").first())
        if document is None:
            raise DuesError(f"no invoice {invoice}")
        found["document"] = document
    if delivery:
        challan = Delivery.objects.select_related("customer").filter(company=company, number=delivery).first()
        if challan is None:
            raise DuesError(f"no delivery challan {delivery}")
        found["delivery"] = challan
    if dispute is not None:
        row = Dispute.objects.select_related("customer", "document").filter(company=company, pk=dispute).first()
        if row is None:
            raise DuesError(f"no dispute {dispute}")
        found["dispute"] = row
    if not found:
        raise DuesError("say what the file proves: an invoice, a delivery challan or a dispute")
    target = Target(**found)
    customers = {t.customer_id for t in found.values()}
    if len(customers) > 1:
        raise DuesError("the invoice, delivery and dispute named are not of one customer")
    return target


def read_checked(source: BinaryIO | bytes, *, filename: str, max_bytes: int | None = None) -> tuple[bytes, str]:
    """The file's bytes and media type, or a ``DuesError`` naming the file and what is wrong."""
    limit = settings.ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
    data = source if isinstance(source, bytes) else source.read(limit + 1)
    if len(data) > limit:
        raise DuesError(f"{filename}: too large: more than {size_text(limit)} (the limit, DUES_ATTACHMENT_MAX_MB)")
    if not data:
        raise DuesError(f"{filename}: the file is empty")
    media_type = sniff(data[:16])
    if media_type is None:
        raise DuesError(f"{filename}: not accepted: its content is {describe(data[:64])}; "
                        f"a proof must be {', '.join(MEDIA_TYPES.values())}")
    return data, media_type


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    return f"{n / 1024:g} KB" if n >= 1024 else f"{n} bytes"


def _clean_name(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name.strip() or "file"
    name = "".join(c for c in name if c.isprintable())
    return name[-200:]


def stored_file_put(data: bytes, media_type: str) -> StoredFile:
    """The stored file for these bytes: written to the storage unless the same bytes are already there."""
    digest = hashlib.sha256(data).hexdigest()
    key = StoredFile(sha256=digest).key
    storage = proof_storage()
    if not storage.exists(key):
        saved = storage.save(key, ContentFile(data))
        if saved != key:  # a storage that renamed it (the same bytes appeared meanwhile): keep the one
            storage.delete(saved)
    stored, _ = StoredFile.objects.get_or_create(sha256=digest, defaults={"size": len(data),
                                                                          "media_type": media_type})
    return stored


def attach(*, company, target: Target, source: BinaryIO | bytes, filename: str, kind: str = Attachment.POD,
           actor: Any) -> Attachment:
    """Attach a file to ``target``; returns the new attachment (the same file twice is refused)."""
    require(actor, "attachments.add", "attach proofs")
    if kind not in KIND_NAMES:
        raise DuesError(f"unknown kind {kind!r} (use {', '.join(sorted(KIND_NAMES))})")
    name = _clean_name(filename)
    data, media_type = read_checked(source, filename=name)
    digest = hashlib.sha256(data).hexdigest()
    same = Attachment.objects.filter(company=company, file__sha256=digest, delivery=target.delivery,
                                     document=target.document, dispute=target.dispute)
    if same.exists():
        raise DuesError(f"{name}: already attached (sha256 {digest[:12]}…, as {same.first().filename})")
    with transaction.atomic():
        stored = stored_file_put(data, media_type)
        attachment = Attachment.objects.create(
            company=company, customer=target.customer, file=stored, kind=kind, filename=name,
            delivery=target.delivery, document=target.document, dispute=target.dispute,
            created_by=actor_name(actor))
        object_type, object_id = target.audit_object
        audit_append(actor=actor, action="attach", object_type=object_type, object_id=object_id,
                     company_id=company.pk, after=attachment.audit_state())
    return attachment


def attachment_open(attachment: Attachment):
    """The stored bytes as an open file (the caller closes it); ``FileNotFoundError`` when the storage
    has lost them (asked first: an object store's file opens lazily and would fail half-way through)."""
    storage = proof_storage()
    if not storage.exists(attachment.file.key):
        raise FileNotFoundError(attachment.file.key)
    return storage.open(attachment.file.key, "rb")
