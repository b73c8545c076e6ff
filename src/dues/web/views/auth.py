"""Signing in: the password (failed attempts throttled by django-axes), then the authenticator code when the
user has one; the Django admin's sign-in is this same form.

django-axes counts every failed password in the database, per user name and per address
(``AXES_LOCKOUT_PARAMETERS``): after ``DUES_LOGIN_FAILURE_LIMIT`` failures for a name, or from an address,
signing in is refused (429) for ``DUES_LOGIN_COOLOFF_MINUTES``, even with the right password. A wrong
authenticator code counts as a failed sign-in the same way. A password that is right only moves a user with
a TOTP device to the second step (``/login/code/``): nobody is signed in until the code is right.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login, user_login_failed
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from dues import clock
from dues.companies.models import Company
from dues.users.permissions import role_of
from dues.users.roles import ADMIN
from dues.users.totp import totp_device, totp_required

PENDING = "dues_login_pending"  # session: the user whose password was right, waiting for their code
PENDING_SECONDS = 5 * 60  # the code step must follow the password within this


def _company():
    return Company.objects.order_by("id").first()


def _cooloff_minutes() -> int:
    return max(round(float(settings.AXES_COOLOFF_TIME) * 60), 1)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lock-out response (``AXES_LOCKOUT_CALLABLE``): the sign-in page with the reason, status 429."""
    from django.contrib.auth.forms import AuthenticationForm

    request.session.pop(PENDING, None)
    context = {"company": _company(), "form": AuthenticationForm(request), "next": request.POST.get("next", ""),
               "lockout": f"Too many failed sign-ins. Try again in {_cooloff_minutes()} minutes."}
    return render(request, "web/login.html", context, status=429)


class LoginView(auth_views.LoginView):
    """The password step. Locked-out names and addresses never get here past ``authenticate`` (axes)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        device = totp_device(user)
        if device is None:
            if totp_required(user):
                form.add_error(None, "Your role signs in with an authenticator code, and you have none yet: "
                                     "ask an administrator to run `dues user totp enroll "
                                     f"{user.get_username()}`.")
                return self.form_invalid(form)
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {"user": user.pk, "backend": user.backend, "next": self.get_success_url(),
                                         "at": clock.now().timestamp()}
        return redirect("web:login_code")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["company"] = _company()
        return context


def _pending_user(request: HttpRequest):
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or clock.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    return user, pending


def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the six-digit code from the authenticator app of the user whose password was right.

    Public (no role): it acts only on the session's pending sign-in; without one it goes back to the password.
    """
    from axes.handlers.proxy import AxesProxyHandler
    from django_otp import login as otp_login

    user, pending = _pending_user(request)
    device = totp_device(user)
    if user is None or device is None:
        request.session.pop(PENDING, None)
        return redirect("web:login")
    error = ""
    if request.method == "POST":
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            return locked_out(request)
        code = request.POST.get("code", "").replace(" ", "").strip()
        if code.isdigit() and len(code) == device.digits and device.verify_token(code):
            del request.session[PENDING]
            user.backend = pending["backend"]
            login(request, user)
            otp_login(request, device)
            return redirect(pending["next"] or settings.LOGIN_REDIRECT_URL)
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        error = "That code is not right. Enter the six digits your authenticator app shows now."
    return render(request, "web/login_code.html", {"company": _company(), "error": error,
                                                   "username": user.get_username()},
                  status=200 if not error else 400)


def admin_allowed(request: HttpRequest) -> bool:
    """Who may use the Django admin: an active staff login that is a superuser or has the admin role (and, with
    DUES_REQUIRE_TOTP=1, signed in with their code). Desk users of other roles are refused even if staff."""
    user = request.user
    if not (user.is_active and user.is_staff and (user.is_superuser or role_of(user) == ADMIN)):
        return False
    return not totp_required(user) or user.is_verified()


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's sign-in page: the desk's (same throttle, same second step), then back into the admin.

    A signed-in user the admin does not admit gets 403, not the form again."""
    if request.user.is_authenticated:
        if not admin_allowed(request):
            return render(request, "web/forbidden.html",
                          {"company": _company(), "message": "The administration pages are for administrators."},
                          status=403)
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:index")
        return redirect(target)
    if not request.GET.get("next") and not request.POST.get("next"):
        request.GET = request.GET.copy()
        request.GET["next"] = reverse("admin:index")
    return LoginView.as_view()(request)
