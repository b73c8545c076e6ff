"""Proofs: attach a PO, signed challan or proof of delivery to an invoice, delivery or dispute; list them."""

from __future__ import annotations

import click

from .main import cli
from .output import out, print_json, table

KINDS = ["pod", "po", "challan", "other"]


def _target_options(fn):
    fn = click.option("--dispute", type=int, metavar="ID", help="the dispute it concerns")(fn)
    fn = click.option("--delivery", metavar="NUMBER", help="the delivery challan it proves")(fn)
    return click.option("--invoice", metavar="NUMBER", help="the invoice it proves")(fn)


@cli.command("attach")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@_target_options
@click.option("--kind", type=click.Choice(KINDS), default="pod", show_default=True,
              help="proof of delivery, purchase order, signed delivery challan, or other")
@click.pass_obj
def attach_cmd(obj, file, invoice, delivery, dispute, kind):
    """Attach FILE (PDF, JPEG, PNG or WebP) to an invoice, a delivery challan and/or a dispute.

    Stored once by its SHA-256 (in the proof storage: a local directory, or S3-compatible object
    storage), recorded in the audit log with the hash. A file of another type, too large, or for an
    unknown invoice or delivery is refused and nothing is written."""
    from pathlib import Path

    from dues.attachments.services import attach, target_get

    company = obj.company()
    target = target_get(company=company, invoice=invoice or "", delivery=delivery or "", dispute=dispute)
    with open(file, "rb") as fh:
        a = attach(company=company, target=target, source=fh, filename=Path(file).name, kind=kind, actor=obj.user)
    out.print(f"attached {a.filename} ({a.get_kind_display()}, {a.file.media_type}, {a.file.size} bytes) "
              f"sha256 {a.file.sha256}")


@cli.command("attachments")
@_target_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def attachments_cmd(obj, invoice, delivery, dispute, fmt):
    """List the proofs of an invoice (its own, its delivery challans' and its disputes'), a delivery or a dispute."""
    from dues.attachments.models import Attachment
    from dues.attachments.selectors import proofs_for_delivery, proofs_for_document
    from dues.attachments.services import target_get

    company = obj.company()
    target = target_get(company=company, invoice=invoice or "", delivery=delivery or "", dispute=dispute)
    if target.document is not None:
        rows = proofs_for_document(target.document)
    elif target.delivery is not None:
        rows = proofs_for_delivery(target.delivery)
    else:
        rows = list(Attachment.objects.filter(dispute=target.dispute).select_related("file", "delivery", "document")
                    .order_by("created_at", "pk"))
    data = [{"id": a.pk, "kind": a.kind, "filename": a.filename, "media_type": a.file.media_type,
             "size": a.file.size, "sha256": a.file.sha256, "invoice": a.document.number if a.document_id else None,
             "delivery": a.delivery.number if a.delivery_id else None, "dispute": a.dispute_id,
             "attached_at": a.created_at.isoformat(), "attached_by": a.created_by} for a in rows]
    if fmt == "json":
        print_json({"attachments": data})
        return
    if not data:
        out.print("no proofs attached")
        return
    table("Proofs", ["id", "kind", "file", "type", "bytes", "on", "sha256", "by"],
          [[d["id"], d["kind"], d["filename"], d["media_type"], d["size"],
            " ".join(x for x in (d["invoice"] and f"invoice {d['invoice']}", d["delivery"] and f"delivery {d['delivery']}",
                                 d["dispute"] and f"dispute {d['dispute']}") if x),
            d["sha256"][:16] + "…", d["attached_by"]] for d in data], right=(4,))
