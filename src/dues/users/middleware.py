"""Sessions that end: ``DUES_SESSION_HOURS`` after signing in, ``DUES_SESSION_IDLE_MINUTES`` after the last request.

The times come from ``dues.clock`` (so a test moves ``DUES_NOW`` instead of waiting). An ended session is
signed out and the request sent to the sign-in page with ``?next=`` back to where it was going. With
``DUES_REQUIRE_TOTP=1`` a session of an administrator or AR manager that was not opened with their
authenticator code (opened before the setting was switched on, or before they were enrolled) is ended the
same way, so nobody in those roles works at the desk on a password alone.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponseRedirect

from dues import clock

STARTED, SEEN = "dues_session_started", "dues_session_seen"
TOUCH_EVERY = 60  # seconds: the last-seen stamp is written at most once a minute, not on every request


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            ended = self._ended(request)
            if ended:
                logout(request)
                messages.info(request, ended)
                return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and STARTED not in request.session:
            request.session[STARTED] = request.session[SEEN] = clock.now().timestamp()  # signed in just now
        return response

    def _ended(self, request) -> str:
        from dues.users.totp import totp_required

        now = clock.now().timestamp()
        session = request.session
        started, seen = session.get(STARTED), session.get(SEEN)
        if started is None:
            session[STARTED] = session[SEEN] = now
            started = seen = now
        if now - started > settings.SESSION_COOKIE_AGE:
            return f"Your session ended {settings.SESSION_COOKIE_AGE // 3600} hours after you signed in; please sign in again."
        if now - seen > settings.DUES_SESSION_IDLE_SECONDS:
            return (f"You were signed out after {settings.DUES_SESSION_IDLE_SECONDS // 60} minutes without activity; "
                    "please sign in again.")
        if totp_required(request.user) and not request.user.is_verified():
            return "Your role signs in with an authenticator code; please sign in again."
        if now - seen >= TOUCH_EVERY:
            session[SEEN] = now
        return ""
