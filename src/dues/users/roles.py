"""Roles and what each may do. Pure data: the one place a capability is granted.

A capability names an action (``receipts.post``) or a reading (``audit.view``). Services and
selectors ask ``dues.users.permissions`` whether the acting user holds it; templates only use the
same answers to hide what would be refused anyway.
"""

from __future__ import annotations

ADMIN, AR_MANAGER, COLLECTOR, BILLING, SALES, AUDITOR = "admin", "ar_manager", "collector", "billing", "sales", "auditor"

ROLES: dict[str, str] = {
    ADMIN: "Administrator: everything, including users and company settings",
    AR_MANAGER: "AR manager: every ledger action, imports, reports and the audit log",
    COLLECTOR: "Collector: receipts, allocations and follow-ups; reads every customer",
    BILLING: "Billing: customers, invoices, credit and debit notes, their imports",
    SALES: "Sales: reads only the customers where they are the salesperson",
    AUDITOR: "Auditor: reads everything, the audit log included; changes nothing",
}

# capability -> roles holding it (admin holds every capability)
CAPABILITIES: dict[str, frozenset[str]] = {
    "desk.view": frozenset(ROLES),
    "customers.view_all": frozenset({ADMIN, AR_MANAGER, COLLECTOR, BILLING, AUDITOR}),
    "customers.change": frozenset({ADMIN, AR_MANAGER, BILLING}),
    "invoices.post": frozenset({ADMIN, AR_MANAGER, BILLING}),  # invoices, credit/debit notes, opening balances
    "receipts.post": frozenset({ADMIN, AR_MANAGER, COLLECTOR}),
    "allocations.change": frozenset({ADMIN, AR_MANAGER, COLLECTOR}),
    "writeoffs.post": frozenset({ADMIN, AR_MANAGER}),
    "collections.act": frozenset({ADMIN, AR_MANAGER, COLLECTOR}),
    "collections.policies": frozenset({ADMIN, AR_MANAGER}),  # edit dunning policies and assign them to segments
    "reports.view": frozenset({ADMIN, AR_MANAGER, COLLECTOR, BILLING, AUDITOR, SALES}),
    "audit.view": frozenset({ADMIN, AR_MANAGER, AUDITOR}),
    "billing.run": frozenset({ADMIN, AR_MANAGER, BILLING}),  # items, contracts, deliveries, bill runs
    "billing.approve": frozenset({ADMIN, AR_MANAGER, BILLING}),  # approve or reject draft tax invoices
    "attachments.add": frozenset({ADMIN, AR_MANAGER, COLLECTOR, BILLING}),  # attach a PO, challan or POD
    "credit.override": frozenset({ADMIN, AR_MANAGER}),  # approve a draft held on credit; release holds, set limits
    "credit.hold": frozenset({ADMIN, AR_MANAGER, BILLING, COLLECTOR}),  # put a customer on credit hold
    "settings.change": frozenset({ADMIN}),
    "users.manage": frozenset({ADMIN}),
}

# which capability posting (and cancelling) each document kind needs
KIND_CAPABILITY: dict[str, str] = {
    "invoice": "invoices.post",
    "credit_note": "invoices.post",
    "debit_note": "invoices.post",
    "opening": "invoices.post",
    "receipt": "receipts.post",
    "write_off": "writeoffs.post",
}

# which capability each import needs
IMPORT_CAPABILITY: dict[str, str] = {
    "customers": "customers.change",
    "invoices": "invoices.post",
    "credit-notes": "invoices.post",
    "receipts": "receipts.post",
    "items": "billing.run",
    "contracts": "billing.run",
    "recurring": "billing.run",
    "deliveries": "billing.run",
}


def role_can(role: str, capability: str) -> bool:
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")
    return role == ADMIN or role in CAPABILITIES[capability]
