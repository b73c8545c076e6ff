"""Column mapping for CSV/XLSX imports: which of a file's columns holds each dues field.

A mapping is ``{dues field: the file's column header}``; it renames the file's columns before an
importer sees them, so an export from any ERP (or a collector's Excel) imports without editing the
file. Headers match case- and space-insensitively (``Bill No`` = ``bill no`` = ``bill_no``).

Where a mapping comes from, for ``source`` NAME: a mapping saved for the company, NAME and kind
(``mapping_save``), else a built-in preset (``PRESETS``: Busy, Marg, Tally's Excel export), then
the fields given explicitly (``--map``) on top. A preset lists several header spellings for a field
(the exports differ by version and report); the first the file has is used, and a field none of them
matches is left out (a required one is then reported missing).
"""

from __future__ import annotations

import re
from dataclasses import replace

from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import Problem, ValidationFailed

from .tabular import Row, Table

#: Built-in mappings per source and kind: dues field -> header spellings, first found wins.
#: Written from the column names the vendors' reports show (no sample export was available to test
#: against; see docs/imports.md).
PRESETS: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "busy": {
        # Display > Outstanding Analysis > Bills Receivable (bill-wise), exported to Excel/CSV
        "invoices": {
            "number": ("Bill No.", "Bill No", "Ref. No.", "Reference", "Vch/Bill No"),
            "customer": ("Party Code", "Account Code", "Party Name", "Account Name", "Party", "Account"),
            "date": ("Bill Date", "Date", "Vch Date"),
            "due_date": ("Due Date", "Due On"),
            "amount": ("Pending Amount", "Pending Amt.", "Balance Amount", "Balance", "Bill Amount"),
        },
        # Receipt register / day book rows of Receipt vouchers
        "receipts": {
            "number": ("Vch/Bill No", "Vch No.", "Vch No", "Voucher No."),
            "customer": ("Party Code", "Account Code", "Party Name", "Account Name", "Account", "Party"),
            "date": ("Date", "Vch Date"),
            "amount": ("Amount", "Credit", "Credit Amount", "Cr. Amount"),
            "reference": ("Cheque No.", "Cheque No", "Chq. No.", "Narration"),
        },
    },
    "marg": {
        # Outstanding > Party-wise bill-wise outstanding (Receivable), exported to Excel/CSV
        "invoices": {
            "number": ("Bill No.", "Bill No", "Bill Number", "Inv No", "Invoice No"),
            "customer": ("Party Code", "Code", "Party Name", "Party", "Customer Name"),
            "date": ("Bill Date", "Date", "Inv Date"),
            "due_date": ("Due Date",),
            "amount": ("Balance", "Bal. Amt", "Balance Amt", "Pending", "Outstanding", "Bill Amt", "Bill Amount"),
        },
        # Receipt book / day book rows of receipts
        "receipts": {
            "number": ("Voucher No", "Vou. No.", "Vou No", "Vr. No.", "Receipt No"),
            "customer": ("Party Code", "Code", "Party Name", "Party", "Account Name"),
            "date": ("Date", "Voucher Date", "Vou. Date"),
            "amount": ("Amount", "Credit", "Cr Amount", "Received"),
            "reference": ("Cheque No", "Chq No", "Narration"),
        },
    },
    "tally-excel": {
        # Tally: Display > Statements of Accounts > Outstandings > Receivables / Ledger, exported to Excel
        "invoices": {
            "number": ("Ref. No.", "Ref No", "Bill No"),
            "customer": ("Party's Name", "Party Name", "Ledger", "Party"),
            "date": ("Date", "Bill Date"),
            "due_date": ("Due on", "Due Date"),
            "amount": ("Pending Amount", "Pending", "Closing Balance", "Opening Amount"),
        },
        "receipts": {
            "number": ("Vch No.", "Voucher No.", "Vch No"),
            "customer": ("Particulars", "Party's Name", "Party Name"),
            "date": ("Date",),
            "amount": ("Credit", "Credit Amount", "Amount"),
        },
    },
}

_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")


def header_key(name: str) -> str:
    """The form a header is matched in: lower case, runs of spaces/underscores as one underscore."""
    return re.sub(r"[\s_]+", "_", str(name).strip().lower())


