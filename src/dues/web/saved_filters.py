"""Saved filters of the customer list and the worklist: a name for a list's query string, per user, optionally
shared with the team (everyone at the desk sees it; only its owner deletes it)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q

from dues.core.errors import Problem, ValidationFailed
from dues.users.permissions import require

from .models import SavedFilter

#: the query-string keys each list filters by (anything else, the page number included, is not saved)
KEYS = {SavedFilter.CUSTOMERS: ("q", "sort", "as_of"), SavedFilter.WORKLIST: ("collector", "on")}


def clean_query(list_name: str, query: str) -> str:
    keys = KEYS[list_name]
    return urlencode([(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False) if k in keys])


def saved_filters(*, company, user, list_name: str) -> list[SavedFilter]:
    """The user's own filters of the list, then those the team shares, by name."""
    found = (SavedFilter.objects.filter(company=company, list_name=list_name)
             .filter(Q(owner=user) | Q(shared=True)).select_related("owner"))
    return sorted(found, key=lambda f: (f.owner_id != user.pk, f.name.lower()))


def saved_filter_save(*, company, user, list_name: str, name: str, query: str, shared: bool = False) -> SavedFilter:
    """Save (or replace, by name) the user's filter of a list."""
    require(user, "desk.view", "save filters")
    if list_name not in KEYS:
        raise ValidationFailed([Problem(f"unknown list “{list_name}”", "list")])
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed([Problem("give the filter a name", "name")])
    if len(name) > 80:
        raise ValidationFailed([Problem("a filter's name is at most 80 characters", "name")])
    query = clean_query(list_name, query)
    try:
        with transaction.atomic():
            saved, _ = SavedFilter.objects.update_or_create(
                owner=user, list_name=list_name, name=name,
                defaults={"company": company, "query": query, "shared": shared})
    except IntegrityError as exc:  # two saves of one name at once
        raise ValidationFailed([Problem(f"a filter “{name}” already exists", "name")]) from exc
    return saved


def saved_filter_delete(*, company, user, pk: int) -> str:
    """Delete one of the user's own filters; returns its name (a filter of someone else: not found)."""
    found = SavedFilter.objects.filter(company=company, owner=user, pk=pk).first()
    if found is None:
        raise ValidationFailed([Problem("no such filter of yours", "filter")])
    found.delete()
    return found.name
