"""Customers' replies read for suggestions: ``dues replies bench`` measures the reading rules."""

from __future__ import annotations

from pathlib import Path

import click

from .main import cli
from .output import out, print_json, table


@cli.group()
def replies() -> None:
    """Customers' replies (e-mail, WhatsApp) read for promises, disputes, payments claimed, statement requests."""


@replies.command("bench")
@click.option("--file", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="a labelled set (JSON Lines); default: the two shipped sets (tuning and held-out)")
@click.option("--misses", is_flag=True, help="list every message read wrongly")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def replies_bench(files, misses, fmt):
    """Precision and recall per suggestion kind over labelled replies (a suggestion counts when its fields match)."""
    from dues.messaging.replies import evaluate, labelled_set_path, load_labelled

    shipped = labelled_set_path()
    files = files or (shipped, shipped.with_name("replies_heldout.jsonl"))
    report = []
    for path in files:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
        rows = load_labelled(path)
        scores, missed = evaluate(rows)
        report.append({"file": str(path), "messages": len(rows), "misses": missed,
                       "kinds": [{"kind": s.kind, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                                  "precision": round(s.precision, 3), "recall": round(s.recall, 3)}
                                 for s in scores.values()]})
    if fmt == "json":
        print_json(report)
        return
    for r in report:
        table(f"{r['file']} ({r['messages']} messages)", ["kind", "right", "wrong", "missed", "precision", "recall"],
              [[k["kind"], k["tp"], k["fp"], k["fn"], f"{k['precision']:.2f}", f"{k['recall']:.2f}"]
               for k in r["kinds"]], right=(1, 2, 3, 4, 5))
        if misses:
            for line in r["misses"]:
                out.print(f"  {line}", markup=False)
