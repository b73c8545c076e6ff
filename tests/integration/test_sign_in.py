"""Signing in: failed attempts locked out per user name and per address (django-axes, in the database), the
admin's door counted with the desk's, the optional TOTP second step, session expiry and the admin's reach.

The TOTP codes here are computed from the device's secret for the real current 30-second step: TOTP is
cryptographic time (django-otp reads ``time.time()``), the one place a test here depends on the real clock.
Everything else moves ``DUES_NOW`` or ages the recorded failures instead of waiting.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client

from dues import clock
from dues.users.roles import ROLES
from dues.users.services import user_add
from dues.users.totp import totp_enroll

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:No directory at:UserWarning")]

PASSWORD = "ledger-pass-2025"
ELSEWHERE = "10.9.8.7"


@pytest.fixture
def users(db):
    return {role: user_add(username=f"u_{role}", role=role, password=PASSWORD, person_name="Ravi Kumar",
                           actor="test")[0]
            for role in ROLES}


@pytest.fixture
def admin_on(settings):
    settings.ROOT_URLCONF = "tests.integration.urls_admin"


def sign_in(client, username, password, url="/login/", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def age_failures(minutes: float) -> None:
    """As if the failed attempts had been made ``minutes`` earlier."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save(update_fields=["attempt_time"])


def code_for(secret_b32: str, at: float | None = None) -> str:
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret_b32))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def test_a_user_name_is_locked_from_every_address(client, users):
    for _ in range(4):
        response = sign_in(client, "u_collector", "wrong-guess")
        assert response.status_code == 200 and "Please enter a correct username and password" in response.text
    fifth = sign_in(client, "u_collector", "wrong-guess")
    assert fifth.status_code == 429 and "Too many failed sign-ins. Try again in 15 minutes." in fifth.text
    # refused even with the right password, here and from another address
    assert sign_in(client, "u_collector", PASSWORD).status_code == 429 and not signed_in(client)
    other = Client()
    assert sign_in(other, "u_collector", PASSWORD, REMOTE_ADDR=ELSEWHERE).status_code == 429
    assert not signed_in(other)
    # another user from another address is not affected
    assert sign_in(other, "u_auditor", PASSWORD, REMOTE_ADDR=ELSEWHERE).status_code == 302 and signed_in(other)


