"""Secure by default: no built-in secret key, the security headers and cookies, and TLS with DUES_HTTPS=1.

The settings are read once per process, so what turns on the environment (no key, DUES_HTTPS=1) runs in a
subprocess of its own, the way the app starts; the headers of the default settings are checked in-process.
"""

from __future__ import annotations

import re
import secrets
import stat
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import dues_env

pytestmark = pytest.mark.filterwarnings("ignore:No directory at:UserWarning")  # whitenoise: no collectstatic

PASSWORD = "secure-pass-2026"


def env_without_key(tmp_path, db_url: str | None = None, **extra) -> dict:
    env = dues_env(tmp_path, db_url)
    # DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests' conftest sets it for their live server (same worker
    # process); a deployment never has it, and check --deploy rightly reports it
    for name in ("DUES_SECRET_KEY", "DUES_HTTPS", "DUES_ALLOWED_HOSTS", "DUES_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = "dues.settings"
    env.update(extra)
    return env


def python(env, code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)


def dues(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dues.cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=300)


# --- the secret key --------------------------------------------------------------------------------------------


def test_the_settings_refuse_to_load_without_a_secret_key(tmp_path):
    env = env_without_key(tmp_path)
    proc = python(env, "import django; django.setup()")
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    assert "DUES_SECRET_KEY" in proc.stderr and "dues init" in proc.stderr
    assert str(tmp_path / "var" / "secret.key") in proc.stderr
    # no fallback: the same process loads once a key is given
    env["DUES_SECRET_KEY"] = secrets.token_urlsafe(50)
    assert python(env, "import django; django.setup()").returncode == 0


def test_the_command_without_a_key_says_so_without_a_traceback_and_its_help_still_works(tmp_path):
    env = env_without_key(tmp_path)
    proc = dues(env, "ageing")
    assert proc.returncode == 1
    assert "no secret key" in proc.stderr and "Traceback" not in proc.stderr
    for args in (["--help"], ["--version"], ["ageing", "--help"], ["init", "--help"]):
        proc = dues(env, *args)
        assert proc.returncode == 0, (args, proc.stderr)
    assert not (tmp_path / "var" / "secret.key").exists()  # only init and demo write one


def test_init_writes_a_private_key_file_once_and_the_commands_use_it(tmp_path, scratch_db):
    env = env_without_key(tmp_path, scratch_db)
    key_file = tmp_path / "var" / "secret.key"
    proc = dues(env, "init", "--company", "Key Traders")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote a new secret key to {key_file}" in proc.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50 and len(set(key)) >= 5
    assert not list(key_file.parent.glob(".secret-*"))  # no temporary file left behind

    proc = dues(env, "init", "--company", "Key Traders")  # again: the key is kept
    assert proc.returncode == 0 and "secret key" not in proc.stderr
    assert key_file.read_text().strip() == key
    assert dues(env, "ageing").returncode == 0
    loaded = python(env, "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)")
    assert loaded.stdout.strip() == key


def test_a_key_in_the_environment_wins_and_init_writes_no_file(tmp_path, scratch_db):
    env = env_without_key(tmp_path, scratch_db, DUES_SECRET_KEY="from-the-environment-" + secrets.token_urlsafe(40))
    assert dues(env, "init", "--company", "Env Traders").returncode == 0
    assert not (tmp_path / "var" / "secret.key").exists()
    loaded = python(env, "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)")
    assert loaded.stdout.strip() == env["DUES_SECRET_KEY"]


# --- TLS: DUES_HTTPS=1 ------------------------------------------------------------------------------------------

DEPLOY_CHECK = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"]


def test_the_deployment_check_passes_with_https_a_key_and_hosts(tmp_path):
    env = env_without_key(tmp_path, DUES_SECRET_KEY=secrets.token_urlsafe(50), DUES_HTTPS="1",
                          DUES_ALLOWED_HOSTS="dues.example.com")
    proc = subprocess.run(DEPLOY_CHECK, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
    # without DUES_HTTPS (plain HTTP) the same check lists what TLS would add: it is not a check that cannot fail
    del env["DUES_HTTPS"]
    proc = subprocess.run(DEPLOY_CHECK, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "security.W004" in proc.stderr and "security.W012" in proc.stderr  # HSTS, secure session cookie


def test_https_needs_the_allowed_hosts_named(tmp_path):
    env = env_without_key(tmp_path, DUES_SECRET_KEY=secrets.token_urlsafe(50), DUES_HTTPS="1")
    proc = python(env, "import django; django.setup()")
    assert proc.returncode != 0 and "DUES_HTTPS=1 needs DUES_ALLOWED_HOSTS" in proc.stderr
    proc = dues(env, "ageing")
    assert proc.returncode == 1 and "DUES_ALLOWED_HOSTS" in proc.stderr and "Traceback" not in proc.stderr


HTTPS_WALK = """
import django
django.setup()
from django.test import Client
plain = Client().get("/login/")
print("plain", plain.status_code, plain.headers.get("Location"))
forwarded = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
print("forwarded", forwarded.status_code, forwarded.headers.get("Strict-Transport-Security"))
cookie = forwarded.cookies["csrftoken"]
print("cookie", bool(cookie["secure"]), bool(cookie["httponly"]), cookie["samesite"])
"""


def test_with_https_plain_requests_redirect_and_secure_ones_get_hsts_and_secure_cookies(tmp_path, scratch_db):
    env = env_without_key(tmp_path, scratch_db, DUES_SECRET_KEY=secrets.token_urlsafe(50), DUES_HTTPS="1",
                          DUES_ALLOWED_HOSTS="testserver")
    assert dues(env, "init", "--company", "TLS Traders").returncode == 0
    proc = python(env, HTTPS_WALK)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert lines["plain"] == "301 https://testserver/login/"
    assert lines["forwarded"] == "200 max-age=31536000; includeSubDomains; preload"
    assert lines["cookie"] == "True True Lax"


# --- headers and cookies of every page (default settings: plain HTTP) -----------------------------------------


@pytest.fixture
def user(db):
    from dues.users.models import UserRole

    user = get_user_model().objects.create_user("sec", password=PASSWORD)
    UserRole.objects.create(user=user, role="ar_manager")
    return user


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def test_pages_carry_the_security_headers_and_a_policy_without_inline_script(client, user, company):
    response = client.get("/login/")
    assert response.status_code == 200
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp.get("style-src", []) and "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS
    client.force_login(user)
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and "Content-Security-Policy" in dashboard.headers


def test_the_pages_hold_no_inline_script_style_or_event_handler(client, user, company, make_customer, post):
    """What the policy would refuse is not in the pages (the browser tests check what Chromium refuses)."""
    acme = make_customer("C001", name="Acme", credit_limit="100000")
    post("invoice", "INV-1", acme, "2026-10-01", "50000")
    client.force_login(user)
    for url in ("/", "/customers/", "/customers/C001/", "/worklist/", "/my-day/", "/cash/", "/trends/"):
        response = client.get(url)
        if response.status_code == 404:
            continue
        html = response.content.decode()
        assert response.status_code == 200, url
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html), url
        assert not re.search(r"\sstyle=\"", html) and "<style" not in html, url
        assert not re.search(r"\son[a-z]+=\"|\shx-on[:-]", html), url


def test_the_cookies_are_httponly_and_samesite(client, user, company):
    page = client.get("/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax" and not csrf["secure"]
    response = client.post("/login/", {"username": "sec", "password": PASSWORD,
                                       "csrfmiddlewaretoken": csrf.value})
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"


def test_the_api_docs_page_works_under_the_policy(client, company):
    """django-ninja's Swagger UI loads its scripts from files of its own: the same policy serves it."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)
    assert policy(response)["script-src"] == ["'self'"]

