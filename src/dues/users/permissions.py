"""Asking whether the acting user may do a thing; services call ``require`` before changing anything.

The actor of a service is a Django user (the web app) or a name (the CLI, run by whoever has the
database: the operator, with every capability). A user without a role may do nothing at all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dues.core.errors import PermissionDenied

from .roles import ADMIN, IMPORT_CAPABILITY, KIND_CAPABILITY, ROLES, SALES, role_can


def is_user(actor: Any) -> bool:
    return actor is not None and not isinstance(actor, str) and hasattr(actor, "is_authenticated")


def role_of(actor: Any) -> str | None:
    """The actor's role; ``admin`` for the CLI operator and Django superusers; None for no role."""
    if not is_user(actor):
        return ADMIN
    if not actor.is_authenticated or not actor.is_active:
        return None
    if actor.is_superuser:
        return ADMIN
    cached = getattr(actor, "_dues_role", False)
    if cached is not False:
        return cached
    from .models import UserRole

    found = UserRole.objects.filter(user_id=actor.pk).values_list("role", "person_name").first()
    actor._dues_role = found[0] if found else None
    actor._dues_person = (found[1] if found else "") or actor.get_full_name() or actor.get_username()
    return actor._dues_role


def person_name(actor: Any) -> str:
    role_of(actor)
    return getattr(actor, "_dues_person", "")


def can(actor: Any, capability: str) -> bool:
    role = role_of(actor)
    return role is not None and role_can(role, capability)


def require(actor: Any, capability: str, what: str = "") -> None:
    """Raise ``PermissionDenied`` unless the actor holds ``capability``."""
    if not can(actor, capability):
        role = role_of(actor)
        who = f"{actor.get_username()} ({ROLES.get(role, 'no role').split(':')[0]})" if is_user(actor) else "this user"
        raise PermissionDenied(f"{who} may not {what or capability}")


def require_post(actor: Any, kind: str) -> None:
    require(actor, KIND_CAPABILITY.get(kind, "settings.change"), f"post or cancel a {kind.replace('_', ' ')}")


def require_import(actor: Any, kind: str) -> None:
    require(actor, IMPORT_CAPABILITY.get(kind, "settings.change"), f"import {kind}")


def customers_visible(actor: Any, customers: QuerySet) -> QuerySet:
    """Narrow a customer queryset to what the actor may read (sales: their own customers)."""
    role = role_of(actor)
    if role is None:
        return customers.none()
    if role == SALES:
        return customers.filter(salesperson__iexact=person_name(actor))
    return customers


def customer_visible(actor: Any, customer) -> bool:
    role = role_of(actor)
    if role is None:
        return False
    return role != SALES or customer.salesperson.strip().lower() == person_name(actor).strip().lower()


def require_customer(actor: Any, customer) -> None:
    if not customer_visible(actor, customer):
        raise PermissionDenied(f"customer {customer.code} is not one of yours")
