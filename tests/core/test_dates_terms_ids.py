from datetime import date

import pytest

from dues.core.dates import fiscal_year, parse_date
from dues.core.states import state_code
from dues.core.taxids import TaxIdError, validate_gstin, validate_pan
from dues.core.terms import PaymentTerms


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-31", date(2026, 3, 31)), ("31-03-2026", date(2026, 3, 31)), ("31/03/2026", date(2026, 3, 31)),
    ("1-4-2025", date(2025, 4, 1)), ("01.04.2025", date(2025, 4, 1)),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31-02-2026", "2026/13/01", "tomorrow", "03-31-2026", ""])
def test_parse_date_rejects(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_indian_fiscal_year():
    fy = fiscal_year(date(2026, 3, 31))
    assert (fy.start, fy.end, fy.label) == (date(2025, 4, 1), date(2026, 3, 31), "2025-26")
    assert fiscal_year(date(2026, 4, 1)).label == "2026-27"
    assert fiscal_year(date(2026, 7, 1), start_month=1).label == "2026"


def test_payment_terms():
    assert PaymentTerms("net", 30).due_date(date(2026, 1, 15)) == date(2026, 2, 14)
    assert PaymentTerms("eom", 15).due_date(date(2026, 2, 3)) == date(2026, 3, 15)
    assert PaymentTerms("eom", 0).due_date(date(2024, 2, 10)) == date(2024, 2, 29)
    with pytest.raises(ValueError):
        PaymentTerms("weekly", 7)


def test_gstin_and_pan():
    assert validate_gstin("27aapfu0939f1zv") == "27AAPFU0939F1ZV"
    with pytest.raises(TaxIdError) as bad_check:
        validate_gstin("27AAPFU0939F1ZA")
    assert bad_check.value.checksum_only
    with pytest.raises(TaxIdError) as bad_len:
        validate_gstin("27AAPFU0939F1Z")
    assert not bad_len.value.checksum_only
    assert validate_pan("AAPFU0939F") == "AAPFU0939F"
    with pytest.raises(TaxIdError):
        validate_pan("AAPFU09391")


def test_state_codes():
    assert state_code("Maharashtra") == "27"
    assert state_code("7") == "07"
    with pytest.raises(ValueError):
        state_code("Atlantis")
