"""Creating desk users and changing their roles (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from dues.audit.services import AuditEntry, actor_name, audit_append_many
from dues.core.errors import DuesError

from .models import UserRole
from .permissions import require
from .roles import ADMIN, ROLES


@transaction.atomic
def user_add(*, username: str, role: str, password: str, person_name: str = "", email: str = "",
             actor: Any = None, password_rules: bool = True) -> tuple[Any, bool]:
    """Create a user with a role, or change an existing user's role and password. Returns (user, created).

    The password must pass the rules of ``AUTH_PASSWORD_VALIDATORS`` (length, not common, not all digits, not
    like the user's name); only the demo company, whose shared password is published, sets ``password_rules``
    False."""
    require(actor, "users.manage", "manage users")
    username = username.strip()
    if not username:
        raise DuesError("a user needs a name")
    if role not in ROLES:
        raise DuesError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        user = User(username=username, email=email)
    try:
        if password_rules:
            validate_password(password, user)
    except ValidationError as exc:
        raise DuesError(f"password for {username}: {' '.join(exc.messages)}") from exc
    before = None if created else {"role": getattr(getattr(user, "desk_role", None), "role", ""),
                                   "is_staff": user.is_staff}
    user.set_password(password)
    user.is_staff = role == ADMIN  # the Django admin is for administrators only
    if email:
        user.email = email
    user.save()
    UserRole.objects.update_or_create(user=user, defaults={"role": role, "person_name": person_name.strip()})
    after = {"role": role, "person_name": person_name.strip(), "is_staff": user.is_staff, "password": "set"}
    audit_append_many([AuditEntry(actor_name(actor), "create" if created else "update", "user", username, None,
                                  before, after)])
    return user, created
