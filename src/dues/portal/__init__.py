"""The customer portal: a signed, expiring link per customer; their account, statement and payments; no password."""
