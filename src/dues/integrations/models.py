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


class TallyMaster(models.Model):
    """A Tally group or ledger as last imported (the group tree tells which ledgers are debtors)."""

    GROUP, LEDGER = "group", "ledger"
    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_masters")
    kind = models.CharField(max_length=6, choices=[(GROUP, "group"), (LEDGER, "ledger")])
    name = models.CharField(max_length=300)
    parent = models.CharField(max_length=300, blank=True)
    guid = models.CharField(max_length=80, blank=True)
    alterid = models.BigIntegerField(default=0)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="tally_ledgers")
    details = models.JSONField(default=dict, blank=True, help_text="address, pincode, contact as in Tally")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "kind", "name"], name="tally_master_unique")]


class TallyVoucher(models.Model):
    """A Tally voucher imported, keyed by its GUID: which version (ALTERID) and what it posted.

    A later version (higher ALTERID) cancels ``documents`` by reversal and posts anew; the earlier row
    stays with ``superseded_by`` set, so the history of what came from Tally is kept.
    """

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_vouchers")
    guid = models.CharField(max_length=80)
    alterid = models.BigIntegerField(default=0)
    vchtype = models.CharField(max_length=100)
    base_type = models.CharField(max_length=20)
    number = models.CharField(max_length=100, blank=True)
    date = models.DateField()
    documents = models.JSONField(default=list, help_text="ids of the documents posted for this version")
    batch = models.ForeignKey(ImportBatch, null=True, on_delete=models.PROTECT, related_name="tally_vouchers")
    superseded_by = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="supersedes")
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["company", "guid"])]


class TallyBill(models.Model):
    """A Tally bill (a ledger's bill-wise reference) and the dues document that carries it now."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_bills")
    ledger = models.CharField(max_length=300)
    name = models.CharField(max_length=300)
    document = models.ForeignKey("ledger.Document", on_delete=models.PROTECT, related_name="tally_bills")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "ledger", "name"], name="tally_bill_unique")]


class TallyLedgerMap(models.Model):
    """The company's Tally ledger for each account dues posts to (bank, TDS, sales returns, ...)."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_ledger_map")
    role = models.CharField(max_length=30)
    name = models.CharField(max_length=300)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "role"], name="tally_ledger_map_unique")]


class TallyExport(models.Model):
    """A document written to a Tally import file (the export log: each document is exported once
    unless asked again)."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_exports")
    document = models.ForeignKey("ledger.Document", on_delete=models.PROTECT, related_name="tally_exports")
    filename = models.CharField(max_length=500)
    exported_at = models.DateTimeField(default=clock.now, editable=False)
    exported_by = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["company", "document"])]


class TallySync(models.Model):
    """Where the live connector got to with one Tally company on one XML server: the highest master
    and voucher ALTERIDs seen (the next pull asks only for what changed after them) and the errors
    Tally gave for documents it refused (kept until they are accepted)."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="tally_syncs")
    url = models.CharField(max_length=300)
    tally_company = models.CharField(max_length=300, blank=True)
    master_alterid = models.BigIntegerField(default=0)
    voucher_alterid = models.BigIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=dict, blank=True, help_text="document id -> Tally's LINEERROR")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "url", "tally_company"], name="tally_sync_unique")]


class ImportMapping(models.Model):
    """How one source's files (an ERP's export, a collector's Excel) name the columns of one import kind:
    ``columns`` maps each dues field to the file's column header. Saved with ``--save-map`` or the
    imports page's "remember" box and applied again by ``--source NAME``."""

    company = models.ForeignKey("companies.Company", on_delete=models.PROTECT, related_name="import_mappings")
    source = models.CharField(max_length=60)
    kind = models.CharField(max_length=20)
    columns = models.JSONField(default=dict, help_text="dues field -> the file's column header")
    updated_at = models.DateTimeField(default=clock.now)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "source", "kind"], name="import_mapping_unique")]
