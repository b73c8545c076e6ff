"""``dues import bank FILE...``: bank statements (MT940, camt.05x, OFX, CSV/XLSX) into a bank account."""

from __future__ import annotations

import click

from .output import out


def parse_map(text: str | None) -> dict[str, str]:
    """'date=Txn Date,credit=Deposit Amt.' -> {'date': 'Txn Date', 'credit': 'Deposit Amt.'}."""
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, column = part.partition("=")
        if not sep or not key.strip() or not column.strip():
            raise click.UsageError(f"--map: {part.strip()!r} is not FIELD=COLUMN")
        mapping[key.strip().lower()] = column.strip()
    return mapping


def import_bank(obj, company, files, *, dry_run: bool, account: str | None, fmt: str, preset: str,
                mapping: str | None) -> None:
    from dues.banking.services import bank_statement_import

    columns = parse_map(mapping)
    for path in files:
        with out.status(f"importing {path}"):
            result = bank_statement_import(company=company, path=path, account=account, fmt=fmt, preset=preset,
                                           mapping=columns, dry_run=dry_run, actor=obj.user)
        for warning in result.warnings:
            out.print(f"[yellow]warning[/yellow] {warning}")
        verb = "would import" if dry_run else "imported"
        out.print(f"{verb} {result.source} ({result.format}): {result.statements} statement(s), {result.lines} lines, "
                  f"{result.created} new, {result.duplicates} already there; bank account {', '.join(result.accounts)}")
