"""Signing in, with failed attempts rate-limited per user name and per address.

Counters live in Django's cache: the process's memory by default, Redis (``DUES_REDIS_URL``) when
several server processes must share them. After ``MAX_PER_USER`` failures for one name from one
address, or ``MAX_PER_ADDRESS`` from one address, sign-in is refused until the window has passed,
even with the right password, so guessing cannot continue at full speed.
"""

from __future__ import annotations

import hashlib
import time

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest

from dues.companies.models import Company

WINDOW_SECONDS = 15 * 60
MAX_PER_USER = 5
MAX_PER_ADDRESS = 30


def _keys(request: HttpRequest, username: str) -> tuple[str, str]:
    address = request.META.get("REMOTE_ADDR", "")
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"dues:login:user:{address}:{name}", f"dues:login:addr:{address}"


def _count(key: str) -> int:
    value = cache.get(key)
    return int(value[0]) if value else 0


def _failed(key: str) -> None:
    now = time.time()
    count, started = cache.get(key) or (0, now)
    cache.set(key, (count + 1, started), timeout=max(int(started + WINDOW_SECONDS - now), 1))


def locked_out(request: HttpRequest, username: str) -> bool:
    user_key, addr_key = _keys(request, username)
    return _count(user_key) >= MAX_PER_USER or _count(addr_key) >= MAX_PER_ADDRESS


def throttled(login_view):
    """``login_view`` (the Django admin's sign-in) behind the same counters as /login/: a guess at either
    door counts at both, and a locked-out name is refused at both, even with the right password."""
    from django.http import HttpResponse

    def view(request, extra_context=None):
        if request.method != "POST":
            return login_view(request, extra_context)
        username = request.POST.get("username", "")
        if locked_out(request, username):
            return HttpResponse(f"Too many failed sign-ins. Try again in {WINDOW_SECONDS // 60} minutes.",
                                status=429, content_type="text/plain; charset=utf-8")
        response = login_view(request, extra_context)
        if request.user.is_authenticated and response.status_code == 302:
            cache.delete(_keys(request, username)[0])
        else:
            for key in _keys(request, username):
                _failed(key)
        return response

    return view


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        if locked_out(request, username):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, f"Too many failed sign-ins. Try again in {WINDOW_SECONDS // 60} minutes.")
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in _keys(self.request, self.request.POST.get("username", "")):
            _failed(key)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_keys(self.request, self.request.POST.get("username", ""))[0])
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["company"] = Company.objects.order_by("id").first()
        return context
