"""Indian tax identifiers (GSTIN, PAN) checked with python-stdnum; TAN by its format.

Validation returns the normalised value or raises ``TaxIdError`` saying what is wrong, so callers can
turn a wrong checksum into an error or, where the company chose it, a warning (some official sandbox
GSTINs fail the checksum).
"""

from __future__ import annotations

import re

from stdnum import exceptions as stdnum_errors
from stdnum.in_ import gstin as _gstin
from stdnum.in_ import pan as _pan


class TaxIdError(ValueError):
    """A malformed identifier; ``checksum_only`` when the format is right but the check fails."""

    def __init__(self, message: str, checksum_only: bool = False):
        super().__init__(message)
        self.checksum_only = checksum_only


def _check(module, value: str, name: str) -> str:
    compact = module.compact(value)
    try:
        return module.validate(compact)
    except stdnum_errors.InvalidChecksum as exc:
        raise TaxIdError(f"{name} {compact} has a wrong check character", checksum_only=True) from exc
    except stdnum_errors.InvalidLength as exc:
        raise TaxIdError(f"{name} {compact} has the wrong length") from exc
    except stdnum_errors.ValidationError as exc:
        raise TaxIdError(f"{name} {compact} is not valid ({exc.message})") from exc


def validate_gstin(value: str) -> str:
    return _check(_gstin, value, "GSTIN")


def validate_pan(value: str) -> str:
    return _check(_pan, value, "PAN")


_TAN = re.compile(r"^[A-Z]{4}[0-9]{5}[A-Z]$")


def validate_tan(value: str) -> str:
    """A TAN (tax deduction account number, the deductor's id in Form 26AS): AAAA99999A.

    Four letters (the first three the TAN's city code, the fourth the deductor's initial), five digits
    and a letter; TAN has no published check character, so only the format is checked.
    """
    compact = re.sub(r"[\s\-]", "", str(value)).upper()
    if len(compact) != 10:
        raise TaxIdError(f"TAN {compact} has the wrong length ({len(compact)} characters; a TAN is 10, like MUMA12345B)")
    if not _TAN.match(compact):
        raise TaxIdError(f"TAN {compact} is not valid (four letters, five digits and a letter, like MUMA12345B)")
    return compact


def gstin_state(gstin: str) -> str:
    """The two-digit GST state code a GSTIN begins with."""
    return gstin[:2]


def gstin_pan(gstin: str) -> str:
    """The PAN embedded in a GSTIN (characters 3 to 12)."""
    return gstin[2:12]
