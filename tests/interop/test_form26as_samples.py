"""Every Form 26AS sample in shared/data (a file or folder named like *26as*, see SOURCES.md) is read:
each deductor's totals equal its lines (the reader checks that), TANs are well-formed, amounts are not negative.

Without shared/data (``DUES_SHARED_DATA`` to point elsewhere) this fails in CI and is skipped elsewhere.
When shared/data holds no 26AS sample (SOURCES.md lists none as of 2026-11-29), it is skipped saying so:
our own invented 26AS texts are tested in tests/core/test_tds26as.py.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from dues.core.taxids import validate_tan
from dues.integrations.form26as import read_form26as

pytestmark = pytest.mark.interop

ROOT = Path(os.environ.get("DUES_SHARED_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data")
SUFFIXES = {".txt", ".csv", ".xlsx"}


def samples() -> list[Path]:
    if not ROOT.is_dir():
        return []
    found = set()
    for path in ROOT.rglob("*"):
        name = str(path.relative_to(ROOT)).lower().replace("_", "").replace("-", "")
        if path.is_file() and path.suffix.lower() in SUFFIXES and ("26as" in name or "form26" in name):
            found.add(path)
    return sorted(found)


def test_shared_form26as_samples():
    if not ROOT.is_dir():
        message = f"no shared data at {ROOT} (set DUES_SHARED_DATA)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    files = samples()
    if not files:
        pytest.skip(f"{ROOT} holds no Form 26AS sample (nothing named *26as* in SOURCES.md); "
                    "the invented samples in tests/core/test_tds26as.py cover the reader")
    for path in files:
        form = read_form26as(path)
        assert form.credits, f"{path.name}: no transaction lines read"
        for c in form.credits:
            assert validate_tan(c.tan) == c.tan
            assert c.amount >= 0 and c.tds >= 0 and c.deposited >= 0
            assert c.tds <= c.amount or c.amount == Decimal(0), f"{path.name}:{c.row}: tax above the amount"
