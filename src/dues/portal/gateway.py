"""Payment gateways behind one small interface, chosen by the DUES_PAYMENT_GATEWAY setting (a dotted path).

An adapter takes a payment for an amount and answers with a ``GatewayResult``. Only a result with
``confirmed=True`` (the gateway says the money was taken) is recorded, and then only as a confirmed
remittance advice: the receipt itself is posted by cash application from the bank evidence.
``FakeGateway`` confirms every payment (or refuses, for tests); a real adapter (Razorpay, PayU, ...)
implements the same ``charge`` method.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class GatewayResult:
    confirmed: bool
    payment_id: str = ""
    message: str = ""


class PaymentGateway(Protocol):
    name: str

    def charge(self, *, amount: Decimal, currency: str, reference: str, customer_code: str) -> GatewayResult: ...


class FakeGateway:
    """A gateway for tests and the demo: every payment succeeds (``fail=True``: every payment is declined)."""

    name = "fake"
    fail = False

    def charge(self, *, amount: Decimal, currency: str, reference: str, customer_code: str) -> GatewayResult:
        if self.fail:
            return GatewayResult(False, "", "declined by the bank")
        return GatewayResult(True, f"fake_{secrets.token_hex(6)}", "paid")


def gateway() -> PaymentGateway | None:
    """The configured adapter, or None when the portal offers UPI only."""
    path = getattr(settings, "DUES_PAYMENT_GATEWAY", "")
    return import_string(path)() if path else None