def test_an_address_is_locked_for_every_user_name(client, users):
    for name in ("alice", "bob", "carol", "dave"):
        assert sign_in(client, name, "wrong-guess", REMOTE_ADDR="10.1.1.1").status_code == 200
    assert sign_in(client, "erin", "wrong-guess", REMOTE_ADDR="10.1.1.1").status_code == 429
    assert sign_in(client, "u_auditor", PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 429
    assert not signed_in(client)
    assert sign_in(client, "u_auditor", PASSWORD, REMOTE_ADDR="10.2.2.2").status_code == 302 and signed_in(client)


def test_the_lock_lifts_after_the_cool_off_and_the_limits_are_settings(client, users, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 2 / 60  # two minutes
    for _ in range(2):
        assert sign_in(client, "u_billing", "wrong-guess").status_code == 200
    locked = sign_in(client, "u_billing", "wrong-guess")
    assert locked.status_code == 429 and "Try again in 2 minutes" in locked.text
    age_failures(1)
    assert sign_in(client, "u_billing", PASSWORD).status_code == 429  # one minute later: still locked
    age_failures(1.5)
    assert sign_in(client, "u_billing", PASSWORD).status_code == 302 and signed_in(client)
    assert not AccessAttempt.objects.filter(username="u_billing").exists()  # a success clears the count


def test_the_admin_door_is_the_desk_door_twelve_guesses_then_refused(client, users, admin_on):
    """12 wrong passwords at /admin/login/ then the right one: refused; the failures there lock /login/ too."""
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    codes = [sign_in(client, "root", "wrong-guess", url="/admin/login/").status_code for _ in range(12)]
    assert codes == [200] * 4 + [429] * 8 and not signed_in(client)
    assert sign_in(client, "root", PASSWORD, url="/admin/login/").status_code == 429 and not signed_in(client)
    assert sign_in(client, "root", PASSWORD).status_code == 429
    age_failures(16)
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(root.pk)
    assert client.get("/admin/").status_code == 200


def test_failures_at_the_desk_lock_the_admin_door(client, users, admin_on):
    for _ in range(5):
        sign_in(client, "u_admin", "wrong-guess")
    assert sign_in(client, "u_admin", PASSWORD, url="/admin/login/").status_code == 429 and not signed_in(client)


def test_the_api_does_not_take_passwords(client, users):
    """The API authenticates by token only: a password there is no way around the lock-out."""
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION="Basic dV9hZG1pbjpsZWRnZXItcGFzcy0yMDI1")
    assert response.status_code == 401


# ---------------------------------------------------------------------------------------------
# the Django admin: off by default, administrators only, at the operator's path


def test_the_admin_is_off_by_default(client, users):
    client.force_login(users["admin"])
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404


def test_the_admin_at_its_own_path_for_administrators_only(client, users, settings):
    settings.ROOT_URLCONF = "tests.integration.urls_office_admin"
    assert client.get("/admin/").status_code == 404
    collector = users["collector"]
    collector.is_staff = True  # staff, yet not an administrator at the desk
    collector.save()
    client.force_login(collector)
    response = client.get("/office-admin/", follow=True)
    assert response.status_code == 403 and "for administrators" in response.text
    assert client.get("/office-admin/login/").status_code == 403
    client.force_login(users["admin"])  # the admin role (staff, not a superuser)
    assert client.get("/office-admin/").status_code == 200
    client.logout()
    page = client.get("/office-admin/")
    assert page.status_code == 302 and page["Location"].startswith("/office-admin/login/")
    assert 'name="next" value="/office-admin/"' in client.get(page["Location"]).text


def test_passwords_set_in_the_admin_follow_the_rules(client, users, admin_on):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client.force_login(root)
    url = f"/admin/auth/user/{users['auditor'].pk}/password/"
    for weak, reason in (("short-1", "too short"), ("123456789012345", "entirely numeric"),
                         ("password1234", "too common"), ("u_auditor_2025", "too similar to the username")):
        response = client.post(url, {"password1": weak, "password2": weak, "usable_password": "true"})
        assert response.status_code == 200 and reason in response.text, weak
    strong = client.post(url, {"password1": "tide-harbour-ledger-7", "password2": "tide-harbour-ledger-7",
                               "usable_password": "true"})
    assert strong.status_code == 302
    assert get_user_model().objects.get(pk=users["auditor"].pk).check_password("tide-harbour-ledger-7")


# ---------------------------------------------------------------------------------------------
# the TOTP second step


def test_an_enrolled_manager_signs_in_with_the_code(client, users, company):
    _device, uri, secret = totp_enroll(username="u_ar_manager", actor="test")
    assert uri.startswith("otpauth://totp/dues%3Au_ar_manager?secret=") or uri.startswith("otpauth://totp/dues:")
    response = sign_in(client, "u_ar_manager", PASSWORD, url="/login/?next=/customers/")
    assert response.status_code == 302 and response["Location"] == "/login/code/" and not signed_in(client)
    assert client.get("/").status_code == 302  # not signed in yet
    wrong = client.post("/login/code/", {"code": "000000" if code_for(secret) != "000000" else "111111"})
    assert wrong.status_code == 400 and "That code is not right" in wrong.text and not signed_in(client)
    good = client.post("/login/code/", {"code": code_for(secret)})
    assert good.status_code == 302 and good["Location"] == "/customers/" and signed_in(client)
    assert client.get("/customers/").status_code == 200
    assert client.post("/login/code/", {"code": code_for(secret)}).status_code == 302  # nothing pending: start again


def test_wrong_codes_count_as_failed_sign_ins(client, users):
    _device, _uri, secret = totp_enroll(username="u_admin", actor="test")
    right = code_for(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert sign_in(client, "u_admin", PASSWORD).status_code == 302
    statuses = [client.post("/login/code/", {"code": wrong}).status_code for _ in range(5)]
    assert statuses == [400] * 4 + [429]
    assert not signed_in(client)
    # the name is locked now: the password step refuses, and so does the code step of a fresh sign-in elsewhere
    assert sign_in(client, "u_admin", PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username="u_admin").exists()


def test_the_code_step_needs_a_recent_password(client, users, monkeypatch):
    _device, _uri, secret = totp_enroll(username="u_admin", actor="test")
    assert client.get("/login/code/")["Location"] == "/login/"  # nothing pending
    assert sign_in(client, "u_admin", PASSWORD).status_code == 302
    monkeypatch.setenv("DUES_NOW", (clock.now() + timedelta(minutes=6)).isoformat())
    response = client.post("/login/code/", {"code": code_for(secret)})
    assert response.status_code == 302 and response["Location"] == "/login/" and not signed_in(client)


def test_only_admins_and_managers_enroll(users):
    from dues.core.errors import DuesError

    with pytest.raises(DuesError, match="the second factor is for admin and ar manager logins"):
        totp_enroll(username="u_collector", actor="test")
    totp_enroll(username="u_admin", actor="test")
    with pytest.raises(DuesError, match="already has an authenticator"):
        totp_enroll(username="u_admin", actor="test")


def test_required_totp_keeps_unenrolled_managers_out(client, users, settings, company):
    settings.DUES_REQUIRE_TOTP = True
    refused = sign_in(client, "u_ar_manager", PASSWORD)
    assert refused.status_code == 200 and "dues user totp enroll u_ar_manager" in refused.text
    assert not signed_in(client)
    # a session opened on a password alone (before the setting) is ended at the next request
    client.force_login(users["ar_manager"])
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fcustomers%2F"
    assert not signed_in(client)
    # other roles are not asked
    assert sign_in(client, "u_collector", PASSWORD).status_code == 302 and client.get("/customers/").status_code == 200
    # an enrolled manager signs in with the code and works
    _device, _uri, secret = totp_enroll(username="u_ar_manager", actor="test")
    manager = Client()
    assert sign_in(manager, "u_ar_manager", PASSWORD)["Location"] == "/login/code/"
    assert manager.post("/login/code/", {"code": code_for(secret)}).status_code == 302
    assert manager.get("/customers/").status_code == 200


# ---------------------------------------------------------------------------------------------
# sessions end


def test_an_idle_session_ends(client, users, company, monkeypatch):
    start = clock.now()

    def at(minutes):
        monkeypatch.setenv("DUES_NOW", (start + timedelta(minutes=minutes)).isoformat())

    assert sign_in(client, "u_collector", PASSWORD).status_code == 302
    assert client.get("/customers/").status_code == 200
    at(29)
    assert client.get("/customers/").status_code == 200
    at(58)  # 29 minutes after the last request: still on
    assert client.get("/customers/").status_code == 200
    at(89)  # 31 minutes idle
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=%2Fcustomers%2F"
    assert not signed_in(client)
    page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in page.text


def test_a_session_ends_hours_after_sign_in_however_busy(client, users, company, monkeypatch, settings):
    settings.SESSION_COOKIE_AGE = 2 * 3600
    start = clock.now()
    assert sign_in(client, "u_collector", PASSWORD).status_code == 302
    for minutes in range(20, 120, 20):
        monkeypatch.setenv("DUES_NOW", (start + timedelta(minutes=minutes)).isoformat())
        assert client.get("/customers/").status_code == 200
    monkeypatch.setenv("DUES_NOW", (start + timedelta(minutes=121)).isoformat())
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith("/login/") and not signed_in(client)
    assert "Your session ended 2 hours after you signed in" in client.get(response["Location"]).text


def test_logout_is_a_post(client, users, company):
    assert sign_in(client, "u_collector", PASSWORD).status_code == 302
    assert client.get("/logout/").status_code == 405 and signed_in(client)
    out = client.post("/logout/")
    assert out.status_code == 302 and out["Location"] == "/login/" and not signed_in(client)


def test_settings_read_the_environment():
    import subprocess
    import sys

    env = dict(os.environ, DUES_SESSION_HOURS="4", DUES_SESSION_IDLE_MINUTES="10", DUES_LOGIN_FAILURE_LIMIT="7",
               DUES_LOGIN_COOLOFF_MINUTES="30", DUES_ADMIN_PATH="/back-office/", DUES_REQUIRE_TOTP="1")
    code = ("import dues.settings as s; print(s.SESSION_COOKIE_AGE, s.DUES_SESSION_IDLE_SECONDS, s.AXES_FAILURE_LIMIT,"
            " s.AXES_COOLOFF_TIME, s.DUES_ADMIN_PATH, s.DUES_REQUIRE_TOTP)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["14400", "600", "7", "0.5", "back-office/", "True"]
    off = subprocess.run([sys.executable, "-c", "import dues.settings as s; print(repr(s.DUES_ADMIN_PATH))"],
                         env=dict(os.environ, DUES_ADMIN_PATH="off"), capture_output=True, text=True, check=True)
    assert off.stdout.strip() == "''"


