"""Reconciliation: a customer's ledger of us against ours (ledger clearance)."""
