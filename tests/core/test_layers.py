"""The layers a newcomer relies on: core is pure, domain apps never import their interfaces."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "dues"
DOMAIN = ("core", "companies", "customers", "ledger", "banking", "collections", "reconciliation", "integrations",
          "reporting", "audit", "users", "documents", "messaging", "formats", "billing", "credit", "jobs", "risk",
          "prediction", "attachments")
INTERFACE = re.compile(r"^\s*(?:from|import)\s+dues\.(?:web|cli)\b", re.M)
DJANGO = re.compile(r"^\s*(?:from|import)\s+django\b", re.M)


def _imports(folder: str, pattern: re.Pattern) -> list[str]:
    return [f"{path.relative_to(SRC)}: {m.group(0).strip()}" for path in sorted((SRC / folder).rglob("*.py"))
            for m in pattern.finditer(path.read_text(encoding="utf-8"))]


def test_domain_code_does_not_import_the_web_app_or_the_cli():
    found = [line for folder in DOMAIN for line in _imports(folder, INTERFACE)]
    assert not found, "formatting lives in dues.formats, PDFs in dues.documents, mail in dues.messaging:\n" + \
        "\n".join(found)


def test_core_is_pure():
    assert not _imports("core", DJANGO)


def test_prediction_is_pure():
    assert not _imports("prediction", DJANGO)
