"""API tokens: issued for a desk user, hashed at rest, expiring, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction

from dues import clock
from dues.audit.services import audit_append
from dues.core.errors import DuesError
from dues.users.permissions import role_of

from .models import ApiToken

PREFIX = "dues_"
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_add(*, username: str, name: str = "", expires_on: date | None = None, actor=None) -> tuple[ApiToken, str]:
    """Issue a token for ``username``; returns the stored token and the secret text (shown once, never stored)."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise DuesError(f"no user {username!r} (add one with `dues user add`)")
    if role_of(user) is None:
        raise DuesError(f"{username} has no role at the desk: a token for them could do nothing")
    if expires_on is not None and expires_on < clock.today():
        raise DuesError(f"the expiry date {expires_on.isoformat()} is already past")
    name = (name or "").strip() or f"token-{ApiToken.objects.filter(user=user).count() + 1}"
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise DuesError(f"{username} already has a token named {name!r}")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    text = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(text), expires_on=expires_on)
    audit_append(actor=actor, action="create", object_type="api_token", object_id=str(token.pk),
                 after={"user": username, "name": name, "prefix": prefix,
                        "expires_on": expires_on.isoformat() if expires_on else None})
    return token, text


def _find(ref: str) -> ApiToken:
    tokens = ApiToken.objects.filter(revoked_at__isnull=True)
    found = list(tokens.filter(pk=int(ref))) if ref.isdigit() else []
    found = found or list(tokens.filter(name=ref)) or list(tokens.filter(prefix=ref))
    if not found:
        raise DuesError(f"no active token {ref!r}")
    if len(found) > 1:
        raise DuesError(f"{len(found)} tokens are named {ref!r}: give the id (`dues token list`)")
    return found[0]


@transaction.atomic
def token_revoke(*, ref: str, actor=None) -> ApiToken:
    token = _find(ref)
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    audit_append(actor=actor, action="revoke", object_type="api_token", object_id=str(token.pk),
                 before={"user": token.user.get_username(), "name": token.name, "prefix": token.prefix},
                 after={"revoked_at": token.revoked_at.isoformat()})
    return token


def token_user(text: str):
    """The active user a token text belongs to, or None (unknown, revoked, expired, inactive, no role)."""
    if not text or not text.startswith(PREFIX):
        return None
    prefix, _, rest = text[len(PREFIX):].partition("_")
    if not prefix or not rest:
        return None
    token = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).select_related("user").first()
    if token is None or not hmac.compare_digest(token.digest, _digest(text)):
        return None
    if token.expires_on is not None and token.expires_on < clock.today():
        return None
    user = token.user
    if not user.is_active or role_of(user) is None:
        return None
    now = clock.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:  # not a write per request
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user._dues_api_token = token.pk
    return user
