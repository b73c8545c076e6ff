"""Portal links: issued, found from the token in a URL, revoked; every request with one logged.

The token is 32 random bytes (URL-safe); only its SHA-256 is stored, so the database alone cannot
open any customer's portal. A link is refused the same way whether it never existed, expired or
was revoked: ``link_for_token`` returns None for all three.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from dues import clock
from dues.audit.services import actor_name, audit_append
from dues.core.errors import DuesError

from .models import PortalAccess, PortalLink

MAX_DAYS = 366


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_url(token: str, base: str | None = None) -> str:
    return f"{(base or settings.DUES_PUBLIC_URL).rstrip('/')}/portal/{token}/"


@transaction.atomic
def link_create(*, customer, actor, days: int = 30) -> tuple[PortalLink, str]:
    """Issue a link for ``customer`` valid for ``days``; returns the record and the token (shown once)."""
    from dues.users.permissions import require, require_customer

    require(actor, "collections.act", "issue a customer portal link")
    require_customer(actor, customer)
    if not 1 <= int(days) <= MAX_DAYS:
        raise DuesError(f"--days: between 1 and {MAX_DAYS}, not {days}")
    token = secrets.token_urlsafe(32)
    link = PortalLink.objects.create(company_id=customer.company_id, customer=customer, digest=digest(token),
                                     created_by=actor_name(actor), expires_at=clock.now() + timedelta(days=int(days)))
    audit_append(actor=actor, action="create", object_type="portal_link", object_id=str(link.pk),
                 company_id=customer.company_id, before=None,
                 after={"customer": customer.code, "expires_at": link.expires_at.isoformat()})
    return link, token


@transaction.atomic
def link_revoke(*, company, actor, customer=None, all_links: bool = False) -> int:
    """Revoke every live link of ``customer`` (or of every customer with ``all_links``); returns how many."""
    from dues.users.permissions import require, require_customer

    require(actor, "collections.act", "revoke customer portal links")
    if customer is None and not all_links:
        raise DuesError("give a customer code or --all")
    links = PortalLink.objects.filter(company=company, revoked_at__isnull=True)
    if customer is not None:
        require_customer(actor, customer)
        links = links.filter(customer=customer)
    ids = list(links.values_list("pk", flat=True))
    now = clock.now()
    PortalLink.objects.filter(pk__in=ids).update(revoked_at=now)
    audit_append(actor=actor, action="revoke", object_type="portal_link",
                 object_id=customer.code if customer is not None else "*", company_id=company.pk,
                 before=None, after={"links": ids, "revoked_at": now.isoformat()})
    return len(ids)


#: How long a link put into a reminder or an e-mailed statement stays valid.
MESSAGE_LINK_DAYS = 30


def message_portal_link(customer, actor, *, days: int = MESSAGE_LINK_DAYS) -> str | None:
    """A fresh portal link for a message to ``customer``, or None unless ``DUES_PORTAL_IN_MESSAGES`` is on.

    Only the token's digest is stored, so an earlier link cannot be put into a message again: each call issues
    one (audited); callers ask once per customer per run.
    """
    if not settings.DUES_PORTAL_IN_MESSAGES:
        return None
    _link, token = link_create(customer=customer, actor=actor, days=days)
    return portal_url(token)


def link_for_token(token: str) -> PortalLink | None:
    """The usable link the token opens, or None (unknown, expired and revoked alike)."""
    if not token or len(token) > 100:
        return None
    link = (PortalLink.objects.select_related("customer", "company").filter(digest=digest(token)).first())
    if link is None or not link.usable(clock.now()):
        return None
    return link


def access_log(link: PortalLink, *, address: str | None, method: str, path: str, status: int) -> None:
    """Log one request; the link's last use is kept to the minute (one UPDATE a minute, not one a request)."""
    now = clock.now()
    PortalAccess.objects.create(link=link, at=now, address=address or None, method=method[:8], path=path[:300],
                                status=status)
    if link.last_used_at is None or now - link.last_used_at >= timedelta(minutes=1):
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now)
