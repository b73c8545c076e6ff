"""Password rules, the TOTP second factor and unlocking, as an operator and a user meet them: the ``dues``
command and ``dues serve`` as subprocesses on their own database, the sign-in driven over HTTP.

The six-digit code is computed from the printed secret for the real current 30-second step: TOTP is
cryptographic time (the server checks it against ``time.time()``), the one reading of the real clock here.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b32decode
from contextlib import contextmanager
from http.cookiejar import CookieJar

import pytest

from tests.conftest import dues_env

pytestmark = pytest.mark.e2e

PASSWORD = "harbour-tide-ledger-9"


@pytest.fixture
def dues(tmp_path, scratch_db):
    env = dues_env(tmp_path, scratch_db)

    def run(*args, ok=True, stdin=None):
        proc = subprocess.run([sys.executable, "-m", "dues.cli.main", *map(str, args)], env=env, capture_output=True,
                              text=True, input=stdin, timeout=300)
        if ok and proc.returncode != 0:
            raise AssertionError(f"dues {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc

    run.env = env
    return run


def test_passwords_set_on_the_command_line_follow_the_rules(dues):
    dues("init", "--company", "Acme Steel", "--state", "27")
    for weak, reason in (("short-pw-1", "This password is too short. It must contain at least 12 characters."),
                         ("384920175638", "This password is entirely numeric."),
                         ("password1234", "This password is too common."),
                         ("meena-collector", "The password is too similar to the username.")):
        proc = dues("user", "add", "meena-collector", "--role", "collector", "--password-stdin", stdin=weak + "\n",
                    ok=False)
        assert proc.returncode == 1 and f"password for meena-collector: {reason}" in proc.stderr, proc.stderr
    assert "created user meena-collector" in dues("user", "add", "meena-collector", "--role", "collector",
                                                  "--password-stdin", stdin=PASSWORD + "\n").stdout
    # changing the password later is held to the same rules
    proc = dues("user", "add", "meena-collector", "--role", "collector", "--password-stdin", stdin="short\n", ok=False)
    assert proc.returncode == 1 and "too short" in proc.stderr


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Just enough of a browser: cookies, the CSRF token of the last page, redirects not followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())
        self.token = ""

    def open(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": self.token, **data}).encode()
        try:
            response = self.opener.open(self.base + path, body, timeout=10)
            status, location, text = response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as exc:
            status, location, text = exc.code, exc.headers.get("Location", ""), exc.read().decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if found:
            self.token = found.group(1)
        return status, location, text

    def sign_in(self, username: str, password: str) -> tuple[int, str, str]:
        self.open("/login/")
        return self.open("/login/", {"username": username, "password": password, "next": ""})


@contextmanager
def served(dues):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dues.cli.main", "serve", "--port", str(port)], env=dues.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("dues serve did not answer")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def totp_code(secret: str) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_totp_enroll_sign_in_with_the_code_remove_and_unlock(dues):
    dues("init", "--company", "Acme Steel", "--state", "27")
    dues("user", "add", "boss", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    dues("user", "add", "pooja", "--role", "collector", "--password-stdin", stdin=PASSWORD + "\n")
    refused = dues("user", "totp", "enroll", "pooja", ok=False)
    assert refused.returncode == 1 and "the second factor is for admin and ar manager logins" in refused.stderr
    enrolled = dues("user", "totp", "enroll", "boss")
    uri = enrolled.stdout.strip().splitlines()[-1]
    assert uri.startswith("otpauth://totp/dues%3Aboss?") or uri.startswith("otpauth://totp/dues:boss?")
    secret = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    assert f"secret: {secret}" in enrolled.stdout
    again = dues("user", "totp", "enroll", "boss", ok=False)
    assert again.returncode == 1 and "already has an authenticator" in again.stderr

    with served(dues) as base:
        browser = Browser(base)
        status, location, _ = browser.sign_in("boss", PASSWORD)
        assert (status, location) == (302, "/login/code/")
        assert browser.open("/customers/")[0] == 302  # not signed in before the code
        status, _, page = browser.open("/login/code/")
        assert status == 200 and "Authenticator code" in page
        status, location, _ = browser.open("/login/code/", {"code": totp_code(secret)})
        assert (status, location) == (302, "/")
        status, _, page = browser.open("/customers/")
        assert status == 200 and "Acme Steel" in page

        # five wrong passwords lock the name; `dues user unlock` lifts it before the cool-off
        other = Browser(base)
        statuses = [other.sign_in("pooja", "wrong-guess")[0] for _ in range(5)]
        assert statuses == [200] * 4 + [429]
        assert other.sign_in("pooja", PASSWORD)[0] == 429
        assert "cleared" in dues("user", "unlock", "pooja").stdout
        dues("user", "unlock", "--address", "127.0.0.1")
        assert other.sign_in("pooja", PASSWORD)[:2] == (302, "/")

    assert "removed the authenticator of boss" in dues("user", "totp", "remove", "boss").stdout
    assert "boss had no authenticator" in dues("user", "totp", "remove", "boss").stdout
    with served(dues) as base:
        assert Browser(base).sign_in("boss", PASSWORD)[:2] == (302, "/")  # the password alone again
    log = dues("audit", "log", "--object", "user", "--format", "json").stdout
    assert '"totp": "enrolled"' in log and '"totp": "removed"' in log
