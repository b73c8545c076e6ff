"""The REST API (``/api/v1/``): token authentication, the desk's data for other systems, webhooks.

- ``models``    API tokens (hashed), idempotency keys, webhook subscribers, their outbox and delivery log
- ``tokens``    issuing, revoking and checking tokens
- ``webhooks``  events from the audit log into the outbox (same transaction), delivery with HMAC signatures
- ``credit``    the credit check for order and dispatch systems
- ``views``     the django-ninja endpoints (``api``), scoped by the token's user exactly like the web app
"""
