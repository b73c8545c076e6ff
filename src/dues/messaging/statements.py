"""A statement of account by e-mail: who receives it, the file name, the covering message.

Shared by ``dues statement --email``, the bulk action on the customer list and the collector's desk.
"""

from __future__ import annotations

import re

from dues.core.errors import DuesError
from dues.formats import money_text

from .transports import Message


def _safe(code: str) -> str:
    """A customer code as a file-name part (codes may hold / or spaces)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", code).strip("._") or "customer"


def statement_filename(customer, end) -> str:
    return f"statement-{_safe(customer.code)}-{end.isoformat()}.pdf"


def statement_recipients(customer) -> list[str]:
    """The customer's own address, else its contacts' (the primary accounts-payable contact first)."""
    if customer.email.strip():
        return [a.strip() for a in customer.email.replace(";", ",").split(",") if a.strip()]
    contacts = sorted((c for c in customer.contacts.all() if c.email.strip()),
                      key=lambda c: (c.role != "accounts_payable", not c.is_primary, c.pk))
    return [c.email.strip() for c in contacts]


def statement_send(transport, company, customer, start, end, due, pdf: bytes, *, actor=None) -> str:
    """E-mail one statement; raises (DuesError or the transport's error) when it cannot go.

    With ``DUES_PORTAL_IN_MESSAGES=1`` the message offers a fresh customer portal link (issued as ``actor``).
    """
    from dues.portal.links import message_portal_link

    to = statement_recipients(customer)
    if not to:
        raise DuesError(f"{customer.code} has no e-mail address (customer or contacts)")
    link = message_portal_link(customer, actor)
    period = f"{start.strftime('%d-%m-%Y')} to {end.strftime('%d-%m-%Y')}"
    amount = money_text(due, company.locale)
    body = (f"Dear {customer.name},\n\nPlease find attached your statement of account with {company.name} for "
            f"{period}.\n\n"
            + (f"The balance due on {end.strftime('%d-%m-%Y')} is {company.currency} {amount}. " if due > 0 else "")
            + "If anything in it does not match your books, please reply to this e-mail so we can reconcile."
            + (f"\n\nSee your account and pay online: {link}" if link else "")
            + f"\n\nRegards,\nAccounts receivable\n{company.name}\n")
    message = Message(channel="email", customer=customer.code, key=f"statement:{customer.code}:{start}:{end}",
                      subject=f"Statement of account {period}: {company.name}", body=body, to=to,
                      attachments=[(statement_filename(customer, end), pdf, "application/pdf")])
    return transport.send(message)
