"""Template context every page gets: the signed-in user's role and what it may do (``desk.can.receipts_post``)."""

from __future__ import annotations

from django.http import HttpRequest

from dues.users.permissions import can, role_of
from dues.users.roles import CAPABILITIES


def desk(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"desk": {"role": None, "can": {}}}
    return {"desk": {"role": role_of(user),
                     "can": {c.replace(".", "_"): can(user, c) for c in CAPABILITIES}}}