def parse_map(text: str | None, source: str = "--map") -> dict[str, str]:
    """'amount=Bill Amount,number=Bill No' -> {'amount': 'Bill Amount', 'number': 'Bill No'}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        if not sep or not key.strip() or not column.strip():
            raise ValidationFailed([Problem(f"{part.strip()!r} is not FIELD=COLUMN", "", None, source)])
        mapping[header_key(key)] = column.strip().strip('"').strip()
    return mapping


def check_source(source: str) -> str:
    source = (source or "").strip().lower()
    if not _SOURCE.match(source):
        raise ValidationFailed([Problem(f"source {source!r}: use letters, digits, '.', '_' or '-' (up to 60)",
                                        "source")])
    return source


def saved_mapping(company, source: str, kind: str) -> dict[str, str] | None:
    from .models import ImportMapping

    row = ImportMapping.objects.filter(company=company, source=source, kind=kind).first()
    return dict(row.columns) if row else None


def mapping_for(company, source: str, kind: str, *, optional: bool = False) -> dict[str, str | tuple[str, ...]]:
    """The mapping ``source`` stands for: the saved one, else the built-in preset, else nothing (an
    unknown source with nothing saved is an error naming the presets, unless ``optional``: a mapping
    given explicitly is about to be saved for it)."""
    source = check_source(source)
    saved = saved_mapping(company, source, kind)
    if saved is not None:
        return dict(saved)
    if source in PRESETS:
        if kind not in PRESETS[source]:
            raise ValidationFailed([Problem(f"the {source} preset has no {kind} layout (it has "
                                            f"{', '.join(PRESETS[source])}); pass --map", "source")])
        return dict(PRESETS[source][kind])
    if optional:
        return {}
    raise ValidationFailed([Problem(f"no mapping saved for source {source!r} and {kind}, and no such preset (presets: "
                                    f"{', '.join(PRESETS)}); pass --map ... --save-map", "source")])


def resolve(columns: list[str], mapping: dict[str, str | tuple[str, ...]], fields, source: str
            ) -> dict[str, str]:
    """``mapping`` checked against a file's ``columns``: {field: the file's column key}. A single header
    that is not in the file, or a field unknown to the import, is an error listing what there is."""
    keys = {header_key(c): c for c in columns}
    resolved: dict[str, str] = {}
    problems: list[Problem] = []
    for fld, wanted in mapping.items():
        fld = header_key(fld)
        if fld not in fields:
            problems.append(Problem(f"unknown field {fld!r} in the column mapping (fields: {', '.join(fields)})",
                                    "map", 1, source))
            continue
        if isinstance(wanted, (tuple, list)):  # a preset: the first spelling the file has, if any
            found = next((keys[header_key(w)] for w in wanted if header_key(w) in keys), None)
            if found is not None:
                resolved[fld] = found
            continue
        key = header_key(wanted)
        if key not in keys:
            problems.append(Problem(f"{fld}={wanted}: the file has no column {wanted!r}; its columns are "
                                    f"{', '.join(columns)}", fld, 1, source))
            continue
        resolved[fld] = keys[key]
    if problems:
        raise ValidationFailed(problems)
    return resolved


def apply_mapping(table: Table, mapping: dict[str, str | tuple[str, ...]] | None, fields) -> Table:
    """``table`` with its columns renamed to dues fields by ``mapping``. A field mapped explicitly (one
    header) that the file also has as a column of its own is an error; a preset's choice (several
    spellings) replaces such a column."""
    if not mapping:
        return table
    resolved = resolve(table.columns, mapping, fields, table.source)
    renamed = {col: fld for fld, col in resolved.items() if col != fld}
    explicit = {header_key(f) for f, v in mapping.items() if not isinstance(v, (tuple, list))}
    clash = [f for f, col in resolved.items() if col != f and f in table.columns and f in explicit]
    if clash:
        raise ValidationFailed([Problem(f"{f} is mapped to column {resolved[f]!r} but the file also has a "
                                        f"column {f!r}; map one of them only", f, 1, table.source)
                                for f in clash])
    taken = set(renamed.values())
    columns = [renamed.get(c, c) for c in table.columns if c in renamed or c not in taken]
    rows = [Row(r.number, {renamed.get(c, c): v for c, v in r.values.items() if c in renamed or c not in taken})
            for r in table.rows]
    return replace(table, columns=columns, rows=rows)


def mapping_save(*, company, source: str, kind: str, columns: dict[str, str], actor=None):
    """Remember ``columns`` (field -> header) for ``source`` and ``kind`` (audited, before/after)."""
    from .models import ImportMapping

    source = check_source(source)
    columns = {header_key(k): str(v).strip() for k, v in columns.items() if str(v).strip()}
    with transaction.atomic():
        row = ImportMapping.objects.select_for_update().filter(company=company, source=source, kind=kind).first()
        before = dict(row.columns) if row else None
        if row is None:
            row = ImportMapping(company=company, source=source, kind=kind)
        if before == columns:
            return row
        row.columns, row.updated_at, row.updated_by = columns, clock.now(), actor_name(actor)
        row.save()
        audit_append(actor=actor, action="import_mapping_save", object_type="import_mapping", object_id=row.pk,
                     company_id=company.pk, before={"columns": before} if before is not None else None,
                     after={"source": source, "kind": kind, "columns": columns})
    return row


def suggest(columns: list[str], mapping: dict[str, str | tuple[str, ...]], fields) -> dict[str, str]:
    """For a mapping screen: {field: the file's column} from ``mapping`` where the file has it, else the
    field's own column when the file has one; nothing raised."""
    keys = {header_key(c): c for c in columns}
    out: dict[str, str] = {}
    for fld in fields:
        wanted = mapping.get(fld)
        spellings = wanted if isinstance(wanted, (tuple, list)) else (wanted,) if wanted else ()
        found = next((keys[header_key(w)] for w in spellings if header_key(w) in keys), None)
        if found is None and fld in keys:
            found = keys[fld]
        if found is not None:
            out[fld] = found
    return out
