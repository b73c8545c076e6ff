"""The optional TOTP second factor (django-otp's TOTP devices) of administrators and AR managers.

An operator enrolls a user with ``dues user totp enroll NAME``: a new secret, printed once as an
``otpauth://`` address for the user's authenticator app. From then on signing in asks for the six-digit
code after the password. ``DUES_REQUIRE_TOTP=1`` makes it compulsory for the roles in ``DUES_TOTP_ROLES``.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.core.errors import DuesError

from .permissions import require, role_of

DEVICE_NAME = "authenticator app"


def totp_role(user: Any) -> bool:
    """Whether the user's role is one that may (or, with DUES_REQUIRE_TOTP, must) use a second factor."""
    return role_of(user) in settings.DUES_TOTP_ROLES


def totp_required(user: Any) -> bool:
    return settings.DUES_REQUIRE_TOTP and totp_role(user)


def totp_device(user: Any):
    """The user's confirmed TOTP device, or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _user(username: str):
    user = get_user_model().objects.filter(username=username.strip()).first()
    if user is None:
        raise DuesError(f"no user {username!r}")
    return user


@transaction.atomic
def totp_enroll(*, username: str, replace: bool = False, actor: Any = None) -> tuple[Any, str, str]:
    """Give the user a new TOTP secret. Returns (device, otpauth URI, base32 secret); audited (without the secret)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    require(actor, "users.manage", "manage users")
    user = _user(username)
    if not totp_role(user):
        role = role_of(user) or "no role"
        raise DuesError(f"{user.get_username()} is {role.replace('_', ' ')}: the second factor is for "
                        f"{' and '.join(r.replace('_', ' ') for r in settings.DUES_TOTP_ROLES)} logins")
    existing = TOTPDevice.objects.filter(user=user)
    if existing.exists() and not replace:
        raise DuesError(f"{user.get_username()} already has an authenticator; use --replace to issue a new secret "
                        "(the old one stops working)")
    existing.delete()
    device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
    audit_append_many([AuditEntry(actor_name(actor), "update", "user", user.get_username(), None,
                                  {"totp": "replaced" if replace else "none"}, {"totp": "enrolled"})])
    return device, device.config_url, b32encode(device.bin_key).decode()


@transaction.atomic
def totp_remove(*, username: str, actor: Any = None) -> int:
    """Remove the user's TOTP devices (a lost phone); they sign in with the password alone again. Audited."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    require(actor, "users.manage", "manage users")
    user = _user(username)
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        audit_append_many([AuditEntry(actor_name(actor), "update", "user", user.get_username(), None,
                                      {"totp": "enrolled"}, {"totp": "removed"})])
    return removed
