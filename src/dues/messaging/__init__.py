"""Sending what dues writes to people: messages, the e-mail (SMTP) and webhook transports, the outbox
folder and the letters folder. Used by the dunning run, balance confirmations and statements."""
